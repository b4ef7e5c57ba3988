"""SimpleLSTMCell's arguments, weights and errors."""

import inspect

import keras
import numpy as np
import pytest

from keras_lstm_cell import GATE_ORDER
from keras_lstm_cell import SimpleLSTMCell


def test_gate_order_is_keras_fused_layout():
    assert GATE_ORDER == ("i", "f", "c", "o")


def test_constructor_matches_keras_lstm_cell():
    ours = inspect.signature(SimpleLSTMCell.__init__).parameters
    theirs = inspect.signature(keras.layers.LSTMCell.__init__).parameters
    ours_defaults = {k: p.default for k, p in ours.items()}
    for name, param in theirs.items():
        assert name in ours, name
        assert ours_defaults[name] == param.default, name


def test_weights_have_keras_names_and_shapes():
    cell = SimpleLSTMCell(5)
    cell.build((None, 3))
    assert [(w.name, tuple(w.shape)) for w in cell.weights] == [
        ("kernel", (3, 20)),
        ("recurrent_kernel", (5, 20)),
        ("bias", (20,)),
    ]
    bias = keras.ops.convert_to_numpy(cell.bias)
    np.testing.assert_array_equal(bias[5:10], 1.0)  # unit_forget_bias: b_f = 1
    np.testing.assert_array_equal(np.delete(bias, range(5, 10)), 0.0)


def test_no_bias_weight_when_use_bias_false():
    cell = SimpleLSTMCell(2, use_bias=False)
    cell.build((None, 4))
    assert [w.name for w in cell.weights] == ["kernel", "recurrent_kernel"]
    assert set(cell.gate_weights()) == {f"{m}_{g}" for m in "WU" for g in "fioc"}


def test_gate_weights_are_views_of_fused_weights():
    cell = SimpleLSTMCell(4)
    cell.build((None, 3))
    kernel = keras.ops.convert_to_numpy(cell.kernel)
    recurrent = keras.ops.convert_to_numpy(cell.recurrent_kernel)
    bias = keras.ops.convert_to_numpy(cell.bias)
    w = cell.gate_weights()
    for k, g in enumerate(GATE_ORDER):
        cols = slice(4 * k, 4 * (k + 1))
        np.testing.assert_array_equal(w[f"W_{g}"], kernel[:, cols].T)
        np.testing.assert_array_equal(w[f"U_{g}"], recurrent[:, cols].T)
        np.testing.assert_array_equal(w[f"b_{g}"], bias[cols])
    assert w["W_f"].shape == (4, 3) and w["U_f"].shape == (4, 4) and w["b_f"].shape == (4,)


def test_set_gate_weights_round_trip():
    rng = np.random.default_rng(0)
    cell = SimpleLSTMCell(3)
    cell.build((None, 2))
    new = {k: rng.normal(size=v.shape).astype("float32") for k, v in cell.gate_weights().items()}
    cell.set_gate_weights(new)
    for k, v in cell.gate_weights().items():
        np.testing.assert_array_equal(v, new[k])


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda w: w.pop("U_o"), r"Missing gate weights \['U_o'\]"),
        (lambda w: w.update(W_x=np.zeros((3, 2))), r"Unexpected gate weights \['W_x'\]"),
        (lambda w: w.update(W_f=np.zeros((2, 3))), r"`W_f` to have shape \(3, 2\).*\(2, 3\)"),
        (lambda w: w.update(b_c=np.zeros(4)), r"`b_c` to have shape \(3,\).*\(4,\)"),
        (
            lambda w: w.update(b_f=["a", "b", "c"]),
            r"`b_f` to be an array of numbers of shape \(3,\). Received: b_f=\['a', 'b', 'c'\]",
        ),
    ],
)
def test_set_gate_weights_rejects_bad_dicts(mutate, match):
    cell = SimpleLSTMCell(3)
    cell.build((None, 2))
    weights = cell.gate_weights()
    mutate(weights)
    before = [keras.ops.convert_to_numpy(v) for v in cell.weights]
    with pytest.raises(ValueError, match=match):
        cell.set_gate_weights(weights)
    for old, v in zip(before, cell.weights):  # nothing was half-written
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(v))


def test_set_gate_weights_rejects_non_dict_and_unbuilt():
    cell = SimpleLSTMCell(3)
    with pytest.raises(ValueError, match="unbuilt cell"):
        cell.gate_weights()
    cell.build((None, 2))
    with pytest.raises(ValueError, match="Expected `weights` to be a dict.*list"):
        cell.set_gate_weights([1, 2])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, r"`units` to be a positive integer. Received: units=0"),
        ({"units": -3}, r"Received: units=-3"),
        ({"units": 2.5}, r"Received: units=2.5"),
        ({"units": True}, r"Received: units=True"),
        (
            {"units": 2, "dropout": 1.0},
            r"`dropout` to be a float in \[0, 1\). Received: dropout=1.0",
        ),
        ({"units": 2, "dropout": -0.1}, r"Received: dropout=-0.1"),
        ({"units": 2, "recurrent_dropout": 1.5}, r"Received: recurrent_dropout=1.5"),
        ({"units": 2, "dropout": "a"}, r"Received: dropout='a'"),
        ({"units": 2, "activation": "nope"}, r"`activation`.*Received: activation='nope'"),
        (
            {"units": 2, "recurrent_activation": "bad"},
            r"`recurrent_activation`.*Received: recurrent_activation='bad'",
        ),
        ({"units": 2, "kernel_initializer": "nope"}, r"Received: kernel_initializer='nope'"),
        ({"units": 2, "seed": "x"}, r"`seed` to be an integer or None. Received: seed='x'"),
        (
            {"units": 2, "use_bias": "no"},
            r"Expected `use_bias` to be True or False. Received: use_bias='no'",
        ),
        ({"units": 2, "use_bias": 1}, r"`use_bias` to be True or False. Received: use_bias=1"),
        (
            {"units": 2, "unit_forget_bias": "false"},
            r"`unit_forget_bias` to be True or False. Received: unit_forget_bias='false'",
        ),
        (
            {"units": 2, "norm_epsilon": float("inf")},
            r"`norm_epsilon` to be a finite positive float. Received: norm_epsilon=inf",
        ),
        ({"units": 2, "norm_epsilon": float("nan")}, r"Received: norm_epsilon=nan"),
        (
            {"units": 2, "implementation": 3},
            r"`implementation` to be 1 or 2. Received: implementation=3",
        ),
        ({"units": 2, "implementation": True}, r"Received: implementation=True"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SimpleLSTMCell(**kwargs)


def test_numpy_bools_are_accepted():
    cell = SimpleLSTMCell(2, use_bias=np.bool_(False), unit_forget_bias=np.bool_(True))
    assert cell.use_bias is False and cell.unit_forget_bias is True


@pytest.mark.parametrize("method", ["gates", "preactivations"])
def test_gates_of_an_unbuilt_cell_raise(method):
    cell = SimpleLSTMCell(2)
    x, h = np.zeros((1, 3), "float32"), np.zeros((1, 2), "float32")
    with pytest.raises(ValueError, match=rf"`{method}\(\)` needs the cell's weights.*unbuilt cell"):
        if method == "gates":
            cell.gates(x, [h, h])
        else:
            cell.preactivations(x, h)


def test_wrong_input_rank_raises():
    with pytest.raises(ValueError, match=r"rank 2.*Received: input_shape=\(2, 4, 5\)"):
        keras.layers.RNN(SimpleLSTMCell(2))(np.zeros((2, 3, 4, 5), "float32"))
    cell = SimpleLSTMCell(2)
    with pytest.raises(ValueError, match=r"rank 2"):
        cell.build((3,))


def test_input_dim_change_after_build_raises():
    rnn = keras.layers.RNN(SimpleLSTMCell(2))
    rnn(np.zeros((1, 3, 4), "float32"))
    with pytest.raises(ValueError, match=r"input_dim=4.*Received: inputs.shape=\(1, 5\)"):
        rnn(np.zeros((1, 3, 5), "float32"))


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_integer_and_boolean_inputs_are_cast_like_builtin(dtype):
    x = (np.arange(24).reshape(2, 4, 3) % 3).astype(dtype)
    builtin = keras.layers.LSTM(3, return_sequences=True)
    ours = keras.layers.RNN(SimpleLSTMCell(3), return_sequences=True)
    builtin(x.astype("float32"))
    ours(x.astype("float32"))
    ours.set_weights(builtin.get_weights())
    out = ours(x)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    as_float = keras.ops.convert_to_numpy(ours(x.astype("float32")))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), as_float)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(out), keras.ops.convert_to_numpy(builtin(x)), atol=1e-6, rtol=0
    )


def test_complex_inputs_raise():
    rnn = keras.layers.RNN(SimpleLSTMCell(2))
    with pytest.raises(
        ValueError, match=r"integer or boolean inputs. Received: inputs.dtype=complex64"
    ):
        rnn(np.zeros((1, 3, 4), "complex64"))


@pytest.mark.parametrize("implementation", [1, 2])
def test_implementation_is_accepted_and_changes_nothing(implementation):
    x = np.random.default_rng(2).normal(size=(2, 5, 3)).astype("float32")
    builtin = keras.layers.LSTM(4, implementation=implementation, return_sequences=True)
    cell = SimpleLSTMCell(4, implementation=implementation)
    ours = keras.layers.RNN(cell, return_sequences=True)
    plain = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    for layer in (builtin, ours, plain):
        layer(x)
    ours.set_weights(builtin.get_weights())
    plain.set_weights(builtin.get_weights())
    out = keras.ops.convert_to_numpy(ours(x))
    np.testing.assert_array_equal(out, keras.ops.convert_to_numpy(plain(x)))
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(builtin(x)), atol=1e-6, rtol=0)
    assert cell.implementation == implementation
    assert cell.get_config()["implementation"] == implementation
    assert SimpleLSTMCell.from_config(cell.get_config()).implementation == implementation


def test_activation_none_is_linear():
    x = np.random.default_rng(1).normal(size=(2, 3, 2)).astype("float32")
    rnn = keras.layers.RNN(SimpleLSTMCell(3, activation=None), return_sequences=True)
    out = keras.ops.convert_to_numpy(rnn(x))
    builtin = keras.layers.LSTM(3, activation=None, return_sequences=True)
    builtin(x)
    builtin.set_weights(rnn.get_weights())
    # Within rounding: on torch the built-in adds the bias before U h_{t-1}.
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(builtin(x)), atol=1e-6, rtol=0)
