"""Building, training, evaluating and exporting an LSTM forecaster.

`train(config, logdir=..., export_dir=...)` is the whole workflow of
`keras-lstm-cell train`: read and window the data, split it in time, fit the
scaling on the training part, train `RNN(SimpleLSTMCell)` with early stopping,
checkpoints and backups, score the test part in original units against
persistence and seasonal naive, and write TensorBoard logs, a plot, run.json
and a SavedModel.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell.devices import resolve_device
from keras_lstm_cell.distribute import cleanup_worker_path
from keras_lstm_cell.distribute import get_strategy
from keras_lstm_cell.distribute import worker_path
from keras_lstm_cell.export import export_forecaster
from keras_lstm_cell.files import check_writable_directory
from keras_lstm_cell.files import interrupts_deferred
from keras_lstm_cell.files import write_bytes_atomic
from keras_lstm_cell.files import write_json_atomic
from keras_lstm_cell.forecast_config import ForecastConfig
from keras_lstm_cell.forecast_data import ForecastData
from keras_lstm_cell.forecast_evaluation import ForecastEvaluation
from keras_lstm_cell.forecast_metrics_callback import ForecastMetricsCallback
from keras_lstm_cell.forecast_run import ForecastRun
from keras_lstm_cell.forecaster import Forecaster
from keras_lstm_cell.gate_monitor import GateMonitor
from keras_lstm_cell.monitored_adam import MonitoredAdam
from keras_lstm_cell.plotting import figure_png
from keras_lstm_cell.plotting import forecast_figure
from keras_lstm_cell.recurrent_layers import RECURRENT_LAYERS
from keras_lstm_cell.timeseries import TimeSeries

logger = logging.getLogger(__name__)

RUN_RECORD = "run.json"
HISTORY = "history.csv"
PLOT = "forecast.png"
BACKUP_DIR = "backup"
BEST_WEIGHTS = os.path.join("checkpoints", "best.weights.h5")
MODEL_NAME = "lstm"
GATES_DIR = "gates"  # GateMonitor's TensorBoard run, beside the training logs
GATE_PROBE_SIZE = 32  # validation windows traced by GateMonitor each epoch
# Settings that may change when a run is resumed; all others must match.
RESUMABLE_CHANGES = ("epochs", "device", "distribute")


def build_model(
    window: int,
    n_features: int,
    horizon: int = 1,
    units: int = 32,
    layers: int = 1,
    layer: str = "rnn",
    cell_kwargs: dict | None = None,
) -> keras.Model:
    """Stacked LSTM layers and a Dense head: `(B, window, F)` → `(B, horizon)`.

    Args:
        window: Time steps per input window.
        n_features: Input columns per step.
        horizon: Outputs, one per future step.
        units: LSTM units per layer.
        layers: Number of LSTM layers; all but the last return sequences.
        layer: Key of `RECURRENT_LAYERS`; `"rnn"` is
            `keras.layers.RNN(SimpleLSTMCell(units, **cell_kwargs))`.
        cell_kwargs: Extra `SimpleLSTMCell` arguments, e.g. `{"dropout": 0.1}`.

    Example:

    >>> model = build_model(window=7, n_features=1, units=8)
    >>> model.output_shape
    (None, 1)
    """
    if layer not in RECURRENT_LAYERS:
        raise ValueError(
            f"Expected `layer` to be one of {', '.join(RECURRENT_LAYERS)}. "
            f"Received: layer={layer!r}"
        )
    if isinstance(layers, bool) or not isinstance(layers, int) or layers <= 0:
        raise ValueError(f"Expected `layers` to be a positive integer. Received: layers={layers!r}")
    inputs = keras.Input(shape=(window, n_features), name="windows")
    hidden = inputs  # (B, window, F), then (B, window, units) between layers
    for i in range(layers):
        hidden = RECURRENT_LAYERS[layer](
            units, i < layers - 1, dict(cell_kwargs or {}), f"lstm_{i + 1}"
        )(hidden)
    outputs = keras.layers.Dense(horizon, name="forecast")(hidden)  # (B, horizon)
    return keras.Model(inputs, outputs, name="lstm_forecaster")


def make_optimizer(config: ForecastConfig) -> MonitoredAdam:
    """Adam with the run's learning rate and its one clip setting, if any."""
    return MonitoredAdam(learning_rate=config.learning_rate, **config.clipping)


def load_series(config: ForecastConfig) -> TimeSeries:
    """The series named by `config.csv`, or the embedded data when it is `None`."""
    kwargs = dict(
        date_column=config.date_column,
        target=config.target,
        features=config.features,
        duplicates=config.duplicates,
        missing=config.missing,
        gaps=config.gaps,
    )
    if config.csv is None:
        return TimeSeries.default(**kwargs)
    return TimeSeries.from_csv(config.csv, **kwargs)


def prepare_data(config: ForecastConfig, series: TimeSeries | None = None) -> ForecastData:
    """Reads (unless given) and windows the series as `config` says."""
    series = load_series(config) if series is None else series
    return ForecastData.from_series(
        series,
        window=config.window,
        horizon=config.horizon,
        val_fraction=config.val_fraction,
        test_fraction=config.test_fraction,
        transform=config.transform,
        season=config.season,
    )


def read_run_record(logdir) -> dict | None:
    """run.json of a run directory, or `None` if there is none."""
    path = os.path.join(os.fspath(logdir), RUN_RECORD)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_history(logdir) -> dict:
    """history.csv of a run as `{column: [values]}` (empty if none)."""
    path = os.path.join(os.fspath(logdir), HISTORY)
    if not os.path.isfile(path):
        return {}
    frame = pd.read_csv(path)
    return {c: frame[c].tolist() for c in frame.columns}


def _read_backup_epoch(path: str) -> int | None:
    try:
        with open(path, encoding="utf-8") as f:
            return int(json.load(f)["epoch"])
    except (ValueError, KeyError, TypeError):
        return None


def _backup_epoch(logdir: str) -> int | None:
    """The epoch `keras.callbacks.BackupAndRestore` resumes from, or `None`.

    A run killed while the backup's metadata was being rewritten leaves it
    unreadable; then the previous backup (`double_checkpoint=True` keeps one)
    replaces the current one, as Keras itself does for unreadable weights.
    """
    backup = os.path.join(logdir, BACKUP_DIR)
    path = os.path.join(backup, "training_metadata.json")
    if not os.path.isfile(path):
        return None
    epoch = _read_backup_epoch(path)
    if epoch is not None:
        return epoch
    weights = os.path.join(backup, "latest.weights.h5")
    if os.path.isfile(path + ".bkp") and os.path.isfile(weights + ".bkp"):
        epoch = _read_backup_epoch(path + ".bkp")
        if epoch is not None:
            shutil.copyfile(weights + ".bkp", weights)
            shutil.copyfile(path + ".bkp", path)
            return epoch
    raise ValueError(
        f"Expected a readable training backup in {backup!r}. Received: an "
        f"unreadable {os.path.basename(path)} and no usable previous backup; "
        "train a new run instead"
    )


def _check_resume(logdir: str, config: ForecastConfig, resume: bool) -> int:
    """Checks the run directory; returns the epoch training starts from."""
    record = read_run_record(logdir)
    if not resume:
        if record is not None:
            raise ValueError(
                f"Expected `logdir` to be a new run directory. Received: "
                f"logdir={logdir!r}, which holds a run; resume it (--resume) or "
                "choose another name"
            )
        return 0
    if record is None:
        raise ValueError(
            f"Expected `logdir` to hold an interrupted run to resume. Received: "
            f"logdir={logdir!r}, which has no {RUN_RECORD}"
        )
    stored = ForecastConfig.from_dict(record["config"]).to_dict()
    given = config.to_dict()
    changed = [
        f"{k}={given[k]!r} (run: {stored[k]!r})"
        for k in stored
        if k not in RESUMABLE_CHANGES and stored[k] != given[k]
    ]
    if changed:
        raise ValueError(
            "Expected the resumed run's settings, except epochs and device. "
            f"Received: {', '.join(changed)}"
        )
    epoch = _backup_epoch(logdir)
    if epoch is None and record.get("status") == "finished":
        raise ValueError(
            f"Expected an interrupted run in `logdir`. Received: logdir={logdir!r}, "
            "which finished; train a new run instead"
        )
    return epoch or 0


def _truncate_history(logdir: str, epochs: int) -> list[float]:
    """Keeps the first `epochs` rows of history.csv; returns their val_loss.

    A run killed after an epoch was logged but before it was backed up runs
    that epoch again, so its row is dropped here.
    """
    path = os.path.join(logdir, HISTORY)
    if not os.path.isfile(path):
        return []
    frame = pd.read_csv(path)
    frame = frame[frame["epoch"] < epochs]
    write_bytes_atomic(path, frame.to_csv(index=False).encode("utf-8"))
    if "val_loss" not in frame:
        return []
    return [float(v) for v in frame["val_loss"]]


def early_stopping_state(val_losses) -> tuple[float | None, int]:
    """`(best, wait)` of `keras.callbacks.EarlyStopping(monitor="val_loss")`
    (no `min_delta`, `baseline` or `start_from_epoch`) after these epochs: the
    lowest loss and the number of epochs since it was first reached."""
    best, wait = None, 0
    for loss in val_losses:
        wait += 1
        if best is None or loss < best:
            best, wait = loss, 0
    return best, wait


class ResumedEarlyStopping(keras.callbacks.EarlyStopping):
    """`EarlyStopping` that goes on counting from the epochs before a resume.

    `keras.callbacks.BackupAndRestore` restores the weights, the optimizer and
    the epoch, but `EarlyStopping` starts afresh in `on_train_begin`; this
    callback then takes the best loss and the epochs without improvement from
    the interrupted run's history, so a resumed run stops where an
    uninterrupted one would have.
    """

    def __init__(self, prior_val_losses=(), **kwargs):
        super().__init__(**kwargs)
        self._prior = early_stopping_state(prior_val_losses)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        self.best, self.wait = self._prior


def _shown(path: str | None) -> str | None:
    """`path` relative to the working directory when inside it, for portable records."""
    if path is None:
        return None
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _versions() -> dict:
    from keras_lstm_cell import __version__

    return {
        "keras_lstm_cell": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "python": platform.python_version(),
    }


def _hparams(config: ForecastConfig) -> dict:
    hparams = config.to_dict()
    hparams.pop("cell_kwargs")
    hparams.update({f"cell_{k}": v for k, v in config.cell_kwargs.items()})
    return hparams


def evaluate(forecaster: keras.Model, data: ForecastData, part: str = "test") -> ForecastEvaluation:
    """Scores `forecaster` and the baselines on one part, in original units."""
    x, y = data.raw(part)
    forecasts = {
        MODEL_NAME: np.asarray(forecaster.predict(x, verbose=0, batch_size=1024)),
        "persistence": data.persistence(part),
        f"seasonal_naive_{data.season}": data.seasonal_naive(part),
    }
    return ForecastEvaluation.compute(y, forecasts, data.mase_scale, model=MODEL_NAME)


def plot_part(forecaster: keras.Model, data: ForecastData, part: str = "test") -> bytes:
    """PNG of the one-step-ahead forecast, truth and persistence on one part."""
    x, y = data.raw(part)
    forecast = np.asarray(forecaster.predict(x, verbose=0, batch_size=1024))
    dates = data.target_dates[data.slices[part], 0]
    series = data.series
    figure = forecast_figure(
        dates,
        y[:, 0],
        forecast[:, 0],
        data.persistence(part)[:, 0],
        title=f"{series.target}: {part} part, one step ahead ({series.source})",
        ylabel=series.target,
        model=MODEL_NAME,
    )
    return figure_png(figure)


def export_metadata(run_record: dict, data: ForecastData, forecaster: keras.Model) -> dict:
    """forecast.json content: the run record plus what serving needs."""
    series = data.series
    last_dates = series.dates[-data.window :]
    last_values = series.values[-data.window :]
    example = np.asarray(forecaster(last_values[None].astype("float32")))[0]
    return {
        **run_record,
        "window": data.window,
        "horizon": data.horizon,
        "target": series.target,
        "date_column": series.date_column,
        "columns": series.columns,
        "step": str(series.step),
        "mase_scale": data.mase_scale,
        "signature": {
            "function": "serve",
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


def _standard_callbacks(config: ForecastConfig, logdir: str, prior_val_losses: list) -> list:
    """Best checkpoint, early stopping and Keras's TensorBoard."""
    prior_best = min((v for v in prior_val_losses if np.isfinite(v)), default=None)
    return [
        InterruptSafeModelCheckpoint(
            os.path.join(logdir, BEST_WEIGHTS),
            monitor="val_loss",
            save_best_only=True,
            save_weights_only=True,
            # After a resume, only an epoch better than all earlier ones replaces it.
            initial_value_threshold=prior_best,
        ),
        ResumedEarlyStopping(
            prior_val_losses,
            monitor="val_loss",
            patience=config.patience,
            restore_best_weights=True,
        ),
        keras.callbacks.TensorBoard(logdir, histogram_freq=1, write_graph=False),
    ]


def train(
    config: ForecastConfig,
    *,
    logdir,
    export_dir=None,
    series: TimeSeries | None = None,
    resume: bool = False,
    callbacks=(),
    verbose="auto",
    strategy: tf.distribute.Strategy | None = None,
) -> ForecastRun:
    """Trains, evaluates and (optionally) exports a forecaster.

    Everything a user can get wrong (data, columns, sizes, paths, device) is
    checked before anything is written. `logdir` receives TensorBoard logs,
    run.json (settings first, metrics once done), history.csv, the best
    checkpoint, a backup per epoch (removed when training ends) and
    forecast.png.

    Args:
        config: The run's settings.
        logdir: Run directory; must not hold a run unless `resume`.
        export_dir: SavedModel directory, or `None` for no export.
        series: Data to use instead of reading `config.csv`.
        resume: Continue an interrupted run in `logdir` from its last
            finished epoch (`keras.callbacks.BackupAndRestore`).
        callbacks: Extra Keras callbacks, called after ours.
        verbose: `Model.fit` verbosity (1: progress bar).
        strategy: The `tf.distribute` strategy of `config.distribute`, if
            already made (it must come before other TensorFlow work).
    """
    started = time.perf_counter()
    distributed = config.distribute != "none"
    if strategy is None:
        strategy = get_strategy(config.distribute)
    if distributed:
        # Every worker writes its logs and model; only the chief's are kept.
        chief_paths = (logdir, export_dir)
        logdir = worker_path(logdir, strategy)
        export_dir = None if export_dir is None else worker_path(export_dir, strategy)
    logdir = check_writable_directory(logdir, "logdir")
    if export_dir is not None:
        export_dir = check_writable_directory(export_dir, "export")
    data = prepare_data(config, series)
    device = resolve_device(config.device)
    initial_epoch = _check_resume(logdir, config, resume)
    if resume:
        logger.info("Resuming %s from epoch %d", logdir, initial_epoch)

    keras.utils.set_random_seed(config.seed)
    os.makedirs(logdir, exist_ok=True)
    best_path = os.path.join(logdir, BEST_WEIGHTS)
    prior_val_losses = _truncate_history(logdir, initial_epoch) if resume else []
    record = {
        "status": "training",
        "config": config.to_dict(),
        "data": data.describe(),
        "scaler": data.scaler.get_config(),
        "device": device,
        "versions": _versions(),
        "paths": {"logdir": _shown(logdir), "export": _shown(export_dir)},
    }
    with strategy.scope() if distributed else tf.device(device):
        network = build_model(
            config.window,
            len(data.series.columns),
            config.horizon,
            config.units,
            config.layers,
            config.layer,
            config.cell_kwargs,
        )
        network.compile(optimizer=make_optimizer(config), loss="mse")
        forecaster = Forecaster(network, data.scaler, name="forecaster")
        x_val_raw, y_val_raw = data.raw("val")
        forecaster(x_val_raw[:1])
        record["model"] = {"layer": config.layer, "parameters": network.count_params()}
        record["optimizer"] = network.optimizer.get_config()
        write_json_atomic(os.path.join(logdir, RUN_RECORD), record)

        metrics_callback = ForecastMetricsCallback(
            logdir, forecaster, (x_val_raw, y_val_raw), data.mase_scale, _hparams(config)
        )
        csv_logger = keras.callbacks.CSVLogger(os.path.join(logdir, HISTORY), append=True)
        x_train, y_train = data.scaled("train")
        x_val, y_val = data.scaled("val")
        gate_callbacks = []
        if config.gate_monitor:
            probe = x_val[:GATE_PROBE_SIZE]  # fixed, so epochs are comparable
            gate_callbacks.append(GateMonitor(probe, os.path.join(logdir, GATES_DIR)))
        all_callbacks = [
            *_standard_callbacks(config, logdir, prior_val_losses),
            csv_logger,
            metrics_callback,
            *gate_callbacks,
            # Last of the run's own: an epoch is backed up only once its history
            # row, checkpoint and logs are written, so a kill in between redoes
            # it. No callback before it reads the weights in on_train_begin,
            # where it restores them.
            InterruptSafeBackupAndRestore(os.path.join(logdir, BACKUP_DIR), double_checkpoint=True),
            *callbacks,
        ]
        try:
            if distributed:
                # Windows cut on demand; the global batch is split among replicas.
                network.fit(
                    data.dataset(
                        "train", batch_size=config.batch_size, shuffle=True, seed=config.seed
                    ),
                    validation_data=data.dataset("val", batch_size=config.batch_size),
                    epochs=config.epochs,
                    shuffle=False,
                    callbacks=all_callbacks,
                    verbose=verbose,
                )
            else:
                network.fit(
                    x_train,
                    y_train,
                    validation_data=(x_val, y_val),
                    epochs=config.epochs,
                    batch_size=config.batch_size,
                    shuffle=True,
                    callbacks=all_callbacks,
                    verbose=verbose,
                )
            # The checkpoint covers epochs before a resume too; without one,
            # EarlyStopping has already restored the best weights.
            if os.path.isfile(best_path):
                network.load_weights(best_path)
            evaluation = evaluate(forecaster, data, "test")
            history = read_history(logdir)
            png = plot_part(forecaster, data, "test")
            plot_path = os.path.join(logdir, PLOT)
            write_bytes_atomic(plot_path, png)
            epochs_run = len(history.get("epoch", []))
            metrics_callback.log_evaluation(max(epochs_run - 1, 0), evaluation, png)
        finally:
            metrics_callback.close()
            # CSVLogger closes its file in on_train_end, which an exception skips.
            if getattr(csv_logger, "csv_file", None) is not None:
                csv_logger.csv_file.close()

        val_losses = history.get("val_loss", [])
        best_epoch = int(np.nanargmin(val_losses)) if val_losses else None
        record.update(
            status="finished",
            training={
                "epochs_run": epochs_run,
                "best_epoch": best_epoch,
                "best_val_loss": val_losses[best_epoch] if val_losses else None,
                "stopped_early": epochs_run < config.epochs,
                "resumed_from_epoch": initial_epoch if resume else None,
            },
            metrics={"test": evaluation.to_dict(), "verdict": evaluation.verdict()},
        )
        record["paths"]["plot"] = _shown(plot_path)
        logger.info("%s", evaluation.verdict())
        if export_dir is not None:
            export_forecaster(forecaster, export_dir, export_metadata(record, data, forecaster))
        record["training"]["seconds"] = round(time.perf_counter() - started, 1)
        write_json_atomic(os.path.join(logdir, RUN_RECORD), record)
    if distributed:
        for path in chief_paths:
            if path is not None:
                cleanup_worker_path(path, strategy)
    return ForecastRun(
        config=config,
        data=data,
        network=network,
        forecaster=forecaster,
        evaluation=evaluation,
        history=history,
        record=record,
        logdir=logdir,
        plot_path=plot_path,
        export_path=export_dir,
    )
