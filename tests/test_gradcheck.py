"""Autodiff gradients of the cell against central finite differences in float64."""

import keras
import numpy as np
import pytest

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.verify import outputs_and_gradients

EPS = 1e-6  # central-difference step


def _loss(model, x, cotangents):
    outs = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(model(x))]
    return sum(float(np.sum(o * w)) for o, w in zip(outs, cotangents))


@pytest.mark.parametrize(
    "cell_kwargs", [{}, {"use_bias": False}, {"activation": None}, {"activation": "relu"}]
)
def test_gradients_match_finite_differences(cell_kwargs):
    if keras.backend.backend() in ("jax", "torch"):
        pytest.skip("float64 on Keras's JAX and torch backends computes in float32")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 4, 3))
    inputs = keras.Input((4, 3), dtype="float64")
    layer = keras.layers.RNN(
        SimpleLSTMCell(3, bias_initializer="random_normal", dtype="float64", **cell_kwargs),
        return_sequences=True,
        dtype="float64",
    )
    model = keras.Model(inputs, layer(inputs))
    outputs, grads = outputs_and_gradients(model, x, cotangent_seed=9)
    cot_rng = np.random.default_rng(9)
    cotangents = [cot_rng.normal(size=o.shape) for o in outputs]

    # d/dx at a few positions
    for idx in [(0, 0, 0), (1, 3, 2), (0, 2, 1)]:
        xp, xm = x.copy(), x.copy()
        xp[idx] += EPS
        xm[idx] -= EPS
        fd = (_loss(model, xp, cotangents) - _loss(model, xm, cotangents)) / (2 * EPS)
        assert grads[0][idx] == pytest.approx(fd, rel=1e-6, abs=1e-8)

    # d/dweight at a few entries of every weight
    for w_index, variable in enumerate(model.trainable_variables):
        value = keras.ops.convert_to_numpy(variable)
        for flat in rng.choice(value.size, size=3, replace=False):
            idx = np.unravel_index(flat, value.shape)
            plus, minus = value.copy(), value.copy()
            plus[idx] += EPS
            minus[idx] -= EPS
            variable.assign(plus)
            f_plus = _loss(model, x, cotangents)
            variable.assign(minus)
            f_minus = _loss(model, x, cotangents)
            variable.assign(value)
            fd = (f_plus - f_minus) / (2 * EPS)
            assert grads[1 + w_index][idx] == pytest.approx(fd, rel=1e-6, abs=1e-8), (
                variable.name,
                idx,
            )
