"""`keras-lstm-cell`: train, evaluate and use an LSTM forecaster from the shell.

    keras-lstm-cell train                       # embedded Seattle weather data
    keras-lstm-cell train --csv btc.csv --target close --transform log_return
    keras-lstm-cell backtest --folds 3          # walk-forward: train and score 3 times
    keras-lstm-cell predict --model saved_models/NAME [--csv new.csv] [--runtime litert]
    keras-lstm-cell evaluate --model saved_models/NAME [--csv new.csv] [--runtime onnx]
    keras-lstm-cell train --csv long.csv --id-column unique_id --horizon 24   # many series
    keras-lstm-cell predict --model saved_models/NAME --id H1               # one of them

Errors a user can cause end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import errno
import os
import re
import signal
import sys
import threading
import time

import tensorflow as tf

from keras_lstm_cell import _startup
from keras_lstm_cell.equations import VARIANTS
from keras_lstm_cell.forecast import export
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast import global_runs
from keras_lstm_cell.forecast import serving
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.backtest import backtest
from keras_lstm_cell.forecast.backtest import fold_settings
from keras_lstm_cell.forecast.backtest import plan_folds
from keras_lstm_cell.forecast.backtest import read_backtest_rows
from keras_lstm_cell.forecast.config import CLIP_OPTIONS
from keras_lstm_cell.forecast.config import DECIMALS
from keras_lstm_cell.forecast.config import DEVICES
from keras_lstm_cell.forecast.config import DUPLICATE_POLICIES
from keras_lstm_cell.forecast.config import GAP_POLICIES
from keras_lstm_cell.forecast.config import LAYERS
from keras_lstm_cell.forecast.config import MISSING_POLICIES
from keras_lstm_cell.forecast.config import STRATEGIES
from keras_lstm_cell.forecast.config import THOUSANDS
from keras_lstm_cell.forecast.config import TRANSFORMS
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.data import resolve_config
from keras_lstm_cell.forecast.distribute import get_strategy
from keras_lstm_cell.forecast.files import check_plain_name
from keras_lstm_cell.forecast.lstm_forecaster import LSTMForecaster
from keras_lstm_cell.forecast.record import BACKTEST
from keras_lstm_cell.forecast.record import RUN_RECORD
from keras_lstm_cell.forecast.record import TRAIN
from keras_lstm_cell.forecast.record import TRAINED
from keras_lstm_cell.forecast.record import read_history
from keras_lstm_cell.forecast.record import read_run_record
from keras_lstm_cell.forecast.resume import check_resumable
from keras_lstm_cell.forecast.resume import latest_interrupted_run
from keras_lstm_cell.forecast.resume import recorded_path
from keras_lstm_cell.forecast.runtimes import RUNTIMES
from keras_lstm_cell.forecast.runtimes import TENSORFLOW
from keras_lstm_cell.forecast.runtimes import runtime_name
from keras_lstm_cell.forecast.timeseries import DEFAULT_DATASET

PROG = "keras-lstm-cell"
DEFAULT_FOLDS = 3  # test parts of a backtest
RUNS_DIR = "runs"
MODELS_DIR = "saved_models"
EXIT_USAGE = 2
EXIT_INTERRUPTED = _startup.EXIT_INTERRUPTED


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage before an error; one line is enough.
    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _levels(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in _comma_list(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected levels in (0, 1) such as 0.8 or 0.8,0.95, not {text!r}"
        ) from None


def _add_train_arguments(
    train: argparse.ArgumentParser, defaults: ForecastConfig, exports: bool = True
) -> None:
    # Every setting defaults to None here: the ForecastConfig holds the
    # defaults, and --resume can tell which flags were given.
    _add_data_arguments(train.add_argument_group("data"), defaults)
    _add_model_arguments(train.add_argument_group("model"), defaults)
    _add_training_arguments(train.add_argument_group("training"), defaults)
    _add_output_arguments(train.add_argument_group("output"), exports)


def _add_data_arguments(data, defaults: ForecastConfig) -> None:
    data.add_argument("--csv", help="CSV file (default: embedded seattle_weather.csv)")
    data.add_argument(
        "--id-column",
        help="column of series ids in a long CSV (a row per series and date): one LSTM "
        "across all its series (LSTMForecaster); the target defaults to y, the dates to "
        "ds, and --window, --units, --epochs, --batch-size, --patience and --seed to "
        "LSTMForecaster's defaults",
    )
    data.add_argument("--date-column", help="date column, case-insensitive (default: detected)")
    data.add_argument(
        "--date-format",
        help="strftime format of the dates, e.g. %%d/%%m/%%Y (default: detected, day or month "
        "first as the days above 12 or a regular calendar show)",
    )
    data.add_argument(
        "--time-column",
        help="column of times of day joined to the dates (default: a Time or Hour column "
        "beside dates without times)",
    )
    data.add_argument("--target", help="column to forecast (default: temp_max / close)")
    data.add_argument("--features", type=_comma_list, help="extra input columns, COL,COL")
    data.add_argument("--unit", help="unit of the target, for the plot (e.g. USD)")
    data.add_argument(
        "--duplicates", choices=DUPLICATE_POLICIES, help="repeated dates (default: error)"
    )
    data.add_argument("--missing", choices=MISSING_POLICIES, help="missing values (default: error)")
    data.add_argument(
        "--na-values",
        type=_comma_list,
        help="codes that mean a missing value, V,V, handled by --missing (e.g. "
        "--na-values=-200,NA)",
    )
    data.add_argument(
        "--gaps",
        choices=GAP_POLICIES,
        help=f"missing dates (default: {defaults.gaps}, gaps of up to --max-gap rows)",
    )
    data.add_argument(
        "--max-gap", type=int, help=f"longest gap filled, in rows (default: {defaults.max_gap})"
    )
    data.add_argument(
        "--freq",
        help="pandas frequency of the rows: D, B (business days), W-SUN, MS, QS, YS, h, "
        "15min, ... (default: inferred from the dates)",
    )
    data.add_argument("--sep", help="field separator: ',', ';', tab or '|' (default: detected)")
    data.add_argument(
        "--decimal", choices=DECIMALS, help="decimal mark of the numbers (default: detected)"
    )
    data.add_argument(
        "--thousands",
        choices=THOUSANDS,
        help='thousands separator of the numbers, as in "8,077.20" (default: detected)',
    )


def _add_model_arguments(model, defaults: ForecastConfig) -> None:
    model.add_argument("--window", type=int, help=f"input rows (default: {defaults.window})")
    model.add_argument("--horizon", type=int, help=f"rows forecast (default: {defaults.horizon})")
    model.add_argument(
        "--transform",
        choices=TRANSFORMS,
        help=f"how windows are expressed (default: {defaults.transform})",
    )
    model.add_argument("--units", type=int, help=f"LSTM units (default: {defaults.units})")
    model.add_argument("--layers", type=int, help=f"LSTM layers (default: {defaults.layers})")
    model.add_argument(
        "--layer",
        choices=LAYERS,
        help=f"recurrent layer implementation (default: {defaults.layer})",
    )
    model.add_argument(
        "--cell-variant",
        choices=VARIANTS,
        help="LSTM variant of SimpleLSTMCell (default: standard)",
    )


def _add_training_arguments(fit, defaults: ForecastConfig) -> None:
    fit.add_argument("--epochs", type=int, help=f"maximum epochs (default: {defaults.epochs})")
    fit.add_argument("--batch-size", type=int, help=f"(default: {defaults.batch_size})")
    fit.add_argument("--learning-rate", type=float, help=f"(default: {defaults.learning_rate})")
    clip = fit.add_mutually_exclusive_group()
    for option, what in zip(
        CLIP_OPTIONS, ("the global gradient norm", "each weight's gradient norm", "each element")
    ):
        current = getattr(defaults, option)
        clip.add_argument(
            "--" + option.replace("_", "-"),
            type=float,
            help=f"clip {what}" + (f" (default: {current})" if current else ""),
        )
    clip.add_argument("--no-clip", action="store_true", default=None, help="no clipping")
    fit.add_argument("--val-fraction", type=float, help=f"(default: {defaults.val_fraction})")
    fit.add_argument("--test-fraction", type=float, help=f"(default: {defaults.test_fraction})")
    fit.add_argument("--patience", type=int, help=f"early stopping (default: {defaults.patience})")
    season = defaults.season or "the frequency's: 7 days, 5 business days, 12 months, ..."
    fit.add_argument(
        "--season",
        type=int,
        help=f"period of seasonal naive and of the MASE scale, in rows (default: {season})",
    )
    fit.add_argument(
        "--interval",
        type=_levels,
        help="central prediction intervals around each forecast, e.g. 0.8,0.95 for 80%% "
        "and 95%% (split conformal, from the residuals of a calibration part between "
        "validation and test; default: none)",
    )
    fit.add_argument(
        "--calibration-fraction",
        type=float,
        help=f"share of windows that calibrate --interval (default: "
        f"{defaults.calibration_fraction})",
    )
    fit.add_argument("--seed", type=int, help=f"(default: {defaults.seed})")
    fit.add_argument("--device", choices=DEVICES, help=f"(default: {defaults.device})")
    fit.add_argument(
        "--distribute",
        choices=STRATEGIES,
        help="mirrored: every GPU of this machine; multiworker: every GPU of the "
        "machines in TF_CONFIG (default: none)",
    )
    out_gates = "log gate statistics, histograms and a forget-gate heat map to TensorBoard"
    fit.add_argument("--gate-monitor", action="store_true", default=None, help=out_gates)


def _add_output_arguments(out, exports: bool = True) -> None:
    out.add_argument("--name", help="run name, a plain name (default: <data>-<timestamp>)")
    out.add_argument("--logdir", help=f"TensorBoard/run directory (default: {RUNS_DIR}/NAME)")
    if exports:
        out.add_argument("--export", help=f"SavedModel directory (default: {MODELS_DIR}/NAME)")
        out.add_argument("--no-export", action="store_true", help="do not export")
        out.add_argument(
            "--no-runtime-exports",
            action="store_true",
            help="export the SavedModel alone, without "
            f"{' and '.join(export.RUNTIME_FILES.values())}",
        )
    again = out.add_mutually_exclusive_group()
    again.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run (--logdir/--name, or the latest in runs/)",
    )
    again.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an earlier run and export of this tool at the same paths",
    )
    out.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        help="Keras fit verbosity (default: 1, a progress bar, on a terminal; "
        "2, a line per epoch, otherwise)",
    )


def build_parser(
    defaults: ForecastConfig | None = None, prog: str = PROG
) -> argparse.ArgumentParser:
    """The command line's parser; `defaults` are the settings shown as defaults."""
    defaults = ForecastConfig() if defaults is None else defaults
    parser = _Parser(prog=prog, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    train = commands.add_parser(
        "train",
        help="train on a CSV (default: the embedded Seattle weather data)",
        description="Train an RNN(SimpleLSTMCell) forecaster, score it on the "
        "test part against persistence and seasonal naive, and write TensorBoard "
        "logs, a plot, run.json and a SavedModel.",
    )
    _add_train_arguments(train, defaults)
    walk = commands.add_parser(
        "backtest",
        help="walk-forward backtest: train and score on K rolling origins",
        description="Train the forecaster K times on expanding windows (fold k on "
        "everything before its test part; the test parts follow one another to "
        "the end of the series), score each against persistence and seasonal "
        "naive, and write backtest.csv, a skill plot, TensorBoard scalars and "
        "run.json. Takes the flags of train.",
    )
    folds = walk.add_argument_group("backtest")
    folds.add_argument(
        "--folds",
        type=int,
        help=f"test parts, in the last --test-fraction of the windows (default: {DEFAULT_FOLDS}, "
        "or the resumed backtest's)",
    )
    folds.add_argument(
        "--no-refit",
        action="store_true",
        default=None,  # None: not given, so --resume keeps the backtest's own choice
        help="train once, on the data before the first test part, and forecast every fold",
    )
    _add_train_arguments(walk, defaults, exports=False)
    for name, summary in (
        ("predict", "print the next forecast(s) of an exported model"),
        ("evaluate", "score an exported model against persistence and seasonal naive"),
    ):
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("--model", required=True, help=f"export directory, {MODELS_DIR}/NAME")
        command.add_argument(
            "--csv",
            help="data with the training columns (predict: default the last rows of "
            "the training data; evaluate: default its test part)",
        )
        if name == "predict":
            command.add_argument(
                "--id",
                action="append",
                help="with a model trained with --id-column: this series alone "
                "(repeat for more; default: every series)",
            )
        command.add_argument(
            "--runtime",
            choices=RUNTIMES,
            default=TENSORFLOW,
            help="run the SavedModel in TensorFlow (default), forecaster.tflite in "
            "LiteRT or forecaster.onnx in ONNX Runtime",
        )
    return parser


_SETTINGS = (
    "csv", "date_column", "target", "features", "unit", "duplicates", "missing", "gaps",
    "date_format", "time_column", "na_values",
    "max_gap", "freq", "sep", "decimal", "thousands", "window", "horizon", "transform", "units",
    "layers", "epochs", "batch_size", "learning_rate", "val_fraction", "test_fraction",
    "patience", "season", "seed", "device", "layer", "gate_monitor", "distribute", "interval",
    "calibration_fraction",
)  # fmt: skip


def _given_settings(args) -> dict:
    given = {k: getattr(args, k) for k in _SETTINGS if getattr(args, k) is not None}
    if args.cell_variant is not None:
        given["cell_kwargs"] = {"variant": args.cell_variant}
    if args.no_clip or any(getattr(args, k) is not None for k in CLIP_OPTIONS):
        for k in CLIP_OPTIONS:
            given[k] = getattr(args, k)
    return given


_MAX_STEM_BYTES = 100


def _default_name(csv: str | None, prefix: str | None) -> str:
    """`<data or prefix>-<date>-<time>`, with a suffix if a run of that name exists."""
    stem = prefix or os.path.splitext(os.path.basename(csv or DEFAULT_DATASET))[0]
    stem = re.sub(r"[^\w.+-]+", "_", stem).lstrip(".-")
    # Room for the date, a suffix and the export's temporary names.
    stem = stem.encode("utf-8")[:_MAX_STEM_BYTES].decode("utf-8", "ignore") or "run"
    name = f"{stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}"

    def taken(candidate: str) -> bool:
        return any(os.path.lexists(os.path.join(d, candidate)) for d in (RUNS_DIR, MODELS_DIR))

    candidate, suffix = name, 1
    while taken(candidate):
        suffix += 1
        candidate = f"{name}-{suffix}"
    return candidate


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _plan_run(args, defaults: dict, name_prefix: str | None, command: str = TRAIN):
    """`(config, logdir, export_dir, record)` of the run the flags ask for,
    checked; `record` is the interrupted run's with `--resume`, else `None`."""
    given = _given_settings(args)
    if args.name is not None:
        check_plain_name(args.name)
    if args.resume:
        logdir = args.logdir or (
            os.path.join(RUNS_DIR, args.name)
            if args.name
            else latest_interrupted_run(RUNS_DIR, command)
        )
        record = read_run_record(logdir)
        if record is None:
            raise ValueError(
                f"Expected a run directory to resume. Received: {logdir!r} has no run.json"
            )
        config = ForecastConfig.from_dict(record.config).replace(**given)
        if "csv" not in given:  # relative to where the run started
            config = config.replace(csv=recorded_path(record, config.csv))
        record = check_resumable(logdir, config, command)
        export_dir = recorded_path(record, record.paths.get("export"))
    else:
        record = None
        config = ForecastConfig(**{**defaults, **given})
        name = args.name or _default_name(config.csv, name_prefix)
        logdir = args.logdir or os.path.join(RUNS_DIR, name)
        export_dir = os.path.join(MODELS_DIR, name)
    if command != TRAIN or args.no_export:
        export_dir = None
    elif args.export is not None:
        export_dir = args.export
    return config, logdir, export_dir, record


def _describe_series(data) -> None:
    series = data.series
    first, last = series.dates[0], series.dates[-1]
    if first == first.normalize() and last == last.normalize():
        first, last = first.date(), last.date()
    print(
        f"Data: {series.source}: {len(series)} rows, {first} .. {last}, "
        f"target {series.target!r}, inputs {series.columns}, "
        f"frequency {frequency.describe(series.freq)}, season {data.season}"
    )
    for note in series.notes:
        print(f"  note: {note}")


def _describe_data(data, config: ForecastConfig) -> None:
    _describe_series(data)
    parts = data.describe()["parts"]
    print(
        f"Windows of {config.window} rows -> next {config.horizon}: "
        + ", ".join(
            f"{part} {p['windows']} ({p['first_target_date']} .. {p['last_target_date']})"
            for part, p in parts.items()
        )
    )
    unscored = sum(p["windows"] - p["scored_windows"] for p in parts.values())
    if unscored:
        print(f"  note: {unscored} windows whose targets were filled in are not scored")
    print(
        f"Model: {config.layers} x {config.layer}(units={config.units}, "
        f"{config.cell_kwargs or 'standard cell'}) + Dense, "
        f"transform {config.transform!r}, clipping {config.clipping or 'none'}, "
        f"seed {config.seed}, device {config.device}"
    )


def _interrupted(logdir: str) -> int:
    try:
        record = read_run_record(logdir) if os.path.isdir(logdir) else None
    except ValueError:
        record = None
    if record is not None and record.status == TRAINED:
        done = f"after training ({record.training['epochs_run']} epochs), before the export"
    else:
        done = f"after {len(read_history(logdir).get('epoch', []))} finished epochs"
    print(
        f"{PROG}: interrupted {done}; continue with: {PROG} train --resume --logdir {logdir}",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _train(args, defaults: dict, name_prefix: str | None) -> int:
    if args.id_column is not None:
        return _train_global(args, defaults, name_prefix)
    config, logdir, export_dir, record = _plan_run(args, defaults, name_prefix)
    # First of all TensorFlow work: a multi-worker strategy configures the runtime.
    strategy = get_strategy(config.distribute)
    data = prepare_data(config)
    config = resolve_config(config, data)
    if args.resume:
        print(f"Resuming {logdir}")
    _describe_data(data, config)
    try:
        with _sigterm_interrupts(), _disk_full_named(logdir, export_dir):
            run = training.train(
                config,
                logdir=logdir,
                export_dir=export_dir,
                data=data,
                resume=args.resume,
                overwrite=args.overwrite,
                verbose=_verbosity(args),
                strategy=strategy,
                record=record,
                runtime_exports=() if args.no_runtime_exports else tuple(export.RUNTIME_FILES),
            )
    except KeyboardInterrupt:
        return _interrupted(logdir)
    _report(run)
    return 0


def _verbosity(args) -> int:
    return args.verbose if args.verbose is not None else (1 if sys.stdout.isatty() else 2)


@contextlib.contextmanager
def _sigterm_interrupts():
    """`kill` (SIGTERM) stops training like Ctrl-C: finished stages are kept."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM)
    if in_main_thread:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _disk_full_named(logdir: str, export_dir: str | None, command: str = TRAIN):
    """A disk that fills up ends the command with one line naming the file."""
    try:
        yield
    except (OSError, tf.errors.OpError) as e:
        message = disk_full_message(e, logdir, export_dir, command=command)
        if message is None:
            raise
        raise ValueError(message) from None


def _backtest(args, defaults: dict, name_prefix: str | None) -> int:
    if args.id_column is not None:
        return _backtest_global(args, defaults, name_prefix)
    config, logdir, _, record = _plan_run(args, defaults, name_prefix, BACKTEST)
    # `backtest --resume --logdir DIR`, as the messages say, goes on with its own folds.
    before = (record.details.get("backtest") or {}) if record is not None else {}
    if args.folds is None:
        args.folds = before.get("folds", DEFAULT_FOLDS)
    if args.no_refit is None:
        args.no_refit = not before.get("refit", True)
    strategy = get_strategy(config.distribute)
    data = prepare_data(config)
    config = resolve_config(config, data)
    if args.resume:
        print(f"Resuming {logdir}")
    _describe_series(data)
    planned = plan_folds(len(data.y), args.folds, data.horizon, **fold_settings(config))
    print(
        f"Backtest: {len(planned)} folds of windows of {config.window} rows -> next "
        f"{config.horizon}, {'one model' if args.no_refit else 'a model per fold'}, "
        f"tests from {data.target_dates[planned[0]['test'].start, 0]!s:.10} on"
    )

    def show(row: dict) -> None:
        print(
            f"Fold {row['fold']}/{len(planned)}: trained to {row['train_end']}, tested "
            f"{row['test_start']} .. {row['test_end']} ({row['forecasts']} forecasts): "
            f"MAE {row['lstm_mae']:.4g} vs persistence {row['persistence_mae']:.4g}, "
            f"skill {row['skill']:+.3f}"
            + "".join(
                f", {key[len('coverage_') :]}% interval coverage {value:.1%}"
                for key, value in row.items()
                if key.startswith("coverage_")
            ),
            flush=True,
        )

    try:
        with _sigterm_interrupts(), _disk_full_named(logdir, None, BACKTEST):
            result = backtest(
                config,
                logdir=logdir,
                folds=args.folds,
                refit=not args.no_refit,
                data=data,
                resume=args.resume,
                overwrite=args.overwrite,
                record=record,
                on_fold=show,
                verbose=_verbosity(args),
                strategy=strategy,
            )
    except KeyboardInterrupt:
        done = len(read_backtest_rows(logdir))
        print(
            f"{PROG}: interrupted after {done} finished folds; continue with: "
            f"{PROG} backtest --resume --logdir {logdir}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    paths = result.record.paths
    print()
    print(result.summary())
    print(f"Folds:       {paths['backtest']}")
    print(f"Plot:        {paths['plot']}")
    print(f"Run:         {paths['logdir']}  (tensorboard --logdir {paths['logdir']})")
    return 0


# How a full disk reads: OSError's errno, or the text of h5py's and
# TensorFlow's errors (TensorFlow raises ResourceExhaustedError for ENOSPC).
_DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)
_DISK_FULL_TEXTS = ("No space left on device", "Disk quota exceeded")


def disk_full_message(
    error: BaseException, logdir: str, export_dir: str | None, *, command: str = TRAIN
) -> str | None:
    """The one-line message for a disk that filled up during a run, else `None`.

    It names the file being written (from the error, or the directory it was
    in) and how to go on once there is room again: `command` (`"train"` or
    `"backtest"`) with `--resume`.
    """
    text = str(error)
    if getattr(error, "errno", None) not in _DISK_FULL_ERRNOS and not any(
        phrase in text for phrase in _DISK_FULL_TEXTS
    ):
        return None
    path = getattr(error, "filename", None)
    if not path:
        # TensorFlow and h5py name the file somewhere in their message.
        words = re.split(r"[\s'\";,()]+", text)
        roots = [d for d in (logdir, export_dir) if d]
        path = next((w for w in words if any(root in w for root in roots)), None)
    if path and os.path.isabs(path) and not os.path.relpath(path).startswith(".."):
        path = os.path.relpath(path)  # as the run's directories are shown
    if not path:
        path = f"the files of {logdir}" + (f" or {export_dir}" if export_dir else "")
    started = os.path.isfile(os.path.join(logdir, RUN_RECORD))
    then = (
        f"continue with: {PROG} {command} --resume --logdir {logdir}"
        if started
        else "run the command again"
    )
    return (
        f"Expected free space on the disk to write {path}. Received: No space left on "
        f"device; free some space, then {then}"
    )


def _report(run) -> None:
    training_done = run.record.training
    print()
    print(
        f"Trained {training_done['epochs_run']} epochs (best {training_done['best_epoch'] + 1}, "
        f"{'stopped early' if training_done['stopped_early'] else 'all epochs'}) "
        f"on {run.record.details['device']} in {training_done['seconds']:.1f} s."
    )
    test = run.data.describe()["parts"]["test"]
    unscored = test["windows"] - test["scored_windows"]
    print(
        f"Test part: {run.evaluation.count} forecasts of {run.data.series.target!r}, "
        f"{test['first_target_date']} .. {test['last_target_date']}"
        + (f" ({unscored} with filled-in targets not scored)" if unscored else "")
        + ", original units:"
    )
    print(run.evaluation.table())
    print(run.evaluation.verdict())
    paths = run.record.paths
    print(f"Run:         {paths['logdir']}  (tensorboard --logdir {paths['logdir']})")
    print(f"Plot:        {paths['plot']}")
    print(f"Config:      {os.path.join(paths['logdir'], 'run.json')}")
    if paths["export"]:
        print(f"SavedModel:  {paths['export']}")
        # A worker's export (not the chief's) is deleted at the end of the run.
        written_files = (
            export.load_metadata(run.export_path)["runtimes"]
            if os.path.isdir(run.export_path)
            else {}
        )
        for runtime, written in written_files.items():
            where = os.path.join(paths["export"], written["file"])
            print(
                f"{runtime_name(runtime) + ':':<12} {where}  (largest difference from "
                f"Keras on the test windows {written['max_abs_diff']:.2g})"
            )


def _predict(args) -> int:
    if global_runs.is_global_model(args.model):
        return _predict_global(args)
    if args.id:
        raise ValueError(
            f"Expected --id with a model trained with --id-column. Received: --id "
            f"{args.id[0]} for {args.model}, a model of one series"
        )
    forecasts, metadata = serving.next_forecast(args.model, args.csv, args.runtime)
    first, last = (value[:10] for value in forecasts.attrs["window_dates"])
    source = (
        args.csv if args.csv is not None else f"{metadata['data']['source']} (its training data)"
    )
    runtime = "" if args.runtime == TENSORFLOW else f" ({runtime_name(args.runtime)})"
    print(
        f"Forecast of {metadata['target']!r} by {args.model}{runtime} from the last "
        f"{metadata['window']} rows of {source}, {first} .. {last}:"
    )
    print(
        "  ".join(
            f"{name:<19}" if k == 0 else name for k, name in enumerate(["date", *forecasts.columns])
        )
    )
    # Hours are shown on every row once one of them has a time of day.
    with_time = any(date != date.normalize() for date in forecasts.index)
    for date, values in forecasts.iterrows():
        shown = str(date) if with_time else str(date.date())
        print("  ".join([f"{shown:<19}", *(f"{v:.6g}" for v in values)]))
    return 0


def _evaluate(args) -> int:
    if global_runs.is_global_model(args.model):
        return _evaluate_global(args)
    evaluation, described = serving.evaluate_export(args.model, args.csv, args.runtime)
    what = "every window" if args.csv else "the test part of the training data"
    print(
        f"{described['source']}: {what}, {described['windows']} windows, targets "
        f"{described['first_date']} .. {described['last_date']}, original units:"
    )
    print(evaluation.table())
    print(evaluation.verdict())
    return 0


# -- many series: --id-column -----------------------------------------------------------

# The flags of train and backtest that a run across many series takes.
_GLOBAL_READ = ("date_column", "target", "date_format", "na_values", "sep", "decimal", "thousands")
_GLOBAL_MODEL = (
    "freq", "window", "horizon", "units", "layers", "epochs", "batch_size", "learning_rate",
    "patience", "season", "seed", "global_clipnorm",
)  # fmt: skip


def _global_settings(args, defaults: dict) -> tuple[dict, dict]:
    """`(LSTMForecaster arguments, read settings)` from the flags; refuses the
    flags of one series that a run across many does not take."""
    given = _given_settings(args)
    given.pop("csv", None)
    taken = {*_GLOBAL_READ, *_GLOBAL_MODEL, "interval", "clipnorm", "clipvalue"}
    refused = [{"cell_kwargs": "cell_variant"}.get(k, k) for k in given if k not in taken]
    refused += [k for k in ("resume",) if getattr(args, k, False)]
    if args.clipnorm is not None or args.clipvalue is not None:
        refused.append("clipnorm" if args.clipnorm is not None else "clipvalue")
    if refused:
        shown = ", ".join("--" + k.replace("_", "-") for k in refused)
        raise ValueError(
            f"Expected the flags of a run across many series with --id-column (see --help). "
            f"Received: {shown}, which only a run of one series takes"
        )
    if args.csv is None:
        raise ValueError(
            "Expected --csv with --id-column: the long CSV of the series. Received: none"
        )
    settings = {k: given[k] for k in _GLOBAL_MODEL if k in given}
    if str(settings.get("freq", "")).isdigit():  # the step of integer positions
        settings["freq"] = int(settings["freq"])
    settings.setdefault("horizon", ForecastConfig(**defaults).horizon)
    if args.no_clip:
        settings["global_clipnorm"] = None
    if "interval" in given:
        settings["level"] = [float(f"{100 * v:.10g}") for v in given["interval"]]
    read = global_runs.ReadSettings(
        id_column=args.id_column,
        **{k: given[k] for k in _GLOBAL_READ if k in given and k != "na_values"},
        na_values=tuple(given.get("na_values") or ()),
    )
    return settings, read


def _global_plan(args, defaults, name_prefix, exports: bool = True):
    settings, read = _global_settings(args, defaults)
    if args.name is not None:
        check_plain_name(args.name)
    name = args.name or _default_name(args.csv, name_prefix)
    logdir = args.logdir or os.path.join(RUNS_DIR, name)
    export_dir = None
    if exports and not args.no_export:
        export_dir = args.export or os.path.join(MODELS_DIR, name)
    frame, notes = global_runs.read_long_csv(args.csv, read)
    # Checked before any work: the flags' and the data's errors first.
    LSTMForecaster(**settings)
    global_runs.check_outputs(logdir, export_dir, args.overwrite)
    shown = global_runs.describe(frame)
    print(
        f"Data: {args.csv}: {shown['series']} series by {args.id_column!r}, {shown['rows']} "
        f"rows, {shown['shortest']} .. {shown['longest']} values each, "
        f"{shown['first_date']} .. {shown['last_date']}"
    )
    for note in notes:
        print(f"  note: {note}")
    read = {**read.to_dict(), "path": os.path.abspath(args.csv), "names": frame.attrs["names"]}
    return settings, read, frame, logdir, export_dir


def _describe_global(model) -> None:
    print(
        f"Model: one LSTM across the series: {model.layers} x LSTM(units={model.units}) + "
        f"Dense, windows of {model.window} rows -> next {model.horizon}, season "
        f"{model.season}, frequency {model.freq}, seed {model.seed}"
    )


def _train_global(args, defaults: dict, name_prefix: str | None) -> int:
    settings, read, frame, logdir, export_dir = _global_plan(args, defaults, name_prefix)
    runtimes = () if args.no_runtime_exports else tuple(export.RUNTIME_FILES)
    with _sigterm_interrupts(), _disk_full_named(logdir, export_dir):
        run = global_runs.train_global(
            frame,
            settings,
            read,
            logdir=logdir,
            export_dir=export_dir,
            overwrite=args.overwrite,
            runtimes=runtimes,
            verbose=_verbosity(args),
        )
    _describe_global(run.model)
    done = run.record.training
    print(
        f"Trained {done['epochs_run']} epochs"
        + (f" (best {done['best_epoch'] + 1})" if done["best_epoch"] is not None else "")
        + "."
    )
    print(
        f"Test part: the last {run.model.horizon} values of each of {run.means['series']} "
        f"series ({run.means['forecasts']} forecasts), means over the series, original units:"
    )
    print(global_runs.table(run.means))
    print(global_runs.verdict(run.means))
    print(f"Run:         {logdir}  (tensorboard --logdir {logdir})")
    print(f"Per series:  {os.path.join(logdir, global_runs.SCORES)}")
    print(f"Config:      {os.path.join(logdir, RUN_RECORD)}")
    if export_dir is not None:
        print(f"Model:       {export_dir}")
        for runtime, written in run.runtimes.items():
            print(f"{runtime_name(runtime) + ':':<12} {os.path.join(export_dir, written['file'])}")
    return 0


def _backtest_global(args, defaults: dict, name_prefix: str | None) -> int:
    settings, read, frame, logdir, _ = _global_plan(args, defaults, name_prefix, exports=False)
    folds = DEFAULT_FOLDS if args.folds is None else args.folds
    if folds < 1:
        raise ValueError(f"Expected --folds of at least 1. Received: --folds {folds}")
    print(
        f"Backtest: {folds} folds, the last {folds} x {settings['horizon']} values of each "
        f"series, {'one model' if args.no_refit else 'a model per fold'}"
    )
    with _sigterm_interrupts(), _disk_full_named(logdir, None, BACKTEST):
        run = global_runs.backtest_global(
            frame,
            settings,
            read,
            logdir=logdir,
            folds=folds,
            refit=not args.no_refit,
            overwrite=args.overwrite,
        )
    _describe_global(run.model)
    for fold, means in run.record.metrics["folds"].items():
        print(
            f"Fold {fold}/{folds}: {means['forecasts']} forecasts: sMAPE {means['lstm_smape']:.3f}"
            f" vs seasonal naive {means['seasonal_naive_smape']:.3f}, MASE "
            f"{means['lstm_mase']:.3f} vs {means['seasonal_naive_mase']:.3f}"
        )
    print()
    _print_per_series(run.scores)
    print()
    print("All folds, means over the series and folds, original units:")
    print(global_runs.table(run.means))
    print(global_runs.verdict(run.means))
    print(f"Folds:       {os.path.join(logdir, global_runs.BACKTEST_CSV)}")
    print(f"Run:         {os.path.join(logdir, RUN_RECORD)}")
    return 0


def _print_per_series(scores) -> None:
    """A line per series: its mean sMAPE and MASE, and seasonal naive's."""
    means = scores.groupby(global_runs.ID_COL, sort=False)[
        ["lstm_smape", "lstm_mase", "seasonal_naive_smape", "seasonal_naive_mase"]
    ].mean()
    width = max(9, *(len(str(i)) for i in means.index))
    print(f"{'series':<{width}}  {'sMAPE':>8}  {'MASE':>7}  {'SN sMAPE':>8}  {'SN MASE':>7}")
    for uid, row in means.iterrows():
        print(
            f"{uid!s:<{width}}  {row['lstm_smape']:>8.3f}  {row['lstm_mase']:>7.3f}  "
            f"{row['seasonal_naive_smape']:>8.3f}  {row['seasonal_naive_mase']:>7.3f}"
        )


def _predict_global(args) -> int:
    forecasts = global_runs.predict_global(args.model, args.csv, args.id, args.runtime)
    runtime = "" if args.runtime == TENSORFLOW else f" ({runtime_name(args.runtime)})"
    count = forecasts.iloc[:, 0].nunique()  # the ids, under the CSV's name of their column
    source = args.csv if args.csv is not None else "its training data"
    print(f"Forecasts of {count} series by {args.model}{runtime} after the end of {source}:")
    print(forecasts.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return 0


def _evaluate_global(args) -> int:
    scores, means, horizon = global_runs.evaluate_global(args.model, args.csv, args.runtime)
    what = args.csv if args.csv is not None else "its training data (the test part)"
    print(
        f"{what}: the last {horizon} values of each of {means['series']} series, forecast "
        "from the values before them, original units:"
    )
    _print_per_series(scores)
    print()
    print("Overall, means over the series:")
    print(global_runs.table(means))
    print(global_runs.verdict(means))
    return 0


def main(
    argv=None, *, defaults: dict | None = None, prog: str = PROG, name_prefix: str | None = None
) -> int:
    """Runs the command line; returns the exit code.

    Args:
        argv: The arguments, default `sys.argv[1:]`.
        defaults: `ForecastConfig` settings that replace its defaults (an
            example script's own, say); flags still override them.
        prog: The program name in messages.
        name_prefix: Default run names start with this instead of the data
            file's name.
    """
    defaults = dict(defaults or {})
    try:
        args = build_parser(ForecastConfig(**defaults), prog).parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already printed
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    _startup.discover_devices_quietly()
    commands = {
        "train": lambda a: _train(a, defaults, name_prefix),
        "backtest": lambda a: _backtest(a, defaults, name_prefix),
        "predict": _predict,
        "evaluate": _evaluate,
    }
    started = time.perf_counter()
    try:
        _startup.command_started()  # Ctrl-C from here on: the command's own message
        code = commands[args.command](args)
    except (ValueError, OSError, ImportError) as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"{prog} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except (MemoryError, tf.errors.ResourceExhaustedError) as e:
        # TensorFlow's message: "{{function_node ...}} OOM when allocating tensor ...".
        what = re.sub(r"\{\{.*?\}\}\s*", "", str(e).strip()).split("\n")[0][:160]
        what = what or type(e).__name__
        print(
            f"{prog} {args.command}: error: Expected a model and data that fit in memory. "
            f"Received: out of memory ({what}); lower --units, --layers or --batch-size",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{prog} {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.command in ("train", "backtest") and code == 0:
        print(f"Wall time: {time.perf_counter() - started:.1f} s")
    return code
