"""The seeds' numbers, reproduced by SimpleLSTMCell and the NumPy reference."""

import keras
import numpy as np
import pytest

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.reference import lstm_forward

# Seed 000 (a NumPy cell from Wikipedia's equations): the same W, U, b for all
# four gates, inputs (1, 2) then (3, 4). Its h and c, to the 4 decimals it prints.
SEED_000_W = np.array([[0.01, 0.02], [0.03, 0.04], [0.05, 0.06]])
SEED_000_U = np.array([[0.07, 0.08, 0.09], [0.10, 0.11, 0.12], [0.13, 0.14, 0.15]])
SEED_000_B = np.array([0.16, 0.17, 0.18])
SEED_000_X = np.array([[[1.0, 2.0], [3.0, 4.0]]])
SEED_000_H = np.array([[0.0629, 0.0878, 0.1143], [0.1282, 0.2066, 0.2883]])
SEED_000_C = np.array([[0.1143, 0.1554, 0.1973], [0.2278, 0.3523, 0.4789]])

# Seed 003 (a scalar LSTM notebook): weights per gate and its printed table.
SEED_003_WEIGHTS = {
    "W_f": [[0.5]], "U_f": [[0.1]], "b_f": [0.0],
    "W_i": [[0.6]], "U_i": [[0.2]], "b_i": [0.0],
    "W_c": [[0.7]], "U_c": [[0.3]], "b_c": [0.0],
    "W_o": [[0.8]], "U_o": [[0.4]], "b_o": [0.0],
}  # fmt: skip
SEED_003_X = np.array([[[1.0], [2.0], [3.0]]])
SEED_003_TABLE = {  # gate: values at time steps 1, 2, 3
    "f": [0.622, 0.736, 0.827],
    "i": [0.646, 0.778, 0.873],
    "c_tilde": [0.604, 0.901, 0.980],
    "c": [0.390, 0.988, 1.672],
    "o": [0.690, 0.846, 0.934],
    "h": [0.256, 0.640, 0.871],
}
SEED_003_W_Y = 4.0  # the Dense weight of the notebook's prediction
SEED_003_PREDICTION = 3.483


def _seed_000_weights():
    return {
        f"{m}_{g}": v
        for g in "fioc"
        for m, v in (("W", SEED_000_W), ("U", SEED_000_U), ("b", SEED_000_B))
    }


def _rnn_with(weights, units, input_dim):
    rnn = keras.layers.RNN(SimpleLSTMCell(units), return_sequences=True, return_state=True)
    rnn.build((None, None, input_dim))
    rnn.cell.set_gate_weights(weights)
    return rnn


def test_seed_000_h_and_c():
    rnn = _rnn_with(_seed_000_weights(), units=3, input_dim=2)
    seq, h, c = (keras.ops.convert_to_numpy(t) for t in rnn(SEED_000_X.astype("float32")))
    np.testing.assert_allclose(seq[0], SEED_000_H, atol=5e-5)
    np.testing.assert_allclose(h[0], SEED_000_H[-1], atol=5e-5)
    np.testing.assert_allclose(c[0], SEED_000_C[-1], atol=5e-5)


def test_seed_000_reference():
    ref = lstm_forward(SEED_000_X, _seed_000_weights())
    np.testing.assert_allclose(ref["h"][0], SEED_000_H, atol=5e-5)
    np.testing.assert_allclose(ref["c"][0], SEED_000_C, atol=5e-5)


def test_seed_003_gate_table_step_by_step():
    rnn = _rnn_with(SEED_003_WEIGHTS, units=1, input_dim=1)
    cell = rnn.cell
    states = cell.get_initial_state(batch_size=1)
    for t in range(3):
        gates = cell.gates(SEED_003_X[:, t].astype("float32"), states)
        for name, expected in SEED_003_TABLE.items():
            value = float(keras.ops.convert_to_numpy(getattr(gates, name))[0, 0])
            assert round(value, 3) == pytest.approx(expected[t], abs=1e-9), (name, t)
        states = [gates.h, gates.c]


def test_seed_003_prediction_through_rnn_and_dense():
    model = keras.Sequential(
        [
            keras.Input((3, 1)),
            keras.layers.RNN(SimpleLSTMCell(1)),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(SEED_003_W_Y)),
        ]
    )
    model.layers[0].cell.set_gate_weights(SEED_003_WEIGHTS)
    y = model.predict(SEED_003_X.astype("float32"), verbose=0)
    assert round(float(y[0, 0]), 3) == pytest.approx(SEED_003_PREDICTION, abs=1e-9)


def test_seed_003_reference():
    ref = lstm_forward(SEED_003_X, SEED_003_WEIGHTS)
    for name, expected in SEED_003_TABLE.items():
        np.testing.assert_allclose(ref[name][0, :, 0], expected, atol=5e-4)
    assert round(SEED_003_W_Y * ref["h"][0, -1, 0], 3) == SEED_003_PREDICTION
