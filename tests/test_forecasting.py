"""Model building, clipping, seeding, early stopping, resuming and the device choice."""

import dataclasses
import io
import json
import os
import signal

import keras
import matplotlib.image
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_lstm_cell import forecasting
from keras_lstm_cell.devices import resolve_device
from keras_lstm_cell.files import interrupts_deferred
from keras_lstm_cell.forecast_config import ForecastConfig
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.timeseries import TimeSeries

HAS_GPU = bool(tf.config.list_physical_devices("GPU"))


@pytest.fixture(scope="module")
def small_series():
    """The first 150 days of the embedded data: 4 training steps per epoch."""
    series = TimeSeries.default()
    return dataclasses.replace(series, frame=series.frame.iloc[:150])


def tiny(**changes):
    settings = dict(units=4, epochs=3, patience=5, batch_size=32, seed=3)
    settings.update(changes)
    return ForecastConfig(**settings)


def test_build_model_shapes_and_layers():
    model = forecasting.build_model(window=5, n_features=3, horizon=2, units=6, layers=2)
    assert model.input_shape == (None, 5, 3) and model.output_shape == (None, 2)
    rnns = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]
    assert [type(r.cell) for r in rnns] == [SimpleLSTMCell, SimpleLSTMCell]
    assert [r.return_sequences for r in rnns] == [True, False]
    assert [r.cell.units for r in rnns] == [6, 6]
    # (3 + 6 + 1) * 24 + (6 + 6 + 1) * 24 + (6 + 1) * 2 weights.
    assert model.count_params() == 240 + 312 + 14


def test_build_model_passes_cell_kwargs():
    model = forecasting.build_model(7, 1, cell_kwargs={"dropout": 0.25, "unit_forget_bias": False})
    cell = model.get_layer("lstm_1").cell
    assert cell.dropout == 0.25 and cell.unit_forget_bias is False


def test_build_model_rejects_unknown_layer():
    with pytest.raises(
        ValueError, match=r"`layer` to be one of rnn, simple_lstm. Received: layer='gru'"
    ):
        forecasting.build_model(7, 1, layer="gru")


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"window": 0}, r"`window` to be a positive integer. Received: window=0"),
        ({"epochs": 0}, r"`epochs` to be a positive integer. Received: epochs=0"),
        ({"epochs": -3}, r"Received: epochs=-3"),
        ({"clipnorm": 2.0}, r"at most one of .* Received: global_clipnorm=1.0, clipnorm=2.0"),
        ({"learning_rate": 0}, r"`learning_rate` to be a positive number"),
        ({"transform": "log"}, r"`transform` to be one of level, diff, log_return"),
        ({"window": 1}, r"`window` >= 2 with transform='diff'"),
        ({"test_fraction": 0.95}, r"val_fraction \+ test_fraction < 1"),
    ],
)
def test_config_rejects(changes, match):
    with pytest.raises(ValueError, match=match):
        ForecastConfig(**changes)


def test_config_round_trip():
    config = ForecastConfig(features=("a", "b"), clipvalue=0.5, global_clipnorm=None)
    assert ForecastConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.clipping == {"clipvalue": 0.5}


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
    model = forecasting.build_model(window=4, n_features=1, units=3)
    x = np.ones((8, 4, 1), "float32")
    y = np.full((8, 1), 1e4, "float32")  # a large-gradient batch
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    raw = tape.gradient(loss, model.trainable_variables)
    raw_norm = float(tf.linalg.global_norm(raw))
    expected = [v.numpy() for v in reference(raw)]

    optimizer = forecasting.make_optimizer(config)
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
    sgd_model = forecasting.build_model(window=4, n_features=1, units=3)
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


@pytest.fixture(scope="module")
def seeded_runs(small_series, tmp_path_factory):
    root = tmp_path_factory.mktemp("seeded")
    config = tiny(global_clipnorm=None, clipvalue=0.7)
    first = forecasting.train(config, logdir=root / "a", series=small_series, verbose=0)
    second = forecasting.train(config, logdir=root / "b", series=small_series, verbose=0)
    other = forecasting.train(
        config.replace(seed=4), logdir=root / "c", series=small_series, verbose=0
    )
    return first, second, other


def test_same_seed_same_metrics(seeded_runs):
    first, second, other = seeded_runs
    assert first.evaluation.to_dict() == second.evaluation.to_dict()
    assert first.history == second.history
    assert first.evaluation.scores["lstm"] != other.evaluation.scores["lstm"]


def test_run_record_has_clipping_and_metrics(seeded_runs):
    run = seeded_runs[0]
    with open(os.path.join(run.logdir, "run.json"), encoding="utf-8") as f:
        record = json.load(f)
    assert record["status"] == "finished"
    assert record["config"]["clipvalue"] == 0.7
    assert record["config"]["global_clipnorm"] is None
    assert record["optimizer"]["clipvalue"] == pytest.approx(0.7)
    assert record["optimizer"]["global_clipnorm"] is None
    assert record["data"]["parts"]["test"]["windows"] == 29  # 143 windows * 0.2
    test = record["metrics"]["test"]["scores"]
    assert test["lstm"]["mae"] == pytest.approx(run.evaluation.scores["lstm"]["mae"])
    assert set(test) == {"lstm", "persistence", "seasonal_naive_7"}
    assert record["training"]["epochs_run"] == 3


def test_best_weights_are_restored(seeded_runs):
    run = seeded_runs[0]
    x_val, y_val = run.data.scaled("val")
    val_loss = run.network.evaluate(x_val, y_val, verbose=0)
    assert val_loss == pytest.approx(min(run.history["val_loss"]), rel=1e-5)
    assert run.record["training"]["best_epoch"] == int(np.argmin(run.history["val_loss"]))


def test_plot_is_written(seeded_runs):
    run = seeded_runs[0]
    with open(run.plot_path, "rb") as f:
        png = f.read()
    assert png.startswith(b"\x89PNG")
    assert matplotlib.image.imread(io.BytesIO(png)).shape == (400, 1000, 4)


class _StopAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError(f"stopped after epoch {epoch}")


def _interrupt_after(epoch, config, logdir, series):
    """Trains until the end of `epoch`, then stops as a crash would."""
    with pytest.raises(RuntimeError, match=f"stopped after epoch {epoch}"):
        forecasting.train(
            config, logdir=logdir, series=series, callbacks=[_StopAfter(epoch)], verbose=0
        )


def test_resume_continues_the_epoch_count(small_series, tmp_path):
    config = tiny(epochs=5, patience=10)
    logdir = tmp_path / "run"
    _interrupt_after(1, config, logdir, small_series)
    assert forecasting.read_history(logdir)["epoch"] == [0, 1]
    assert forecasting.read_run_record(logdir)["status"] == "training"
    assert os.path.isdir(logdir / "backup")
    with pytest.raises(ValueError, match=r"new run directory. .* resume it \(--resume\)"):
        forecasting.train(config, logdir=logdir, series=small_series, verbose=0)
    with pytest.raises(ValueError, match=r"settings, except epochs and device. Received: units=5"):
        forecasting.train(
            config.replace(units=5), logdir=logdir, series=small_series, resume=True, verbose=0
        )

    run = forecasting.train(config, logdir=logdir, series=small_series, resume=True, verbose=0)
    assert run.history["epoch"] == [0, 1, 2, 3, 4]
    assert run.record["training"]["resumed_from_epoch"] == 2
    assert run.record["training"]["epochs_run"] == 5
    assert not os.path.exists(logdir / "backup")
    with pytest.raises(ValueError, match="which finished"):
        forecasting.train(config, logdir=logdir, series=small_series, resume=True, verbose=0)


def test_resume_after_a_kill_during_the_backup_write(small_series, tmp_path):
    config = tiny(epochs=5, patience=10)
    logdir = tmp_path / "run"
    _interrupt_after(2, config, logdir, small_series)
    # As if killed right after BackupAndRestore opened its metadata for writing.
    (logdir / "backup" / "training_metadata.json").write_text("")
    run = forecasting.train(config, logdir=logdir, series=small_series, resume=True, verbose=0)
    assert run.record["training"]["resumed_from_epoch"] == 2  # the previous backup
    assert run.history["epoch"] == [0, 1, 2, 3, 4]


def test_interrupts_deferred_raises_after_the_block():
    done = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("rest of the block")
    assert done == ["rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _interrupted_backup(callback_class, directory, monkeypatch):
    """Ctrl-C arrives while the backup's weights file is half-written."""
    model = forecasting.build_model(window=5, n_features=1, horizon=1, units=4, layers=1)
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    model.optimizer.build(model.trainable_variables)
    callback = callback_class(str(directory), double_checkpoint=True)
    callback.set_model(model)
    dense = model.layers[-1]
    save_dense = dense.save_own_variables

    def save_with_interrupt(store):
        os.kill(os.getpid(), signal.SIGINT)
        save_dense(store)

    monkeypatch.setattr(dense, "save_own_variables", save_with_interrupt)
    with pytest.raises(KeyboardInterrupt):
        callback.on_epoch_end(0)
    return model


def test_an_interrupt_cannot_tear_the_backup(tmp_path, monkeypatch):
    model = _interrupted_backup(
        forecasting.InterruptSafeBackupAndRestore, tmp_path / "safe", monkeypatch
    )
    metadata = json.loads((tmp_path / "safe" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1
    restored = forecasting.build_model(window=5, n_features=1, horizon=1, units=4, layers=1)
    restored.load_weights(tmp_path / "safe" / "latest.weights.h5")
    for got, want in zip(restored.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(got, want)

    # Keras's own callback, interrupted at the same point, leaves a file that cannot be loaded.
    _interrupted_backup(keras.callbacks.BackupAndRestore, tmp_path / "plain", monkeypatch)
    assert not (tmp_path / "plain" / "training_metadata.json").exists()
    with pytest.raises((ValueError, UserWarning)):
        restored.load_weights(tmp_path / "plain" / "latest.weights.h5")


def test_resume_without_a_usable_backup_says_so(small_series, tmp_path):
    config = tiny(epochs=5, patience=10)
    logdir = tmp_path / "run"
    _interrupt_after(0, config, logdir, small_series)
    (logdir / "backup" / "training_metadata.json").write_text("{")
    before = sorted(p.name for p in logdir.iterdir())
    with pytest.raises(ValueError, match=r"Expected a readable training backup .* Received: an "):
        forecasting.train(config, logdir=logdir, series=small_series, resume=True, verbose=0)
    assert sorted(p.name for p in logdir.iterdir()) == before


@pytest.mark.parametrize(
    "val_losses",
    [
        [],
        [0.5],
        [0.5, 0.4, 0.45, 0.41],
        [0.3, 0.3, 0.2, 0.2, 0.2],
        [1.0, 0.9, 0.95, 0.8, 0.85, 0.9],
    ],
)
def test_early_stopping_state_matches_keras(val_losses):
    # Keras's own callback, fed the same epochs, is the reference.
    reference = keras.callbacks.EarlyStopping(monitor="val_loss", patience=100)
    reference.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    reference.on_train_begin()
    for epoch, loss in enumerate(val_losses):
        reference.on_epoch_end(epoch, {"val_loss": loss})
    assert forecasting.early_stopping_state(val_losses) == (reference.best, reference.wait)


def test_resume_keeps_the_early_stopping_count(small_series, tmp_path):
    config = tiny(epochs=10, patience=2)
    logdir = tmp_path / "run"
    _interrupt_after(1, config, logdir, small_series)
    # Epoch 0 was the best and epoch 1 did not improve on it: one epoch of the
    # patience of 2 is spent, so the first resumed epoch that does not beat
    # 1e-12 ends the run.
    history = pd.read_csv(logdir / "history.csv")
    history["val_loss"] = [1e-12, 1.0]
    history.to_csv(logdir / "history.csv", index=False)
    callback = forecasting.ResumedEarlyStopping([1e-12, 1.0], monitor="val_loss", patience=2)
    callback.on_train_begin()
    assert (callback.best, callback.wait) == (1e-12, 1)

    run = forecasting.train(config, logdir=logdir, series=small_series, resume=True, verbose=0)
    assert run.history["epoch"] == [0, 1, 2]
    assert run.record["training"]["epochs_run"] == 3


@pytest.mark.skipif(HAS_GPU, reason="checks the message shown when no GPU is present")
def test_gpu_request_without_gpu_says_so():
    with pytest.raises(ValueError, match=r"Expected a GPU for device='gpu', but TensorFlow sees"):
        resolve_device("gpu")
    assert resolve_device("auto") == "/CPU:0"


def test_cpu_is_the_default_device():
    assert ForecastConfig().device == "cpu"
    assert resolve_device("cpu") == "/CPU:0"
    with pytest.raises(ValueError, match=r"Received: device='tpu'"):
        resolve_device("tpu")
