"""Continuing an interrupted run from where it stopped.

A run can be stopped at any point (Ctrl-C, `kill`, `kill -9`, a crash). What
it had finished is on disk: the history of finished epochs, Keras's backup
of the last finished epoch (`keras.callbacks.BackupAndRestore`, which keeps
the previous one too), the best weights, and the stage in run.json. This
module finds such a run, checks that it may be resumed with the settings
given, finds the epoch whose backup can really be loaded, and cuts the
history to the epochs before it, so that the history always agrees with the
weights training goes on from.
"""

from __future__ import annotations

import json
import os
import shutil

import keras
import numpy as np

from keras_lstm_cell.forecast.config import RESOLVED_SETTINGS
from keras_lstm_cell.forecast.config import RESUMABLE_CHANGES
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.files import file_change
from keras_lstm_cell.forecast.files import write_bytes_atomic
from keras_lstm_cell.forecast.record import BACKUP_DIR
from keras_lstm_cell.forecast.record import FINISHED
from keras_lstm_cell.forecast.record import HISTORY
from keras_lstm_cell.forecast.record import RUN_RECORD
from keras_lstm_cell.forecast.record import TRAIN
from keras_lstm_cell.forecast.record import TRAINING
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import read_history_frame
from keras_lstm_cell.forecast.record import read_run_record

_WEIGHTS = "latest.weights.h5"  # BackupAndRestore's names, in BACKUP_DIR
_METADATA = "training_metadata.json"
_PREVIOUS = ".bkp"  # suffix of the previous backup (double_checkpoint=True)


def latest_interrupted_run(runs_dir, command: str = TRAIN) -> str:
    """The most recently written run of `command` under `runs_dir` that did not finish."""
    candidates = []
    if os.path.isdir(runs_dir):
        for entry in os.scandir(runs_dir):
            if not entry.is_dir() or entry.name.startswith("."):
                continue
            try:
                record = read_run_record(entry.path)
            except ValueError:
                continue  # not resumable; named when resumed by name
            if record is not None and record.resumable and record.command == command:
                candidates.append(
                    (os.path.getmtime(os.path.join(entry.path, RUN_RECORD)), entry.path)
                )
    if not candidates:
        raise ValueError(
            f"Expected an interrupted run under {os.fspath(runs_dir)}/ for --resume. "
            "Received: none; pass --logdir or --name"
        )
    return max(candidates)[1]


def check_resumable(
    logdir: str, config: ForecastConfig, command: str = TRAIN, training_data: dict | None = None
) -> RunRecord:
    """The run record of `logdir`, once it is a run of `command` that `config` may continue.

    Args:
        logdir: The run directory.
        config: The settings it is to go on with.
        command: `"train"` or `"backtest"`, the command resuming it.
        training_data: The fingerprint of the data, if already taken this
            command; otherwise the recorded file is hashed again here.
    """
    record = read_run_record(logdir)
    if record is None:
        raise ValueError(
            f"Expected `logdir` to hold an interrupted run to resume. Received: "
            f"logdir={logdir!r}, which has no {RUN_RECORD}"
        )
    if record.command != command:
        raise ValueError(
            f"Expected a run of `{command}` in `logdir`. Received: logdir={logdir!r}, "
            f"which holds a run of `{record.command}`; resume it with that command"
        )
    if not record.resumable:
        why = (
            "finished; train a new run instead"
            if record.status == FINISHED
            else f"{record.status}; train it again with --overwrite"
        )
        raise ValueError(
            f"Expected an interrupted run in `logdir`. Received: logdir={logdir!r}, which {why}"
        )
    try:
        stored = ForecastConfig.from_dict(record.config).to_dict()
    except (TypeError, ValueError) as e:
        raise ValueError(
            f"Expected the settings of the run in {logdir!r} to be valid. Received: {e}; "
            "train it again with --overwrite"
        ) from e
    given = config.to_dict()
    # The same file, wherever the run was started from.
    stored["csv"] = _real(recorded_path(record, stored["csv"]))
    given["csv"] = _real(given["csv"])
    for k in RESOLVED_SETTINGS:  # None: as the data says, which the data check compares
        if given[k] is None or stored[k] is None:
            given[k] = stored[k]
    changed = [
        f"{k}={given[k]!r} (run: {stored[k]!r})"
        for k in stored
        if k not in RESUMABLE_CHANGES and stored[k] != given[k]
    ]
    if changed:
        raise ValueError(
            f"Expected the resumed run's settings, except {', '.join(RESUMABLE_CHANGES)}. "
            f"Received: {', '.join(changed)}"
        )
    if record.status == TRAINING and command == TRAIN:
        history = read_history_frame(logdir)
        done = 0 if history is None else len(history)
        if config.epochs < done:
            raise ValueError(
                f"Expected `epochs` of at least the {done} epochs the run has finished. "
                f"Received: epochs={config.epochs}"
            )
    _check_training_data(record, training_data)
    return record


def recorded_path(record: RunRecord, path: str | None) -> str | None:
    """A path of a run's record as the run meant it: a relative one is taken
    from the directory the run was started in (this one for older records)."""
    started_in = record.working_directory
    if path is None or os.path.isabs(path) or started_in is None:
        return path
    if os.path.realpath(started_in) == os.path.realpath(os.getcwd()):
        return path  # as given
    return os.path.join(started_in, path)


def _real(path: str | None) -> str | None:
    return None if path is None else os.path.realpath(path)


def _check_training_data(record: RunRecord, fingerprint: dict | None) -> None:
    """Refuses to go on training on data that changed since the run started."""
    recorded = record.training_data
    if recorded is None:
        return
    if recorded.get("in_memory") or (fingerprint or {}).get("in_memory"):
        _check_data_in_memory(recorded, fingerprint)
        return
    if recorded.get("embedded"):
        return
    path = recorded["path"]
    if fingerprint is not None and fingerprint["path"] == path:
        # Hashed by this command already.
        why = None if fingerprint["sha256"] == recorded["sha256"] else "a different file"
    else:
        why = file_change(path, recorded["sha256"])
    if why is None:
        return
    raise ValueError(
        f"Expected the training data at {path!r} unchanged since the run started "
        f"(its SHA-256 is in run.json). Received: {why}; train a new run on the new data"
    )


def _check_data_in_memory(recorded: dict, fingerprint: dict | None) -> None:
    """Refuses other data than the run's where either was given in memory:
    values with another SHA-256, or a file for data given in memory."""
    if recorded.get("in_memory") and not (fingerprint or {}).get("in_memory"):
        received = (
            "no data given in memory"
            if fingerprint is None
            else f"the data of {fingerprint['path']!r}"
        )
        raise ValueError(
            "Expected the data the run was trained on, given in memory (its SHA-256 "
            f"is in run.json). Received: {received}; resume it from Python with the "
            "same data (`data=`), or train a new run"
        )
    if fingerprint["sha256"] != recorded["sha256"]:
        trained_on = "data given in memory" if recorded.get("in_memory") else recorded["path"]
        raise ValueError(
            f"Expected the data the run was trained on ({trained_on}), unchanged since "
            "the run started (its SHA-256 is in run.json). Received: data given in memory "
            "with other values; train a new run on the new data"
        )


def _read_backup_epoch(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as f:
            return int(json.load(f)["epoch"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _loads(network: keras.Model, weights: str) -> bool:
    try:
        network.load_weights(weights)
    except Exception:  # h5py and Keras raise many types for a damaged file
        return False
    return True


def restore_backup(logdir: str, network: keras.Model) -> int:
    """The epoch training resumes from, with its backup loaded into `network`.

    `BackupAndRestore` falls back to the previous backup only when loading
    the latest raises `OSError`, and even then takes the epoch of a
    metadata file that may belong to the other backup. Here each backup is
    tried for real, weights and metadata together, newest first; the one
    that loads is put in place, so that Keras restores exactly it. 0 when
    there is no backup (the run stopped during its first epoch).

    Args:
        logdir: The run directory.
        network: The compiled, built model the backup belongs to.
    """
    backup = os.path.join(logdir, BACKUP_DIR)
    weights = os.path.join(backup, _WEIGHTS)
    metadata = os.path.join(backup, _METADATA)
    if not os.path.exists(weights) and not os.path.exists(metadata):
        return 0
    if network.optimizer is not None and not network.optimizer.built:
        network.optimizer.build(network.trainable_variables)
    epoch = _read_backup_epoch(metadata)
    if epoch is not None and _loads(network, weights):
        return epoch
    # Keras loads only files named *.weights.h5: the previous backup is tried
    # under such a name, and put in place if it loads.
    epoch = _read_backup_epoch(metadata + _PREVIOUS)
    if epoch is not None and os.path.isfile(weights + _PREVIOUS):
        candidate = os.path.join(backup, "previous.weights.h5")
        shutil.copyfile(weights + _PREVIOUS, candidate)
        if _loads(network, candidate):
            os.replace(candidate, weights)
            shutil.copyfile(metadata + _PREVIOUS, metadata)
            return epoch
        os.remove(candidate)
    raise ValueError(
        f"Expected a readable training backup in {backup!r}. Received: damaged "
        "backups only; train it again with --overwrite"
    )


def truncate_history(logdir: str, epochs: int) -> list[float]:
    """Keeps the first `epochs` rows of history.csv; returns their val_loss.

    A run stopped after an epoch was logged but before it was backed up runs
    that epoch again, so its row is dropped here.
    """
    frame = read_history_frame(logdir)
    path = os.path.join(logdir, HISTORY)
    if frame is None or len(frame) < epochs:
        if epochs == 0:
            return []
        raise ValueError(
            f"Expected {path!r} to hold the {epochs} epochs of the run's backup. "
            f"Received: {0 if frame is None else len(frame)} epochs; "
            "train it again with --overwrite"
        )
    frame = frame[frame["epoch"] < epochs]
    write_bytes_atomic(path, frame.to_csv(index=False).encode("utf-8"))
    if "val_loss" not in frame:
        return []
    return [float(v) for v in frame["val_loss"]]


def early_stopping_state(val_losses) -> tuple[float | None, int]:
    """`(best, wait)` of `keras.callbacks.EarlyStopping(monitor="val_loss")`
    (no `min_delta`, `baseline` or `start_from_epoch`) after these epochs: the
    lowest loss and the number of epochs since it was first reached."""
    best, wait = None, 0
    for loss in val_losses:
        wait += 1
        if best is None or loss < best:
            best, wait = loss, 0
    return best, wait


def best_finite(val_losses) -> float | None:
    """The lowest finite loss, or `None`."""
    return min((v for v in val_losses if np.isfinite(v)), default=None)


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` that goes on counting from the epochs before a resume.

    `keras.callbacks.BackupAndRestore` restores the weights, the optimizer and
    the epoch, but `EarlyStopping` starts afresh in `on_train_begin`; this
    callback then takes the best loss and the epochs without improvement from
    the interrupted run's history, so a resumed run stops where an
    uninterrupted one would have.
    """

    def __init__(self, prior_val_losses=(), **kwargs):
        super().__init__(**kwargs)
        self._prior = early_stopping_state(prior_val_losses)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best, self.wait = self._prior
