"""The export format: a forecaster's SavedModel and forecast.json, written and read.

An export directory holds a TensorFlow SavedModel whose `serve` function
(also the `serving_default` signature) takes raw windows
`(batch, window, features)` in original units and returns forecasts
`(batch, horizon)` in original units; the scaling is inside the graph. Beside
`saved_model.pb`, `forecast.json` records the run: settings, columns, dates,
the last window of the data, the test metrics and a fingerprint (path and
SHA-256) of the training data. Beside the SavedModel, the same forecaster,
scaling included, as `forecaster.tflite` (LiteRT, its LSTM the fused
`UNIDIRECTIONAL_SEQUENCE_LSTM` op, a batch of 1) and `forecaster.onnx` (ONNX,
the `LSTM` op, any batch); forecast.json records each file's SHA-256 and how
far its forecasts were from the Keras model's on the test windows.

`export_forecaster` writes a directory, `load_metadata` reads and checks its
forecast.json. What forecast.json holds is listed once, in `_ENTRIES`, with
the format version that first wrote each entry: the reader requires an entry
only of the versions that write it, so every earlier format still reads, and
the writer checks its record against the same table before leaving it
behind. forecast.json never names a file to read on its own: the training
data is read again only when the file at the recorded path still has the
recorded SHA-256 (see `serving`).

Format versions: 1, the first; 2 adds the training data's fingerprint
(`training_data`) and the run id; 3 adds the LiteRT and ONNX files
(`runtimes`); 4 gives a forecaster several intervals (`interval.levels`),
its output `(batch, horizon, 1 + 2K)`, where 3 had one, `(batch, horizon, 3)`,
and records training data given in memory (`training_data.in_memory`, a null
`training_data.path`: no file to read it again from).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import reprlib
import shutil
from collections.abc import Callable
from typing import NamedTuple

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell import export_model
from keras_lstm_cell._checks import is_int
from keras_lstm_cell._checks import is_number
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast.config import TRANSFORMS
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.data import model_inputs
from keras_lstm_cell.forecast.files import check_owned_directory
from keras_lstm_cell.forecast.files import check_writable_directory
from keras_lstm_cell.forecast.files import make_temporary_directory
from keras_lstm_cell.forecast.files import remove_stale_temporaries
from keras_lstm_cell.forecast.files import replace_directory
from keras_lstm_cell.forecast.files import write_json_atomic
from keras_lstm_cell.forecast.model import PREDICT_BATCH
from keras_lstm_cell.forecast.model import bound_names
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.runtimes import LITERT
from keras_lstm_cell.forecast.runtimes import ONNX
from keras_lstm_cell.forecast.runtimes import TENSORFLOW
from keras_lstm_cell.forecast.runtimes import native_notes_dropped
from keras_lstm_cell.forecast.runtimes import open_model
from keras_lstm_cell.forecast.runtimes import runtime_name
from keras_lstm_cell.forecast.runtimes import serve

FORMAT = "keras-lstm-cell forecast"
FORMAT_VERSION = 4  # the versions are listed in the module's docstring
METADATA_FILE = "forecast.json"
ENDPOINT = "serve"
# The files beside the SavedModel, one a runtime: {runtime: file name}.
RUNTIME_FILES = {LITERT: "forecaster.tflite", ONNX: "forecaster.onnx"}
# What an export directory holds: TensorFlow's SavedModel files and ours.
EXPORT_ENTRIES = (
    "saved_model.pb",
    "fingerprint.pb",
    "variables",
    "assets",
    METADATA_FILE,
    *RUNTIME_FILES.values(),
)
# The largest difference allowed between a runtime file's forecasts and the
# Keras model's on the test windows, relative to the largest forecast when
# that exceeds 1: float32 arithmetic in another order, not another model.
RUNTIME_TOLERANCE = 1e-5


def forecast_metadata(record: RunRecord, data: ForecastData, forecaster: keras.Model) -> dict:
    """forecast.json content: the run record plus what serving needs."""
    series = data.series
    last_dates = series.dates[-data.window :]
    last_values = model_inputs(series)[-data.window :]  # as the windows saw them
    example = np.asarray(forecaster(last_values[None].astype("float32")))[0]  # (H,) or (H, 1+2K)
    levels = record.details.get("interval", {}).get("levels", ())
    bounds = f", {example.shape[1]}): {', '.join(bound_names(levels))} of" if levels else "): "
    # The run's own bookkeeping stays in run.json.
    run_only = ("format", "format_version", "working_directory", "replaces_export", "command")
    return {
        **{key: value for key, value in record.to_json().items() if key not in run_only},
        "window": data.window,
        "horizon": data.horizon,
        "target": series.target,
        "date_column": series.date_column,
        "columns": series.columns,
        "step": str(series.step),
        "freq": series.freq,
        "mase_scale": data.mase_scale,
        # As the run started (a resumed run checked it is still the same).
        "training_data": record.training_data,
        "signature": {
            "function": ENDPOINT,
            "input": f"float32 (batch, {data.window}, {len(series.columns)}): the "
            f"last {data.window} rows of {series.columns}, original units",
            "output": f"float32 (batch, {data.horizon}{bounds} the next {data.horizon} "
            f"values of {series.target!r}, original units",
        },
        "last_window": {
            "dates": [str(d) for d in last_dates],
            "values": last_values.tolist(),
            "forecast": example.tolist(),
            "forecast_dates": [str(date) for date in series.next_dates(data.horizon)],
        },
    }


# What json.load raises on a file that is not a plain JSON record: unreadable
# (OSError); not UTF-8, malformed, or an integer of too many digits
# (ValueError); nested too deeply (RecursionError).
_JSON_ERRORS = (OSError, ValueError, RecursionError)


def _read_record(path: str) -> dict | None:
    """forecast.json of directory `path` if it holds a JSON object, else `None`."""
    try:
        with open(os.path.join(path, METADATA_FILE), encoding="utf-8") as f:
            record = json.load(f)
    except _JSON_ERRORS:
        return None
    return record if isinstance(record, dict) else None


def _export_format(path: str) -> bool:
    record = _read_record(path)
    return record is not None and record.get("format") == FORMAT


def _run_id(path: str) -> str | None:
    record = _read_record(path)
    return None if record is None else record.get("run_id")


def check_export_target(path, run_id: str | None, overwrite: bool) -> str:
    """Refuses an export directory the run may not replace; returns its absolute path.

    A new or empty directory may be written. One that holds an export of the
    same run (`run_id`, when a resumed run exports again) may be replaced;
    another export of the tool only with `overwrite`; anything else never.
    """
    path = check_writable_directory(path, "export")
    state = check_owned_directory(path, "export", _export_format, EXPORT_ENTRIES)
    if state == "ours" and not overwrite and (run_id is None or _run_id(path) != run_id):
        raise ValueError(
            f"Expected `export` to be a new directory. Received: export={path!r}, "
            "which holds another keras-lstm-cell export; choose another --name or "
            "--export, or replace it with --overwrite"
        )
    return path


def export_forecaster(
    forecaster: keras.Model,
    path,
    metadata: dict,
    *,
    overwrite: bool = False,
    runtimes=(),
    windows: np.ndarray | None = None,
) -> str:
    """Exports `forecaster` as a SavedModel with `metadata` in forecast.json.

    With `runtimes`, the same forecaster goes beside it as a LiteRT and/or an
    ONNX file (`RUNTIME_FILES`), each run in its runtime on `windows` and
    compared with `forecaster.predict`: one that differs by more than
    `RUNTIME_TOLERANCE` fails the export.

    Writes everything into a temporary directory beside `path` and moves it
    into place at the end; an older export there is replaced only then, and
    only as `check_export_target` allows. Temporary directories that crashed
    exports to `path` left behind are removed first.

    Args:
        forecaster: A built `Forecaster`.
        path: Export directory, e.g. `saved_models/NAME`.
        metadata: `forecast_metadata(...)`: `window`, `columns` and
            `horizon` are required, `run_id` names the run.
        overwrite: Whether another export of the tool at `path` may be replaced.
        runtimes: Some of `"litert"`, `"onnx"`: the runtime files to write.
        windows: Raw windows `(n, window, features)` to check the runtime
            files on (the test windows); needed with `runtimes`.

    Returns:
        The absolute export path.
    """
    runtimes = tuple(runtimes)
    for runtime in runtimes:
        if runtime not in RUNTIME_FILES:
            raise ValueError(
                f"Expected `runtimes` among {list(RUNTIME_FILES)}. Received: {runtime!r}"
            )
    if runtimes and (windows is None or len(windows) == 0):
        raise ValueError(
            "Expected `windows` to check the runtime files on. Received: "
            f"windows={None if windows is None else np.shape(windows)}"
        )
    path = check_export_target(path, metadata.get("run_id"), overwrite)
    remove_stale_temporaries(path)
    temporary = make_temporary_directory(path)
    try:
        target = os.path.join(temporary, "model")
        window, features = metadata["window"], len(metadata["columns"])
        forecaster.export(
            target,
            format="tf_saved_model",
            verbose=False,
            input_signature=[
                tf.TensorSpec(shape=(None, window, features), dtype=tf.float32, name="windows")
            ],
        )
        record = {"format": FORMAT, "format_version": FORMAT_VERSION, **metadata}
        # A resumed run's record carries the run record's own tag: replace it.
        record.update(format=FORMAT, format_version=FORMAT_VERSION)
        record["runtimes"] = _write_runtime_files(forecaster, target, runtimes, windows)
        write_json_atomic(os.path.join(target, METADATA_FILE), record)
        load_metadata(target)  # read back as `predict` reads it
        # Checked again: another process may have written there meanwhile.
        check_export_target(path, metadata.get("run_id"), overwrite)
        replace_directory(target, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return path


def _sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def write_runtime_file(forecaster: keras.Model, filepath, runtime: str, window_shape) -> None:
    """Writes `forecaster` (a `Forecaster`) as the LiteRT or ONNX file
    `filepath`, for windows of shape `window_shape`: `(window, features)`."""
    export_model(forecaster.as_functional(*window_shape), filepath, format=runtime, verbose=False)


def _write_runtime_files(forecaster, directory: str, runtimes, windows) -> dict:
    """Writes the file of each of `runtimes` into `directory`, each checked in
    its runtime on `windows` against the Keras forecaster; returns
    forecast.json's `runtimes`: `{runtime: {file, sha256, max_abs_diff,
    tolerance, windows}}`."""
    if not runtimes:
        return {}
    windows = np.asarray(windows, dtype="float32")
    expected = forecaster.predict(windows, verbose=0, batch_size=PREDICT_BATCH)
    tolerance = RUNTIME_TOLERANCE * max(1.0, float(np.abs(expected).max()))
    written = {}
    for runtime in runtimes:
        name = RUNTIME_FILES[runtime]
        # The converters and the LiteRT interpreter write notes to stderr.
        with native_notes_dropped():
            write_runtime_file(
                forecaster, os.path.join(directory, name), runtime, windows.shape[1:]
            )
        with open(os.path.join(directory, name), "rb") as f:
            content = f.read()
        diff = float(np.abs(serve(open_model(runtime, content), windows) - expected).max())
        if not diff <= tolerance:
            raise ValueError(
                f"Expected {name} to forecast as the Keras model does, within "
                f"{tolerance:.3g}. Received: a largest difference of {diff:.3g} in "
                f"{runtime_name(runtime)} on {len(windows)} test windows; nothing was exported"
            )
        written[runtime] = {
            "file": name,
            "sha256": _sha256(content),
            "max_abs_diff": diff,
            "tolerance": tolerance,
            "windows": len(windows),
        }
    return written


def read_runtime_file(path, metadata: dict, runtime: str) -> bytes:
    """The export's file for `runtime`, refused unless it is the one exported.

    Args:
        path: The export directory.
        metadata: Its forecast.json, as `load_metadata` returns it.
        runtime: `"litert"` or `"onnx"`.

    Returns:
        The file's bytes, whose SHA-256 is the one recorded at export.
    """
    path = os.fspath(path)
    name = RUNTIME_FILES[runtime]
    recorded = metadata.get("runtimes", {}).get(runtime)
    if recorded is None:
        why = (
            f"format {metadata['format_version']}, from before runtime files"
            if metadata["format_version"] < 3
            else "trained with --no-runtime-exports"
        )
        raise ValueError(
            f"Expected an export with {name} for runtime={runtime!r}. Received: "
            f"model={path!r}, which has none ({why}); use runtime={TENSORFLOW!r}"
        )
    try:
        with open(os.path.join(path, name), "rb") as f:
            content = f.read()
    except OSError as e:
        raise not_an_export(path, f"{name} unreadable: {e.strerror or first_line(e)}") from e
    if _sha256(content) != recorded["sha256"]:
        raise ValueError(
            f"Expected {name} unchanged since export (its SHA-256 is in {METADATA_FILE}). "
            f"Received: model={path!r} holds a different {name}; export the model again"
        )
    return content


def not_an_export(path: str, why: str) -> ValueError:
    return ValueError(
        "Expected `model` to be a directory written by `keras-lstm-cell train "
        f"--export` (a SavedModel with {METADATA_FILE}). Received: model={path!r} "
        f"({why})"
    )


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def short_repr(value) -> str:
    """`repr(value)` cut short: a damaged file may hold anything, of any size."""
    return _REPR.repr(value)


def first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error).strip() else type(error).__name__


def _positive_int(value) -> bool:
    return is_int(value) and value > 0


def _text(value) -> bool:
    return isinstance(value, str)


def _object(value) -> bool:
    return isinstance(value, dict)


def _names(value) -> bool:
    # Distinct ignoring case: the columns are found in a CSV ignoring case.
    return (
        isinstance(value, list)
        and len(value) > 0
        and all(isinstance(name, str) for name in value)
        and len({name.lower() for name in value}) == len(value)
    )


def _finite_numbers(value) -> bool:
    return isinstance(value, list) and all(is_number(v) and math.isfinite(v) for v in value)


def _frequency(value) -> bool:
    try:
        return _text(value) and frequency.to_frequency(value) is not None
    except ValueError:
        return False


def _scale(value) -> bool:
    return is_number(value) and math.isfinite(value) and value >= 0


def _hex_sha256(value) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def _rows(value) -> bool:
    # null stands for a NaN in our JSON: refused later, as not finite.
    return isinstance(value, list) and all(
        isinstance(row, list) and all(v is None or is_number(v) for v in row) for row in value
    )


class _Entry(NamedTuple):
    path: str  # dotted: "data.parts.test"
    valid: Callable[[object], bool]
    expected: str  # what `valid` accepts, for messages
    since: float = 1  # the first format version that writes it; absent before


_OPTIONAL = math.inf  # the `since` of an entry that no version has to write


def _runtime_entries(runtime: str) -> tuple[_Entry, ...]:
    """forecast.json's record of one runtime file: present if it was written."""
    name = RUNTIME_FILES[runtime]
    return (
        _Entry(f"runtimes.{runtime}", _object, "an object", since=_OPTIONAL),
        _Entry(f"runtimes.{runtime}.file", lambda v: v == name, repr(name), since=3),
        _Entry(f"runtimes.{runtime}.sha256", _hex_sha256, "a SHA-256 in hex", since=3),
        _Entry(f"runtimes.{runtime}.max_abs_diff", _scale, "a finite number >= 0", since=3),
        _Entry(f"runtimes.{runtime}.tolerance", _scale, "a finite number >= 0", since=3),
    )


# Every entry of forecast.json that `predict` and `evaluate` read, parents
# before children, with what its value must be. Versions before `since` may
# lack an entry; one that is there is checked all the same.
_ENTRIES = (
    _Entry("window", _positive_int, "a positive integer"),
    _Entry("horizon", _positive_int, "a positive integer"),
    _Entry("target", _text, "a column name"),
    _Entry("date_column", _text, "a column name"),
    _Entry("columns", _names, "a list of distinct column names"),
    _Entry("step", _text, "a time step such as '1 days'"),
    _Entry("mase_scale", _scale, "a finite number >= 0"),
    _Entry("config", _object, "an object"),
    _Entry("scaler", _object, "an object"),
    _Entry(
        "scaler.transform",
        lambda v: _text(v) and v in TRANSFORMS,
        f"one of {', '.join(TRANSFORMS)}",
    ),
    _Entry("scaler.target_index", is_int, "an integer"),
    _Entry("scaler.input_center", _finite_numbers, "a list of finite numbers"),
    _Entry("scaler.input_scale", _finite_numbers, "a list of finite numbers"),
    _Entry("scaler.target_center", _finite_numbers, "a list of finite numbers"),
    _Entry("scaler.target_scale", _finite_numbers, "a list of finite numbers"),
    _Entry("last_window", _object, "an object"),
    _Entry(
        "last_window.dates", lambda v: isinstance(v, list) and all(map(_text, v)), "a list of dates"
    ),
    _Entry("last_window.values", _rows, "a list of rows of numbers"),
    _Entry("data", _object, "an object"),
    _Entry("data.source", _text, "a string"),
    _Entry("data.rows", _positive_int, "a positive integer"),
    _Entry("data.first_date", _text, "a date"),
    _Entry("data.last_date", _text, "a date"),
    _Entry("data.parts", _object, "an object"),
    _Entry("data.parts.test", _object, "an object"),
    _Entry("data.parts.test.first_target_date", _text, "a date"),
    _Entry("data.parts.test.last_target_date", _text, "a date"),
    _Entry("training_data", _object, "an object", since=2),
    _Entry(
        "training_data.path",
        lambda v: _text(v) or v is None,
        "a string, or null for data given in memory",
        since=2,
    ),
    _Entry("training_data.sha256", _text, "a string", since=2),
    _Entry("training_data.embedded", lambda v: isinstance(v, bool), "true or false", since=2),
    _Entry(
        "training_data.in_memory", lambda v: isinstance(v, bool), "true or false", since=_OPTIONAL
    ),
    _Entry("freq", _frequency, "a pandas frequency alias such as 'D', 'B' or 'MS'", since=3),
    _Entry("interval", _object, "an object", since=_OPTIONAL),
    _Entry("interval.level", lambda v: is_number(v) and 0 < v < 1, "a number in (0, 1)", since=3),
    _Entry(
        "interval.levels",
        lambda v: isinstance(v, list) and bool(v) and all(is_number(x) and 0 < x < 1 for x in v),
        "a list of numbers in (0, 1)",
        since=4,
    ),
    _Entry("runtimes", _object, "an object", since=3),
    *(entry for runtime in RUNTIME_FILES for entry in _runtime_entries(runtime)),
)
# Entries of `data` that repeat a top-level one; they must agree.
_REPEATED = (
    "window", "horizon", "target", "date_column", "columns", "step", "freq", "mase_scale"
)  # fmt: skip
_MISSING = object()


def _entry(metadata: dict, path: str):
    """The value at dotted `path`, e.g. `"data.parts"`, or `_MISSING`."""
    value = metadata
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _check_entries(metadata: dict) -> str | None:
    """Each entry read is there, of its type; the target is the first column."""
    version = metadata["format_version"]
    absent = set()  # entries older versions may lack: their children are skipped
    for path, valid, expected, since in _ENTRIES:
        if path.rpartition(".")[0] in absent:
            continue
        value = _entry(metadata, path)
        if value is _MISSING:
            if version >= since:
                return f"no {path!r}"
            absent.add(path)
        elif not valid(value):
            return f"{path!r} is {short_repr(value)}, not {expected}"
    columns, target = metadata["columns"], metadata["target"]
    if target not in columns:
        return f"target {short_repr(target)} is not among the columns {short_repr(columns)}"
    if columns[0] != target:
        return f"target {short_repr(target)} is not the first of the columns {short_repr(columns)}"
    return None


def _check_step(metadata: dict) -> str | None:
    """A positive step: the forecast dates come after the last window's."""
    try:
        positive = pd.Timedelta(metadata["step"]) > pd.Timedelta(0)  # False for NaT
    except (ValueError, OverflowError):
        positive = False
    if not positive:
        return (
            f"'step' is {short_repr(metadata['step'])}, not a positive time step such as '1 days'"
        )
    return None


def _name_key(name: str) -> str:
    # How `TimeSeries` matches a column name: ignoring case and surrounding spaces.
    return name.strip().lower()


def _check_config(metadata: dict) -> str | None:
    """Valid settings that agree with the entries they repeat."""
    try:
        config = ForecastConfig.from_dict(metadata["config"])
    except (ValueError, TypeError) as e:
        return f"'config' is invalid ({first_line(e)})"
    if not all(isinstance(name, str) for name in config.features):
        return f"'config.features' is {short_repr(list(config.features))}, not a list of names"
    data = metadata["data"]
    repeats = {  # entry: (its value, the entry it repeats)
        "config.window": (config.window, "window"),
        "config.horizon": (config.horizon, "horizon"),
        "config.transform": (config.transform, "scaler.transform"),
        **{f"data.{key}": (data[key], key) for key in _REPEATED if key in data},
    }
    if "season" in data:
        repeats["config.season"] = (config.season, "data.season")
    for path, (value, other) in repeats.items():
        recorded = _entry(metadata, other)
        if value != recorded:
            return f"{path!r} is {short_repr(value)} but {other!r} is {short_repr(recorded)}"
    columns, date_column = metadata["columns"], metadata["date_column"]
    features = []  # as `TimeSeries` reads them: target first, each column once
    for name in (config.target or columns[0], *config.features):
        if _name_key(name) not in features:
            features.append(_name_key(name))
    if features != [_name_key(name) for name in columns]:
        return (
            f"'config.target' {short_repr(config.target)} and 'config.features' "
            f"{short_repr(list(config.features))} name other columns than 'columns' "
            f"{short_repr(columns)}"
        )
    if config.date_column is not None and _name_key(config.date_column) != _name_key(date_column):
        return (
            f"'config.date_column' is {short_repr(config.date_column)} but 'date_column' is "
            f"{short_repr(date_column)}"
        )
    return None


def _check_scaler(metadata: dict) -> str | None:
    """Centers and scales for each column and horizon step, the target first."""
    scaler = metadata["scaler"]
    if scaler["target_index"] != 0:
        return f"'scaler.target_index' is {scaler['target_index']}, but the target is column 0"
    sizes = {
        "input": (len(metadata["columns"]), "columns"),
        "target": (metadata["horizon"], "steps"),
    }
    for kind, (size, what) in sizes.items():
        for key in (f"{kind}_center", f"{kind}_scale"):
            if len(scaler[key]) != size:
                return f"'scaler.{key}' holds {len(scaler[key])} values for {size} {what}"
        if not all(v > 0 for v in scaler[f"{kind}_scale"]):
            return f"'scaler.{kind}_scale' holds a scale that is not positive"
    return None


def _check_last_window(metadata: dict) -> str | None:
    """`window` rows of finite values, at increasing dates with room after them."""
    last = metadata["last_window"]
    shape = (metadata["window"], len(metadata["columns"]))
    try:
        values = np.asarray(last["values"], dtype="float64")
    except ValueError:  # rows of different lengths
        values = np.empty((len(last["values"]), 0))
    if values.shape != shape or len(last["dates"]) != shape[0]:
        return f"'last_window' holds {values.shape} values for window and columns {shape}"
    if not np.isfinite(values).all():
        return "'last_window' holds values that are not finite"
    try:
        dates = pd.DatetimeIndex(last["dates"])
    except (ValueError, TypeError, OverflowError) as e:
        return f"'last_window.dates' cannot be read as dates ({first_line(e)})"
    if dates.hasnans or not (dates.is_monotonic_increasing and dates.is_unique):
        return f"'last_window.dates' are not increasing dates: {short_repr(last['dates'])}"
    try:  # the last forecast date, `horizon` steps after the last date
        dates[-1] + pd.Timedelta(metadata["step"]) * metadata["horizon"]
    except (ValueError, OverflowError):
        return (
            f"{metadata['horizon']} steps of {short_repr(metadata['step'])} after "
            f"{dates[-1]} are past the last date pandas can represent"
        )
    return None


def _check_metadata(metadata: dict) -> str | None:
    """What is wrong with a forecast.json's content, or `None`.

    Each entry that `predict` and `evaluate` read is checked here, so that no
    later use of it fails on a value of the wrong type or shape.
    """
    for check in (_check_entries, _check_step, _check_config, _check_scaler, _check_last_window):
        problem = check(metadata)
        if problem is not None:
            return problem
    return None


def load_metadata(path) -> dict:
    """Reads forecast.json of an export directory and checks its content."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        raise not_an_export(path, "no such directory")
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise not_an_export(path, "no saved_model.pb")
    metadata_path = os.path.join(path, METADATA_FILE)
    if not os.path.isfile(metadata_path):
        raise not_an_export(path, f"no {METADATA_FILE}")
    try:
        with open(metadata_path, encoding="utf-8") as f:
            metadata = json.load(f)
    except _JSON_ERRORS as e:
        raise not_an_export(path, f"unreadable {METADATA_FILE}: {first_line(e)}") from e
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise not_an_export(path, f"{METADATA_FILE} is not a {FORMAT!r} record")
    version = metadata.get("format_version")
    if not is_int(version) or not 1 <= version <= FORMAT_VERSION:
        raise not_an_export(
            path,
            f"format_version {short_repr(version)} is not one of 1 .. {FORMAT_VERSION}; "
            "upgrade keras-lstm-cell",
        )
    problem = _check_metadata(metadata)
    if problem is not None:
        raise not_an_export(path, f"{METADATA_FILE} is damaged: {problem}")
    return metadata
