"""Resuming an interrupted run: epochs, backups, early stopping, and interrupt-safe saves."""

import json
import os
import signal

import keras
import numpy as np
import pandas as pd
import pytest
from _runs import first_days
from _runs import tiny
from _runs import train

from keras_lstm_cell.forecast.callbacks import InterruptSafeBackupAndRestore
from keras_lstm_cell.forecast.files import interrupts_deferred
from keras_lstm_cell.forecast.model import build_model
from keras_lstm_cell.forecast.record import read_history
from keras_lstm_cell.forecast.record import read_run_record
from keras_lstm_cell.forecast.resume import ResumedEarlyStopping
from keras_lstm_cell.forecast.resume import early_stopping_state


@pytest.fixture(scope="module")
def small_series():
    return first_days(150)


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
        train(config, logdir, series, callbacks=[_StopAfter(epoch)])


def test_resume_continues_the_epoch_count(small_series, tmp_path):
    config = tiny(epochs=5, patience=10)
    logdir = tmp_path / "run"
    _interrupt_after(1, config, logdir, small_series)
    assert read_history(logdir)["epoch"] == [0, 1]
    assert read_run_record(logdir).status == "training"
    assert os.path.isdir(logdir / "backup")
    with pytest.raises(ValueError, match=r"new directory. .* continue it with --resume"):
        train(config, logdir, small_series)
    with pytest.raises(
        ValueError, match=r"settings, except epochs, device, distribute, unit. Received: units=5"
    ):
        train(config.replace(units=5), logdir, small_series, resume=True)

    run = train(config, logdir, small_series, resume=True)
    assert run.history["epoch"] == [0, 1, 2, 3, 4]
    assert run.record.training["resumed_from_epoch"] == 2
    assert run.record.training["epochs_run"] == 5
    assert not os.path.exists(logdir / "backup")
    with pytest.raises(ValueError, match="which finished"):
        train(config, logdir, small_series, resume=True)


def test_resume_after_a_kill_during_the_backup_write(small_series, tmp_path):
    config = tiny(epochs=5, patience=10)
    logdir = tmp_path / "run"
    _interrupt_after(2, config, logdir, small_series)
    # As if killed right after BackupAndRestore opened its metadata for writing.
    (logdir / "backup" / "training_metadata.json").write_text("")
    run = train(config, logdir, small_series, resume=True)
    assert run.record.training["resumed_from_epoch"] == 2  # the previous backup
    assert run.history["epoch"] == [0, 1, 2, 3, 4]


def test_a_truncated_backup_falls_back_and_the_history_agrees(small_series, tmp_path):
    config = tiny(epochs=5, patience=10)
    logdir = tmp_path / "run"
    _interrupt_after(2, config, logdir, small_series)  # backups after epochs 2 and 1
    weights = logdir / "backup" / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[:1000])  # as a kill -9 mid-write leaves it
    run = train(config, logdir, small_series, resume=True)
    assert run.record.training["resumed_from_epoch"] == 2  # the previous backup's
    assert run.history["epoch"] == [0, 1, 2, 3, 4]  # no epoch twice
    assert run.record.training["epochs_run"] == 5


@pytest.fixture
def default_sigint():
    """Python's own Ctrl-C handler: a test run started in the background
    (`nohup ... &`) inherits SIGINT ignored, and would never see the signal."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_interrupts_deferred_raises_after_the_block(default_sigint):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with interrupts_deferred():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("rest of the block")
    assert done == ["rest of the block"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _interrupted_backup(callback_class, directory, monkeypatch):
    """Ctrl-C arrives while the backup's weights file is half-written."""
    model = build_model(window=5, n_features=1, horizon=1, units=4, layers=1)
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


def test_an_interrupt_cannot_tear_the_backup(tmp_path, monkeypatch, default_sigint):
    model = _interrupted_backup(InterruptSafeBackupAndRestore, tmp_path / "safe", monkeypatch)
    metadata = json.loads((tmp_path / "safe" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1
    restored = build_model(window=5, n_features=1, horizon=1, units=4, layers=1)
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
    with pytest.raises(
        ValueError, match=r"Expected a readable training backup .* Received: damaged backups only"
    ):
        train(config, logdir, small_series, resume=True)
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
    assert early_stopping_state(val_losses) == (reference.best, reference.wait)


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
    callback = ResumedEarlyStopping([1e-12, 1.0], monitor="val_loss", patience=2)
    callback.on_train_begin()
    assert (callback.best, callback.wait) == (1e-12, 1)

    run = train(config, logdir, small_series, resume=True)
    assert run.history["epoch"] == [0, 1, 2]
    assert run.record.training["epochs_run"] == 3
