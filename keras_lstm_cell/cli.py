"""`keras-lstm-cell`: train, evaluate and use an LSTM forecaster from the shell.

    keras-lstm-cell train                       # embedded Seattle weather data
    keras-lstm-cell train --csv btc.csv --target close --transform log_return
    keras-lstm-cell predict --model saved_models/NAME [--csv new.csv]
    keras-lstm-cell evaluate --model saved_models/NAME [--csv new.csv]

Errors a user can cause end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import sys
import threading
import time

from keras_lstm_cell import export
from keras_lstm_cell import forecasting
from keras_lstm_cell.distribute import STRATEGIES
from keras_lstm_cell.distribute import get_strategy
from keras_lstm_cell.equations import VARIANTS
from keras_lstm_cell.forecast_config import DEVICES
from keras_lstm_cell.forecast_config import ForecastConfig
from keras_lstm_cell.recurrent_layers import RECURRENT_LAYERS
from keras_lstm_cell.timeseries import DEFAULT_DATASET
from keras_lstm_cell.timeseries import DUPLICATE_POLICIES
from keras_lstm_cell.timeseries import GAP_POLICIES
from keras_lstm_cell.timeseries import MISSING_POLICIES
from keras_lstm_cell.window_scaler import TRANSFORMS

PROG = "keras-lstm-cell"
RUNS_DIR = "runs"
MODELS_DIR = "saved_models"
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(argparse.ArgumentParser):
    # argparse prints the whole usage before an error; one line is enough.
    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    defaults = ForecastConfig()

    train = commands.add_parser(
        "train",
        help="train on a CSV (default: the embedded Seattle weather data)",
        description="Train an RNN(SimpleLSTMCell) forecaster, score it on the "
        "test part against persistence and seasonal naive, and write TensorBoard "
        "logs, a plot, run.json and a SavedModel.",
    )
    # Every setting defaults to None here: ForecastConfig holds the defaults,
    # and --resume can tell which flags were given.
    data = train.add_argument_group("data")
    data.add_argument("--csv", help="CSV file (default: embedded seattle_weather.csv)")
    data.add_argument("--date-column", help="date column, case-insensitive (default: detected)")
    data.add_argument("--target", help="column to forecast (default: temp_max / close)")
    data.add_argument("--features", type=_comma_list, help="extra input columns, COL,COL")
    data.add_argument(
        "--duplicates", choices=DUPLICATE_POLICIES, help="repeated dates (default: error)"
    )
    data.add_argument("--missing", choices=MISSING_POLICIES, help="missing values (default: error)")
    data.add_argument("--gaps", choices=GAP_POLICIES, help="missing dates (default: error)")
    model = train.add_argument_group("model")
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
        choices=tuple(RECURRENT_LAYERS),
        help=f"recurrent layer implementation (default: {defaults.layer})",
    )
    model.add_argument(
        "--cell-variant",
        choices=VARIANTS,
        help="LSTM variant of SimpleLSTMCell (default: standard)",
    )
    fit = train.add_argument_group("training")
    fit.add_argument("--epochs", type=int, help=f"maximum epochs (default: {defaults.epochs})")
    fit.add_argument("--batch-size", type=int, help=f"(default: {defaults.batch_size})")
    fit.add_argument("--learning-rate", type=float, help=f"(default: {defaults.learning_rate})")
    clip = fit.add_mutually_exclusive_group()
    clip.add_argument(
        "--global-clipnorm",
        type=float,
        help=f"clip the global gradient norm (default: {defaults.global_clipnorm})",
    )
    clip.add_argument("--clipnorm", type=float, help="clip each weight's gradient norm")
    clip.add_argument("--clipvalue", type=float, help="clip each gradient element")
    clip.add_argument("--no-clip", action="store_true", default=None, help="no clipping")
    fit.add_argument("--val-fraction", type=float, help=f"(default: {defaults.val_fraction})")
    fit.add_argument("--test-fraction", type=float, help=f"(default: {defaults.test_fraction})")
    fit.add_argument("--patience", type=int, help=f"early stopping (default: {defaults.patience})")
    fit.add_argument(
        "--season", type=int, help=f"seasonal-naive period (default: {defaults.season})"
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
    out = train.add_argument_group("output")
    out.add_argument("--name", help="run name (default: <data>-<timestamp>)")
    out.add_argument("--logdir", help=f"TensorBoard/run directory (default: {RUNS_DIR}/NAME)")
    out.add_argument("--export", help=f"SavedModel directory (default: {MODELS_DIR}/NAME)")
    out.add_argument("--no-export", action="store_true", help="do not export")
    out.add_argument(
        "--resume",
        action="store_true",
        help="continue an interrupted run (--logdir/--name, or the latest in runs/)",
    )
    out.add_argument(
        "--verbose", type=int, choices=(0, 1, 2), default=1, help="Keras fit verbosity"
    )

    for name, summary in (
        ("predict", "print the next forecast(s) of an exported model"),
        ("evaluate", "score an exported model against persistence and seasonal naive"),
    ):
        command = commands.add_parser(name, help=summary, description=summary)
        command.add_argument("--model", required=True, help=f"export directory, {MODELS_DIR}/NAME")
        command.add_argument(
            "--csv",
            help="data with the training columns (predict: default the end of the "
            "training data; evaluate: default its test part)",
        )
    return parser


_SETTINGS = (
    "csv",
    "date_column",
    "target",
    "features",
    "duplicates",
    "missing",
    "gaps",
    "window",
    "horizon",
    "transform",
    "units",
    "layers",
    "epochs",
    "batch_size",
    "learning_rate",
    "val_fraction",
    "test_fraction",
    "patience",
    "season",
    "seed",
    "device",
    "layer",
    "gate_monitor",
    "distribute",
)


def _given_settings(args) -> dict:
    given = {k: getattr(args, k) for k in _SETTINGS if getattr(args, k) is not None}
    if args.cell_variant is not None:
        given["cell_kwargs"] = {"variant": args.cell_variant}
    clip_flags = ("global_clipnorm", "clipnorm", "clipvalue")
    if args.no_clip or any(getattr(args, k) is not None for k in clip_flags):
        for k in clip_flags:
            given[k] = getattr(args, k)
    return given


def _latest_interrupted_run() -> str:
    candidates = []
    if os.path.isdir(RUNS_DIR):
        for entry in os.scandir(RUNS_DIR):
            record = forecasting.read_run_record(entry.path) if entry.is_dir() else None
            if record is not None and record.get("status") != "finished":
                candidates.append((entry.stat().st_mtime, entry.path))
    if not candidates:
        raise ValueError(
            f"Expected an interrupted run under {RUNS_DIR}/ for --resume. "
            "Received: none; pass --logdir or --name"
        )
    return max(candidates)[1]


def _default_name(csv: str | None) -> str:
    stem = os.path.splitext(os.path.basename(csv or DEFAULT_DATASET))[0]
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", stem)
    return f"{stem}-{datetime.datetime.now():%Y%m%d-%H%M%S}"


def _raise_keyboard_interrupt(signum, frame):
    raise KeyboardInterrupt


def _train(args) -> int:
    given = _given_settings(args)
    if args.resume:
        logdir = args.logdir or (
            os.path.join(RUNS_DIR, args.name) if args.name else _latest_interrupted_run()
        )
        record = forecasting.read_run_record(logdir)
        if record is None:
            raise ValueError(
                f"Expected a run directory to resume. Received: {logdir!r} has no "
                f"{forecasting.RUN_RECORD}"
            )
        config = ForecastConfig.from_dict(record["config"]).replace(**given)
        export_dir = record["paths"]["export"] if args.export is None else args.export
        if args.no_export:
            export_dir = None
        print(f"Resuming {logdir}")
    else:
        config = ForecastConfig(**given)
        name = args.name or _default_name(config.csv)
        logdir = args.logdir or os.path.join(RUNS_DIR, name)
        export_dir = None if args.no_export else (args.export or os.path.join(MODELS_DIR, name))

    # First of all TensorFlow work: a multi-worker strategy configures the runtime.
    strategy = get_strategy(config.distribute)
    data = forecasting.prepare_data(config)
    series = data.series
    print(
        f"Data: {series.source}: {len(series)} rows, {series.dates[0].date()} .. "
        f"{series.dates[-1].date()}, target {series.target!r}, inputs {series.columns}"
    )
    for note in series.notes:
        print(f"  note: {note}")
    parts = data.describe()["parts"]
    print(
        f"Windows of {config.window} rows -> next {config.horizon}: "
        + ", ".join(
            f"{part} {p['windows']} ({p['first_target_date']} .. {p['last_target_date']})"
            for part, p in parts.items()
        )
    )
    print(
        f"Model: {config.layers} x {config.layer}(units={config.units}, "
        f"{config.cell_kwargs or 'standard cell'}) + Dense, "
        f"transform {config.transform!r}, clipping {config.clipping or 'none'}, "
        f"seed {config.seed}, device {config.device}"
    )

    # `kill` (SIGTERM) stops training like Ctrl-C: finished epochs are kept.
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM)
    if in_main_thread:
        signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        run = forecasting.train(
            config,
            logdir=logdir,
            export_dir=export_dir,
            series=series,
            resume=args.resume,
            verbose=args.verbose,
            strategy=strategy,
        )
    except KeyboardInterrupt:
        history = forecasting.read_history(logdir)
        done = len(history.get("epoch", []))
        print(
            f"{PROG}: interrupted after {done} finished epochs; continue with: "
            f"{PROG} train --resume --logdir {logdir}",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)

    training = run.record["training"]
    print()
    print(
        f"Trained {training['epochs_run']} epochs (best {training['best_epoch'] + 1}, "
        f"{'stopped early' if training['stopped_early'] else 'all epochs'}) "
        f"on {run.record['device']} in {training['seconds']:.1f} s."
    )
    test = parts["test"]
    print(
        f"Test part: {run.evaluation.count} forecasts of {series.target!r}, "
        f"{test['first_target_date']} .. {test['last_target_date']}, original units:"
    )
    print(run.evaluation.table())
    print(run.evaluation.verdict())
    paths = run.record["paths"]
    print(f"Run:         {paths['logdir']}  (tensorboard --logdir {paths['logdir']})")
    print(f"Plot:        {paths['plot']}")
    print(f"Config:      {os.path.join(paths['logdir'], forecasting.RUN_RECORD)}")
    if paths["export"]:
        print(f"SavedModel:  {paths['export']}")
    return 0


def _predict(args) -> int:
    forecasts, metadata = export.next_forecast(args.model, args.csv)
    first, last = forecasts.attrs["window_dates"]
    source = args.csv or "the end of its training data"
    print(
        f"Forecast of {metadata['target']!r} by {args.model} from the "
        f"{metadata['window']} rows {first[:10]} .. {last[:10]} of {source}:"
    )
    target = metadata["target"]
    print(f"{'date':<19}  {target}")
    for date, value in forecasts[target].items():
        shown = str(date.date()) if date == date.normalize() else str(date)
        print(f"{shown:<19}  {value:.6g}")
    return 0


def _evaluate(args) -> int:
    evaluation, described = export.evaluate_export(args.model, args.csv)
    what = "every window" if args.csv else "the test part of the training data"
    print(
        f"{described['source']}: {what}, {described['windows']} windows, targets "
        f"{described['first_date']} .. {described['last_date']}, original units:"
    )
    print(evaluation.table())
    print(evaluation.verdict())
    return 0


def main(argv=None) -> int:
    """Runs the command line; returns the exit code."""
    try:
        args = _build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a usage error already printed
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    commands = {"train": _train, "predict": _predict, "evaluate": _evaluate}
    started = time.perf_counter()
    try:
        code = commands[args.command](args)
    except (ValueError, OSError) as e:
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"{PROG} {args.command}: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"{PROG} {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.command == "train" and code == 0:
        print(f"Wall time: {time.perf_counter() - started:.1f} s")
    return code
