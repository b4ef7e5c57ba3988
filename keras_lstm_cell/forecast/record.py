"""The run directory's record: run.json (settings, stage, results) and history.csv.

`run.json` is written when a run starts and rewritten at each stage, always
whole (written beside, then renamed). Its `format` tag marks the directory as
the tool's own, which is what allows `--resume` and `--overwrite` to touch it.
Its `status` says how far the run got:

- `"training"`: epochs are running, or were interrupted (`--resume` goes on
  from the last backed-up epoch);
- `"trained"`: every epoch is done and the best weights are saved; the
  evaluation, plot or export were still to come (`--resume` does them,
  without training again);
- `"finished"`: everything is written;
- `"failed"`: training diverged; nothing was exported.
"""

from __future__ import annotations

import json
import os
import platform
import uuid

import numpy as np
import pandas as pd

from keras_lstm_cell.forecast.files import LOCK_FILE
from keras_lstm_cell.forecast.files import file_sha256
from keras_lstm_cell.forecast.files import write_json_atomic
from keras_lstm_cell.forecast.timeseries import default_dataset_path

RUN_RECORD = "run.json"
HISTORY = "history.csv"
PLOT = "forecast.png"
BACKUP_DIR = "backup"
BEST_WEIGHTS = os.path.join("checkpoints", "best.weights.h5")
GATES_DIR = "gates"  # GateMonitor's TensorBoard run, beside the training logs
FORMAT = "keras-lstm-cell run"
FORMAT_VERSION = 1

TRAINING, TRAINED, FINISHED, FAILED = "training", "trained", "finished", "failed"
RESUMABLE = (TRAINING, TRAINED)
# What a run writes in its directory: these files, Keras's TensorBoard runs
# (train/, validation/), ours (forecast/, gates/), the hparams event file,
# and the temporary files of atomic writes.
RUN_ENTRIES = (
    RUN_RECORD,
    HISTORY,
    PLOT,
    BACKUP_DIR,
    os.path.dirname(BEST_WEIGHTS),
    GATES_DIR,
    "train",
    "validation",
    "forecast",
    "events.out.tfevents.*",
    LOCK_FILE,
    ".tmp-*.part",
)


def new_run_id() -> str:
    """Identifies a run; its export carries the same id."""
    return uuid.uuid4().hex


def training_data_fingerprint(csv: str | None) -> dict:
    """Where the training data is, as an absolute path, and its SHA-256."""
    path = default_dataset_path() if csv is None else os.path.abspath(csv)
    return {"path": path, "embedded": csv is None, "sha256": file_sha256(path)}


def _unreadable(path: str, why: str) -> ValueError:
    return ValueError(
        f"Expected {path!r} to be a keras-lstm-cell run record ({FORMAT!r}). "
        f"Received: {why}; train a new run instead"
    )


def read_run_record(logdir) -> dict | None:
    """run.json of a run directory, checked; `None` if there is none."""
    path = os.path.join(os.fspath(logdir), RUN_RECORD)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _unreadable(path, f"unreadable JSON ({e})") from e
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise _unreadable(path, "no keras-lstm-cell format tag")
    if record.get("format_version", 0) > FORMAT_VERSION:
        raise _unreadable(
            path, f"format_version {record['format_version']}; upgrade keras-lstm-cell"
        )
    for key, kind in (("status", str), ("config", dict), ("run_id", str), ("paths", dict)):
        if not isinstance(record.get(key), kind):
            raise _unreadable(path, f"no valid {key!r}")
    for key, kind in (("working_directory", str), ("training_data", dict)):
        if key in record and not isinstance(record[key], kind):
            raise _unreadable(path, f"no valid {key!r}")
    if "training_data" in record and not all(
        isinstance(record["training_data"].get(k), str) for k in ("path", "sha256")
    ):
        raise _unreadable(path, "no valid 'training_data' (path and sha256)")
    if record["status"] in (TRAINED, FINISHED):
        training = record.get("training")
        if not isinstance(training, dict) or not all(
            check(training.get(key)) for key, check in _TRAINING_FIELDS.items()
        ):
            raise _unreadable(path, f"status {record['status']!r} without a valid 'training' entry")
    return record


def _optional(check):
    return lambda value: value is None or check(value)


# What a trained run records about its training, and how each is checked.
_TRAINING_FIELDS = {
    "epochs_run": lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    "best_epoch": _optional(lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0),
    "best_val_loss": _optional(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "stopped_early": lambda v: isinstance(v, bool),
}


def is_run_directory(logdir) -> bool:
    """Whether `logdir` holds a run.json with the tool's format tag."""
    try:
        return read_run_record(logdir) is not None
    except ValueError:
        return False


def write_run_record(logdir, record: dict) -> None:
    write_json_atomic(
        os.path.join(os.fspath(logdir), RUN_RECORD),
        {"format": FORMAT, "format_version": FORMAT_VERSION, **record},
    )


def read_history_frame(logdir) -> pd.DataFrame | None:
    """history.csv of a run, checked: `None` if there is none yet.

    Raises `ValueError` naming the file when it is not the CSV Keras's
    `CSVLogger` writes (an integer `epoch` column, numeric metrics).
    """
    path = os.path.join(os.fspath(logdir), HISTORY)
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return None
    try:
        frame = pd.read_csv(path)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        why = str(e).strip() or type(e).__name__
        raise _damaged_history(path, f"unreadable CSV ({why})") from e
    if "epoch" not in frame:
        raise _damaged_history(path, f"columns {list(frame.columns)[:5]}, no 'epoch'")
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            raise _damaged_history(path, f"values that are not numbers in column {column!r}")
    epochs = frame["epoch"].to_numpy()
    in_order = np.array_equal(epochs, np.arange(len(epochs)))
    if not pd.api.types.is_integer_dtype(frame["epoch"]) or not in_order:
        raise _damaged_history(path, "epochs that are not 0, 1, 2, ... in order")
    return frame


def _damaged_history(path: str, why: str) -> ValueError:
    return ValueError(
        f"Expected {path!r} to be the run's history, as Keras's CSVLogger writes it "
        f"(an integer 'epoch' column and numeric metrics). Received: {why}; "
        "train it again with --overwrite"
    )


def read_history(logdir) -> dict:
    """history.csv of a run as `{column: [values]}` (empty if none)."""
    frame = read_history_frame(logdir)
    if frame is None:
        return {}
    return {c: frame[c].tolist() for c in frame.columns}


def versions() -> dict:
    """Versions of what a run used, for the record."""
    import keras
    import tensorflow as tf

    from keras_lstm_cell import __version__

    return {
        "keras_lstm_cell": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }
