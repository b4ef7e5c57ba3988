"""Serving an export: load it, run it on raw windows, forecast and score.

`load_export` loads the SavedModel of a directory that `export` wrote and
checks it against its forecast.json; `serve` runs it on raw windows;
`next_forecast` and `evaluate_export` are `keras-lstm-cell predict` and
`evaluate`. Loading needs TensorFlow only:

    import numpy as np, tensorflow as tf
    model = tf.saved_model.load("saved_models/NAME")
    model.serve(np.zeros((1, 7, 1), "float32"))  # (1, horizon)

`evaluate` cuts the training data as training did, with the recorded
settings, and reads the file again only when the file at the recorded path
still has the recorded SHA-256.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import SCORED
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.evaluation import evaluate_part
from keras_lstm_cell.forecast.export import ENDPOINT
from keras_lstm_cell.forecast.export import METADATA_FILE
from keras_lstm_cell.forecast.export import load_metadata
from keras_lstm_cell.forecast.export import not_an_export
from keras_lstm_cell.forecast.files import file_change
from keras_lstm_cell.forecast.model import PREDICT_BATCH
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries


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
    path = os.fspath(path)
    metadata = load_metadata(path)
    try:
        model = tf.saved_model.load(path)
    except Exception as e:  # TensorFlow raises many types for a bad SavedModel.
        raise not_an_export(path, f"TensorFlow cannot load it: {type(e).__name__}") from e
    if not hasattr(model, ENDPOINT):
        raise not_an_export(path, f"the SavedModel has no `{ENDPOINT}` function")
    shapes = _signature_shapes(model)
    expected = (
        (None, metadata["window"], len(metadata["columns"])),
        (None, metadata["horizon"]),
    )
    if shapes != expected:
        raise not_an_export(
            path,
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
        np.asarray(model.serve(windows[i : i + PREDICT_BATCH]))
        for i in range(0, len(windows), PREDICT_BATCH)
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
    change = file_change(path, recorded.get("sha256"))
    if change is not None:
        raise ValueError(
            f"Expected the training data at {path!r} unchanged since training "
            f"(the SHA-256 recorded in forecast.json). Received: {change}; "
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
