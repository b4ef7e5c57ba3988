"""SimpleLSTMCell honours the Keras layer contract, through public API only."""

import keras
import numpy as np
import pytest

import keras_lstm_cell
from keras_lstm_cell import SimpleLSTMCell

X = np.random.default_rng(0).normal(size=(8, 7, 1)).astype("float32")
Y = np.random.default_rng(1).normal(size=(8, 1)).astype("float32")


def _model(**cell_kwargs):
    return keras.Sequential(
        [
            keras.Input((7, 1)),
            keras.layers.RNN(SimpleLSTMCell(4, **cell_kwargs)),
            keras.layers.Dense(1),
        ]
    )


def test_symbolic_and_eager_calls_agree():
    layer = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    symbolic = layer(keras.Input((7, 1)))
    assert tuple(symbolic.shape) == (None, 7, 4)
    eager = keras.ops.convert_to_numpy(layer(X))
    assert eager.shape == (8, 7, 4)
    wrapped = keras.Model(inputs := keras.Input((7, 1)), layer(inputs))
    np.testing.assert_array_equal(wrapped.predict(X, verbose=0), eager)


def test_get_config_from_config_round_trip():
    cell = SimpleLSTMCell(
        6,
        activation="relu",
        recurrent_activation="hard_sigmoid",
        use_bias=False,
        kernel_initializer="he_normal",
        unit_forget_bias=False,
        kernel_regularizer="l2",
        recurrent_constraint="non_neg",
        dropout=0.25,
        recurrent_dropout=0.125,
        seed=3,
        name="my_cell",
    )
    config = cell.get_config()
    for key in (
        "units",
        "activation",
        "recurrent_activation",
        "use_bias",
        "dropout",
        "recurrent_dropout",
        "seed",
        "unit_forget_bias",
        "kernel_initializer",
        "kernel_regularizer",
        "recurrent_constraint",
        "bias_constraint",
    ):
        assert key in config
    clone = SimpleLSTMCell.from_config(config)
    assert clone.get_config() == config
    assert (clone.units, clone.dropout, clone.seed, clone.name) == (6, 0.25, 3, "my_cell")


def test_serialize_keras_object_round_trip():
    cell = SimpleLSTMCell(5, dropout=0.1)
    serialized = keras.saving.serialize_keras_object(cell)
    assert serialized["registered_name"] == "keras_lstm_cell>SimpleLSTMCell"
    restored = keras.saving.deserialize_keras_object(serialized)
    assert isinstance(restored, SimpleLSTMCell)
    assert restored.get_config() == cell.get_config()
    rnn = keras.layers.RNN(cell)
    restored_rnn = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(rnn))
    assert isinstance(restored_rnn.cell, SimpleLSTMCell)


def test_fit_step_reduces_loss():
    model = _model()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    before = [keras.ops.convert_to_numpy(w) for w in model.layers[0].weights]
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < losses[0]
    after = [keras.ops.convert_to_numpy(w) for w in model.layers[0].weights]
    assert all(np.any(a != b) for a, b in zip(after, before))


def test_keras_file_save_load_without_custom_objects(tmp_path):
    model = _model(dropout=0.2, seed=4)
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, Y, epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)  # registration, no custom_objects
    assert isinstance(loaded.layers[0].cell, SimpleLSTMCell)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_bidirectional_model_save_load(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((7, 1)),
            keras.layers.Bidirectional(keras.layers.RNN(SimpleLSTMCell(3))),
            keras.layers.Dense(1),
        ]
    )
    path = tmp_path / "bi.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow", reason="tf.saved_model export needs TF"
)
def test_export_saved_model_serves_same_predictions(tmp_path):
    import tensorflow as tf

    model = _model()
    path = str(tmp_path / "exported")
    model.export(path, verbose=False)
    reloaded = tf.saved_model.load(path)
    served = reloaded.serve(tf.constant(X)).numpy()
    np.testing.assert_allclose(served, model.predict(X, verbose=0), rtol=1e-6, atol=1e-7)


def test_package_exports_and_version():
    assert set(keras_lstm_cell.__all__) >= {"SimpleLSTMCell", "GATE_ORDER", "__version__"}
    assert keras_lstm_cell.__version__.count(".") == 2
