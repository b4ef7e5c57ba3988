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

import hashlib
import json
import math
import os
import shutil

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell._checks import is_int
from keras_lstm_cell._checks import is_number
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
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.timeseries import default_dataset_path

FORMAT = "keras-lstm-cell forecast"
FORMAT_VERSION = 2  # 2 adds the training data's fingerprint and the run id
METADATA_FILE = "forecast.json"
ENDPOINT = "serve"
# What an export directory holds: TensorFlow's SavedModel files and ours.
EXPORT_ENTRIES = ("saved_model.pb", "fingerprint.pb", "variables", "assets", METADATA_FILE)
_PREDICT_BATCH = 1024


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def training_data_fingerprint(csv: str | None) -> dict:
    """Where the training data is, as an absolute path, and its SHA-256."""
    path = default_dataset_path() if csv is None else os.path.abspath(csv)
    return {"path": path, "embedded": csv is None, "sha256": file_sha256(path)}


def forecast_metadata(record: dict, data: ForecastData, forecaster: keras.Model) -> dict:
    """forecast.json content: the run record plus what serving needs."""
    series = data.series
    last_dates = series.dates[-data.window :]
    last_values = series.values[-data.window :]
    example = np.asarray(forecaster(last_values[None].astype("float32")))[0]
    return {
        **record,
        "window": data.window,
        "horizon": data.horizon,
        "target": series.target,
        "date_column": series.date_column,
        "columns": series.columns,
        "step": str(series.step),
        "mase_scale": data.mase_scale,
        "training_data": training_data_fingerprint(record["config"]["csv"]),
        "signature": {
            "function": ENDPOINT,
            "input": f"float32 (batch, {data.window}, {len(series.columns)}): the "
            f"last {data.window} rows of {series.columns}, original units",
            "output": f"float32 (batch, {data.horizon}): the next {data.horizon} "
            f"values of {series.target!r}, original units",
        },
        "last_window": {
            "dates": [str(d) for d in last_dates],
            "values": last_values.tolist(),
            "forecast": example.tolist(),
            "forecast_dates": [
                str(last_dates[-1] + series.step * (k + 1)) for k in range(data.horizon)
            ],
        },
    }


def _export_format(path: str) -> bool:
    try:
        with open(os.path.join(path, METADATA_FILE), encoding="utf-8") as f:
            return json.load(f).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _run_id(path: str) -> str | None:
    try:
        with open(os.path.join(path, METADATA_FILE), encoding="utf-8") as f:
            return json.load(f).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None


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


def _check_metadata(metadata: dict) -> str | None:
    """What is wrong with a forecast.json's content, or `None`."""
    checks = {
        "window": lambda v: is_int(v) and v > 0,
        "horizon": lambda v: is_int(v) and v > 0,
        "target": lambda v: isinstance(v, str),
        "date_column": lambda v: isinstance(v, str),
        "columns": lambda v: isinstance(v, list) and v and all(isinstance(c, str) for c in v),
        "step": lambda v: isinstance(v, str),
        "mase_scale": lambda v: is_number(v) and math.isfinite(v) and v >= 0,
        "config": lambda v: isinstance(v, dict),
        "scaler": lambda v: isinstance(v, dict),
        "last_window": lambda v: isinstance(v, dict),
    }
    for key, valid in checks.items():
        if key not in metadata:
            return f"no {key!r}"
        if not valid(metadata[key]):
            return f"{key!r} is {metadata[key]!r}"
    if metadata["target"] not in metadata["columns"]:
        return f"target {metadata['target']!r} is not among the columns {metadata['columns']}"
    try:
        pd.Timedelta(metadata["step"])
        ForecastConfig.from_dict(metadata["config"])
        WindowScaler.from_config(metadata["scaler"])
        last = metadata["last_window"]
        values = np.asarray(last["values"], dtype="float64")
        dates = pd.DatetimeIndex(last["dates"])
    except (ValueError, TypeError, KeyError) as e:
        return f"an invalid entry ({str(e).splitlines()[0] if str(e) else type(e).__name__})"
    shape = (metadata["window"], len(metadata["columns"]))
    if values.shape != shape or len(dates) != shape[0]:
        return f"'last_window' holds {values.shape} values for window and columns {shape}"
    if not np.isfinite(values).all():
        return "'last_window' holds values that are not finite"
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
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _not_ours(path, f"unreadable {METADATA_FILE}: {e}") from e
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _not_ours(path, f"{METADATA_FILE} is not a {FORMAT!r} record")
    version = metadata.get("format_version")
    if not is_int(version) or version > FORMAT_VERSION:
        raise _not_ours(
            path,
            f"format_version {version!r} is not one of 1 .. {FORMAT_VERSION}; "
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
    expected = (
        (None, metadata["window"], len(metadata["columns"])),
        (None, metadata["horizon"]),
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
        A `DataFrame` indexed by the forecast dates with the target column,
        and the metadata. Its `attrs["window_dates"]` are the first and last
        date of the rows used.
    """
    model, metadata = load_export(path)
    window = metadata["window"]
    step = pd.Timedelta(metadata["step"])
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
    forecasts = serve(model, values[None])[0]
    forecast_dates = pd.DatetimeIndex(
        [dates[-1] + step * (k + 1) for k in range(metadata["horizon"])], name="date"
    )
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
    evaluation = evaluate_part(lambda x: serve(model, x), data, part)
    described = data.describe()["parts"][part]
    return evaluation, {
        "source": series.source,
        "windows": described["scored_windows"],
        "first_date": described["first_target_date"],
        "last_date": described["last_target_date"],
    }
