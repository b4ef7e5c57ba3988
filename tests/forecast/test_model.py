"""build_model, the optimizer's clipping, and the layer choices."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lstm_cell.forecast.config import LAYERS
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.model import RECURRENT_LAYERS
from keras_lstm_cell.forecast.model import build_model
from keras_lstm_cell.forecast.model import make_optimizer
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell


def test_build_model_shapes_and_layers():
    model = build_model(window=5, n_features=3, horizon=2, units=6, layers=2)
    assert model.input_shape == (None, 5, 3) and model.output_shape == (None, 2)
    rnns = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    assert [type(r.cell) for r in rnns] == [SimpleLSTMCell, SimpleLSTMCell]
    assert [r.return_sequences for r in rnns] == [True, False]
    assert [r.cell.units for r in rnns] == [6, 6]
    # (3 + 6 + 1) * 24 + (6 + 6 + 1) * 24 + (6 + 1) * 2 weights.
    assert model.count_params() == 240 + 312 + 14


def test_build_model_passes_cell_kwargs():
    model = build_model(7, 1, cell_kwargs={"dropout": 0.25, "unit_forget_bias": False})
    cell = model.get_layer("lstm_1").cell
    assert cell.dropout == 0.25 and cell.unit_forget_bias is False


def test_build_model_rejects_unknown_layer():
    with pytest.raises(
        ValueError, match=r"`layer` to be one of rnn, simple_lstm. Received: layer='gru'"
    ):
        build_model(7, 1, layer="gru")


# The raw gradient is about 1e4 times larger than every clip threshold here.
@pytest.mark.parametrize(
    "clip, reference",
    [
        ({"global_clipnorm": 0.5}, lambda g: tf.clip_by_global_norm(g, 0.5)[0]),
        ({"clipnorm": 0.5}, lambda g: [tf.clip_by_norm(v, 0.5) for v in g]),
        ({"clipvalue": 0.01}, lambda g: [tf.clip_by_value(v, -0.01, 0.01) for v in g]),
    ],
)
def test_clipping_bounds_the_applied_gradient(clip, reference):
    keras.utils.set_random_seed(0)
    config = ForecastConfig(**{"global_clipnorm": None, **clip})
    model = build_model(window=4, n_features=1, units=3)
    x = np.ones((8, 4, 1), "float32")
    y = np.full((8, 1), 1e4, "float32")  # a large-gradient batch
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    raw = tape.gradient(loss, model.trainable_variables)
    raw_norm = float(tf.linalg.global_norm(raw))
    expected = [v.numpy() for v in reference(raw)]

    optimizer = make_optimizer(config)
    model.compile(optimizer=optimizer, loss="mse")
    model.train_on_batch(x, y)
    # After one step, Adam's first moment is (1 - beta_1) times the applied gradient.
    applied = [m.numpy() / (1 - optimizer.beta_1) for m in optimizer._momentums]
    for got, want in zip(applied, expected):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-7)
    if "global_clipnorm" in clip:
        assert float(tf.linalg.global_norm(applied)) == pytest.approx(0.5, rel=1e-4)
    stats = optimizer.gradient_norm_stats()
    assert stats["steps"] == 1 and stats["mean"] == pytest.approx(raw_norm, rel=1e-4)
    assert raw_norm > 1e3

    # The same setting on plain SGD: the weight update is at most lr * clip.
    sgd_model = build_model(window=4, n_features=1, units=3)
    sgd_model.set_weights(model.get_weights())
    before = [w.numpy().copy() for w in sgd_model.trainable_variables]
    sgd_model.compile(optimizer=keras.optimizers.SGD(0.1, **config.clipping), loss="mse")
    sgd_model.train_on_batch(x, y)
    update = [w.numpy() - b for w, b in zip(sgd_model.trainable_variables, before)]
    if "global_clipnorm" in clip:
        assert float(tf.linalg.global_norm(update)) <= 0.1 * 0.5 * (1 + 1e-4)
    elif "clipnorm" in clip:
        assert max(np.linalg.norm(u) for u in update) <= 0.1 * 0.5 * (1 + 1e-4)
    else:
        assert max(np.abs(u).max() for u in update) <= 0.1 * 0.01 * (1 + 1e-4)


def test_every_layer_choice_has_a_factory():
    assert tuple(RECURRENT_LAYERS) == LAYERS
