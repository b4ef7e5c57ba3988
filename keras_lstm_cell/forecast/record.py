"""The run directory's record: `RunRecord` (run.json: settings, stage, results) and history.csv.

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

import dataclasses
import hashlib
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
TRAIN, BACKTEST = "train", "backtest"  # the commands that write a run directory
COMMANDS = (TRAIN, BACKTEST)
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


def series_sha256(series) -> str:
    """The SHA-256 of a `TimeSeries`' content: its column names, dates and values.

    The values count as float64, so equal numbers give equal hashes whatever
    their type in memory (a NaN is any NaN, -0.0 is 0.0).
    """
    dates = pd.DatetimeIndex(series.dates)
    values = np.asarray(series.values, dtype="float64")
    values = np.where(np.isnan(values), np.nan, values) + 0.0
    header = {"columns": list(series.columns), "shape": list(values.shape), "tz": str(dates.tz)}
    digest = hashlib.sha256(json.dumps(header).encode("utf-8") + b"\n")
    digest.update(dates.as_unit("ns").asi8.astype("<i8").tobytes())  # UTC if time-zoned
    digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
    return digest.hexdigest()


def data_fingerprint(config, data=None) -> dict:
    """The fingerprint of the data a run of `config` trains on, for run.json.

    That of the file (`config.csv`, or the embedded dataset when it is
    `None`: `training_data_fingerprint`), unless `data` (a `ForecastData`)
    was given in memory without a file and is not the embedded series as
    `config` reads it: then that of its values, with no file to read again,
    `{"path": None, "embedded": False, "in_memory": True, "sha256":
    series_sha256(...), "rows": ...}`.
    """
    if config.csv is not None or data is None:
        return training_data_fingerprint(config.csv)
    from keras_lstm_cell.forecast.data import load_series  # reads the CSV: not at import

    sha256 = series_sha256(data.series)
    try:
        embedded = series_sha256(load_series(config))
    except ValueError:  # settings the embedded data cannot be read with: other data
        embedded = None
    if sha256 == embedded:
        return training_data_fingerprint(None)
    return {
        "path": None,
        "embedded": False,
        "in_memory": True,
        "sha256": sha256,
        "rows": len(data.series),
    }


def _valid_fingerprint(value) -> bool:
    """`training_data`: a file's path and SHA-256, or data given in memory (no path)."""
    if not isinstance(value, dict) or not isinstance(value.get("sha256"), str):
        return False
    if value.get("in_memory") is True:
        return value.get("path") is None
    return isinstance(value.get("path"), str)


def _unreadable(path: str, why: str) -> ValueError:
    return ValueError(
        f"Expected {path!r} to be a keras-lstm-cell run record ({FORMAT!r}). "
        f"Received: {why}; train a new run instead"
    )


def _optional(check):
    return lambda value: value is None or check(value)


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# What a trained run records about its training, and how each is checked.
_TRAINING_FIELDS = {
    "epochs_run": _count,
    "best_epoch": _optional(_count),
    "best_val_loss": _optional(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)),
    "stopped_early": lambda v: isinstance(v, bool),
}
# Top-level entries of run.json, each with its check; `None` stands for absent.
_ENTRIES = {
    "status": lambda v: isinstance(v, str),
    "run_id": lambda v: isinstance(v, str),
    "config": lambda v: isinstance(v, dict),
    "paths": lambda v: isinstance(v, dict),
    "command": _optional(lambda v: v in COMMANDS),
    "working_directory": _optional(lambda v: isinstance(v, str)),
    "training_data": _optional(_valid_fingerprint),
    "data": _optional(lambda v: isinstance(v, dict)),
    "training": _optional(lambda v: isinstance(v, dict)),
    "metrics": _optional(lambda v: isinstance(v, dict)),
}


@dataclasses.dataclass
class RunRecord:
    """What a run is and how far it got: the content of its run.json.

    One object, planned when a command starts (new, or read back and checked
    for `--resume`), handed to each step, which changes it through its
    methods and saves it whole. `train` and `backtest` share it; `command`
    says which wrote it.

    Args:
        status: `"training"`, `"trained"`, `"finished"` or `"failed"`.
        run_id: The run's id; its export carries the same.
        config: The settings, `ForecastConfig.to_dict()`.
        training_data: The data's fingerprint `{"path", "embedded",
            "sha256"}`, or for data given in memory `{"path": None,
            "embedded": False, "in_memory": True, "sha256", "rows"}`
            (`data_fingerprint`): a resumed run goes on only on the same data.
        command: `"train"` or `"backtest"`.
        freq: The series' frequency (a pandas alias such as `"D"`), kept
            in run.json as `data.freq`; `None` where it is not known.
        replaces_export: Whether the run may replace the tool's earlier
            export, as asked when it started; its resumption may too.
        data: Sizes and date ranges of the data, `ForecastData.describe()`.
        training: How training went (`epochs_run`, `best_epoch`, ...), once
            it has.
        metrics: The test scores and verdict, once evaluated.
        paths: Where its outputs are (`logdir`, `export`, `plot`, ...).
        working_directory: Where the run was started: relative paths of the
            record are relative to it.
        details: Everything else run.json keeps (device, versions, scaler,
            model, optimizer, interval, ...), as written.
    """

    status: str
    run_id: str
    config: dict
    training_data: dict | None = None
    command: str = TRAIN
    freq: str | None = None
    replaces_export: bool = False
    data: dict = dataclasses.field(default_factory=dict)
    training: dict | None = None
    metrics: dict | None = None
    paths: dict = dataclasses.field(default_factory=dict)
    working_directory: str | None = None
    details: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def new(
        cls, config: dict, training_data: dict, command: str = TRAIN, replaces_export=False
    ) -> RunRecord:
        """The record of a run about to start, `"training"`."""
        return cls(
            status=TRAINING,
            run_id=new_run_id(),
            config=config,
            training_data=training_data,
            command=command,
            replaces_export=bool(replaces_export),
        )

    @property
    def resumable(self) -> bool:
        return self.status in RESUMABLE

    def started_in(self, directory: str) -> None:
        """Records `directory` as the run's working directory."""
        self.working_directory = directory

    def mark(self, status: str, **sections) -> None:
        """Moves the run to `status`, setting `training=`, `metrics=` as given."""
        self.status = status
        for name, value in sections.items():
            setattr(self, name, value)

    def save(self, logdir) -> None:
        """Writes run.json into `logdir`, whole (beside, then renamed)."""
        write_json_atomic(os.path.join(os.fspath(logdir), RUN_RECORD), self.to_json())

    def to_json(self) -> dict:
        """run.json's content: the keys of format 1, `data.freq` and `command` added."""
        data = dict(self.data)
        data["freq"] = self.freq
        record = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "command": self.command,
            "status": self.status,
            "run_id": self.run_id,
            "config": self.config,
            "training_data": self.training_data,
            "replaces_export": self.replaces_export,
            "data": data,
            **self.details,
            "paths": self.paths,
            "working_directory": self.working_directory,
        }
        for name in ("training", "metrics"):
            if getattr(self, name) is not None:
                record[name] = getattr(self, name)
        return record

    @classmethod
    def from_json(cls, record, path: str = RUN_RECORD) -> RunRecord:
        """Reads run.json's content, checked; also that of earlier versions.

        Raises `ValueError` naming `path` for content that is not a run
        record of this or an earlier format.
        """
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise _unreadable(path, "no keras-lstm-cell format tag")
        version = record.get("format_version", 0)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise _unreadable(path, f"format_version {version!r}; upgrade keras-lstm-cell")
        for key, valid in _ENTRIES.items():
            if not valid(record.get(key)):
                raise _unreadable(path, f"no valid {key!r}")
        command = record.get("command") or TRAIN
        if command == TRAIN and record["status"] in (TRAINED, FINISHED):
            training = record.get("training")
            if training is None or not all(
                check(training.get(key)) for key, check in _TRAINING_FIELDS.items()
            ):
                why = f"status {record['status']!r} without a valid 'training' entry"
                raise _unreadable(path, why)
        data = dict(record.get("data") or {})
        freq = data.pop("freq", None)
        named = {f.name for f in dataclasses.fields(cls)} | {"format", "format_version"}
        return cls(
            status=record["status"],
            run_id=record["run_id"],
            config=record["config"],
            training_data=record.get("training_data"),
            command=command,
            freq=freq if isinstance(freq, str) else None,
            replaces_export=bool(record.get("replaces_export", False)),
            data=data,
            training=record.get("training"),
            metrics=record.get("metrics"),
            paths=record["paths"],
            working_directory=record.get("working_directory"),
            details={k: v for k, v in record.items() if k not in named},
        )


def read_run_record(logdir) -> RunRecord | None:
    """run.json of a run directory, checked; `None` if there is none."""
    path = os.path.join(os.fspath(logdir), RUN_RECORD)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            content = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise _unreadable(path, f"unreadable JSON ({e})") from e
    return RunRecord.from_json(content, path)


def is_run_directory(logdir) -> bool:
    """Whether `logdir` holds a run.json with the tool's format tag."""
    try:
        return read_run_record(logdir) is not None
    except ValueError:
        return False


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
