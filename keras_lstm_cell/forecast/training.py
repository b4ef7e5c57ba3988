"""Training a forecaster: the whole run of `keras-lstm-cell train`, step by step.

`train(config, logdir=..., export_dir=...)`:

1. checks the output directories (nothing is written before they pass);
2. prepares the data (unless given) and the device;
3. takes the run directory for itself (`RunLock`) and, inside it,
4. builds the network and starts the run record, or reads it back to resume;
5. trains with early stopping, a best-weights checkpoint and a backup after
   every epoch (skipped when a resumed run had finished its epochs);
6. scores the test part in original units against persistence and seasonal
   naive, draws the plot, logs both to TensorBoard, and exports the
   SavedModel.

Each step that finishes is written to run.json, so an interrupted run goes
on from that step with `resume=True`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from keras_lstm_cell.forecast.callbacks import ForecastMetricsCallback
from keras_lstm_cell.forecast.callbacks import TrainingDiverged
from keras_lstm_cell.forecast.callbacks import backup_callback
from keras_lstm_cell.forecast.callbacks import standard_callbacks
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import CALIBRATION
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.data import resolve_config
from keras_lstm_cell.forecast.distribute import cleanup_worker_path
from keras_lstm_cell.forecast.distribute import get_strategy
from keras_lstm_cell.forecast.distribute import resolve_device
from keras_lstm_cell.forecast.distribute import worker_path
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.evaluation import evaluate_part
from keras_lstm_cell.forecast.export import check_export_target
from keras_lstm_cell.forecast.export import export_forecaster
from keras_lstm_cell.forecast.export import forecast_metadata
from keras_lstm_cell.forecast.files import LOCK_FILE
from keras_lstm_cell.forecast.files import RunLock
from keras_lstm_cell.forecast.files import check_owned_directory
from keras_lstm_cell.forecast.files import check_separate
from keras_lstm_cell.forecast.files import check_writable_directory
from keras_lstm_cell.forecast.files import prepare_run_directory
from keras_lstm_cell.forecast.files import sync_directory
from keras_lstm_cell.forecast.files import sync_file
from keras_lstm_cell.forecast.files import write_bytes_atomic
from keras_lstm_cell.forecast.metrics import conformal_offsets
from keras_lstm_cell.forecast.metrics import level_label
from keras_lstm_cell.forecast.metrics import naive_scale
from keras_lstm_cell.forecast.model import PREDICT_BATCH
from keras_lstm_cell.forecast.model import Forecaster
from keras_lstm_cell.forecast.model import build_network
from keras_lstm_cell.forecast.model import window_spread
from keras_lstm_cell.forecast.plotting import forecast_png
from keras_lstm_cell.forecast.record import BACKUP_DIR
from keras_lstm_cell.forecast.record import BEST_WEIGHTS
from keras_lstm_cell.forecast.record import FAILED
from keras_lstm_cell.forecast.record import FINISHED
from keras_lstm_cell.forecast.record import GATES_DIR
from keras_lstm_cell.forecast.record import HISTORY
from keras_lstm_cell.forecast.record import PLOT
from keras_lstm_cell.forecast.record import RUN_ENTRIES
from keras_lstm_cell.forecast.record import TRAINED
from keras_lstm_cell.forecast.record import TRAINING
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import data_fingerprint
from keras_lstm_cell.forecast.record import is_run_directory
from keras_lstm_cell.forecast.record import read_history
from keras_lstm_cell.forecast.record import training_data_fingerprint
from keras_lstm_cell.forecast.record import versions
from keras_lstm_cell.forecast.resume import check_resumable
from keras_lstm_cell.forecast.resume import restore_backup
from keras_lstm_cell.forecast.resume import truncate_history
from keras_lstm_cell.forecast.runtimes import LITERT
from keras_lstm_cell.forecast.runtimes import ONNX
from keras_lstm_cell.forecast.runtimes import check_installed
from keras_lstm_cell.forecast.timeseries import DEFAULT_UNITS
from keras_lstm_cell.gate_monitor import GateMonitor

GATE_PROBE_SIZE = 32  # validation windows traced by GateMonitor each epoch
# A window's spread, the unit of its interval, is at least this share of the
# training part's mean absolute change: a flat window would otherwise get an
# interval of width 0. 0.5 covered as nominal on the embedded data's test part.
SPREAD_FLOOR = 0.5


# Holds arrays: compared by identity, not field by field.
@dataclasses.dataclass(eq=False)
class ForecastRun:
    """What `train` returns; `record` is what it wrote to run.json.

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
    record: RunRecord
    logdir: str
    plot_path: str
    export_path: str | None = None


def train(
    config: ForecastConfig,
    *,
    logdir,
    export_dir=None,
    data: ForecastData | None = None,
    resume: bool = False,
    overwrite: bool = False,
    callbacks=(),
    verbose="auto",
    strategy: tf.distribute.Strategy | None = None,
    record: RunRecord | None = None,
    runtime_exports=(LITERT, ONNX),
) -> ForecastRun:
    """Trains, evaluates and (optionally) exports a forecaster.

    Everything a user can get wrong (data, columns, sizes, paths, device) is
    checked before anything is written. `logdir` receives TensorBoard logs,
    run.json (settings first, each stage as it ends), history.csv, the best
    checkpoint, a backup per epoch (removed once training is done) and
    forecast.png.

    Args:
        config: The run's settings.
        logdir: Run directory: new, empty, or (with `resume` or `overwrite`)
            one of the tool's runs. Nothing else is ever written into.
        export_dir: SavedModel directory, or `None` for no export: new,
            empty, or (with `overwrite`, or this run's own when resuming)
            one of the tool's exports.
        data: The prepared data; by default read as `config` says.
        resume: Continue the interrupted run in `logdir` from the stage it
            reached (its last finished epoch, or after training).
        overwrite: Replace the tool's run in `logdir` and its export in
            `export_dir`, if there are any.
        callbacks: Extra Keras callbacks, called after ours.
        verbose: `Model.fit` verbosity (1: progress bar, 2: one line per epoch).
        strategy: The `tf.distribute` strategy of `config.distribute`, if
            already made (it must come before other TensorFlow work).
        record: The run's record, if the caller planned it: with `resume`,
            the one `check_resumable` returned for `logdir`; otherwise a
            `RunRecord.new` (say, with the data's fingerprint already
            taken). By default it is planned here.
        runtime_exports: The runtime files written beside the SavedModel,
            each checked on the test windows: some of `"litert"`
            (`forecaster.tflite`), `"onnx"` (`forecaster.onnx`).

    Raises:
        ValueError: for anything wrong with the settings, the data or the
            output directories, and when training diverges (the run is then
            marked failed and nothing is exported).
    """
    started = time.perf_counter()
    distributed = config.distribute != "none"
    if strategy is None:
        strategy = get_strategy(config.distribute)
    chief_paths = (logdir, export_dir)
    if distributed:
        # Every worker writes its logs and model; only the chief's are kept.
        logdir = worker_path(logdir, strategy)
        export_dir = None if export_dir is None else worker_path(export_dir, strategy)
    logdir, export_dir, record = _check_outputs(
        config, logdir, export_dir, resume, overwrite, record, data
    )
    if export_dir is None or config.distribute == "multiworker":
        # Checking a runtime file runs the model on its own, which under a
        # multi-worker strategy waits on collectives the other workers never join.
        runtime_exports = ()
    else:
        check_installed(runtime_exports, writing=True)
    if data is None:
        data = prepare_data(config)
    config = resolve_config(config, data)  # recorded with the frequency and season used
    device = resolve_device(config.device)
    keras.utils.set_random_seed(config.seed)
    with (
        _run_directory(logdir, resume, overwrite),
        strategy.scope() if distributed else tf.device(device),
    ):
        network = build_network(config, len(data.series.columns))
        forecaster = Forecaster(network, data.scaler, name="forecaster")
        forecaster(data.raw("val")[0][:1])
        _start_record(record, config, data, network, device, logdir, export_dir)
        metrics = ForecastMetricsCallback(
            logdir, forecaster, _validation(data), data.mase_scale, _hparams(config)
        )
        try:
            if record.status == TRAINING:
                _fit(network, config, data, logdir, record, metrics, callbacks, verbose, resume)
            if not network.optimizer.built:  # the checkpoint holds its state too
                network.optimizer.build(network.trainable_variables)
            network.load_weights(os.path.join(logdir, BEST_WEIGHTS))
            run = _finish(forecaster, data, record, logdir, export_dir, metrics, runtime_exports)
        finally:
            metrics.close()
        record.training["seconds"] = round(time.perf_counter() - started, 1)
        record.save(logdir)
    if distributed:
        for path in chief_paths:
            if path is not None:
                cleanup_worker_path(path, strategy)
    return run


def _check_outputs(
    config, logdir, export_dir, resume, overwrite, record, data=None
) -> tuple[str, str | None, RunRecord]:
    """Absolute `(logdir, export_dir)` once both may be written as asked, and
    the run's record: the interrupted run's, checked, when resuming (whose
    `replaces_export` says whether the export may replace the tool's earlier
    one, as the run was started), else a new one."""
    if resume and overwrite:
        raise ValueError("Expected at most one of `resume` and `overwrite`. Received: both")
    check_separate({"logdir": logdir, "export": export_dir})
    logdir = check_writable_directory(logdir, "logdir")
    state = check_owned_directory(logdir, "logdir", is_run_directory, RUN_ENTRIES)
    if state == "ours":
        with RunLock(logdir):  # refused at once while another run writes it
            pass
    given = None
    if record is None and data is not None and config.csv is None:
        # Data given in memory is known by its values; a file is hashed where it is read.
        given = data_fingerprint(config, data)
    if resume and record is None:
        record = check_resumable(logdir, config, training_data=given)
    elif state == "ours" and not resume and not overwrite:
        raise ValueError(
            f"Expected `logdir` to be a new directory. Received: logdir={logdir!r}, "
            "which holds a keras-lstm-cell run; choose another --name, continue it "
            "with --resume, or replace it with --overwrite"
        )
    if record is None:
        fingerprint = given or training_data_fingerprint(config.csv)
        record = RunRecord.new(config.to_dict(), fingerprint, replaces_export=overwrite)
    if export_dir is not None:
        run_id = record.run_id if resume else None
        export_dir = check_export_target(export_dir, run_id, record.replaces_export)
    return logdir, export_dir, record


@contextlib.contextmanager
def _run_directory(logdir: str, resume: bool, overwrite: bool):
    """Creates `logdir` if needed and holds its `RunLock` for the whole block.

    Under the lock the directory is checked again (another run may have
    written it meanwhile), emptied of the tool's files when `overwrite`, and
    cleared of the temporary files a crash left. If the block fails before
    the run wrote anything, the directories created here are removed again.
    """
    # The directories this creates, the outermost first (`runs/` too, say).
    created = []
    missing = logdir
    while not os.path.exists(missing):
        created.insert(0, missing)
        missing = os.path.dirname(missing)
    os.makedirs(logdir, exist_ok=True)
    try:
        with RunLock(logdir):
            prepare_run_directory(logdir, is_run_directory, RUN_ENTRIES, resume, overwrite)
            yield
    except BaseException:
        if created and set(os.listdir(logdir)) <= {LOCK_FILE}:
            shutil.rmtree(logdir, ignore_errors=True)
            for parent in reversed(created[:-1]):
                with contextlib.suppress(OSError):  # kept if another run wrote there
                    os.rmdir(parent)
        raise


def _start_record(record, config, data, network, device, logdir, export_dir) -> None:
    """Fills in the planned record (a new run's, or the interrupted run's with
    this session's settings) and writes it."""
    record.config = config.to_dict()
    record.details["device"] = device
    if not record.data:  # a new run
        record.data = data.describe()
        # `data.freq` of run.json, wherever the data states it.
        record.freq = record.data.pop("freq", None) or getattr(data.series, "freq", None)
        record.details.update(
            scaler=data.scaler.get_config(),
            versions=versions(),
            model={"layer": config.layer, "parameters": network.count_params()},
            optimizer=network.optimizer.get_config(),
        )
    if record.training_data is None:  # a record of an older version
        record.training_data = data_fingerprint(config, data)
    # Relative paths (shown ones, a relative --csv) are relative to here.
    record.started_in(os.getcwd())
    record.paths.update(logdir=shown_path(logdir), export=shown_path(export_dir))
    record.save(logdir)


def _fit(network, config, data, logdir, record, metrics, callbacks, verbose, resume) -> None:
    """Trains from the last backed-up epoch; the record then says `"trained"`."""
    initial_epoch = restore_backup(logdir, network)
    prior_val_losses = truncate_history(logdir, initial_epoch)
    csv_logger = keras.callbacks.CSVLogger(os.path.join(logdir, HISTORY), append=True)
    gate_callbacks = []
    if config.gate_monitor:
        probe = data.scaled("val")[0][:GATE_PROBE_SIZE]  # fixed, so epochs are comparable
        gate_callbacks.append(GateMonitor(probe, os.path.join(logdir, GATES_DIR)))
    all_callbacks = [
        *standard_callbacks(config, logdir, prior_val_losses),
        csv_logger,
        metrics,
        *gate_callbacks,
        # Last of the run's own: an epoch is backed up only once its history
        # row, checkpoint and logs are written, so a kill in between redoes
        # it. No callback before it reads the weights in on_train_begin,
        # where it restores them.
        backup_callback(logdir),
        *callbacks,
    ]
    try:
        network.fit(
            **_fit_data(config, data),
            epochs=config.epochs,
            callbacks=all_callbacks,
            verbose=verbose,
        )
    except TrainingDiverged:
        record.mark(FAILED)
        record.save(logdir)
        raise
    finally:
        # CSVLogger closes its file in on_train_end, which an exception skips.
        if getattr(csv_logger, "csv_file", None) is not None:
            csv_logger.csv_file.close()
    # "trained" in run.json vouches for the checkpoint and history Keras wrote.
    for written in (BEST_WEIGHTS, HISTORY):
        if os.path.isfile(os.path.join(logdir, written)):
            sync_file(os.path.join(logdir, written))
    sync_directory(os.path.dirname(os.path.join(logdir, BEST_WEIGHTS)))
    sync_directory(logdir)
    history = read_history(logdir)
    val_losses = history.get("val_loss", [])
    finite = [v if np.isfinite(v) else np.inf for v in val_losses]
    best_epoch = int(np.argmin(finite)) if val_losses else None
    record.mark(
        TRAINED,
        training={
            "epochs_run": len(history.get("epoch", [])),
            "best_epoch": best_epoch,
            "best_val_loss": val_losses[best_epoch] if val_losses else None,
            "stopped_early": len(history.get("epoch", [])) < config.epochs,
            "resumed_from_epoch": initial_epoch if resume else None,
        },
    )
    record.save(logdir)
    shutil.rmtree(os.path.join(logdir, BACKUP_DIR), ignore_errors=True)


def _fit_data(config: ForecastConfig, data: ForecastData) -> dict:
    """`Model.fit`'s data arguments: arrays, or streamed windows under a strategy."""
    if config.distribute != "none":
        # Windows cut on demand; the global batch is split among replicas.
        return dict(
            x=data.dataset("train", batch_size=config.batch_size, shuffle=True, seed=config.seed),
            validation_data=data.dataset("val", batch_size=config.batch_size),
            shuffle=False,
        )
    return dict(
        x=data.scaled("train")[0],
        y=data.scaled("train")[1],
        validation_data=data.scaled("val"),
        batch_size=config.batch_size,
        shuffle=True,
    )


def _finish(forecaster, data, record, logdir, export_dir, metrics, runtime_exports) -> ForecastRun:
    """Scores, plots, logs and exports the trained forecaster (and its
    `runtime_exports`); the record says `"finished"`."""
    config = ForecastConfig.from_dict(record.config)

    if config.interval is not None:
        forecaster = _with_interval(forecaster, data, config.interval, record)

    def predict(x):
        return forecaster.predict(x, verbose=0, batch_size=PREDICT_BATCH)

    evaluation = evaluate_part(predict, data, "test", interval_levels=config.interval or ())
    png = forecast_png(
        data,
        "test",
        predict(data.raw("test")[0]),
        unit=_unit(config, data),
        levels=config.interval or (),
    )
    plot_path = os.path.join(logdir, PLOT)
    write_bytes_atomic(plot_path, png)
    training = record.training
    metrics.log_evaluation(
        max(training["epochs_run"] - 1, 0),
        evaluation,
        png,
        best_epoch=training["best_epoch"],
        best_val_loss=training["best_val_loss"],
    )
    record.metrics = {"test": evaluation.to_dict(), "verdict": evaluation.verdict()}
    record.paths["plot"] = shown_path(plot_path)
    record.save(logdir)
    if export_dir is not None:
        metadata = forecast_metadata(record, data, forecaster)
        export_forecaster(
            forecaster,
            export_dir,
            metadata,
            overwrite=record.replaces_export,
            runtimes=runtime_exports,
            windows=data.raw("test")[0],
        )
    record.mark(FINISHED)
    return ForecastRun(
        config=config,
        data=data,
        network=forecaster.network,
        forecaster=forecaster,
        evaluation=evaluation,
        history=read_history(logdir),
        record=record,
        logdir=logdir,
        plot_path=plot_path,
        export_path=export_dir,
    )


def _with_interval(forecaster, data: ForecastData, levels, record) -> Forecaster:
    """`forecaster` with split-conformal bounds at each of `levels`, from its
    residuals on the calibration part: windows it was neither fitted on nor
    chosen on (early stopping and the best checkpoint saw validation only).
    Each residual is divided by its window's spread (`window_spread`), so the
    bounds widen with the data's own movement."""
    x, y = data.raw(CALIBRATION, observed_only=True)
    predicted = forecaster.predict(x, verbose=0, batch_size=PREDICT_BATCH)  # (N, H)
    train_rows = data.series.target_values[: data.slices["train"].stop + data.window]
    floor = SPREAD_FLOOR * naive_scale(train_rows, 1)
    spread = ops.convert_to_numpy(window_spread(x, data.target_index, floor))  # (N, 1)
    offsets = [conformal_offsets((y - predicted) / spread, level) for level in levels]
    record.details["interval"] = interval_record(levels, offsets, len(y), floor)
    return Forecaster(forecaster.network, forecaster.scaler, offsets, floor, name="forecaster")


def interval_record(levels, offsets, windows: int, spread_floor: float) -> dict:
    """The `interval` entry of run.json and forecast.json: the levels, their
    offsets per horizon step in units of a window's spread (`{"80":
    {"lower": [...], "upper": [...]}}`) and the spread's floor."""
    return {
        "levels": list(levels),
        "level": levels[0],  # as read before several levels were possible
        "method": "split conformal: quantiles per step of the calibration part's "
        "residuals divided by their window's spread",
        "calibration_windows": windows,
        "spread_floor": spread_floor,
        "offsets": {
            level_label(level): {"lower": lower.tolist(), "upper": upper.tolist()}
            for level, (lower, upper) in zip(levels, offsets)
        },
    }


def recorded_offsets(interval: dict) -> tuple[tuple, list, float | None]:
    """`(levels, [(lower, upper), ...], spread_floor)` of a recorded `interval`
    entry (also of a run recorded with a single level in the target's units,
    `lower_offsets`/`upper_offsets`, whose spread floor is `None`)."""
    if "offsets" not in interval:
        pair = (interval["lower_offsets"], interval["upper_offsets"])
        return (interval["level"],), [pair], None
    levels = tuple(interval["levels"])
    pairs = [interval["offsets"][level_label(level)] for level in levels]
    return levels, [(pair["lower"], pair["upper"]) for pair in pairs], interval["spread_floor"]


def _validation(data: ForecastData) -> tuple:
    """Raw validation windows for the per-epoch metrics: the observed ones, if any."""
    observed = data.raw("val", observed_only=True)
    return observed if len(observed[1]) else data.raw("val")


def _unit(config: ForecastConfig, data: ForecastData) -> str | None:
    """The target's unit: the configured one, or the embedded data's own."""
    if config.unit is not None or config.csv is not None:
        return config.unit
    return DEFAULT_UNITS.get(data.series.target)


def shown_path(path: str | None) -> str | None:
    """`path` relative to the working directory when inside it, for portable records."""
    if path is None:
        return None
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _hparams(config: ForecastConfig) -> dict:
    hparams = config.to_dict()
    hparams.pop("cell_kwargs")
    hparams.update({f"cell_{k}": v for k, v in config.cell_kwargs.items()})
    return hparams
