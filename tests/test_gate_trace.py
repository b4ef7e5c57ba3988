"""trace(): every gate of every step, golden values, and equality with the layers."""

import keras
import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.equations import VARIANTS
from keras_lstm_cell.gate_trace import TRACED
from keras_lstm_cell.gate_trace import GateTrace
from keras_lstm_cell.gate_trace import find_lstm_layers
from keras_lstm_cell.gate_trace import trace

# Seed notebook 003: scalar weights W_g (input), U_g (recurrent), no bias.
SEED_003_W = {"f": 0.5, "i": 0.6, "c": 0.7, "o": 0.8}
SEED_003_U = {"f": 0.1, "i": 0.2, "c": 0.3, "o": 0.4}
SEED_003_WEIGHTS = {
    **{f"W_{g}": np.array([[w]]) for g, w in SEED_003_W.items()},
    **{f"U_{g}": np.array([[u]]) for g, u in SEED_003_U.items()},
    **{f"b_{g}": np.zeros(1) for g in SEED_003_W},
}
SEED_003_INPUTS = np.array([[[1.0], [2.0], [3.0]]], "float32")  # (1, 3, 1)
# Its printed table: Time Step t -> (f, i, c̃, c, o, h), to 3 decimals.
SEED_003_TABLE = {
    1: (0.622, 0.646, 0.604, 0.390, 0.690, 0.256),
    2: (0.736, 0.778, 0.901, 0.988, 0.846, 0.640),
    3: (0.827, 0.873, 0.980, 1.672, 0.934, 0.871),
}
SEED_003_PREDICTION = 3.483  # Dense weight 4 on the last h
SEED_003_COLUMNS = ("f", "i", "c_tilde", "c", "o", "h")


def _np(value):
    return keras.ops.convert_to_numpy(value)


def _seed_003_model():
    inputs = keras.Input((3, 1))
    lstm = keras.layers.RNN(SimpleLSTMCell(1), return_sequences=True, name="lstm")
    outputs = keras.layers.Dense(1, use_bias=False, name="readout")(lstm(inputs))
    model = keras.Model(inputs, outputs)
    lstm.cell.set_gate_weights(SEED_003_WEIGHTS)
    model.get_layer("readout").set_weights([np.array([[4.0]])])
    return model


def _seed_003_subject(kind):
    """(what to trace, layer_name) for each way of holding the cell."""
    if kind == "cell":
        cell = SimpleLSTMCell(1)
        cell.build((None, 1))
        cell.set_gate_weights(SEED_003_WEIGHTS)
        return cell, None
    if kind == "rnn":
        rnn = keras.layers.RNN(SimpleLSTMCell(1))
        rnn.build((None, 3, 1))
        rnn.cell.set_gate_weights(SEED_003_WEIGHTS)
        return rnn, None
    if kind == "simple_lstm":
        simple_lstm = pytest.importorskip("keras_lstm_cell.simple_lstm")
        layer = simple_lstm.SimpleLSTM(1)
        layer.build((None, 3, 1))
        layer.cell.set_gate_weights(SEED_003_WEIGHTS)
        return layer, None
    return _seed_003_model(), "lstm" if kind == "model+name" else None


@pytest.mark.parametrize("kind", ["cell", "rnn", "simple_lstm", "model", "model+name"])
def test_seed_003_golden_table(kind):
    subject, layer_name = _seed_003_subject(kind)
    gates = trace(subject, SEED_003_INPUTS, layer_name=layer_name)
    table = gates.to_frame().pivot(index="step", columns="gate", values="value")
    for step, row in SEED_003_TABLE.items():
        got = [round(float(table.loc[step, name]), 3) for name in SEED_003_COLUMNS]
        assert got == list(row), step
    assert round(4.0 * float(gates.h[0, -1, 0]), 3) == SEED_003_PREDICTION


def test_seed_003_prediction_of_the_model():
    model = _seed_003_model()
    prediction = model.predict(SEED_003_INPUTS, verbose=0)[0, -1, 0]
    assert round(float(prediction), 3) == SEED_003_PREDICTION
    np.testing.assert_array_equal(
        trace(model, SEED_003_INPUTS).h[0, -1, 0] * np.float32(4.0), prediction
    )


# --- equality with the layer ----------------------------------------------------


@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("variant", VARIANTS)
def test_h_equals_the_layer_output_exactly(variant, go_backwards):
    x = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
    rnn = keras.layers.RNN(
        SimpleLSTMCell(5, variant=variant), return_sequences=True, go_backwards=go_backwards
    )
    expected = _np(rnn(x))
    gates = trace(rnn, x)
    np.testing.assert_array_equal(gates.h, expected)
    assert all(gates.as_dict()[name].shape == (3, 6, 5) for name in TRACED)
    # The cell's own step, run by hand, gives the same c.
    cell, c = rnn.cell, np.zeros((3, 5), "float32")
    h = np.zeros_like(c)
    steps = range(5, -1, -1) if go_backwards else range(6)
    for t, step in enumerate(steps):
        values = cell.gates(x[:, step], [h, c])
        h, c = _np(values.h), _np(values.c)
        np.testing.assert_allclose(gates.c[:, t], c, atol=1e-6)


def test_simple_lstm_fast_layer_agrees():
    """The fused loop computes W x for all steps in one product: equal to
    float32 rounding."""
    simple_lstm = pytest.importorskip("keras_lstm_cell.simple_lstm")
    x = np.random.default_rng(1).normal(size=(3, 6, 4)).astype("float32")
    layer = simple_lstm.SimpleLSTM(5, return_sequences=True)
    np.testing.assert_allclose(trace(layer, x).h, _np(layer(x)), atol=1e-6, rtol=0)


def test_initial_state_and_stateful_layer():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    h0, c0 = (rng.normal(size=(2, 5)).astype("float32") for _ in "hc")
    rnn = keras.layers.RNN(SimpleLSTMCell(5), return_sequences=True)
    expected = _np(rnn(x, initial_state=[h0, c0]))
    np.testing.assert_array_equal(trace(rnn, x, initial_state=[h0, c0]).h, expected)
    assert np.max(np.abs(trace(rnn, x).h - expected)) > 1e-3

    stateful = keras.layers.RNN(SimpleLSTMCell(5), return_sequences=True, stateful=True)
    stateful(x)  # states now hold the end of the first batch
    states = [_np(s).copy() for s in stateful.states]
    gates = trace(stateful, x)
    for held, now in zip(states, stateful.states, strict=True):
        np.testing.assert_array_equal(_np(now), held)  # not changed by the trace
    np.testing.assert_array_equal(gates.h, _np(stateful(x)))


@pytest.mark.parametrize("go_backwards", [False, True])
def test_mask_holds_the_state(go_backwards):
    x = np.random.default_rng(3).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    rnn = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True, go_backwards=go_backwards)
    gates = trace(rnn, x, mask=mask)
    np.testing.assert_array_equal(gates.h, _np(rnn(x, mask=mask)))
    # Masked steps repeat the last real step: the end, or before any, zeros.
    if go_backwards:
        np.testing.assert_array_equal(gates.f[1, :3], 0.0)
    else:
        held = np.broadcast_to(gates.c[1, 1], (3, 4))
        np.testing.assert_array_equal(gates.c[1, 2:], held)
        np.testing.assert_array_equal(gates.f[1, 2:], np.broadcast_to(gates.f[1, 1], (3, 4)))


def _masked_model(source, bidirectional=False):
    """A model whose LSTM receives a mask, from `Masking` or `Embedding`, and
    its inputs: two sequences, the second padded after 2 of 5 steps."""
    rng = np.random.default_rng(6)
    if source == "masking":
        inputs = keras.Input((5, 3))
        hidden = keras.layers.Masking()(inputs)
        x = rng.normal(size=(2, 5, 3)).astype("float32")
        x[1, 2:] = 0.0
    else:
        inputs = keras.Input((5,), dtype="int32")
        hidden = keras.layers.Embedding(10, 3, mask_zero=True)(inputs)
        x = np.array([[1, 2, 3, 4, 5], [6, 7, 0, 0, 0]], "int32")
    rnn = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True, name="lstm")
    if bidirectional:
        rnn = keras.layers.Bidirectional(rnn, merge_mode=None, name="bi")
    return keras.Model(inputs, rnn(hidden)), x


@pytest.mark.parametrize("source", ["masking", "embedding"])
def test_model_mask_is_the_layers_mask(source):
    model, x = _masked_model(source)
    gates = trace(model, x)
    np.testing.assert_array_equal(gates.h, _np(model(x)))
    held = np.broadcast_to(gates.c[1, 1], (3, 4))  # padded steps hold the state
    np.testing.assert_array_equal(gates.c[1, 2:], held)
    unmasked = trace(model, x, mask=np.ones((2, 5), bool))  # a given mask replaces it
    assert np.max(np.abs(unmasked.c[1, 2:] - held)) > 1e-3


@pytest.mark.parametrize("source", ["masking", "embedding"])
def test_model_mask_reaches_bidirectional_halves(source):
    """Bidirectional sets `zero_output_for_mask` on its halves: padded steps
    output zeros."""
    model, x = _masked_model(source, bidirectional=True)
    forward_out, backward_out = (_np(out) for out in model(x))
    np.testing.assert_array_equal(trace(model, x, layer_name="bi/forward").h, forward_out)
    backward = trace(model, x, layer_name="bi/backward")
    np.testing.assert_array_equal(backward.h[:, ::-1], backward_out)
    np.testing.assert_array_equal(backward.h[1, :3], 0.0)  # padded steps, taken first


@pytest.mark.parametrize("go_backwards", [False, True])
def test_zero_output_for_mask_zeros_h_only(go_backwards):
    x = np.random.default_rng(7).normal(size=(2, 5, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], bool)
    rnn = keras.layers.RNN(
        SimpleLSTMCell(4),
        return_sequences=True,
        go_backwards=go_backwards,
        zero_output_for_mask=True,
    )
    gates = trace(rnn, x, mask=mask)
    np.testing.assert_array_equal(gates.h, _np(rnn(x, mask=mask)))
    masked_steps = slice(0, 3) if go_backwards else slice(2, 5)
    np.testing.assert_array_equal(gates.h[1, masked_steps], 0.0)
    if not go_backwards:  # the other values are those of the held step
        np.testing.assert_array_equal(gates.c[1, 2:], np.broadcast_to(gates.c[1, 1], (3, 4)))
        assert np.all(gates.o[1, 2:] > 0.0)


def test_stateful_layer_with_another_batch_size_is_named():
    stateful = keras.layers.RNN(SimpleLSTMCell(3), return_sequences=True, stateful=True)
    stateful(np.zeros((2, 4, 2), "float32"))
    with pytest.raises(
        ValueError,
        match=r"batch size of the stateful layer, 2,.*Received: inputs with batch size 3",
    ):
        trace(stateful, np.zeros((3, 4, 2), "float32"))


def test_mixed_precision_equals_layer():
    keras.config.set_dtype_policy("mixed_float16")
    x = np.random.default_rng(4).normal(size=(2, 5, 3)).astype("float32")
    rnn = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    expected = _np(rnn(x))
    gates = trace(rnn, x)
    assert gates.h.dtype == np.float16
    np.testing.assert_array_equal(gates.h, expected)


def test_model_layers_by_name_including_bidirectional_halves():
    x = np.random.default_rng(5).normal(size=(2, 6, 3)).astype("float32")
    inputs = keras.Input((6, 3))
    first = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True, name="first")
    bi = keras.layers.Bidirectional(
        keras.layers.RNN(SimpleLSTMCell(3, variant="layer_norm"), return_sequences=True),
        name="bi",
    )
    hidden = first(keras.layers.Dense(3, name="embed")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(1)(bi(hidden)))
    assert list(find_lstm_layers(model)) == ["first", "bi/forward", "bi/backward"]

    first_out = _np(keras.Model(inputs, first.output)(x))
    np.testing.assert_array_equal(trace(model, x, layer_name="first").h, first_out)
    bi_out = _np(keras.Model(inputs, bi.output)(x))  # (B, T, 3 + 3)
    forward = trace(model, x, layer_name="bi/forward")
    backward = trace(model, x, layer_name="bi/backward")
    np.testing.assert_array_equal(forward.h, bi_out[..., :3])
    # The backward half runs from the last step; Bidirectional re-reverses it.
    np.testing.assert_array_equal(backward.h[:, ::-1], bi_out[..., 3:])
    np.testing.assert_array_equal(trace(bi.backward_layer, first_out).h, backward.h)


def test_one_sequence_and_dataframe():
    rnn = keras.layers.RNN(SimpleLSTMCell(2))
    x = np.random.default_rng(6).normal(size=(4, 3)).astype("float32")  # (T, D)
    gates = trace(rnn, x)
    assert isinstance(gates, GateTrace)
    assert gates.f.shape == (1, 4, 2)
    frame = gates.to_frame()
    assert list(frame.columns) == ["sample", "step", "unit", "gate", "value"]
    assert len(frame) == 1 * 4 * 2 * len(TRACED)
    assert list(frame.gate.cat.categories) == list(TRACED)
    assert frame.step.min() == 1 and frame.step.max() == 4
    for name in TRACED:
        rows = frame[frame.gate == name].sort_values(["sample", "step", "unit"])
        np.testing.assert_array_equal(rows.value.to_numpy(), gates.as_dict()[name].ravel())
    row = frame[(frame.step == 3) & (frame.unit == 1) & (frame.gate == "c_tilde")]
    assert row.value.item() == gates.c_tilde[0, 2, 1]
    assert isinstance(frame, pd.DataFrame)


# --- bad arguments ----------------------------------------------------------------


def _two_lstm_model():
    inputs = keras.Input((4, 2))
    h = keras.layers.RNN(SimpleLSTMCell(3), return_sequences=True, name="a")(inputs)
    h = keras.layers.RNN(SimpleLSTMCell(3), name="b")(h)
    return keras.Model(inputs, h)


BAD_ARGUMENTS = [
    ("not a layer", lambda: ("lstm", {}), r"Expected `layer_or_cell`.*Received: str"),
    (
        "dense layer",
        lambda: (keras.layers.Dense(2), {}),
        r"Expected `layer_or_cell`.*Received: Dense",
    ),
    (
        "builtin lstm",
        lambda: (keras.layers.LSTM(2), {}),
        r"cell is a SimpleLSTMCell.*Received: layer 'lstm.*' with cell LSTMCell",
    ),
    (
        "stacked cells",
        lambda: (keras.layers.RNN([SimpleLSTMCell(2), SimpleLSTMCell(2)]), {}),
        r"cell is a SimpleLSTMCell.*StackedRNNCells",
    ),
    (
        "bidirectional",
        lambda: (keras.layers.Bidirectional(keras.layers.RNN(SimpleLSTMCell(2))), {}),
        r"forward_layer.*Received: Bidirectional",
    ),
    (
        "layer_name without model",
        lambda: (SimpleLSTMCell(2), {"layer_name": "a"}),
        r"expected a keras.Model.*Received: layer_name='a'",
    ),
    (
        "unknown layer_name",
        lambda: (_two_lstm_model(), {"layer_name": "c"}),
        r"Expected `layer_name` to be one of \['a', 'b'\].*Received: layer_name='c'",
    ),
    (
        "ambiguous model",
        lambda: (_two_lstm_model(), {}),
        r"Expected `layer_name`, one of \['a', 'b'\].*Received: layer_name=None",
    ),
    (
        "model without lstm",
        lambda: (keras.Sequential([keras.Input((4, 2)), keras.layers.Dense(1)]), {}),
        r"Expected a model with an RNN.*Received: model",
    ),
    (
        "bad initial_state",
        lambda: (SimpleLSTMCell(3), {"initial_state": [np.zeros((1, 2))] * 2}),
        r"Expected `initial_state`.*\(1, 3\).*Received: \[\(1, 2\), \(1, 2\)\]",
    ),
    (
        "initial_state not a pair",
        lambda: (SimpleLSTMCell(3), {"initial_state": np.zeros((1, 3))}),
        r"Expected `initial_state` to be \[h_0, c_0\].*Received: ndarray",
    ),
]


@pytest.mark.parametrize(
    "make, match", [case[1:] for case in BAD_ARGUMENTS], ids=[c[0] for c in BAD_ARGUMENTS]
)
def test_bad_arguments_are_named(make, match):
    subject, kwargs = make()
    with pytest.raises(ValueError, match=match):
        trace(subject, np.zeros((1, 4, 2), "float32"), **kwargs)


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.zeros((1, 2, 3, 2)), r"Received: inputs.shape=\(1, 2, 3, 2\)"),
        (np.zeros(4), r"Received: inputs.shape=\(4,\)"),
        (np.zeros((1, 0, 2)), r"time >= 1. Received: inputs.shape=\(1, 0, 2\)"),
        (np.array([["a", "b"]]), r"Expected numeric `inputs`"),
    ],
)
def test_bad_inputs_are_named(inputs, match):
    with pytest.raises(ValueError, match=match):
        trace(SimpleLSTMCell(2), inputs)


def test_wrong_feature_count_is_named():
    rnn = keras.layers.RNN(SimpleLSTMCell(2))
    rnn.build((None, 4, 3))
    with pytest.raises(ValueError, match=r"input_dim=3.*Received: inputs.shape"):
        trace(rnn, np.zeros((1, 4, 5), "float32"))


def test_bad_mask_is_named():
    with pytest.raises(ValueError, match=r"`mask`.*\(1, 4\).*Received: mask.shape=\(1, 3\)"):
        trace(SimpleLSTMCell(2), np.zeros((1, 4, 2)), mask=np.ones((1, 3), bool))
