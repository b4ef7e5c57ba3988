"""The outcome of a training run."""

from __future__ import annotations

import dataclasses

import keras

from keras_lstm_cell.forecast_config import ForecastConfig
from keras_lstm_cell.forecast_data import ForecastData
from keras_lstm_cell.forecast_evaluation import ForecastEvaluation


# Holds arrays: compared by identity, not field by field.
@dataclasses.dataclass(eq=False)
class ForecastRun:
    """What `forecasting.train` returns; `record` is what it wrote to run.json.

    Args:
        config: The settings used.
        data: Windows, splits and scaler.
        network: The trained Keras model (standardised units), best weights.
        forecaster: `Forecaster` around `network` (original units).
        evaluation: Test scores of the model and the baselines.
        history: `{"epoch": [...], "loss": [...], "val_loss": [...]}` over all
            epochs, including those before a resume.
        record: The run record (settings, data, training, metrics, paths).
        logdir: TensorBoard directory, also holding run.json and the plot.
        plot_path: The forecast-vs-truth PNG.
        export_path: The SavedModel directory, or `None`.
    """

    config: ForecastConfig
    data: ForecastData
    network: keras.Model
    forecaster: keras.Model
    evaluation: ForecastEvaluation
    history: dict
    record: dict
    logdir: str
    plot_path: str
    export_path: str | None = None
