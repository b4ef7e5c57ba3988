"""SavedModel export of a forecaster: forecast.json written and read, and its use.

An export directory holds a TensorFlow SavedModel whose `serve` function
(also the `serving_default` signature) takes raw windows
`(batch, window, features)` in original units and returns forecasts
`(batch, horizon)` in original units; the scaling is inside the graph. Beside
`saved_model.pb`, `forecast.json` records the run: settings, columns, dates,
the last window of the data, the test metrics and a fingerprint (path and
SHA-256) of the training data. Loading needs TensorFlow only:

    import numpy as np, tensorflow as tf
    model = tf.saved_model.load("saved_models/NAME")
    model.serve(np.zeros((1, 7, 1), "float32"))  # (1, horizon)

forecast.json is checked when it is read (keys, types, and the window and
columns against the SavedModel's own signature), and it never names a file
to read on its own: `evaluate` reads the training data again only when the
file at the recorded path still has the recorded SHA-256.
"""

from __future__ import annotations

import json
import math
import os
import reprlib
import shutil

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell._checks import is_int
from keras_lstm_cell._checks import is_number
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast.config import TRANSFORMS
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import SCORED
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.evaluation import evaluate_part
from keras_lstm_cell.forecast.files import check_owned_directory
from keras_lstm_cell.forecast.files import check_writable_directory
from keras_lstm_cell.forecast.files import make_temporary_directory
from keras_lstm_cell.forecast.files import remove_stale_temporaries
from keras_lstm_cell.forecast.files import replace_directory
from keras_lstm_cell.forecast.files import write_json_atomic
from keras_lstm_cell.forecast.model import BOUNDS
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import file_sha256
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries

FORMAT = "keras-lstm-cell forecast"
FORMAT_VERSION = 2  # 2 adds the training data's fingerprint and the run id
METADATA_FILE = "forecast.json"
ENDPOINT = "serve"
# What an export directory holds: TensorFlow's SavedModel files and ours.
EXPORT_ENTRIES = ("saved_model.pb", "fingerprint.pb", "variables", "assets", METADATA_FILE)
_PREDICT_BATCH = 1024


def forecast_metadata(record: RunRecord, data: ForecastData, forecaster: keras.Model) -> dict:
    """forecast.json content: the run record plus what serving needs."""
    series = data.series
    last_dates = series.dates[-data.window :]
    last_values = series.values[-data.window :]
    example = np.asarray(forecaster(last_values[None].astype("float32")))[0]  # (H,) or (H, 3)
    bounds = ", 3): forecast, lower and upper bound of" if example.ndim == 2 else "): "
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
    forecaster: keras.Model, path, metadata: dict, *, overwrite: bool = False
) -> str:
    """Exports `forecaster` as a SavedModel with `metadata` in forecast.json.

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

    Returns:
        The absolute export path.
    """
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
        write_json_atomic(os.path.join(target, METADATA_FILE), record)
        # Checked again: another process may have written there meanwhile.
        check_export_target(path, metadata.get("run_id"), overwrite)
        replace_directory(target, path)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return path


def _not_ours(path: str, why: str) -> ValueError:
    return ValueError(
        "Expected `model` to be a directory written by `keras-lstm-cell train "
        f"--export` (a SavedModel with {METADATA_FILE}). Received: model={path!r} "
        f"({why})"
    )


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60


def _shown(value) -> str:
    """`repr(value)` cut short: a damaged file may hold anything, of any size."""
    return _REPR.repr(value)


def _first_line(error: Exception) -> str:
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


def _rows(value) -> bool:
    # null stands for a NaN in our JSON: refused later, as not finite.
    return isinstance(value, list) and all(
        isinstance(row, list) and all(v is None or is_number(v) for v in row) for row in value
    )


# Every entry of forecast.json that `predict` and `evaluate` read, parents
# before children, with what its value must be.
_REQUIRED = (
    ("window", _positive_int, "a positive integer"),
    ("horizon", _positive_int, "a positive integer"),
    ("target", _text, "a column name"),
    ("date_column", _text, "a column name"),
    ("columns", _names, "a list of distinct column names"),
    ("step", _text, "a time step such as '1 days'"),
    ("mase_scale", _scale, "a finite number >= 0"),
    ("config", _object, "an object"),
    ("scaler", _object, "an object"),
    ("scaler.transform", lambda v: _text(v) and v in TRANSFORMS, f"one of {', '.join(TRANSFORMS)}"),
    ("scaler.target_index", is_int, "an integer"),
    ("scaler.input_center", _finite_numbers, "a list of finite numbers"),
    ("scaler.input_scale", _finite_numbers, "a list of finite numbers"),
    ("scaler.target_center", _finite_numbers, "a list of finite numbers"),
    ("scaler.target_scale", _finite_numbers, "a list of finite numbers"),
    ("last_window", _object, "an object"),
    ("last_window.dates", lambda v: isinstance(v, list) and all(map(_text, v)), "a list of dates"),
    ("last_window.values", _rows, "a list of rows of numbers"),
    ("data", _object, "an object"),
    ("data.source", _text, "a string"),
    ("data.rows", _positive_int, "a positive integer"),
    ("data.first_date", _text, "a date"),
    ("data.last_date", _text, "a date"),
    ("data.parts", _object, "an object"),
    ("data.parts.test", _object, "an object"),
    ("data.parts.test.first_target_date", _text, "a date"),
    ("data.parts.test.last_target_date", _text, "a date"),
)
# Entries read when present: exports of format 1 have no fingerprint, older
# ones no frequency (their forecasts step by `step`).
_OPTIONAL = (
    ("freq", _frequency, "a pandas frequency alias such as 'D', 'B' or 'MS'"),
    ("training_data", _object, "an object"),
    ("training_data.path", _text, "a string"),
    ("training_data.sha256", _text, "a string"),
    ("training_data.embedded", lambda v: isinstance(v, bool), "true or false"),
    ("interval", _object, "an object"),
    ("interval.level", lambda v: is_number(v) and 0 < v < 1, "a number in (0, 1)"),
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
    for entries, required in ((_REQUIRED, True), (_OPTIONAL, False)):
        for path, valid, expected in entries:
            value = _entry(metadata, path)
            if value is _MISSING:
                if required:
                    return f"no {path!r}"
            elif not valid(value):
                return f"{path!r} is {_shown(value)}, not {expected}"
    columns, target = metadata["columns"], metadata["target"]
    if target not in columns:
        return f"target {_shown(target)} is not among the columns {_shown(columns)}"
    if columns[0] != target:
        return f"target {_shown(target)} is not the first of the columns {_shown(columns)}"
    return None


def _check_step(metadata: dict) -> str | None:
    """A positive step: the forecast dates come after the last window's."""
    try:
        positive = pd.Timedelta(metadata["step"]) > pd.Timedelta(0)  # False for NaT
    except (ValueError, OverflowError):
        positive = False
    if not positive:
        return f"'step' is {_shown(metadata['step'])}, not a positive time step such as '1 days'"
    return None


def _name_key(name: str) -> str:
    # How `TimeSeries` matches a column name: ignoring case and surrounding spaces.
    return name.strip().lower()


def _check_config(metadata: dict) -> str | None:
    """Valid settings that agree with the entries they repeat."""
    try:
        config = ForecastConfig.from_dict(metadata["config"])
    except (ValueError, TypeError) as e:
        return f"'config' is invalid ({_first_line(e)})"
    if not all(isinstance(name, str) for name in config.features):
        return f"'config.features' is {_shown(list(config.features))}, not a list of names"
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
        if value != _entry(metadata, other):
            return f"{path!r} is {_shown(value)} but {other!r} is {_shown(_entry(metadata, other))}"
    columns, date_column = metadata["columns"], metadata["date_column"]
    features = []  # as `TimeSeries` reads them: target first, each column once
    for name in (config.target or columns[0], *config.features):
        if _name_key(name) not in features:
            features.append(_name_key(name))
    if features != [_name_key(name) for name in columns]:
        return (
            f"'config.target' {_shown(config.target)} and 'config.features' "
            f"{_shown(list(config.features))} name other columns than 'columns' {_shown(columns)}"
        )
    if config.date_column is not None and _name_key(config.date_column) != _name_key(date_column):
        return (
            f"'config.date_column' is {_shown(config.date_column)} but 'date_column' is "
            f"{_shown(date_column)}"
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
        return f"'last_window.dates' cannot be read as dates ({_first_line(e)})"
    if dates.hasnans or not (dates.is_monotonic_increasing and dates.is_unique):
        return f"'last_window.dates' are not increasing dates: {_shown(last['dates'])}"
    try:  # the last forecast date, `horizon` steps after the last date
        dates[-1] + pd.Timedelta(metadata["step"]) * metadata["horizon"]
    except (ValueError, OverflowError):
        return (
            f"{metadata['horizon']} steps of {_shown(metadata['step'])} after "
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
        raise _not_ours(path, "no such directory")
    if not os.path.isfile(os.path.join(path, "saved_model.pb")):
        raise _not_ours(path, "no saved_model.pb")
    metadata_path = os.path.join(path, METADATA_FILE)
    if not os.path.isfile(metadata_path):
        raise _not_ours(path, f"no {METADATA_FILE}")
    try:
        with open(metadata_path, encoding="utf-8") as f:
            metadata = json.load(f)
    except _JSON_ERRORS as e:
        raise _not_ours(path, f"unreadable {METADATA_FILE}: {_first_line(e)}") from e
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _not_ours(path, f"{METADATA_FILE} is not a {FORMAT!r} record")
    version = metadata.get("format_version")
    if not is_int(version) or not 1 <= version <= FORMAT_VERSION:
        raise _not_ours(
            path,
            f"format_version {_shown(version)} is not one of 1 .. {FORMAT_VERSION}; "
            "upgrade keras-lstm-cell",
        )
    problem = _check_metadata(metadata)
    if problem is not None:
        raise _not_ours(path, f"{METADATA_FILE} is damaged: {problem}")
    return metadata


def _signature_shapes(model) -> tuple[tuple, tuple] | None:
    try:
        signature = model.signatures["serving_default"]
        (spec,) = signature.structured_input_signature[1].values()
        (output,) = signature.structured_outputs.values()
        return tuple(spec.shape), tuple(output.shape)
    except (KeyError, ValueError, AttributeError, TypeError):
        return None


def load_export(path):
    """Loads an export with `tf.saved_model.load`; returns `(model, metadata)`.

    forecast.json must agree with the SavedModel: its window and column count
    with the input of `serving_default`, its horizon with the output.
    """
    metadata = load_metadata(path)
    try:
        model = tf.saved_model.load(os.fspath(path))
    except Exception as e:  # TensorFlow raises many types for a bad SavedModel.
        raise _not_ours(os.fspath(path), f"TensorFlow cannot load it: {type(e).__name__}") from e
    if not hasattr(model, ENDPOINT):
        raise _not_ours(os.fspath(path), f"the SavedModel has no `{ENDPOINT}` function")
    shapes = _signature_shapes(model)
    # With an interval, (forecast, lower, upper) on a last axis.
    bounds = (len(BOUNDS),) if "interval" in metadata else ()
    expected = (
        (None, metadata["window"], len(metadata["columns"])),
        (None, metadata["horizon"], *bounds),
    )
    if shapes != expected:
        raise _not_ours(
            os.fspath(path),
            f"{METADATA_FILE} says windows {expected[0]} -> {expected[1]}, but the "
            f"SavedModel's signature is {shapes[0] if shapes else 'unreadable'} -> "
            f"{shapes[1] if shapes else 'unreadable'}",
        )
    return model, metadata


def serve(model, windows: np.ndarray) -> np.ndarray:
    """Runs the exported `serve` function on raw windows, in batches.

    Raises `ValueError` for windows with non-finite values and for forecasts
    that are not finite: a NaN is never returned as a forecast.
    """
    windows = np.asarray(windows, dtype="float64")
    if not np.isfinite(windows).all() or np.abs(windows).max(initial=0) > np.finfo("float32").max:
        raise ValueError(
            "Expected windows of finite float32 values. Received: values that are "
            "not finite or too large for float32"
        )
    windows = windows.astype("float32")
    outputs = [
        np.asarray(model.serve(windows[i : i + _PREDICT_BATCH]))
        for i in range(0, len(windows), _PREDICT_BATCH)
    ]
    forecasts = np.concatenate(outputs, axis=0).astype("float64")
    if not np.isfinite(forecasts).all():
        raise ValueError(
            "Expected finite forecasts from the model. Received: "
            f"{int((~np.isfinite(forecasts)).sum())} values that are not finite; its "
            "inputs are outside anything it can compute with"
        )
    return forecasts


def read_series(metadata: dict, csv=None) -> TimeSeries:
    """The export's columns read from `csv`, or from its recorded training data.

    Without `csv`, the file at the recorded absolute path is read only if its
    SHA-256 is still the recorded one.
    """
    config = metadata["config"]
    kwargs = dict(
        date_column=metadata["date_column"],
        target=metadata["target"],
        features=metadata["columns"][1:],
        duplicates=config.get("duplicates", "error"),
        missing=config.get("missing", "error"),
        gaps=config.get("gaps", "error"),
        max_gap=config.get("max_gap", ForecastConfig().max_gap),
        # The frequency the model was trained on (an older export's: inferred).
        freq=metadata.get("freq"),
        **{key: config.get(key) for key in ("sep", "decimal", "thousands")},
    )
    if csv is not None:
        return TimeSeries.from_csv(csv, **kwargs)
    recorded = metadata.get("training_data")
    if not isinstance(recorded, dict) or not isinstance(recorded.get("path"), str):
        raise ValueError(
            "Expected `csv` for a model whose forecast.json has no fingerprint of its "
            "training data (an export of an older version). Received: csv=None"
        )
    path = recorded["path"]
    if not os.path.isfile(path) or file_sha256(path) != recorded.get("sha256"):
        raise ValueError(
            f"Expected the training data at {path!r} unchanged since training "
            "(the SHA-256 recorded in forecast.json). Received: "
            f"{'a different file' if os.path.isfile(path) else 'no such file'}; "
            "pass the data with --csv"
        )
    if recorded.get("embedded"):
        return TimeSeries.default(**kwargs)
    return TimeSeries.from_csv(path, **kwargs)


def _data_summary(described: dict) -> tuple:
    test = (described.get("parts") or {}).get("test") or {}
    return (
        described.get("rows"),
        described.get("first_date"),
        described.get("last_date"),
        test.get("first_target_date"),
        test.get("last_target_date"),
    )


def _check_same_data(data: ForecastData, metadata: dict) -> None:
    """Refuses training data that no longer reads as the model's training series."""
    recorded = _data_summary(metadata.get("data") or {})
    now = _data_summary(data.describe())
    if recorded != now:
        raise ValueError(
            f"Expected {data.series.source} to read as the series the model was trained "
            f"on (rows, dates, test dates: {recorded}). Received: {now}; pass the data "
            "with --csv"
        )


def next_forecast(path, csv=None) -> tuple[pd.DataFrame, dict]:
    """Forecasts the `horizon` values after the last row of the data.

    Without `csv`, the data is the last window stored in forecast.json (the
    last rows of the training data); with `csv`, the last `window` rows of
    that file (same columns as in training).

    Returns:
        A `DataFrame` indexed by the forecast dates with the target column
        (and `lower` and `upper` for a model with an interval), and the
        metadata. Its `attrs["window_dates"]` are the first and last date of
        the rows used.
    """
    model, metadata = load_export(path)
    window = metadata["window"]
    if csv is None:
        last = metadata["last_window"]
        dates = pd.DatetimeIndex(last["dates"])
        values = np.asarray(last["values"], dtype="float64")
    else:
        series = read_series(metadata, csv)
        if len(series) < window:
            raise ValueError(
                f"Expected at least window={window} rows in {csv}. Received: {len(series)} rows"
            )
        dates = series.dates[-window:]
        values = series.values[-window:]
    forecasts = serve(model, values[None])[0]  # (H,), or (H, 3) with an interval
    if "freq" in metadata:
        forecast_dates = frequency.next_dates(dates[-1], metadata["freq"], metadata["horizon"])
    else:  # an export without a frequency: steps of its most common spacing
        step = pd.Timedelta(metadata["step"])
        forecast_dates = pd.DatetimeIndex(
            [dates[-1] + step * (k + 1) for k in range(metadata["horizon"])], name="date"
        )
    if forecasts.ndim == 2:
        columns = (metadata["target"], *BOUNDS[1:])
        frame = pd.DataFrame(forecasts, index=forecast_dates, columns=columns)
    else:
        frame = pd.DataFrame({metadata["target"]: forecasts}, index=forecast_dates)
    frame.attrs["window_dates"] = (str(dates[0]), str(dates[-1]))
    return frame, metadata


def evaluate_export(path, csv=None) -> tuple[ForecastEvaluation, dict]:
    """Scores an export against persistence and seasonal naive.

    Without `csv`, on the test part of its training data, cut as in training
    (the recorded file, unchanged, read with the recorded settings); with
    `csv`, on every window of that file. Targets filled into gaps are not
    scored.

    Returns:
        The evaluation and a description `{"source", "windows", "first_date",
        "last_date"}` of what was scored.
    """
    model, metadata = load_export(path)
    config = ForecastConfig.from_dict(metadata["config"])
    scaler = WindowScaler.from_config(metadata["scaler"])
    series = read_series(metadata, csv)
    window, horizon = metadata["window"], metadata["horizon"]
    if csv is None:
        data = ForecastData.from_series(
            series,
            window=window,
            horizon=horizon,
            val_fraction=config.val_fraction,
            test_fraction=config.test_fraction,
            transform=config.transform,
            season=config.season,
            scaler=scaler,
        )
        part = "test"
        _check_same_data(data, metadata)
    else:
        data = ForecastData.for_scoring(
            series,
            window=window,
            horizon=horizon,
            season=config.season,
            scaler=scaler,
            mase_scale=metadata["mase_scale"],
        )
        part = SCORED
    level = metadata.get("interval", {}).get("level")
    evaluation = evaluate_part(lambda x: serve(model, x), data, part, interval_level=level)
    described = data.describe()["parts"][part]
    return evaluation, {
        "source": series.source,
        "windows": described["scored_windows"],
        "first_date": described["first_target_date"],
        "last_date": described["last_target_date"],
    }
