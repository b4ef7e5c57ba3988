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
from keras_lstm_cell.forecast.files import write_json_atomic

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
    return record


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


def read_history(logdir) -> dict:
    """history.csv of a run as `{column: [values]}` (empty if none)."""
    path = os.path.join(os.fspath(logdir), HISTORY)
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        return {}
    frame = pd.read_csv(path)
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
