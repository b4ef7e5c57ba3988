"""Many series in one CSV: the commands' runs of one `LSTMForecaster` across them.

`keras-lstm-cell train --csv long.csv --id-column unique_id` reads a long
CSV (a row per series and date, as Nixtla's libraries and the M4 files
turned long have them), holds out each series' last `horizon` values as its
test part, fits one `LSTMForecaster` on the rest, scores the test part per
series and overall against persistence and seasonal naive, and saves the
forecaster (with the whole series, so that `predict` forecasts after their
ends) and its LiteRT and ONNX files. `backtest` runs its
`cross_validation`; `predict` and `evaluate` read the saved folder.

This module owns those runs' files: the run directory (TensorBoard logs,
the best weights, `run.json` through `RunRecord`, `scores.csv`,
`backtest.csv`) and the model folder (`LSTMForecaster.save`'s files, the
runtime files and `long_csv.json`, how the CSV was read). The command line
parses, calls and prints; nothing here prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import shutil

import numpy as np
import pandas as pd

from keras_lstm_cell.forecast import csv_format
from keras_lstm_cell.forecast.config import check_number_format
from keras_lstm_cell.forecast.files import LOCK_FILE
from keras_lstm_cell.forecast.files import RunLock
from keras_lstm_cell.forecast.files import check_owned_directory
from keras_lstm_cell.forecast.files import check_separate
from keras_lstm_cell.forecast.files import check_writable_directory
from keras_lstm_cell.forecast.files import file_sha256
from keras_lstm_cell.forecast.files import make_temporary_directory
from keras_lstm_cell.forecast.files import prepare_run_directory
from keras_lstm_cell.forecast.files import remove_stale_temporaries
from keras_lstm_cell.forecast.files import replace_directory
from keras_lstm_cell.forecast.files import write_bytes_atomic
from keras_lstm_cell.forecast.files import write_json_atomic
from keras_lstm_cell.forecast.lstm_forecaster import ARRAYS_FILE
from keras_lstm_cell.forecast.lstm_forecaster import MODEL_FILE
from keras_lstm_cell.forecast.lstm_forecaster import MODEL_NAME
from keras_lstm_cell.forecast.lstm_forecaster import SETTINGS_FILE
from keras_lstm_cell.forecast.lstm_forecaster import LSTMForecaster
from keras_lstm_cell.forecast.metrics import coverage
from keras_lstm_cell.forecast.metrics import level_label
from keras_lstm_cell.forecast.metrics import mae
from keras_lstm_cell.forecast.metrics import mase
from keras_lstm_cell.forecast.metrics import msis
from keras_lstm_cell.forecast.metrics import naive_scale
from keras_lstm_cell.forecast.metrics import smape
from keras_lstm_cell.forecast.panel import ID_COL
from keras_lstm_cell.forecast.panel import TARGET_COL
from keras_lstm_cell.forecast.panel import TIME_COL
from keras_lstm_cell.forecast.panel import Panel
from keras_lstm_cell.forecast.record import BACKTEST
from keras_lstm_cell.forecast.record import FAILED
from keras_lstm_cell.forecast.record import FINISHED
from keras_lstm_cell.forecast.record import RUN_RECORD
from keras_lstm_cell.forecast.record import TRAIN
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import is_run_directory
from keras_lstm_cell.forecast.record import versions
from keras_lstm_cell.forecast.runtimes import LITERT
from keras_lstm_cell.forecast.runtimes import ONNX
from keras_lstm_cell.forecast.runtimes import TENSORFLOW
from keras_lstm_cell.forecast.runtimes import native_notes_dropped
from keras_lstm_cell.forecast.runtimes import open_model
from keras_lstm_cell.forecast.runtimes import serve
from keras_lstm_cell.forecast.timeseries import DATE_COLUMN_NAMES
from keras_lstm_cell.forecast.timeseries import parse_dates
from keras_lstm_cell.forecast.timeseries import read_csv
from keras_lstm_cell.forecast.timeseries import resolve_column

READ_SETTINGS = "long_csv.json"  # in the model folder: how its CSV was read
READ_FORMAT = "keras-lstm-cell long csv"
SCORES = "scores.csv"
BACKTEST_CSV = "backtest.csv"
RUNTIME_FILES = {LITERT: "forecaster.tflite", ONNX: "forecaster.onnx"}
METHODS = (MODEL_NAME, "persistence", "seasonal_naive")  # scored side by side
# What the run directory and the model folder hold, all written here or by Keras.
RUN_ENTRIES = (
    RUN_RECORD,
    SCORES,
    BACKTEST_CSV,
    "checkpoints",
    "train",
    "validation",
    "events.out.tfevents.*",
    LOCK_FILE,
    ".tmp-*.part",
)
MODEL_ENTRIES = (MODEL_FILE, SETTINGS_FILE, ARRAYS_FILE, READ_SETTINGS, *RUNTIME_FILES.values())
DEFAULT_DATE_COLUMN = TIME_COL
DEFAULT_TARGET = TARGET_COL
# What pandas.read_csv reads as missing by default; ids are kept as written.
_MISSING_TEXT = frozenset(
    ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
     "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")
)  # fmt: skip
# An integer `ds` below this is a position (1, 2, ...), above it a Unix time.
_MAX_POSITION = 10**9


# -- reading -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ReadSettings:
    """How a long CSV is read: the columns and the formats, as the flags give them."""

    id_column: str
    date_column: str | None = None
    target: str | None = None
    date_format: str | None = None
    na_values: tuple = ()
    sep: str | None = None
    decimal: str | None = None
    thousands: str | None = None

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "na_values": list(self.na_values)}


def read_long_csv(path, settings: ReadSettings) -> tuple[pd.DataFrame, list[str]]:
    """The series of a long CSV as a frame `unique_id, ds, y`, sorted, and notes.

    The id column is read as text; `ds` as dates (every format the
    single-series reader knows, day-first included) or as integer
    positions; `y` as numbers in the file's format. A missing column, an
    unreadable date or value, and a value missing in the file raise a
    `ValueError` naming the column, the row or the series.
    """
    path = os.fspath(path)
    frame, notes = read_csv(path, settings.sep, keep_default_na=False)  # ids such as "NA"
    sep = frame.attrs["sep"]
    source = os.path.basename(path)
    columns = list(frame.columns)
    id_column = resolve_column(columns, settings.id_column, "id_column", source)
    date_column = _date_column(columns, settings.date_column, source)
    target = resolve_column(columns, settings.target or DEFAULT_TARGET, "target", source)
    if len({id_column, date_column, target}) < 3:
        raise ValueError(
            f"Expected three different columns for the ids, dates and values of {source}. "
            f"Received: id_column={id_column!r}, date_column={date_column!r}, target={target!r}"
        )
    frame = frame[[id_column, date_column, target]].fillna("")
    frame = frame[(frame.apply(lambda c: c.str.strip()) != "").any(axis=1)]  # empty lines
    ids = frame[id_column].str.strip()
    if (ids == "").any():
        row = int(np.flatnonzero((ids == "").to_numpy())[0])
        raise ValueError(
            f"Expected an id in every row of column {id_column!r} of {source}. Received: an "
            f"empty id in data row {int(frame.index[row]) + 1}"
        )
    dates = _read_dates(
        _missing_marked(frame[date_column]), date_column, source, settings.date_format, notes
    )
    values = _read_values(_missing_marked(frame[target]), target, source, settings, sep, notes)
    missing = values.isna().to_numpy()
    if missing.any():
        shown = list(pd.unique(ids[missing]))
        raise ValueError(
            f"Expected a value in every row of column {target!r} of {source}. Received: "
            f"{int(missing.sum())} missing values in series {[str(i) for i in shown[:5]]}"
            f"{' and more' if len(shown) > 5 else ''}; fill or drop them first"
        )
    long = pd.DataFrame({ID_COL: ids.to_numpy(), TIME_COL: dates, TARGET_COL: values})
    long = long.sort_values([ID_COL, TIME_COL], kind="stable", ignore_index=True)
    long.attrs["names"] = {"id": id_column, "ds": date_column, "y": target}
    return long, notes


def _missing_marked(text: pd.Series) -> pd.Series:
    """Text with the fields pandas reads as missing by default (``, `NA`, `null`, ...) as NaN."""
    return text.mask(text.str.strip().isin(_MISSING_TEXT))


def _date_column(columns, name, source) -> str:
    if name is not None:
        return resolve_column(columns, name, "date_column", source)
    for candidate in (DEFAULT_DATE_COLUMN, *DATE_COLUMN_NAMES):
        found = [c for c in columns if c.lower() == candidate]
        if found:
            return found[0]
    raise ValueError(
        f"Expected `date_column` to name the date column of {source}, one of {columns}; "
        f"none is called {'/'.join((DEFAULT_DATE_COLUMN, *DATE_COLUMN_NAMES))}. "
        "Received: date_column=None; pass --date-column"
    )


def _read_dates(text: pd.Series, column, source, date_format, notes):
    stripped = text.astype(str).str.strip()
    if date_format is None and stripped.str.fullmatch(r"-?\d+").all():
        positions = stripped.astype("int64")
        if positions.abs().max() < _MAX_POSITION:
            return positions.to_numpy()
    return parse_dates(text, column, source, notes, date_format).to_numpy()


def _read_values(
    text: pd.Series, column, source, settings: ReadSettings, sep: str, notes
) -> pd.Series:
    decimal, thousands = check_number_format(settings.decimal, settings.thousands)
    codes = {str(code).strip() for code in settings.na_values}
    stripped = text.astype(str).str.strip()
    coded = stripped.isin(codes) & text.notna()
    if codes and coded.any():
        notes.append(f"read {int(coded.sum())} values coded {sorted(codes)} as missing")
    text = text.mask(coded)
    decimal, thousands = csv_format.number_format([text], sep, decimal, thousands)
    if (decimal, thousands) != (".", None):
        shown = f"decimal {decimal!r}" + (f", thousands {thousands!r}" if thousands else "")
        notes.append(f"read the numbers of {column!r} with {shown}")
    plain = csv_format.to_plain_numbers(text, decimal, thousands)
    values = pd.to_numeric(plain, errors="coerce")
    bad = values.isna() & plain.notna() & (plain.astype(str).str.strip() != "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"Expected column {column!r} of {source} to be numeric. Received: "
            f"{text.iloc[row]!r} in data row {int(text.index[row]) + 1} "
            f"({int(bad.sum())} non-numeric rows)"
        )
    return values.astype("float64")


# -- scoring -------------------------------------------------------------------------------


def baselines(history: np.ndarray, horizon: int, season: int) -> dict:
    """Persistence (the last value) and seasonal naive (the last season
    repeated; persistence for a series shorter than a season) from `history`."""
    last = np.full(horizon, history[-1])
    if len(history) < season:
        return {"persistence": last, "seasonal_naive": last}
    cycle = history[-season:]
    return {"persistence": last, "seasonal_naive": cycle[np.arange(horizon) % season]}


def mase_scale(history: np.ndarray, season: int) -> float:
    """In-sample MAE of seasonal naive (of persistence if the series is not
    longer than a season), M4's MASE denominator; 0 for a constant series
    (whose MASE is then NaN), NaN for a single value."""
    lag = season if len(history) > season else 1
    return naive_scale(history, lag) if len(history) > lag else float("nan")


def score_series(truth, forecasts: dict, scale: float, bounds: dict) -> dict:
    """One series' scores: each method's MAE, sMAPE and MASE, and each level's
    coverage and MSIS; `bounds` is `{level: (lower, upper)}`, in percent."""
    row = {}
    for name, predicted in forecasts.items():
        row[f"{name}_mae"] = mae(truth, predicted)
        row[f"{name}_smape"] = smape(truth, predicted)
        row[f"{name}_mase"] = mase(truth, predicted, scale)  # NaN for a zero or NaN scale
    for percent, (lower, upper) in bounds.items():
        label = level_label(percent / 100)
        row[f"coverage_{label}"] = coverage(truth, lower, upper)
        row[f"msis_{label}"] = msis(truth, lower, upper, percent / 100, scale)
    return row


def overall(scores: pd.DataFrame) -> dict:
    """Means over the series (and folds) of every score, M4's way, NaN left out."""
    columns = [c for c in scores.columns if c.split("_")[-1] in ("mae", "smape", "mase")]
    columns += [c for c in scores.columns if c.startswith(("coverage_", "msis_"))]
    means = {c: float(scores[c].mean()) for c in columns}
    means["series"] = int(scores[ID_COL].nunique())
    means["forecasts"] = int(scores["forecasts"].sum())
    per_series = scores.groupby(ID_COL)[[f"{MODEL_NAME}_mase", "seasonal_naive_mase"]].mean()
    better = per_series[f"{MODEL_NAME}_mase"] < per_series["seasonal_naive_mase"]
    means["better_than_seasonal_naive"] = int(better.sum())
    return means


def table(means: dict) -> str:
    """The overall scores as a small table: a row per method."""
    lines = [f"{'':<16}{'sMAPE':>9}{'MASE':>9}{'MAE':>12}"]
    for name in METHODS:
        shown = "LSTM" if name == MODEL_NAME else name.replace("_", " ")
        lines.append(
            f"{shown:<16}{means[f'{name}_smape']:>9.3f}{means[f'{name}_mase']:>9.3f}"
            f"{means[f'{name}_mae']:>12.5g}"
        )
    for key, value in means.items():
        if key.startswith("coverage_"):
            label = key[len("coverage_") :]
            lines.append(
                f"{label}% interval: coverage {value:.1%}, MSIS {means[f'msis_{label}']:.3f}"
            )
    return "\n".join(lines)


def verdict(means: dict) -> str:
    ahead = means[f"{MODEL_NAME}_mase"] < means["seasonal_naive_mase"]
    return (
        f"LSTM {'beats' if ahead else 'does not beat'} seasonal naive overall (MASE "
        f"{means[f'{MODEL_NAME}_mase']:.3f} vs {means['seasonal_naive_mase']:.3f}), and on "
        f"{means['better_than_seasonal_naive']} of {means['series']} series"
    )


def score_forecasts(
    forecasts: pd.DataFrame, history: pd.DataFrame, horizon: int, season: int, level
) -> pd.DataFrame:
    """Per series (and cutoff), the scores of `forecasts` (`unique_id, ds, [cutoff,]
    y, lstm, ...`) beside the baselines' from `history`: the values of each
    series up to its cutoff, or all of them without a `cutoff` column."""
    rows = []
    cutoffs = "cutoff" in forecasts.columns
    keys = [ID_COL, "cutoff"] if cutoffs else [ID_COL]
    series = {
        k: (g[TIME_COL].to_numpy(), g[TARGET_COL].to_numpy())
        for k, g in history.groupby(ID_COL, sort=False)
    }
    for key, group in forecasts.groupby(keys, sort=False):
        uid = key[0]
        dates, past = series[uid]
        if cutoffs:
            past = past[: np.searchsorted(dates, key[1], side="right")]
        truth = group[TARGET_COL].to_numpy()
        methods = {MODEL_NAME: group[MODEL_NAME].to_numpy()}
        methods.update(
            (name, values[: len(truth)])
            for name, values in baselines(past, horizon, season).items()
        )
        bounds = {
            p: (
                group[f"{MODEL_NAME}-lo-{level_label(p / 100)}"].to_numpy(),
                group[f"{MODEL_NAME}-hi-{level_label(p / 100)}"].to_numpy(),
            )
            for p in level or []
        }
        row = {ID_COL: uid, **({"cutoff": key[1]} if cutoffs else {})}
        row.update(
            first_date=group[TIME_COL].iloc[0],
            last_date=group[TIME_COL].iloc[-1],
            forecasts=len(group),
        )
        row.update(score_series(truth, methods, mase_scale(past, season), bounds))
        rows.append(row)
    return pd.DataFrame(rows)


# -- runs ----------------------------------------------------------------------------------


@dataclasses.dataclass
class GlobalRun:
    """What `train_global` and `backtest_global` did: the scores and the record."""

    model: LSTMForecaster
    scores: pd.DataFrame  # a row per series (and fold)
    means: dict
    record: RunRecord
    runtimes: dict = dataclasses.field(default_factory=dict)


def describe(frame: pd.DataFrame) -> dict:
    """Series count, rows, length range and date range of a long frame."""
    lengths = frame.groupby(ID_COL, sort=False).size()
    dates = frame[TIME_COL]
    first, last = dates.min(), dates.max()
    if isinstance(first, pd.Timestamp) and (dates == dates.dt.normalize()).all():
        first, last = first.date(), last.date()
    return {
        "series": int(len(lengths)),
        "rows": int(len(frame)),
        "shortest": int(lengths.min()),
        "longest": int(lengths.max()),
        "first_date": str(first),
        "last_date": str(last),
    }


def split_test(
    frame: pd.DataFrame, horizon: int, what: str = "its test part"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each series' values before its last `horizon` (a backtest's: all its
    folds'), and those last `horizon`, which are `what` (for messages)."""
    from_end = frame.groupby(ID_COL, sort=False).cumcount(ascending=False)
    sizes = frame.groupby(ID_COL, sort=False)[TIME_COL].transform("size")
    short = pd.unique(frame.loc[sizes <= horizon + 1, ID_COL])
    if len(short):
        raise ValueError(
            f"Expected every series to have more than {horizon + 1} values: the last "
            f"{horizon} of each are {what}. Received: shorter series "
            f"{[str(i) for i in short[:5]]}{' and more' if len(short) > 5 else ''}"
        )
    return frame[from_end >= horizon], frame[from_end < horizon]


def check_outputs(logdir: str, export_dir: str | None, overwrite: bool) -> None:
    """Refuses output directories the tool may not write, before any work."""
    check_separate({"logdir": logdir, "export": export_dir})
    check_writable_directory(logdir, "logdir")
    if check_owned_directory(logdir, "logdir", is_run_directory, RUN_ENTRIES) == "ours":
        if not overwrite:
            raise ValueError(
                f"Expected `logdir` to be a new directory. Received: logdir={logdir!r}, which "
                "holds an earlier run; pass --overwrite to replace it, or choose another --name"
            )
    if export_dir is not None:
        check_outputs_export(export_dir, overwrite)


def check_outputs_export(export_dir: str, overwrite: bool) -> None:
    """Refuses a model folder the tool may not replace: one it did not write,
    or one it did, without `overwrite`."""
    check_writable_directory(export_dir, "export")
    state = check_owned_directory(export_dir, "export", _is_model_folder, MODEL_ENTRIES)
    if state == "ours" and not overwrite:
        raise ValueError(
            f"Expected `export` to be a new directory. Received: export={export_dir!r}, "
            "which holds an earlier model; pass --overwrite to replace it"
        )


def _is_model_folder(path) -> bool:
    try:
        read_model_settings(path)
    except ValueError:
        return False
    return True


def is_global_model(path) -> bool:
    """Whether `path` is a folder written by `LSTMForecaster.save` (not a SavedModel export)."""
    return os.path.isfile(os.path.join(os.fspath(path), SETTINGS_FILE))


def train_global(
    frame: pd.DataFrame,
    forecaster: dict,
    read: dict,
    *,
    logdir: str,
    export_dir: str | None,
    overwrite: bool = False,
    runtimes=(LITERT, ONNX),
    verbose: int = 0,
) -> GlobalRun:
    """Fits one `LSTMForecaster(**forecaster)` on all but each series' last
    `horizon` values, scores those per series, and saves it with the whole
    series into `export_dir` (with `runtimes`' files, each checked in its
    runtime), the scores and run.json into `logdir`.

    `read` is how the data was read (`ReadSettings.to_dict()` and the CSV's
    `path`), kept in the model folder for `predict --csv`.
    """
    check_outputs(logdir, export_dir, overwrite)
    model = LSTMForecaster(**forecaster)
    train_part, test_part = split_test(frame, model.horizon)
    model.check(frame)  # every row: a repeated date or a gap in the test part too
    model.check(train_part)
    record = _new_record(frame, forecaster, read, TRAIN, logdir, export_dir)
    with _run_directory(logdir, record, overwrite):
        model.fit(train_part, logdir=logdir, verbose=verbose)
        forecasts = _with_truth(model.predict(train_part), test_part)
        scores = score_forecasts(forecasts, train_part, model.horizon, model.season, model.level)
        means = overall(scores)
        _write_csv(os.path.join(logdir, SCORES), scores)
        written = {}
        if export_dir is not None:
            written = save_model_folder(
                model, frame, read, export_dir, runtimes, record.run_id, overwrite
            )
        record.mark(
            FINISHED, training=_training(model), metrics={"test": means, "runtimes": written}
        )
        record.freq = str(model.freq)
        record.details["model"] = model.get_config()
    return GlobalRun(model, scores, means, record, written)


def _with_truth(forecasts: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """The forecasts beside the values they forecast, one to one, all of them."""
    merged = forecasts.merge(truth, on=[ID_COL, TIME_COL], validate="one_to_one")
    if len(merged) != len(forecasts) or len(merged) != len(truth):
        raise ValueError(
            f"Expected a value for each forecast date. Received: {len(truth)} values for "
            f"{len(forecasts)} forecasts, {len(merged)} on the same dates"
        )
    return merged


@contextlib.contextmanager
def _run_directory(logdir: str, record: RunRecord, overwrite: bool):
    """Holds `logdir` for the block (its `RunLock`), cleared of an earlier run of
    the tool with `overwrite`; run.json is written as the block starts and as
    it ends, `"failed"` if it raised."""
    os.makedirs(logdir, exist_ok=True)
    with RunLock(logdir):
        prepare_run_directory(logdir, is_run_directory, RUN_ENTRIES, False, overwrite)
        record.save(logdir)
        try:
            yield
        except BaseException:
            record.mark(FAILED)
            raise
        finally:
            record.save(logdir)


def backtest_global(
    frame: pd.DataFrame,
    forecaster: dict,
    read: dict,
    *,
    logdir: str,
    folds: int,
    refit: bool = True,
    overwrite: bool = False,
) -> GlobalRun:
    """`LSTMForecaster.cross_validation` with `folds` windows, `horizon` apart,
    scored per series and fold beside the baselines; backtest.csv and run.json
    into `logdir`."""
    check_outputs(logdir, None, overwrite)
    model = LSTMForecaster(**forecaster)
    model.check(frame)
    # The first fold's model sees the least: all but the folds' values.
    model.check(split_test(frame, folds * model.horizon, f"the {folds} folds' tests")[0])
    record = _new_record(frame, forecaster, read, BACKTEST, logdir, None)
    with _run_directory(logdir, record, overwrite):
        forecasts = model.cross_validation(frame, n_windows=folds, refit=refit)
        scored = score_forecasts(forecasts, frame, model.horizon, model.season, model.level)
        # Fold k: the k-th cutoff of every series (their dates differ between series).
        scored.insert(0, "fold", scored.groupby(ID_COL).cumcount() + 1)
        means = overall(scored)
        per_fold = {int(k): overall(group) for k, group in scored.groupby("fold", sort=True)}
        _write_csv(os.path.join(logdir, BACKTEST_CSV), scored)
        record.mark(FINISHED, metrics={"backtest": means, "folds": per_fold})
        record.details["backtest"] = {"folds": folds, "refit": refit}
        record.details["model"] = model.get_config()
    return GlobalRun(model, scored, means, record)


def _training(model: LSTMForecaster) -> dict:
    losses = model.history.get("val_loss") or model.history.get("loss") or [float("nan")]
    best = int(np.nanargmin(losses)) if np.isfinite(losses).any() else None
    return {
        "epochs_run": len(model.history.get("loss", [])),
        "best_epoch": best,
        "best_val_loss": None if best is None else float(losses[best]),
        "stopped_early": len(model.history.get("loss", [])) < model.epochs,
    }


def _new_record(frame, forecaster, read, command, logdir, export_dir) -> RunRecord:
    record = RunRecord.new(
        {**forecaster, "id_column": read.get("id_column")},
        _fingerprint(read.get("path"), frame),
        command,
    )
    record.data = describe(frame)
    record.details.update(versions=versions(), read=read)
    record.paths = {"logdir": logdir, "export": export_dir}
    record.started_in(os.getcwd())
    return record


def _fingerprint(path, frame: pd.DataFrame) -> dict:
    """The data's file and SHA-256, or for a frame given without a file its values'."""
    if path is None:
        content = io.BytesIO()
        frame.to_csv(content, index=False)
        sha256 = hashlib.sha256(content.getvalue()).hexdigest()
        return {
            "path": None,
            "embedded": False,
            "in_memory": True,
            "sha256": sha256,
            "rows": len(frame),
        }
    return {"path": os.path.abspath(path), "embedded": False, "sha256": file_sha256(path)}


def _write_csv(path: str, frame: pd.DataFrame) -> None:
    write_bytes_atomic(path, frame.to_csv(index=False, float_format="%.6g").encode("utf-8"))


# -- the model folder ----------------------------------------------------------------------


def save_model_folder(
    model: LSTMForecaster,
    frame: pd.DataFrame,
    read: dict,
    path: str,
    runtimes,
    run_id: str,
    overwrite: bool = False,
) -> dict:
    """Writes the model folder beside `path`, then moves it there whole: the
    forecaster with the series of `frame`, each of `runtimes`' files (checked in
    its runtime by `LSTMForecaster.export`) and `long_csv.json`. The folder is
    read back and its forecasts compared before it replaces `path`, which is
    checked again then: only a model of the tool's, and only with `overwrite`."""
    remove_stale_temporaries(path)
    temporary = make_temporary_directory(path)
    try:
        model.save(temporary, df=frame)
        written = {}
        for runtime in runtimes:
            name = RUNTIME_FILES[runtime]
            with native_notes_dropped():  # the converters' and LiteRT's notes
                model.export(os.path.join(temporary, name), format=runtime)
            written[runtime] = {
                "file": name,
                "sha256": file_sha256(os.path.join(temporary, name)),
            }
        write_json_atomic(
            os.path.join(temporary, READ_SETTINGS),
            {"format": READ_FORMAT, "run_id": run_id, "read": read, "runtimes": written},
        )
        _check_read_back(model, frame, temporary)
        check_outputs_export(path, overwrite)
        replace_directory(temporary, path)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    return written


def _check_read_back(model: LSTMForecaster, frame: pd.DataFrame, folder: str) -> None:
    """The saved forecaster, loaded, forecasts `frame`'s series as `model` does."""
    loaded, _ = load_model_folder(folder)
    first = frame[frame[ID_COL].isin(loaded.panel.ids[:8])]
    expected, got = model.predict(first), loaded.predict()
    got = got[got[ID_COL].isin(loaded.panel.ids[:8])].reset_index(drop=True)
    columns = [c for c in expected.columns if c.startswith(MODEL_NAME)]
    difference = np.abs(got[columns].to_numpy() - expected[columns].to_numpy()).max()
    scale = max(1.0, float(np.abs(expected[columns].to_numpy()).max()))
    if not difference <= 1e-5 * scale:
        raise ValueError(
            f"Expected the saved model to forecast as the trained one. Received: a largest "
            f"difference of {difference:.3g}; nothing was saved"
        )


def read_model_settings(path) -> dict:
    """long_csv.json of a model folder, checked."""
    path = os.fspath(path)
    where = os.path.join(path, READ_SETTINGS)
    try:
        with open(where, encoding="utf-8") as f:
            settings = json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(
            f"Expected a model folder written by `train --id-column`. Received: {path!r} "
            f"({READ_SETTINGS}: {e})"
        ) from None
    if not isinstance(settings, dict) or settings.get("format") != READ_FORMAT:
        raise ValueError(
            f"Expected a model folder written by `train --id-column`. Received: {path!r}, "
            f"whose {READ_SETTINGS} is not one"
        )
    return settings


def load_model_folder(path) -> tuple[LSTMForecaster, dict]:
    """The forecaster of a model folder and its `long_csv.json`."""
    settings = read_model_settings(path)
    return LSTMForecaster.load(path), settings


def read_like_training(settings: dict, csv) -> pd.DataFrame:
    """A CSV read with the settings the model's training data was read with."""
    fields = {f.name for f in dataclasses.fields(ReadSettings)}
    read = {k: v for k, v in settings["read"].items() if k in fields}
    read["na_values"] = tuple(read.get("na_values") or ())
    frame, _ = read_long_csv(csv, ReadSettings(**read))
    return frame


def runtime_server(path, settings: dict, runtime: str):
    """A function running the model folder's file for `runtime` on raw windows,
    refused unless the file is the one written (same SHA-256)."""
    if runtime == TENSORFLOW:
        return None
    written = settings.get("runtimes", {}).get(runtime)
    if written is None:
        raise ValueError(
            f"Expected {RUNTIME_FILES[runtime]} in {path!r} for --runtime {runtime}. "
            "Received: the model was saved without it (--no-runtime-exports)"
        )
    where = os.path.join(os.fspath(path), written["file"])
    if not os.path.isfile(where) or file_sha256(where) != written["sha256"]:
        raise ValueError(
            f"Expected {where} as it was written. Received: a file that is missing or changed since"
        )
    with open(where, "rb") as f:
        served = open_model(runtime, f.read())
    return lambda windows: serve(served, windows)


def predict_global(path, csv=None, ids=None, runtime: str = TENSORFLOW) -> pd.DataFrame:
    """The next `horizon` values of every series of the model folder (or of
    `csv`, read like the training data), or of the series `ids` alone, with
    the CSV's names of the id and date columns."""
    model, settings = load_model_folder(path)
    forecasts = _predict_global(model, settings, path, csv, ids, runtime)
    names = settings["read"].get("names") or {}
    return forecasts.rename(
        columns={ID_COL: names.get("id", ID_COL), TIME_COL: names.get("ds", TIME_COL)}
    )


def _predict_global(model, settings, path, csv, ids, runtime) -> pd.DataFrame:
    frame = None if csv is None else read_like_training(settings, csv)
    if ids:
        known = model.panel.ids if frame is None else tuple(pd.unique(frame[ID_COL]))
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValueError(
                f"Expected --id to name series of {csv or 'the training data'}, such as "
                f"{[str(i) for i in known[:5]]}. Received: {unknown}"
            )
        if frame is None:
            forecasts = model.predict(serve=runtime_server(path, settings, runtime))
            return forecasts[forecasts[ID_COL].isin(ids)].reset_index(drop=True)
        frame = frame[frame[ID_COL].isin(ids)]
    return model.predict(frame, serve=runtime_server(path, settings, runtime))


def evaluate_global(path, csv=None, runtime: str = TENSORFLOW):
    """`(scores per series, overall means, horizon)`: each series' last
    `horizon` values (of `csv`, or of the saved series: the training run's
    test part) forecast from the values before them."""
    model, settings = load_model_folder(path)
    if csv is None:
        frame = model.panel.to_frame()
    else:
        frame = read_like_training(settings, csv)
        Panel.from_frame(frame, freq=model.panel.freq)  # a repeated date or a gap: refused
    history, test = split_test(frame, model.horizon)
    forecasts = model.predict(history, serve=runtime_server(path, settings, runtime))
    forecasts = _with_truth(forecasts, test)
    scores = score_forecasts(forecasts, history, model.horizon, model.season, model.level)
    return scores, overall(scores), model.horizon
