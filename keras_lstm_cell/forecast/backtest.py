"""Walk-forward backtests: the forecaster trained and scored on rolling origins.

`backtest(config, logdir=..., folds=K)` cuts the last `config.test_fraction`
of the windows into `K` test parts that follow one another without overlap
and end with the series. Fold `k` trains, as `train` does, on every window
whose targets all come before its test part (an expanding window, the
"rolling origin"), with its validation part carved from the end of that
training data (the share `train` uses: `val_fraction / (1 - test_fraction)`)
and its scaler fitted on its training part only, then forecasts its test
part from windows of past values. With `refit=False` the model of fold 1 is
trained once and forecasts every fold's test part.

The run directory holds run.json (a `RunRecord` of `command="backtest"`),
backtest.csv (a row per fold), backtest.png (the folds' skill), TensorBoard
scalars per fold under `backtest/`, and each fold's training run under
`folds/` (`fold-1`, ...; `model` without refitting), which `--resume` goes
on from fold by fold.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from keras_lstm_cell._checks import check_bool
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell.forecast import metrics as forecast_metrics
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.config import check_levels
from keras_lstm_cell.forecast.data import CALIBRATION
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.evaluation import MODEL_NAME
from keras_lstm_cell.forecast.evaluation import REFERENCE
from keras_lstm_cell.forecast.evaluation import evaluate_part
from keras_lstm_cell.forecast.evaluation import interval_keys
from keras_lstm_cell.forecast.files import LOCK_FILE
from keras_lstm_cell.forecast.files import RunLock
from keras_lstm_cell.forecast.files import check_owned_directory
from keras_lstm_cell.forecast.files import check_writable_directory
from keras_lstm_cell.forecast.files import prepare_run_directory
from keras_lstm_cell.forecast.files import write_bytes_atomic
from keras_lstm_cell.forecast.metrics import level_label
from keras_lstm_cell.forecast.model import Forecaster
from keras_lstm_cell.forecast.model import build_network
from keras_lstm_cell.forecast.plotting import skill_png
from keras_lstm_cell.forecast.record import BACKTEST
from keras_lstm_cell.forecast.record import BEST_WEIGHTS
from keras_lstm_cell.forecast.record import FAILED
from keras_lstm_cell.forecast.record import FINISHED
from keras_lstm_cell.forecast.record import RUN_RECORD
from keras_lstm_cell.forecast.record import TRAIN
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import data_fingerprint
from keras_lstm_cell.forecast.record import is_run_directory
from keras_lstm_cell.forecast.record import read_run_record
from keras_lstm_cell.forecast.record import training_data_fingerprint
from keras_lstm_cell.forecast.resume import check_resumable
from keras_lstm_cell.forecast.scaler import WindowScaler

BACKTEST_CSV = "backtest.csv"
SKILL_PLOT = "backtest.png"
FOLDS_DIR = "folds"
SCALARS_DIR = "backtest"  # TensorBoard run of the per-fold scalars
MODEL_DIR = "model"  # under FOLDS_DIR: the one model of a backtest without refitting
COLUMNS = (
    "fold", "train_end", "test_start", "test_end", "forecasts",
    "lstm_mae", "persistence_mae", "seasonal_mae", "skill",
)  # fmt: skip
# What a backtest writes in its directory (and the temporary files of atomic writes).
BACKTEST_ENTRIES = (RUN_RECORD, BACKTEST_CSV, SKILL_PLOT, FOLDS_DIR, SCALARS_DIR, LOCK_FILE,
                    ".tmp-*.part")  # fmt: skip


def plan_folds(
    count: int,
    folds: int,
    horizon: int,
    val_fraction: float,
    test_fraction: float,
    calibration_fraction: float | None = None,
) -> list[dict]:
    """The folds of a backtest over `count` windows, in time order.

    The last `round(test_fraction * count)` windows (at least one per fold)
    are cut into `folds` consecutive test parts of sizes that differ by at
    most one. Fold `k` fits on windows `[0, start_k - (horizon - 1))`: with
    `horizon > 1` the last windows before the test part would have targets
    inside it, so they are left out. Of those, the last
    `val_fraction / (1 - test_fraction)` (at least one) validate. With
    `calibration_fraction`, the last `calibration_fraction / (1 -
    test_fraction)` of them (at least one) calibrate the intervals instead,
    after the validation part and `horizon - 1` windows left out between the
    two (`data.split_parts`).

    Returns:
        Per fold, `{"train", "val", ["cal",] "test"}` → slice of the window
        axis, as `ForecastData.slices`.

    Raises `ValueError` when the first fold would have no training window.
    """
    folds = check_positive_int("folds", folds)
    tested = max(folds, round(test_fraction * count))
    parts = np.array_split(np.arange(count - tested, count), folds)
    val_share = val_fraction / (1.0 - test_fraction)
    planned = []
    for number, part in enumerate(parts, start=1):
        start = int(part[0]) if len(part) else count
        fitted = start - (horizon - 1)
        n_val = max(1, round(val_share * fitted))
        n_cal = 0
        if calibration_fraction is not None:
            n_cal = max(1, round(calibration_fraction / (1.0 - test_fraction) * fitted))
            n_cal += horizon - 1  # the windows left out before the calibration part
        n_train = fitted - n_val - n_cal
        if len(part) == 0 or n_train < 1:
            raise ValueError(
                f"Expected enough windows for {folds} folds of at least one test "
                f"window each after a training part. Received: {count} windows, of "
                f"which fold {number} would train on {max(n_train, 0)}; lower "
                "--folds or --test-fraction"
            )
        fold = {"train": slice(0, n_train), "val": slice(n_train, n_train + n_val)}
        if calibration_fraction is not None:
            fold[CALIBRATION] = slice(n_train + n_val + horizon - 1, fitted)
        fold["test"] = slice(start, int(part[-1]) + 1)
        planned.append(fold)
    return planned


def fold_settings(config: ForecastConfig) -> dict:
    """`plan_folds`' fractions from `config` (a calibration part with intervals)."""
    return dict(
        val_fraction=config.val_fraction,
        test_fraction=config.test_fraction,
        calibration_fraction=None if config.interval is None else config.calibration_fraction,
    )


def fold_data(data: ForecastData, fold: dict, scaler: WindowScaler | None = None) -> ForecastData:
    """`data` with the parts of `fold` (`plan_folds`), its scaler and MASE
    scale fitted on the fold's training part alone (or the given `scaler`:
    that of the model's own training part, for a model that is not refit)."""
    train = fold["train"]
    if scaler is None:
        scaler = WindowScaler.fit(
            data.x[train], data.y[train], data.scaler.transform, data.target_index
        )
    # Rows up to the last training target: all the model was fitted on.
    train_rows = data.series.target_values[: train.stop + data.window + data.horizon - 1]
    return dataclasses.replace(
        data,
        slices=dict(fold),
        scaler=scaler,
        mase_scale=forecast_metrics.naive_scale(train_rows, data.season),
    )


def fold_row(number: int, data: ForecastData, test: dict) -> dict:
    """A row of backtest.csv from a fold's data and test scores (`ForecastEvaluation.to_dict`)."""
    parts = data.describe()["parts"]
    scores = test["scores"]
    seasonal = f"seasonal_naive_{data.season}"
    row = {
        "fold": number,  # from 1
        "train_end": parts["val"]["last_target_date"],
        "test_start": parts["test"]["first_target_date"],
        "test_end": parts["test"]["last_target_date"],
        "forecasts": test["count"],
        "lstm_mae": _number(scores[MODEL_NAME]["mae"]),
        "persistence_mae": _number(scores[REFERENCE]["mae"]),
        "seasonal_mae": _number(scores[seasonal]["mae"]),
        "skill": _number(scores[MODEL_NAME]["skill"]),
    }
    # With --interval, each level's scores follow the columns of every backtest.
    for level in test.get("interval_levels", ()):
        for key in interval_keys(level).values():
            row[key] = _number(scores[MODEL_NAME][key])
    return row


def _number(value) -> float:
    return float("nan") if value is None else float(value)  # run.json keeps NaN as null


@dataclasses.dataclass(frozen=True)
class Backtest:
    """What `backtest` returns: a row per fold, and where it wrote them.

    Args:
        folds: A `DataFrame` with the `COLUMNS` of backtest.csv, a row per
            fold (and each interval's `coverage_80`, `mean_width_80`,
            `pinball_80` and `msis_80`, ..., with intervals).
        record: The backtest's run record (run.json).
        logdir: The run directory.
        refit: Whether each fold trained its own model.
    """

    folds: pd.DataFrame
    record: RunRecord
    logdir: str
    refit: bool = True

    def summary(self) -> str:
        """`"3 folds: skill +0.041 ± 0.012, beats persistence in 3 of 3"`.

        The spread is the sample standard deviation of the folds' skills
        (0 for one fold); folds where skill is undefined (persistence exact)
        are left out of both and said so.
        """
        count = len(self.folds)
        skills = self.folds["skill"].astype("float64").to_numpy()
        finite = skills[np.isfinite(skills)]
        wins = int((self.folds["lstm_mae"] < self.folds["persistence_mae"]).sum())
        folds = f"{count} fold{'s' if count != 1 else ''}"
        if len(finite) == 0:
            skill = "skill n/a"
        else:
            spread = float(np.std(finite, ddof=1)) if len(finite) > 1 else 0.0
            skill = f"skill {float(np.mean(finite)):+.3f} ± {spread:.3f}"
            if len(finite) < count:
                skill += f" (of the {len(finite)} folds where persistence errs)"
        summary = f"{folds}: {skill}, beats persistence in {wins} of {count}"
        for level in check_levels(self.record.config.get("interval")) or ():
            column = interval_keys(level)["coverage"]
            if column not in self.folds:
                continue
            covered = self.folds[column].astype("float64")
            summary += (
                f"; {level_label(level)}% intervals cover {covered.mean():.1%} "
                f"(folds {covered.min():.1%} .. {covered.max():.1%})"
            )
        return summary


def backtest(
    config: ForecastConfig,
    *,
    logdir,
    folds: int,
    refit: bool = True,
    data: ForecastData | None = None,
    resume: bool = False,
    overwrite: bool = False,
    record: RunRecord | None = None,
    on_fold=None,
    verbose="auto",
    strategy: tf.distribute.Strategy | None = None,
) -> Backtest:
    """Trains and scores the forecaster on `folds` rolling origins.

    Args:
        config: The settings of every fold's training.
        logdir: Run directory: new, empty, or (with `resume` or `overwrite`)
            one of the tool's backtests. Nothing else is ever written into.
        folds: Number of test parts.
        refit: Train a model per fold (default), or one for all.
        data: The prepared data; by default read as `config` says.
        resume: Continue the interrupted backtest in `logdir`: finished folds
            are kept, an interrupted one goes on from its last epoch.
        overwrite: Replace the tool's run in `logdir`.
        record: The backtest's record, if the caller planned it (with
            `resume`, the one `check_resumable` returned).
        on_fold: `callable(row)`, called with each fold's row as it is known.
        verbose: `Model.fit` verbosity.
        strategy: The `tf.distribute` strategy of `config.distribute`, if made.

    Raises:
        ValueError: for anything wrong with the settings, the data, the folds
            or the run directory; nothing is written before these checks.
    """
    folds = check_positive_int("folds", folds)
    refit = check_bool("refit", refit)
    logdir, record = _check_logdir(config, logdir, resume, overwrite, record, data)
    _check_same_plan(record, folds, refit, resume)
    data = prepare_data(config) if data is None else data
    planned = plan_folds(len(data.y), folds, data.horizon, **fold_settings(config))
    os.makedirs(logdir, exist_ok=True)
    with RunLock(logdir):
        prepare_run_directory(logdir, is_run_directory, BACKTEST_ENTRIES, resume, overwrite)
        _start_record(record, config, data, logdir, folds, refit)
        run = dict(config=config, logdir=logdir, record=record, on_fold=on_fold,
                   verbose=verbose, strategy=strategy)  # fmt: skip
        rows = (_refit_folds if refit else _fixed_model_folds)(data, planned, **run)
        return _finish(rows, record, logdir, refit)


def _check_logdir(config, logdir, resume, overwrite, record, data=None) -> tuple[str, RunRecord]:
    """The absolute `logdir` once it may be written as asked, and the run's record."""
    if resume and overwrite:
        raise ValueError("Expected at most one of `resume` and `overwrite`. Received: both")
    logdir = check_writable_directory(logdir, "logdir")
    state = check_owned_directory(logdir, "logdir", is_run_directory, BACKTEST_ENTRIES)
    if state == "ours":
        with RunLock(logdir):  # refused at once while another run writes it
            pass
        existing = read_run_record(logdir)
        if not resume and not overwrite:
            raise ValueError(
                f"Expected `logdir` to be a new directory. Received: logdir={logdir!r}, "
                "which holds a keras-lstm-cell run; choose another --name, continue it "
                "with --resume, or replace it with --overwrite"
            )
        if overwrite and existing.command != BACKTEST:
            raise ValueError(
                f"Expected `logdir` to hold a backtest to replace. Received: logdir="
                f"{logdir!r}, which holds a run of `{existing.command}`; choose another --name"
            )
    given = None
    if record is None and data is not None and config.csv is None:
        # Data given in memory is known by its values; a file is hashed where it is read.
        given = data_fingerprint(config, data)
    if resume and record is None:
        record = check_resumable(logdir, config, BACKTEST, given)
    if record is None:
        fingerprint = given or training_data_fingerprint(config.csv)
        record = RunRecord.new(config.to_dict(), fingerprint, command=BACKTEST)
    return logdir, record


def _check_same_plan(record: RunRecord, folds: int, refit: bool, resume: bool) -> None:
    planned = record.details.get("backtest")
    if not resume or planned is None:
        return
    if planned != {"folds": folds, "refit": refit}:
        raise ValueError(
            f"Expected the resumed backtest's folds and refitting "
            f"(folds={planned.get('folds')}, refit={planned.get('refit')}). "
            f"Received: folds={folds}, refit={refit}"
        )


def _start_record(record, config, data, logdir, folds, refit) -> None:
    record.config = config.to_dict()
    if not record.data:  # a new backtest
        record.data = {k: v for k, v in data.describe().items() if k != "parts"}
        # `data.freq` of run.json, wherever the data states it.
        record.freq = record.data.pop("freq", None) or getattr(data.series, "freq", None)
        record.details["backtest"] = {"folds": folds, "refit": refit}
    record.started_in(os.getcwd())
    record.paths.update(logdir=training.shown_path(logdir))
    record.save(logdir)


def _fold_run(data, dirname, *, config, logdir, record, verbose, strategy) -> dict:
    """The test scores of one fold's training run in `folds/dirname`: read
    back if it finished, else trained (on from its last epoch, if begun)."""
    fold_dir = os.path.join(logdir, FOLDS_DIR, dirname)
    existing = read_run_record(fold_dir)
    if existing is not None and existing.status == FINISHED:
        return existing.metrics["test"]
    if existing is not None and existing.status == FAILED:
        raise ValueError(
            f"Expected the folds of the backtest in {logdir!r} to train. Received: "
            f"{dirname} diverged; run the backtest again with --overwrite"
        )
    resume = existing is not None
    if resume:
        fold_record = check_resumable(fold_dir, config, TRAIN, record.training_data)
    else:
        fold_record = RunRecord.new(config.to_dict(), record.training_data)
    run = training.train(
        config, logdir=fold_dir, data=data, resume=resume, record=fold_record,
        verbose=verbose, strategy=strategy,
    )  # fmt: skip
    return run.evaluation.to_dict()


def _refit_folds(data, planned, *, on_fold, **run) -> list[dict]:
    rows = []
    for number, fold in enumerate(planned, start=1):
        fold_part = fold_data(data, fold)
        test = _fold_run(fold_part, f"fold-{number}", **run)
        rows.append(fold_row(number, fold_part, test))
        _write_rows(run["logdir"], rows, on_fold)
    return rows


def _fixed_model_folds(data, planned, *, on_fold, **run) -> list[dict]:
    """One model, trained on fold 1's training part, forecasts every fold."""
    first = fold_data(data, planned[0])
    test = _fold_run(first, MODEL_DIR, **run)
    rows = [fold_row(1, first, test)]
    _write_rows(run["logdir"], rows, on_fold)
    config = run["config"]
    forecaster = _trained_forecaster(
        os.path.join(run["logdir"], FOLDS_DIR, MODEL_DIR), config, first
    )
    for number, fold in enumerate(planned[1:], start=2):
        # Fold 1's parts for training and validation: those are what the model saw.
        seen = {**planned[0], "test": fold["test"]}
        fold_part = fold_data(data, seen, scaler=first.scaler)
        evaluation = evaluate_part(
            lambda x: forecaster.predict(x, verbose=0, batch_size=1024),
            fold_part,
            "test",
            interval_levels=config.interval or (),
        )
        rows.append(fold_row(number, fold_part, evaluation.to_dict()))
        _write_rows(run["logdir"], rows, on_fold)
    return rows


def _trained_forecaster(fold_dir: str, config: ForecastConfig, data: ForecastData):
    """The best weights of a finished training run, as a `Forecaster` (with
    the interval it computed, if any)."""
    network = build_network(config, len(data.series.columns))
    network.optimizer.build(network.trainable_variables)  # the checkpoint holds its state
    network.load_weights(os.path.join(fold_dir, BEST_WEIGHTS))
    interval = read_run_record(fold_dir).details.get("interval")
    if interval is None:
        return Forecaster(network, data.scaler, name="forecaster")
    _, offsets, spread_floor = training.recorded_offsets(interval)
    return Forecaster(network, data.scaler, offsets, spread_floor, name="forecaster")


def _frame(rows: list[dict]) -> pd.DataFrame:
    extra = [key for key in (rows[0] if rows else ()) if key not in COLUMNS]  # intervals'
    return pd.DataFrame(rows, columns=[*COLUMNS, *extra])


def _write_rows(logdir: str, rows: list[dict], on_fold) -> None:
    frame = _frame(rows)
    write_bytes_atomic(os.path.join(logdir, BACKTEST_CSV), frame.to_csv(index=False).encode())
    if on_fold is not None:
        on_fold(rows[-1])


def read_backtest_rows(logdir) -> pd.DataFrame:
    """backtest.csv of a run directory: the folds finished so far (none if absent)."""
    path = os.path.join(os.fspath(logdir), BACKTEST_CSV)
    if not os.path.isfile(path):
        return pd.DataFrame(columns=COLUMNS)
    return pd.read_csv(path)


def _log_scalars(logdir: str, frame: pd.DataFrame) -> None:
    """`backtest/skill`, `backtest/lstm_mae`, ... at step = fold, in a fresh event file."""
    directory = os.path.join(logdir, SCALARS_DIR)
    shutil.rmtree(directory, ignore_errors=True)  # a resumed run's earlier scalars
    writer = tf.summary.create_file_writer(directory)
    with writer.as_default():
        coverages = [c for c in frame.columns if c.startswith("coverage_")]
        for row in frame.to_dict("records"):
            for name in ("skill", "lstm_mae", "persistence_mae", "seasonal_mae", *coverages):
                value = float(row[name])
                if math.isfinite(value):
                    tf.summary.scalar(f"backtest/{name}", value, step=row["fold"])
    writer.close()


def _finish(rows, record, logdir, refit) -> Backtest:
    frame = _frame(rows)
    result = Backtest(folds=frame, record=record, logdir=logdir, refit=refit)
    _log_scalars(logdir, frame)
    plot_path = os.path.join(logdir, SKILL_PLOT)
    title = f"{record.data.get('source')}\n{result.summary()}"
    write_bytes_atomic(plot_path, skill_png(frame, title=title))
    record.paths.update(
        backtest=training.shown_path(os.path.join(logdir, BACKTEST_CSV)),
        plot=training.shown_path(plot_path),
        folds=training.shown_path(os.path.join(logdir, FOLDS_DIR)),
    )
    record.mark(
        FINISHED,
        metrics={
            "backtest": {"summary": result.summary(), "folds": _json_rows(rows)},
        },
    )
    record.save(logdir)
    keras.backend.clear_session()
    return result


def _json_rows(rows: list[dict]) -> list[dict]:
    return [
        {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
        for row in rows
    ]
