"""GateMonitor: the logged TensorBoard summaries, read back from the event files."""

import io

import keras
import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util.tensor_util import make_ndarray

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.equations import VARIANTS
from keras_lstm_cell.gate_monitor import GateMonitor
from keras_lstm_cell.gate_monitor import forget_gate_heatmap
from keras_lstm_cell.gate_trace import TRACED
from keras_lstm_cell.gate_trace import trace

STEPS, FEATURES = 6, 2


def _data(n=16, seed=0):
    x = np.random.default_rng(seed).normal(size=(n, STEPS, FEATURES)).astype("float32")
    return x, x.sum(axis=(1, 2))[:, None]


def _model(variant="standard", bidirectional=False):
    inputs = keras.Input((STEPS, FEATURES))
    h = keras.layers.RNN(SimpleLSTMCell(4, variant=variant), return_sequences=True, name="lstm")(
        inputs
    )
    if bidirectional:
        h = keras.layers.Bidirectional(
            keras.layers.RNN(SimpleLSTMCell(3, variant=variant)), name="bi"
        )(h)
    model = keras.Model(inputs, keras.layers.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse")
    return model


def _events(logdir) -> dict:
    """{tag: {step: value array}} of every summary in `logdir`."""
    accumulator = EventAccumulator(str(logdir), size_guidance={"tensors": 0})
    accumulator.Reload()
    return {
        tag: {e.step: make_ndarray(e.tensor_proto) for e in accumulator.Tensors(tag)}
        for tag in accumulator.Tags()["tensors"]
    }


def _expected_tags(layer):
    scalars = {
        f"{layer}/{g}/{stat}" for g in "fio" for stat in ("mean", "saturated_high", "saturated_low")
    }
    return scalars | {f"{layer}/{q}" for q in TRACED} | {f"{layer}/forget_gate"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_logged_values_equal_the_trace_of_the_probe(variant, tmp_path):
    x, y = _data()
    probe = x[:5]
    model = _model(variant)
    model.fit(x, y, epochs=2, verbose=0, callbacks=[GateMonitor(probe, tmp_path / "gates")])
    events = _events(tmp_path / "gates")
    assert set(events) == _expected_tags("lstm")
    assert all(sorted(steps) == [0, 1] for steps in events.values())
    gates = trace(model, probe, layer_name="lstm")  # the weights of the last epoch
    for g in "fio":
        values = gates.as_dict()[g]
        logged = {
            stat: float(events[f"lstm/{g}/{stat}"][1])
            for stat in ("mean", "saturated_high", "saturated_low")
        }
        assert logged["mean"] == pytest.approx(float(np.mean(values)), abs=1e-7)
        assert logged["saturated_high"] == pytest.approx(np.mean(values > 0.9))
        assert logged["saturated_low"] == pytest.approx(np.mean(values < 0.1))
    if variant == "coupled":
        i_mean = float(events["lstm/i/mean"][1])
        assert i_mean == pytest.approx(1.0 - float(events["lstm/f/mean"][1]), abs=1e-6)
    for q in TRACED:
        histogram = events[f"lstm/{q}"][1]  # rows: (left edge, right edge, count)
        values = gates.as_dict()[q]
        assert histogram[:, 2].sum() == values.size
        assert histogram[0, 0] == pytest.approx(values.min(), abs=1e-6)
        assert histogram[-1, 1] == pytest.approx(values.max(), abs=1e-6)


def test_forget_gate_image_and_bidirectional_halves(tmp_path):
    x, y = _data()
    model = _model(bidirectional=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[GateMonitor(x[:3], tmp_path)])
    events = _events(tmp_path)
    expected = set()
    for layer in ("lstm", "bi/forward", "bi/backward"):
        expected |= _expected_tags(layer)
    assert set(events) == expected
    backward = trace(model, x[:3], layer_name="bi/backward")
    assert float(events["bi/backward/f/mean"][0]) == pytest.approx(
        float(backward.f.mean()), abs=1e-7
    )
    width, height, png = events["bi/backward/forget_gate"][0]
    image = _decode_png(png)
    assert (int(width), int(height)) == (image.shape[1], image.shape[0]) == (480, 240)


@pytest.mark.parametrize("source", ["masking", "embedding"])
def test_model_with_a_mask(source, tmp_path):
    """The monitor traces what the LSTM receives: the sequences and the mask."""
    rng = np.random.default_rng(1)
    if source == "masking":
        inputs = keras.Input((STEPS, FEATURES))
        hidden = keras.layers.Masking()(inputs)
        x = rng.normal(size=(16, STEPS, FEATURES)).astype("float32")
        x[::2, STEPS // 2 :] = 0.0  # every other sequence padded
    else:
        inputs = keras.Input((STEPS,), dtype="int32")
        hidden = keras.layers.Embedding(10, FEATURES, mask_zero=True)(inputs)
        x = rng.integers(1, 10, size=(16, STEPS)).astype("int32")
        x[::2, STEPS // 2 :] = 0
    hidden = keras.layers.RNN(SimpleLSTMCell(4), name="lstm")(hidden)
    model = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    model.compile(optimizer="adam", loss="mse")
    y = rng.normal(size=(16, 1)).astype("float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[GateMonitor(x[:4], tmp_path)])
    events = _events(tmp_path)
    assert set(events) == _expected_tags("lstm")
    gates = trace(model, x[:4])
    assert float(events["lstm/f/mean"][0]) == pytest.approx(float(gates.f.mean()), abs=1e-7)
    unmasked = trace(model, x[:4], mask=np.ones((4, STEPS), bool))
    assert abs(float(unmasked.f.mean()) - float(gates.f.mean())) > 1e-6


def _decode_png(data: bytes) -> np.ndarray:
    from matplotlib.image import imread

    return imread(io.BytesIO(data), format="png")


def test_every_n_epochs_and_layer_names(tmp_path):
    x, y = _data()
    model = _model(bidirectional=True)
    monitor = GateMonitor(x[:3], tmp_path, layer_names=["bi/forward"], every_n_epochs=2)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[monitor])
    events = _events(tmp_path)
    assert set(events) == _expected_tags("bi/forward")
    assert sorted(events["bi/forward/f/mean"]) == [0, 2]


def test_heatmap_colours_follow_the_gate():
    closed = forget_gate_heatmap(np.zeros((8, 3)))
    open_ = forget_gate_heatmap(np.ones((8, 3)))
    assert closed.shape == open_.shape == (240, 480, 4)
    assert closed.dtype == np.uint8
    # The middle of the plot area differs; the frame and labels do not.
    centre = (closed.shape[0] // 2, closed.shape[1] // 3)
    assert np.any(closed[centre] != open_[centre])
    np.testing.assert_array_equal(closed[:5, :5], open_[:5, :5])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"probe_inputs": None}, r"`probe_inputs`.*Received: probe_inputs=None"),
        ({"logdir": ""}, r"`logdir`.*Received: logdir=''"),
        ({"logdir": 3}, r"`logdir`.*Received: logdir=3"),
        ({"layer_names": "lstm"}, r"`layer_names`.*Received: layer_names='lstm'"),
        ({"layer_names": []}, r"`layer_names`.*Received: layer_names=\[\]"),
        ({"every_n_epochs": 0}, r"`every_n_epochs`.*Received: every_n_epochs=0"),
        ({"every_n_epochs": 1.5}, r"`every_n_epochs`.*Received: every_n_epochs=1.5"),
    ],
)
def test_bad_constructor_arguments_are_named(kwargs, match, tmp_path):
    arguments = {"probe_inputs": np.zeros((1, STEPS, FEATURES)), "logdir": str(tmp_path)}
    with pytest.raises(ValueError, match=match):
        GateMonitor(**(arguments | kwargs))


def test_unknown_layer_name_and_model_without_lstm(tmp_path):
    x, y = _data(n=4)
    monitor = GateMonitor(x[:2], tmp_path, layer_names=["lstm", "nope"])
    with pytest.raises(
        ValueError, match=r"Expected `layer_names` among \['lstm'\].*\['nope'\] not found"
    ):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[monitor])
    dense = keras.Sequential([keras.Input((STEPS, FEATURES)), keras.layers.Dense(1)])
    dense.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"RNN or SimpleLSTM layer.*Received: model"):
        dense.fit(x, x[..., :1], epochs=1, verbose=0, callbacks=[GateMonitor(x[:2], tmp_path)])
