"""The callbacks of a training run: metrics in original units, safe saves, divergence.

`ForecastMetricsCallback` logs to TensorBoard what a forecaster is for, its
errors in the data's own units; `standard_callbacks` gives the rest of a
run's callbacks in their order.
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np
import tensorflow as tf
from tensorboard.plugins.hparams import api as hp

from keras_lstm_cell.forecast import baselines
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.evaluation import METRICS
from keras_lstm_cell.forecast.evaluation import MODEL_NAME
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.files import interrupts_deferred
from keras_lstm_cell.forecast.record import BACKUP_DIR
from keras_lstm_cell.forecast.record import BEST_WEIGHTS
from keras_lstm_cell.forecast.resume import ResumedEarlyStopping
from keras_lstm_cell.forecast.resume import best_finite

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
    for the HParams dashboard. `log_evaluation` adds, once training is over,
    the test scores, the forecast plot (`test/forecast` image) and the
    validation scores of the best epoch (`best/val_mae`, ..., `best/val_loss`),
    whose weights the run keeps: the HParams table shows those, not the last
    epoch's.

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
        model_name: str = MODEL_NAME,
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
                    hp.Metric("best/val_mae", group=RUN, display_name="val MAE (best epoch)"),
                    hp.Metric("best/val_loss", group=RUN, display_name="val loss (best epoch)"),
                    hp.Metric("best/epoch", group=RUN, display_name="best epoch"),
                    hp.Metric("test/mae", group=RUN, display_name="test MAE"),
                    hp.Metric("test/skill", group=RUN, display_name="test skill"),
                ],
            )
            hp.hparams(self.hparams)
        root.close()

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "reset_gradient_norm_stats"):
            optimizer.reset_gradient_norm_stats()

    def validation_scores(self) -> ForecastEvaluation:
        """The forecaster and persistence on the validation windows, now."""
        forecasts = np.asarray(self.forecaster(self.val_x))
        return ForecastEvaluation.compute(
            self.val_y,
            {self.model_name: forecasts, "persistence": self.val_persistence},
            self.mase_scale,
            model=self.model_name,
        )

    def on_epoch_end(self, epoch, logs=None):
        evaluation = self.validation_scores()
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
        best_epoch: int | None = None,
        best_val_loss: float | None = None,
    ):
        """Logs final scores (`test/mae`, ..., `test/persistence_mae`) and the plot.

        With `best_epoch`, also the validation scores of the weights the
        forecaster has now, those of the best epoch, as `best/val_...` at
        that step, with `best/val_loss` and `best/epoch` (counted from 1).
        """
        if best_epoch is not None:
            scores = self.validation_scores().scores[self.model_name]
            with self.writer.as_default(step=best_epoch):
                for metric in METRICS:
                    tf.summary.scalar(f"best/val_{metric}", scores[metric])
                if best_val_loss is not None:
                    tf.summary.scalar("best/val_loss", best_val_loss)
                tf.summary.scalar("best/epoch", best_epoch + 1)
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


class _InterruptSafeSave:
    """Makes a saving callback's end-of-epoch save wait out Ctrl-C and `kill`."""

    def on_epoch_end(self, epoch, logs=None):
        with interrupts_deferred():
            super().on_epoch_end(epoch, logs)


class InterruptSafeBackupAndRestore(_InterruptSafeSave, keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` whose backup an interrupt cannot tear.

    Ctrl-C or `kill` during the end-of-epoch backup used to leave the weights
    file with some layers missing, which `--resume` then could not load. The
    interrupt now waits until the weights and the metadata are both written.
    """


class InterruptSafeModelCheckpoint(_InterruptSafeSave, keras.callbacks.ModelCheckpoint):
    """`keras.callbacks.ModelCheckpoint` whose file an interrupt cannot tear."""


class TrainingDiverged(ValueError):
    """The loss became NaN or infinite; the run cannot go on."""


class StopOnNonFiniteLoss(keras.callbacks.Callback):
    """Stops training at the first batch whose loss is NaN or infinite, or
    the first epoch whose validation loss is.

    Like `keras.callbacks.TerminateOnNaN(raise_error=True)`, but raises
    `TrainingDiverged`, which names the epoch and batch. It raises at once,
    so no end-of-epoch callback saves the broken weights.
    """

    def __init__(self):
        super().__init__()
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        _require_finite(
            logs,
            "loss",
            "training",
            f"epoch {self._epoch + 1}, batch {batch + 1}",
            "lower --learning-rate or clip harder (--global-clipnorm)",
        )

    def on_epoch_end(self, epoch, logs=None):
        # First of the epoch-end callbacks: no checkpoint or backup keeps it.
        _require_finite(
            logs,
            "val_loss",
            "validation",
            f"epoch {epoch + 1}",
            "the validation part holds values far outside the training part's range, "
            "or training diverged",
        )


def _require_finite(logs, key: str, what: str, where: str, hint: str) -> None:
    loss = (logs or {}).get(key)
    if loss is not None and not math.isfinite(float(loss)):
        raise TrainingDiverged(
            f"Expected a finite {what} loss. Received: {key}={float(loss)} at {where}; {hint}"
        )


def standard_callbacks(config: ForecastConfig, logdir: str, prior_val_losses: list) -> list:
    """Divergence stop, best checkpoint, early stopping and Keras's TensorBoard."""
    return [
        StopOnNonFiniteLoss(),
        InterruptSafeModelCheckpoint(
            os.path.join(logdir, BEST_WEIGHTS),
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
            # After a resume, only an epoch better than all earlier ones replaces it.
            initial_value_threshold=best_finite(prior_val_losses),
        ),
        ResumedEarlyStopping(
            prior_val_losses,
            monitor="val_loss",
            patience=config.patience,
            restore_best_weights=True,
        ),
        keras.callbacks.TensorBoard(logdir, histogram_freq=1, write_graph=False),
    ]


def backup_callback(logdir: str) -> InterruptSafeBackupAndRestore:
    """The end-of-epoch backup `--resume` goes on from.

    It keeps the previous backup too (`double_checkpoint`), and the run, not
    Keras, deletes it: only once the run record says training is done.
    """
    return InterruptSafeBackupAndRestore(
        os.path.join(logdir, BACKUP_DIR), double_checkpoint=True, delete_checkpoint=False
    )
