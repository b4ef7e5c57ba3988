"""Serving an export: load it, run it on raw windows, forecast and score.

`load_export` loads a directory that `export` wrote, in one of its runtimes
(the SavedModel in TensorFlow, `forecaster.tflite` in LiteRT,
`forecaster.onnx` in ONNX Runtime), and checks it against its forecast.json;
`serve` runs it on raw windows; `next_forecast` and `evaluate_export` are
`keras-lstm-cell predict` and `evaluate`. The SavedModel needs TensorFlow only:

    import numpy as np, tensorflow as tf
    model = tf.saved_model.load("saved_models/NAME")
    model.serve(np.zeros((1, 7, 1), "float32"))  # (1, horizon)

and the other files their runtime only:

    from ai_edge_litert.interpreter import Interpreter
    interpreter = Interpreter("saved_models/NAME/forecaster.tflite")  # batch 1

    import onnxruntime
    session = onnxruntime.InferenceSession("saved_models/NAME/forecaster.onnx")

`evaluate` cuts the training data as training did, with the recorded
settings, and reads the file again only when the file at the recorded path
still has the recorded SHA-256.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell._checks import check_choice
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import SCORED
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.data import model_inputs
from keras_lstm_cell.forecast.data import split_settings
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.evaluation import evaluate_part
from keras_lstm_cell.forecast.export import ENDPOINT
from keras_lstm_cell.forecast.export import METADATA_FILE
from keras_lstm_cell.forecast.export import RUNTIME_FILES
from keras_lstm_cell.forecast.export import load_metadata
from keras_lstm_cell.forecast.export import not_an_export
from keras_lstm_cell.forecast.export import read_runtime_file
from keras_lstm_cell.forecast.files import file_change
from keras_lstm_cell.forecast.model import bound_names
from keras_lstm_cell.forecast.runtimes import RUNTIMES
from keras_lstm_cell.forecast.runtimes import TENSORFLOW
from keras_lstm_cell.forecast.runtimes import check_installed
from keras_lstm_cell.forecast.runtimes import open_model
from keras_lstm_cell.forecast.runtimes import runtime_name
from keras_lstm_cell.forecast.runtimes import serve
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


def load_export(path, runtime: str = TENSORFLOW):
    """Loads an export in `runtime`; returns `(model, metadata)`.

    `model.serve(windows)` runs it. forecast.json must agree with the file:
    its window and column count with the file's input, its horizon with the
    output; a LiteRT or ONNX file must be the one exported (its SHA-256).

    Args:
        path: The export directory.
        runtime: `"tensorflow"` (the SavedModel), `"litert"`
            (`forecaster.tflite`) or `"onnx"` (`forecaster.onnx`).
    """
    check_choice("runtime", runtime, RUNTIMES)
    path = os.fspath(path)
    metadata = load_metadata(path)
    if runtime == TENSORFLOW:
        return _load_saved_model(path, metadata), metadata
    content = read_runtime_file(path, metadata, runtime)
    name = RUNTIME_FILES[runtime]
    check_installed([runtime])
    try:
        model = open_model(runtime, content)
    except Exception as e:  # the runtimes raise their own types for a bad file
        raise not_an_export(
            path, f"{runtime_name(runtime)} cannot load {name}: {type(e).__name__}"
        ) from e
    expected = ((metadata["window"], len(metadata["columns"])), _output_shape(metadata))
    if (model.input_shape, model.output_shape) != expected:
        raise not_an_export(
            path,
            f"{METADATA_FILE} says windows {expected[0]} -> {expected[1]}, but {name} "
            f"takes {model.input_shape} -> {model.output_shape}",
        )
    return model, metadata


def _output_shape(metadata: dict) -> tuple:
    """The forecasts of one window: `(horizon,)`, or `(horizon, 1 + 2K)` with
    K intervals (the forecast, then each one's lower and upper bound)."""
    levels = interval_levels(metadata)
    bounds = (len(bound_names(levels)),) if levels else ()
    return (metadata["horizon"], *bounds)


def interval_levels(metadata: dict) -> tuple:
    """The levels of an export's intervals, ascending; `()` for none (format 3
    records one `level`)."""
    interval = metadata.get("interval")
    if interval is None:
        return ()
    return tuple(interval.get("levels", [interval["level"]]))


def _load_saved_model(path: str, metadata: dict):
    """The SavedModel, checked against forecast.json (`serving_default`'s shapes)."""
    try:
        model = tf.saved_model.load(path)
    except Exception as e:  # TensorFlow raises many types for a bad SavedModel.
        raise not_an_export(path, f"TensorFlow cannot load it: {type(e).__name__}") from e
    if not hasattr(model, ENDPOINT):
        raise not_an_export(path, f"the SavedModel has no `{ENDPOINT}` function")
    shapes = _signature_shapes(model)
    expected = (
        (None, metadata["window"], len(metadata["columns"])),
        (None, *_output_shape(metadata)),
    )
    if shapes != expected:
        raise not_an_export(
            path,
            f"{METADATA_FILE} says windows {expected[0]} -> {expected[1]}, but the "
            f"SavedModel's signature is {shapes[0] if shapes else 'unreadable'} -> "
            f"{shapes[1] if shapes else 'unreadable'}",
        )
    return model


def read_series(metadata: dict, csv=None) -> TimeSeries:
    """The export's columns read from `csv`, or from its recorded training data.

    Without `csv`, the file at the recorded absolute path is read only if its
    SHA-256 is still the recorded one; a model trained on data given in
    memory has no such file and needs `csv`.
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
        **{
            key: config.get(key)
            for key in ("sep", "decimal", "thousands", "date_format", "time_column")
        },
        na_values=config.get("na_values") or (),
    )
    if csv is not None:
        return TimeSeries.from_csv(csv, **kwargs)
    recorded = metadata.get("training_data")
    if isinstance(recorded, dict) and recorded.get("in_memory"):
        raise ValueError(
            "Expected `csv` for a model trained on data given in memory (forecast.json "
            "names no file to read it from). Received: csv=None; pass the data with --csv"
        )
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


def next_forecast(path, csv=None, runtime: str = TENSORFLOW) -> tuple[pd.DataFrame, dict]:
    """Forecasts the `horizon` values after the last row of the data.

    Without `csv`, the data is the last window stored in forecast.json (the
    last rows of the training data); with `csv`, the last `window` rows of
    that file (same columns as in training). `runtime` is as for
    `load_export`.

    Returns:
        A `DataFrame` indexed by the forecast dates with the target column
        (and `lower` and `upper` for a model with an interval), and the
        metadata. Its `attrs["window_dates"]` are the first and last
        date of the rows used.
    """
    model, metadata = load_export(path, runtime)
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
        values = model_inputs(series)[-window:]  # filled rows as the windows saw them
    forecasts = serve(model, values[None])[0]  # (H,), or (H, 1 + 2K) with intervals
    if "freq" in metadata:
        forecast_dates = frequency.next_dates(dates[-1], metadata["freq"], metadata["horizon"])
    else:  # an export without a frequency: steps of its most common spacing
        step = pd.Timedelta(metadata["step"])
        forecast_dates = pd.DatetimeIndex(
            [dates[-1] + step * (k + 1) for k in range(metadata["horizon"])], name="date"
        )
    if forecasts.ndim == 2:
        levels = interval_levels(metadata)
        if "levels" not in metadata["interval"]:  # format 3: one interval
            columns = (metadata["target"], "lower", "upper")
        else:
            columns = (metadata["target"], *bound_names(levels)[1:])
        frame = pd.DataFrame(forecasts, index=forecast_dates, columns=columns)
    else:
        frame = pd.DataFrame({metadata["target"]: forecasts}, index=forecast_dates)
    frame.attrs["window_dates"] = (str(dates[0]), str(dates[-1]))
    return frame, metadata


def evaluate_export(path, csv=None, runtime: str = TENSORFLOW) -> tuple[ForecastEvaluation, dict]:
    """Scores an export against persistence and seasonal naive.

    Without `csv`, on the test part of its training data, cut as in training
    (the recorded file, unchanged, read with the recorded settings); with
    `csv`, on every window of that file. Targets filled into gaps are not
    scored. `runtime` is as for `load_export`.

    Returns:
        The evaluation and a description `{"source", "windows", "first_date",
        "last_date"}` of what was scored.
    """
    model, metadata = load_export(path, runtime)
    config = ForecastConfig.from_dict(metadata["config"])
    scaler = WindowScaler.from_config(metadata["scaler"])
    series = read_series(metadata, csv)
    window, horizon = metadata["window"], metadata["horizon"]
    if csv is None:
        data = ForecastData.from_series(series, **split_settings(config), scaler=scaler)
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
    evaluation = evaluate_part(
        lambda x: serve(model, x), data, part, interval_levels=interval_levels(metadata)
    )
    described = data.describe()["parts"][part]
    return evaluation, {
        "source": series.source,
        "windows": described["scored_windows"],
        "first_date": described["first_target_date"],
        "last_date": described["last_target_date"],
    }
