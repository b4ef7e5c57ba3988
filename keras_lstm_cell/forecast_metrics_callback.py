"""TensorBoard logging of what a forecaster is for: errors in original units."""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from keras_lstm_cell import baselines
from keras_lstm_cell.forecast_evaluation import METRICS
from keras_lstm_cell.forecast_evaluation import ForecastEvaluation

RUN = "forecast"  # TensorBoard run (sub-directory of log_dir) of our scalars


def _hparam_value(value):
    if isinstance(value, (bool, int, float, str)):
        return value
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value) or "none"
    return str(value)


class ForecastMetricsCallback(keras.callbacks.Callback):
    """Logs validation errors in original units, the optimizer's state and hparams.

    Keras's own `TensorBoard` callback logs the loss in the model's
    standardised units; this one answers "how many degrees (or dollars) off
    are we, and is it better than repeating the last value?". Under
    `log_dir/forecast` it writes, per epoch:

    - `val/mae`, `val/rmse`, `val/mape`, `val/smape`, `val/mase`, `val/skill`
      of the forecaster on the validation windows, in original units, and
      `val/persistence_mae` for comparison;
    - `optimizer/learning_rate`;
    - `optimizer/gradient_norm` and `optimizer/gradient_norm_max`: the mean
      and maximum global gradient norm over the epoch's steps, before
      clipping (when the optimizer is a `MonitoredAdam`).

    At the start of training it writes the run's hyperparameters to `log_dir`
    for the HParams dashboard. `log_evaluation` adds the test scores and the
    forecast plot (`test/forecast` image) once training is over.

    Args:
        log_dir: The run's TensorBoard directory (the one given to
            `keras.callbacks.TensorBoard`).
        forecaster: A `Forecaster` sharing weights with the model being
            trained; it maps raw windows to forecasts in original units.
        validation: `(x, y)` raw validation windows `(N, W, F)` and targets
            `(N, H)`.
        mase_scale: MASE denominator from the training data.
        hparams: `{name: value}` of the run's settings.
        model_name: Name of the model in scores and tags.

    Example:

    >>> callback = ForecastMetricsCallback(
    ...     "runs/demo", forecaster, data.raw("val"), data.mase_scale, {"units": 32}
    ... )
    >>> network.fit(x, y, epochs=5, callbacks=[callback])
    """

    def __init__(
        self,
        log_dir,
        forecaster: keras.Model,
        validation,
        mase_scale: float,
        hparams: dict | None = None,
        model_name: str = "lstm",
    ):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.forecaster = forecaster
        self.val_x = np.asarray(validation[0], dtype="float32")
        self.val_y = np.asarray(validation[1], dtype="float64")
        self.mase_scale = float(mase_scale)
        self.hparams = {k: _hparam_value(v) for k, v in (hparams or {}).items()}
        self.model_name = model_name
        self.val_persistence = baselines.persistence(
            self.val_x, forecaster.scaler.target_index, self.val_y.shape[1]
        )
        self._writer = None

    @property
    def writer(self):
        if self._writer is None:
            self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, RUN))
        return self._writer

    def on_train_begin(self, logs=None):
        root = tf.summary.create_file_writer(self.log_dir)
        with root.as_default():
            hp.hparams_config(
                hparams=[hp.HParam(name) for name in self.hparams],
                metrics=[
                    hp.Metric("val/mae", group=RUN, display_name="val MAE"),
                    hp.Metric("test/mae", group=RUN, display_name="test MAE"),
                    hp.Metric("test/skill", group=RUN, display_name="test skill"),
                    hp.Metric("epoch_loss", group="validation", display_name="val loss"),
                ],
            )
            hp.hparams(self.hparams)
        root.close()

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "reset_gradient_norm_stats"):
            optimizer.reset_gradient_norm_stats()

    def on_epoch_end(self, epoch, logs=None):
        forecasts = np.asarray(self.forecaster(self.val_x))
        evaluation = ForecastEvaluation.compute(
            self.val_y,
            {self.model_name: forecasts, "persistence": self.val_persistence},
            self.mase_scale,
            model=self.model_name,
        )
        scores = evaluation.scores[self.model_name]
        optimizer = self.model.optimizer
        with self.writer.as_default(step=epoch):
            for metric in METRICS:
                tf.summary.scalar(f"val/{metric}", scores[metric])
            tf.summary.scalar("val/persistence_mae", evaluation.scores["persistence"]["mae"])
            tf.summary.scalar(
                "optimizer/learning_rate",
                float(keras.ops.convert_to_numpy(optimizer.learning_rate)),
            )
            if hasattr(optimizer, "gradient_norm_stats"):
                stats = optimizer.gradient_norm_stats()
                if stats["steps"]:
                    tf.summary.scalar("optimizer/gradient_norm", stats["mean"])
                    tf.summary.scalar("optimizer/gradient_norm_max", stats["max"])
        self.writer.flush()

    def log_evaluation(
        self,
        step: int,
        evaluation: ForecastEvaluation,
        png: bytes | None = None,
        part: str = "test",
    ):
        """Logs final scores (`test/mae`, ..., `test/persistence_mae`) and the plot."""
        with self.writer.as_default(step=step):
            for metric in METRICS:
                tf.summary.scalar(f"{part}/{metric}", evaluation.scores[evaluation.model][metric])
            for name, row in evaluation.scores.items():
                if name != evaluation.model:
                    tf.summary.scalar(f"{part}/{name}_mae", row["mae"])
            if png is not None:
                image = tf.image.decode_png(png, channels=4)
                tf.summary.image(f"{part}/forecast", image[None], step=step)
        self.writer.flush()

    def close(self):
        if self._writer is not None:
            self._writer.close()
            self._writer = None
