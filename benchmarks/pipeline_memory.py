"""Peak memory of windowing a 10-million-row series: NumPy windows against tf.data.

Each pipeline runs in a fresh process, which first imports TensorFlow and
Keras and builds the series (float32, `FEATURES` columns); the resident set
at that point is the "setup" column. The pipeline then runs and the process
reports its peak resident set (`ru_maxrss`, kept by the kernel, so no peak is
missed between samples):

- `numpy windows`: `keras_lstm_cell.forecast.windows.make_windows`, every window
  materialised as one `(N, WINDOW, FEATURES)` array;
- `numpy windows + fit`: the same arrays given to `model.fit`, which copies
  them into tensors, for `FIT_STEPS` batches;
- `tf.data stream`: `keras_lstm_cell.forecast.windows.window_dataset`,
  shuffled, iterated over one full epoch (every window once);
- `tf.data stream + fit`: the same dataset given to `model.fit` for
  `FIT_STEPS` batches.

The model is `Input -> RNN(SimpleLSTMCell(UNITS)) -> Dense(1)`.

    python benchmarks/pipeline_memory.py                 # 10M rows, a few minutes
    python benchmarks/pipeline_memory.py --rows 1000000  # a quicker look

Writes `benchmarks/results/pipeline_memory.json` (the rows, the machine and
the configuration) unless `--out` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROWS = 10_000_000  # series length
FEATURES = 1  # input columns; the target is the first
WINDOW = 24  # rows per input window (a day of hourly data)
HORIZON = 1  # rows forecast per window
BATCH = 1024  # windows per batch
FIT_STEPS = 100  # batches trained in the "+ fit" rows
UNITS = 8  # LSTM units of the model in the "+ fit" rows
SEED = 0
CHILD_TIMEOUT = 600  # seconds for one pipeline's process

PIPELINES = {
    "numpy": "numpy windows",
    "numpy_fit": "numpy windows + fit",
    "stream": "tf.data stream",
    "stream_fit": "tf.data stream + fit",
}
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 2**20


def _peak_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def _resident_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _series(rows: int, features: int):
    import numpy as np

    rng = np.random.default_rng(SEED)
    t = np.arange(rows, dtype=np.float32)
    columns = [np.sin(t * (0.01 * (k + 1))) for k in range(features)]
    values = np.stack(columns, axis=1) + rng.normal(scale=0.1, size=(rows, features))
    return values.astype(np.float32)  # (rows, features)


def _model(features: int):
    import keras

    from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

    model = keras.Sequential(
        [
            keras.Input((WINDOW, features)),
            keras.layers.RNN(SimpleLSTMCell(UNITS)),
            keras.layers.Dense(HORIZON),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    return model


def child(pipeline: str, rows: int, features: int) -> dict:
    """Runs one pipeline in this process and returns its measurements."""
    import keras
    import tensorflow as tf

    from keras_lstm_cell.forecast.windows import make_windows
    from keras_lstm_cell.forecast.windows import window_dataset

    keras.utils.set_random_seed(SEED)
    values = _series(rows, features)
    target = values[:, 0]
    setup = _resident_bytes()
    start = time.perf_counter()
    windows = rows - WINDOW - HORIZON + 1
    held = None
    if pipeline in ("numpy", "numpy_fit"):
        x, y = make_windows(values, target, WINDOW, HORIZON)
        held = x.nbytes + y.nbytes
        if pipeline == "numpy_fit":
            _model(features).fit(
                x, y, batch_size=BATCH, epochs=1, steps_per_epoch=FIT_STEPS, verbose=0
            )
            windows = FIT_STEPS * BATCH
    else:
        dataset = window_dataset(
            values, target, WINDOW, HORIZON, batch_size=BATCH, shuffle=True, seed=SEED
        )
        if pipeline == "stream":
            windows = 0
            for x, _ in dataset:
                windows += int(tf.shape(x)[0])
        else:
            # The dataset shuffles itself; fit's own `shuffle` is for arrays.
            _model(features).fit(dataset.take(FIT_STEPS), epochs=1, shuffle=False, verbose=0)
            windows = FIT_STEPS * BATCH
    seconds = time.perf_counter() - start
    return {
        "pipeline": PIPELINES[pipeline],
        "rows": rows,
        "windows": int(windows),
        "window_arrays_mib": None if held is None else held / MIB,
        "series_mib": values.nbytes / MIB,
        "setup_rss_mib": setup / MIB,
        "peak_rss_mib": _peak_bytes() / MIB,
        "peak_above_setup_mib": (_peak_bytes() - setup) / MIB,
        "seconds": seconds,
    }


def run_child(pipeline: str, rows: int, features: int) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    command = [sys.executable, __file__, "--child", pipeline, "--rows", str(rows)]
    command += ["--features", str(features)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=CHILD_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{pipeline} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def format_table(rows: list[dict]) -> str:
    header = (
        "| pipeline | windows | window arrays MiB | setup RSS MiB | peak RSS MiB "
        "| peak - setup MiB | seconds |"
    )
    lines = [header, "|" + "|".join("---" for _ in range(7)) + "|"]
    for r in rows:
        arrays = "-" if r["window_arrays_mib"] is None else f"{r['window_arrays_mib']:.0f}"
        lines.append(
            f"| {r['pipeline']} | {r['windows']:,} | {arrays} | {r['setup_rss_mib']:.0f} "
            f"| {r['peak_rss_mib']:.0f} | {r['peak_above_setup_mib']:.0f} | {r['seconds']:.1f} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    import keras
    import tensorflow as tf

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS, help=f"series length (default {ROWS})")
    parser.add_argument(
        "--features", type=int, default=FEATURES, help=f"input columns (default {FEATURES})"
    )
    parser.add_argument(
        "--pipelines",
        default=",".join(PIPELINES),
        help=f"comma-separated subset of {','.join(PIPELINES)}",
    )
    parser.add_argument("--out", type=Path, help="JSON output path")
    parser.add_argument("--child", choices=tuple(PIPELINES), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    pipelines = [p for p in args.pipelines.split(",") if p]
    if args.rows < WINDOW + HORIZON + BATCH * FIT_STEPS or args.features <= 0:
        print(
            f"error: expected --rows >= {WINDOW + HORIZON + BATCH * FIT_STEPS} and "
            f"--features >= 1. Received: --rows {args.rows}, --features {args.features}",
            file=sys.stderr,
        )
        return 2
    unknown = sorted(set(pipelines) - set(PIPELINES))
    if unknown:
        print(f"error: unknown pipelines {unknown}; expected {list(PIPELINES)}", file=sys.stderr)
        return 2
    if args.child:
        print(json.dumps(child(args.child, args.rows, args.features)))
        return 0

    rows = []
    for pipeline in pipelines:
        rows.append(run_child(pipeline, args.rows, args.features))
        print(f"{rows[-1]['pipeline']}: done in {rows[-1]['seconds']:.1f} s", file=sys.stderr)
    config = {
        "rows": args.rows,
        "features": args.features,
        "window": WINDOW,
        "horizon": HORIZON,
        "batch": BATCH,
        "fit_steps": FIT_STEPS,
        "units": UNITS,
        "seed": SEED,
    }
    info = machine()
    print(
        f"\n{args.rows:,}-row float32 series, {args.features} column(s), window {WINDOW}, "
        f"batch {BATCH}; {info['cores']} cores, TensorFlow {info['tensorflow']}, "
        f"Keras {info['keras']}\n"
    )
    print(format_table(rows))
    out = args.out or RESULTS_DIR / "pipeline_memory.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"config": config, "machine": info, "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
