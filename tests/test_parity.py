"""RNN(SimpleLSTMCell) equals keras.layers.LSTM after weight transfer.

The grid runs at full float32 precision (TF32 off on a GPU); SimpleLSTM's
rows are in tests/test_simple_lstm.py.
"""

import keras
import numpy as np
import pytest

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.verify import GRID
from keras_lstm_cell.verify import TF32_TOLERANCE
from keras_lstm_cell.verify import TOLERANCE
from keras_lstm_cell.verify import compare_at_default_precision
from keras_lstm_cell.verify import compare_with_keras_lstm
from keras_lstm_cell.verify import compare_with_reference
from keras_lstm_cell.verify import outputs_and_gradients
from keras_lstm_cell.verify import reference_tolerance
from keras_lstm_cell.verify import scaled_diff


@pytest.mark.parametrize("config", GRID, ids=[c.name for c in GRID])
def test_outputs_and_gradients_equal_builtin_lstm(config):
    result = compare_with_keras_lstm(config)
    assert result.forward <= result.tolerance, result
    assert result.gradient <= result.tolerance, result


def test_default_precision_within_tf32_tolerance():
    # On a GPU float32 products may run in TF32 by default; on a CPU this is
    # the full-precision comparison again (tests/test_simple_lstm_gpu.py runs
    # the whole grid where there is a GPU).
    configs = tuple(c for c in GRID if c.name == "go_backwards")
    result = compare_at_default_precision(configs)
    assert result.tolerance == TF32_TOLERANCE
    assert result.ok, result


@pytest.mark.parametrize("go_backwards", [False, True])
def test_float64_matches_numpy_reference(go_backwards):
    assert compare_with_reference(seed=3, go_backwards=go_backwards) <= (reference_tolerance())


def _builtin(units, **kwargs):
    """The built-in's own loop over keras.layers.LSTMCell, which the cell
    equals to the bit. (Its default on a torch CPU, a loop with the input
    projection before it, rounds differently: test_default_builtin_path.)"""
    return keras.layers.LSTM(units, use_cudnn=False, **kwargs)


def test_default_builtin_path_within_tolerance():
    # keras.layers.LSTM as constructed by default: on TensorFlow and JAX on a
    # CPU its own loop, on torch Keras's loop with x·W + b computed first.
    rng = np.random.default_rng(8)
    x = rng.normal(size=(3, 6, 2)).astype("float32")
    options = dict(return_sequences=True, return_state=True)
    builtin = keras.Sequential([keras.Input((6, 2)), keras.layers.LSTM(4, **options)])
    ours = keras.Sequential([keras.Input((6, 2)), keras.layers.RNN(SimpleLSTMCell(4), **options)])
    ours.set_weights(builtin.get_weights())
    out_ref, grad_ref = outputs_and_gradients(builtin, x)
    out_ours, grad_ours = outputs_and_gradients(ours, x)
    assert scaled_diff(out_ref, out_ours) <= TOLERANCE["float32"]
    assert scaled_diff(grad_ref, grad_ours) <= TOLERANCE["float32"]


def _transfer(builtin, ours, x, **call_kwargs):
    builtin(x, **call_kwargs)
    ours(x, **call_kwargs)
    ours.set_weights(builtin.get_weights())


def _np(values):
    return [keras.ops.convert_to_numpy(v) for v in keras.tree.flatten(values)]


@pytest.mark.parametrize("dropout, recurrent_dropout", [(0.3, 0.0), (0.0, 0.4), (0.25, 0.5)])
def test_seeded_dropout_masks_equal_builtin(dropout, recurrent_dropout):
    x = np.random.default_rng(1).normal(size=(3, 5, 4)).astype("float32")
    kwargs = dict(dropout=dropout, recurrent_dropout=recurrent_dropout, seed=11)
    builtin = keras.layers.LSTM(6, return_sequences=True, **kwargs)
    ours = keras.layers.RNN(SimpleLSTMCell(6, **kwargs), return_sequences=True)
    _transfer(builtin, ours, x)
    train_builtin = _np(builtin(x, training=True))[0]
    train_ours = _np(ours(x, training=True))[0]
    np.testing.assert_allclose(train_ours, train_builtin, atol=1e-6, rtol=0)
    # Inference applies no dropout: equal to a model without dropout.
    plain = keras.layers.RNN(SimpleLSTMCell(6), return_sequences=True)
    plain(x)
    plain.set_weights(builtin.get_weights())
    infer = _np(ours(x, training=False))[0]
    np.testing.assert_array_equal(infer, _np(plain(x))[0])
    assert np.max(np.abs(train_ours - infer)) > 1e-3  # dropout did act


def test_dropout_mask_is_reused_at_every_step():
    """With input dropout, a feature dropped at step 1 is dropped at every step:
    the output equals the plain cell fed the masked inputs."""
    x = np.ones((64, 4, 1), "float32")
    cell = SimpleLSTMCell(3, dropout=0.5, seed=5)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    out = _np(rnn(x, training=True))[0]
    plain = keras.layers.RNN(SimpleLSTMCell(3), return_sequences=True)
    plain(x)
    plain.set_weights(rnn.get_weights())
    dropped = _np(plain(np.zeros_like(x)))[0]
    kept = _np(plain(x * 2.0))[0]  # inverted dropout scales kept inputs by 1/(1-p)
    is_dropped = np.all(np.isclose(out, dropped, atol=1e-6), axis=(1, 2))
    is_kept = np.all(np.isclose(out, kept, atol=1e-6), axis=(1, 2))
    assert np.all(is_dropped | is_kept)  # never mixed within a sequence
    assert 10 < is_dropped.sum() < 54


def test_initial_state_equal_builtin():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    h0, c0 = (rng.normal(size=(2, 5)).astype("float32") for _ in range(2))
    builtin = _builtin(5, return_state=True)
    ours = keras.layers.RNN(SimpleLSTMCell(5), return_state=True)
    _transfer(builtin, ours, x, initial_state=[h0, c0])
    for a, b in zip(_np(ours(x, initial_state=[h0, c0])), _np(builtin(x, initial_state=[h0, c0]))):
        np.testing.assert_array_equal(a, b)


def test_stateful_reset_state_equal_builtin():
    rng = np.random.default_rng(3)
    x1, x2 = (rng.normal(size=(2, 4, 3)).astype("float32") for _ in range(2))
    builtin = _builtin(5, stateful=True)
    ours = keras.layers.RNN(SimpleLSTMCell(5), stateful=True)
    _transfer(builtin, ours, x1)
    builtin.reset_state()
    ours.reset_state()
    first = _np(ours(x1))[0]
    second = _np(ours(x2))[0]
    np.testing.assert_array_equal(first, _np(builtin(x1))[0])
    np.testing.assert_array_equal(second, _np(builtin(x2))[0])
    ours.reset_state()
    np.testing.assert_array_equal(_np(ours(x2))[0], _np(keras.layers.RNN(ours.cell)(x2))[0])
    assert np.max(np.abs(second - _np(ours(x2))[0])) > 1e-4  # state mattered


def test_mask_argument_equal_builtin():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 1, 0, 0, 0]], bool)
    builtin = keras.layers.LSTM(4, return_sequences=True, return_state=True)
    ours = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True, return_state=True)
    _transfer(builtin, ours, x, mask=mask)
    for a, b in zip(_np(ours(x, mask=mask)), _np(builtin(x, mask=mask))):
        np.testing.assert_array_equal(a, b)


def test_stacked_cells_equal_two_builtin_layers():
    x = np.random.default_rng(5).normal(size=(2, 6, 3)).astype("float32")
    builtin = keras.Sequential(
        [keras.Input((6, 3)), keras.layers.LSTM(4, return_sequences=True), keras.layers.LSTM(5)]
    )
    for ours in (
        keras.layers.RNN([SimpleLSTMCell(4), SimpleLSTMCell(5)]),
        keras.layers.RNN(keras.layers.StackedRNNCells([SimpleLSTMCell(4), SimpleLSTMCell(5)])),
    ):
        ours(x)
        ours.set_weights(builtin.get_weights())
        np.testing.assert_allclose(_np(ours(x))[0], _np(builtin(x))[0], atol=1e-6, rtol=0)


def test_bidirectional_equal_builtin():
    x = np.random.default_rng(6).normal(size=(2, 5, 3)).astype("float32")
    builtin = keras.layers.Bidirectional(_builtin(4, return_sequences=True))
    ours = keras.layers.Bidirectional(keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True))
    _transfer(builtin, ours, x)
    out = _np(ours(x))[0]
    assert out.shape == (2, 5, 8)
    np.testing.assert_array_equal(out, _np(builtin(x))[0])


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_equal_builtin(policy):
    keras.config.set_dtype_policy(policy)
    x = np.random.default_rng(7).normal(size=(2, 5, 3)).astype("float32")
    builtin = _builtin(4, return_sequences=True)
    ours = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    _transfer(builtin, ours, x)
    assert ours.cell.kernel.dtype == "float32"  # variables stay float32
    out = ours(x)
    assert keras.backend.standardize_dtype(out.dtype) == policy.split("_")[1]
    np.testing.assert_array_equal(
        _np(out)[0].astype("float32"), _np(builtin(x))[0].astype("float32")
    )
    # Half precision stays close to the float32 computation.
    keras.config.set_dtype_policy("float32")
    full = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    full(x)
    full.set_weights(builtin.get_weights())
    np.testing.assert_allclose(_np(out)[0].astype("float32"), _np(full(x))[0], atol=3e-2, rtol=0)
