"""SavedModel export of a forecaster, and its use with TensorFlow alone.

An export directory holds a TensorFlow SavedModel whose `serve` function
(also the `serving_default` signature) takes raw windows
`(batch, window, features)` in original units and returns forecasts
`(batch, horizon)` in original units; the scaling is inside the graph. Beside
`saved_model.pb`, `forecast.json` records the run: settings, columns, dates,
the last window of the data and the test metrics. Loading needs TensorFlow
only:

    import numpy as np, tensorflow as tf
    model = tf.saved_model.load("saved_models/NAME")
    model.serve(np.zeros((1, 7, 1), "float32"))  # (1, horizon)
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell import baselines
from keras_lstm_cell.files import check_writable_directory
from keras_lstm_cell.files import replace_directory
from keras_lstm_cell.files import write_json_atomic
from keras_lstm_cell.forecast_evaluation import ForecastEvaluation
from keras_lstm_cell.timeseries import TimeSeries
from keras_lstm_cell.windows import make_windows

FORMAT = "keras-lstm-cell forecast"
FORMAT_VERSION = 1
METADATA_FILE = "forecast.json"
ENDPOINT = "serve"
_PREDICT_BATCH = 1024


def export_forecaster(forecaster: keras.Model, path, metadata: dict) -> str:
    """Exports `forecaster` as a SavedModel with `metadata` in forecast.json.

    Writes everything into a temporary directory beside `path` and moves it
    into place at the end, replacing an older export only then.

    Args:
        forecaster: A built `Forecaster`.
        path: Export directory, e.g. `saved_models/NAME`.
        metadata: The run record; `window`, `columns` and `horizon` are
            required.

    Returns:
        The absolute export path.
    """
    path = check_writable_directory(path, "export")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.tmp-")
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


def load_metadata(path) -> dict:
    """Reads and checks forecast.json of an export directory."""
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
    except (OSError, json.JSONDecodeError) as e:
        raise _not_ours(path, f"unreadable {METADATA_FILE}: {e}") from e
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise _not_ours(path, f"{METADATA_FILE} is not a {FORMAT!r} record")
    if metadata.get("format_version", 0) > FORMAT_VERSION:
        raise _not_ours(
            path,
            f"format_version {metadata['format_version']} is newer than "
            f"{FORMAT_VERSION}; upgrade keras-lstm-cell",
        )
    return metadata


def load_export(path):
    """Loads an export with `tf.saved_model.load`; returns `(model, metadata)`."""
    metadata = load_metadata(path)
    try:
        model = tf.saved_model.load(os.fspath(path))
    except Exception as e:  # TensorFlow raises many types for a bad SavedModel.
        raise _not_ours(os.fspath(path), f"TensorFlow cannot load it: {type(e).__name__}") from e
    if not hasattr(model, ENDPOINT):
        raise _not_ours(os.fspath(path), f"the SavedModel has no `{ENDPOINT}` function")
    return model, metadata


def serve(model, windows: np.ndarray) -> np.ndarray:
    """Runs the exported `serve` function on raw windows, in batches."""
    windows = np.asarray(windows, dtype="float32")
    outputs = [
        np.asarray(model.serve(windows[i : i + _PREDICT_BATCH]))
        for i in range(0, len(windows), _PREDICT_BATCH)
    ]
    return np.concatenate(outputs, axis=0).astype("float64")


def read_series(metadata: dict, csv=None) -> TimeSeries:
    """The export's columns read from `csv`, or from its training source."""
    config = metadata["config"]
    kwargs = dict(
        date_column=metadata["date_column"],
        target=metadata["target"],
        features=metadata["columns"][1:],
        duplicates=config["duplicates"],
        missing=config["missing"],
        gaps=config["gaps"],
    )
    source = csv if csv is not None else config["csv"]
    if source is None:
        return TimeSeries.default(**kwargs)
    return TimeSeries.from_csv(source, **kwargs)


def next_forecast(path, csv=None) -> tuple[pd.DataFrame, dict]:
    """Forecasts the `horizon` values after the last row of the data.

    Without `csv`, the data is the last window stored in forecast.json (the
    end of the training data); with `csv`, the last `window` rows of that file
    (same columns as in training).

    Returns:
        A `DataFrame` indexed by the forecast dates with the target column,
        and the metadata.
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

    Without `csv`, on the windows of its training source whose targets fall in
    the recorded test dates (the test part of training); with `csv`, on every
    window of that file.

    Returns:
        The evaluation and a description `{"source", "windows", "first_date",
        "last_date"}` of what was scored.
    """
    model, metadata = load_export(path)
    config = metadata["config"]
    series = read_series(metadata, csv)
    window, horizon = metadata["window"], metadata["horizon"]
    season = config["season"]
    if len(series) < window + horizon:
        raise ValueError(
            f"Expected at least window + horizon = {window + horizon} rows in "
            f"{series.source}. Received: {len(series)} rows"
        )
    x, y = make_windows(series.values, series.target_values, window, horizon)
    dates = series.dates
    first_target = dates[window : window + len(y)]  # (N,)
    last_target = dates[window + horizon - 1 : window + horizon - 1 + len(y)]
    if csv is None:
        # The windows whose targets lie in the recorded test dates.
        test = metadata["data"]["parts"]["test"]
        chosen = (first_target >= pd.Timestamp(test["first_target_date"])) & (
            last_target <= pd.Timestamp(test["last_target_date"])
        )
    else:
        chosen = np.ones(len(y), dtype=bool)
    if not chosen.any():
        raise ValueError(
            f"Expected windows to score in {series.source}. Received: none in "
            "the recorded test dates"
        )
    seasonal = baselines.seasonal_naive(series.target_values, window, horizon, season)
    x, y, seasonal = x[chosen], y[chosen], seasonal[chosen]
    forecasts = {
        "lstm": serve(model, x),
        "persistence": baselines.persistence(x, 0, horizon),
        f"seasonal_naive_{season}": seasonal,
    }
    evaluation = ForecastEvaluation.compute(y, forecasts, metadata["mase_scale"])
    described = {
        "source": series.source,
        "windows": len(y),
        "first_date": str(first_target[chosen][0].date()),
        "last_date": str(last_target[chosen][-1].date()),
    }
    return evaluation, described
