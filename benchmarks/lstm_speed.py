"""Training and inference speed of four LSTM layers, and their peak memory.

Times `fit` (Adam with global gradient clipping, MSE) and `predict` of
`Input -> LSTM(units) -> Dense(1)` for `keras.layers.LSTM`,
`keras.layers.RNN(SimpleLSTMCell)` and `SimpleLSTM` (optionally also
`SimpleLSTM(use_cudnn=False)`, the fused loop, and `SimpleLSTM(use_cudnn=True)`),
on the Keras backend of `--backend` (TensorFlow, JAX or torch), and the same
loop with `torch.nn.LSTM` (in a worker process, when torch is installed; on
the GPU when torch sees one). The variants
run in one process, interleaved round by round in a rotating order, after a
warm-up, so that drift of a shared machine reaches all of them alike; the
reported time is the median over rounds, and a ratio to `keras.layers.LSTM`
the median over rounds of the ratio within each round. Peak memory of training is measured
in a fresh process per variant: the largest anonymous resident set (the
process's allocations) during its first two training epochs, minus that
before them; the whole resident set's growth, file-backed pages of libraries
included, is recorded beside it.

    python benchmarks/lstm_speed.py               # full run, a few minutes
    python benchmarks/lstm_speed.py --quick       # a rough look in ~1 minute
    python benchmarks/lstm_speed.py --shapes 64,30,5,64 --rounds 9
    KERAS_BACKEND=jax python benchmarks/lstm_speed.py
    python benchmarks/lstm_speed.py --backend torch --variants simple_lstm,simple_lstm_fused

Writes `benchmarks/results/lstm_speed-<backend>.json` (raw times, summary,
machine and the resolved configuration) unless `--out` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

# Defaults of a full run; each can be changed from the command line.
SHAPES = (  # (batch, time steps, features, units)
    (7, 7, 1, 256),  # the seed tutorial's model
    (64, 30, 5, 64),  # a small forecasting model
    (128, 100, 32, 256),  # a large model: matrix products dominate
    (32, 1000, 8, 128),  # a long sequence: the loop dominates
)
ROUNDS = 5  # timed rounds per variant; the median is reported
MIN_SECONDS = 1.0  # aim for at least this long per timed fit or predict, to beat timer noise
MIN_BATCHES = 4  # ...and at least this many batches per fit or predict
MAX_BATCHES = 256  # ...but never more
CALIBRATION_BATCHES = 4  # batches of the fit (and predict) that set the numbers of batches
LEARNING_RATE = 1e-3  # Adam
CLIPNORM = 1.0  # global gradient-norm clipping, as torch's clip_grad_norm_
MEMORY_SHAPES = "long"  # peak memory for: "long" (the longest shape), "all", "none"
SAMPLE_SECONDS = 0.001  # resident-set sampling period for peak memory
SEED = 0

KERAS_VARIANTS = ("keras_lstm", "rnn_cell", "simple_lstm")  # the default selection
TORCH_VARIANT = "torch_lstm"
LABELS = {
    "keras_lstm": "keras.layers.LSTM",
    "rnn_cell": "RNN(SimpleLSTMCell)",
    "simple_lstm": "SimpleLSTM",
    "simple_lstm_fused": "SimpleLSTM(use_cudnn=False)",
    "simple_lstm_cudnn": "SimpleLSTM(use_cudnn=True)",
    "torch_lstm": "torch.nn.LSTM",
}
BASELINE = "keras_lstm"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Shape:
    batch: int
    steps: int
    features: int
    units: int

    @classmethod
    def parse(cls, text: str) -> Shape:
        try:
            values = [int(v) for v in text.split(",")]
        except ValueError:
            values = []
        if len(values) != 4 or min(values) <= 0:
            raise ValueError(
                "Expected a shape as four positive integers "
                f"'batch,steps,features,units'. Received: {text!r}"
            )
        return cls(*values)

    def __str__(self) -> str:
        return f"({self.batch}, {self.steps}, {self.features}, {self.units})"


@dataclass
class Config:
    shapes: list[Shape]
    variants: tuple[str, ...] = KERAS_VARIANTS
    rounds: int = ROUNDS
    min_seconds: float = MIN_SECONDS
    max_batches: int = MAX_BATCHES
    memory: str = MEMORY_SHAPES
    torch: bool = True
    backend: str = field(default_factory=lambda: os.environ.get("KERAS_BACKEND", ""))


# Memory.


def _resident_bytes() -> tuple[int, int]:
    """The resident set, and its anonymous part (the process's own
    allocations, without file-backed pages such as shared libraries' code)."""
    with open("/proc/self/statm") as f:
        fields = f.read().split()
    page = os.sysconf("SC_PAGE_SIZE")
    resident, shared = int(fields[1]) * page, int(fields[2]) * page
    return resident, resident - shared


class PeakResident:
    """Largest resident set, and largest anonymous resident set, seen while
    the block runs, sampled by a thread."""

    def __enter__(self):
        self.base = _resident_bytes()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _update(self):
        self.peak = tuple(max(p, now) for p, now in zip(self.peak, _resident_bytes()))

    def _sample(self):
        while not self._stop.is_set():
            self._update()
            time.sleep(SAMPLE_SECONDS)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._update()

    @property
    def growth_mb(self) -> float:
        """Growth of the anonymous resident set at its peak."""
        return (self.peak[1] - self.base[1]) / 2**20

    @property
    def resident_growth_mb(self) -> float:
        """Growth of the whole resident set at its peak, file-backed pages
        (the code of libraries first run, such as XLA's compiler) included."""
        return (self.peak[0] - self.base[0]) / 2**20


def _memory_env() -> dict:
    # A fixed mmap threshold makes glibc return large blocks to the system on
    # free, so the resident set follows the live tensors of each step.
    return {**os.environ, "MALLOC_MMAP_THRESHOLD_": str(128 * 1024)}


# Keras side.


def _data(shape: Shape, batches: int):
    import numpy as np

    rng = np.random.default_rng(SEED)
    n = shape.batch * batches
    x = rng.normal(size=(n, shape.steps, shape.features)).astype("float32")
    y = rng.normal(size=(n, 1)).astype("float32")
    return x, y


def build_model(variant: str, shape: Shape):
    import keras

    from keras_lstm_cell.simple_lstm import SimpleLSTM
    from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

    layers = {
        "keras_lstm": lambda: keras.layers.LSTM(shape.units),
        "rnn_cell": lambda: keras.layers.RNN(SimpleLSTMCell(shape.units)),
        "simple_lstm": lambda: SimpleLSTM(shape.units),
        "simple_lstm_fused": lambda: SimpleLSTM(shape.units, use_cudnn=False),
        "simple_lstm_cudnn": lambda: SimpleLSTM(shape.units, use_cudnn=True),
    }
    inputs = keras.Input((shape.steps, shape.features))
    layer = layers[variant]()
    outputs = keras.layers.Dense(1)(layer(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=keras.optimizers.Adam(LEARNING_RATE, global_clipnorm=CLIPNORM),
        loss="mse",
    )
    return model, layer


def _sync(model) -> None:
    """Waits for the device: reading the weights back waits for their update."""
    import keras

    for variable in model.trainable_variables:
        keras.ops.convert_to_numpy(variable)


class _EpochTimer:
    """Seconds from the start to the end of the last epoch (or predict loop):
    the steady state, without `fit`'s and `predict`'s set-up per call. On a
    GPU the epoch ends when the last update has landed (`_sync`)."""

    def __init__(self):
        import keras

        timer = self

        class Callback(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch, logs=None):
                _sync(self.model)
                timer.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                _sync(self.model)
                timer.seconds = time.perf_counter() - timer.start

            def on_predict_begin(self, logs=None):
                timer.start = time.perf_counter()

            def on_predict_end(self, logs=None):
                timer.seconds = time.perf_counter() - timer.start

        self.callback = Callback()


class KerasRunner:
    """Fits `batches` batches per timed fit and predicts `predict_batches`
    (as many as `batches` unless given) per timed predict."""

    def __init__(
        self, variant: str, shape: Shape, batches: int, weights=None, predict_batches=None
    ):
        self.shape, self.batches = shape, batches
        self.model, self.layer = build_model(variant, shape)
        if weights is not None:
            self.model.set_weights(weights)
        self.x, self.y = _data(shape, batches)
        self.x_predict = _data(shape, predict_batches)[0] if predict_batches else self.x
        self.timer = _EpochTimer()
        # The loops the layer took, read after the first fit and predict,
        # which trace their steps (a loop is chosen when a step is traced).
        self.train_loop = self.infer_loop = None

    def fit(self) -> float:
        self.model.fit(
            self.x,
            self.y,
            batch_size=self.shape.batch,
            epochs=1,
            shuffle=False,
            verbose=0,
            callbacks=[self.timer.callback],
        )
        self.train_loop = self.train_loop or self._last_loop()
        return self.timer.seconds

    def predict(self) -> float:
        self.model.predict(
            self.x_predict,
            batch_size=self.shape.batch,
            verbose=0,
            callbacks=[self.timer.callback],
        )
        self.infer_loop = self.infer_loop or self._last_loop()
        return self.timer.seconds

    def _last_loop(self) -> str | None:
        return getattr(self.layer, "last_loop", None)

    @property
    def loop(self) -> str | None:
        """The loops `SimpleLSTM` took: `"train / infer"` where they differ."""
        train, infer = self.train_loop, self.infer_loop
        return train if train == infer else f"{train} / {infer}"


# Torch side, in a worker process that takes one JSON command per line.


class TorchRunner:
    def __init__(self, shape: Shape, batches: int, predict_batches: int | None = None):
        import numpy as np
        import torch

        torch.manual_seed(SEED)
        self.shape, self.batches = shape, batches
        self.predict_batches = predict_batches or batches
        self.device = "cuda" if torch.cuda.is_available() else "cpu"  # cuDNN on a GPU
        self.lstm = torch.nn.LSTM(shape.features, shape.units, batch_first=True).to(self.device)
        self.head = torch.nn.Linear(shape.units, 1).to(self.device)
        self.params = [*self.lstm.parameters(), *self.head.parameters()]
        self.optimizer = torch.optim.Adam(self.params, lr=LEARNING_RATE)
        self.loss = torch.nn.MSELoss()
        x, y = _data(shape, batches)
        self.x = torch.from_numpy(np.ascontiguousarray(x)).to(self.device)
        self.y = torch.from_numpy(y).to(self.device)
        x_predict = _data(shape, self.predict_batches)[0]
        self.x_predict = torch.from_numpy(np.ascontiguousarray(x_predict)).to(self.device)

    def _sync(self):
        import torch

        if self.device == "cuda":
            torch.cuda.synchronize()

    def _forward(self, x):
        outputs, _ = self.lstm(x)
        return self.head(outputs[:, -1])

    def fit(self) -> float:
        import torch

        b = self.shape.batch
        start = time.perf_counter()
        self.lstm.train()
        for k in range(self.batches):
            xb, yb = self.x[k * b : (k + 1) * b], self.y[k * b : (k + 1) * b]
            self.optimizer.zero_grad()
            self.loss(self._forward(xb), yb).backward()
            torch.nn.utils.clip_grad_norm_(self.params, CLIPNORM)
            self.optimizer.step()
        self._sync()
        return time.perf_counter() - start

    def predict(self) -> float:
        import torch

        b = self.shape.batch
        start = time.perf_counter()
        self.lstm.eval()
        with torch.no_grad():
            for k in range(self.predict_batches):
                self._forward(self.x_predict[k * b : (k + 1) * b]).cpu().numpy()
        return time.perf_counter() - start


def torch_worker() -> int:
    runner = None
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "setup":
            runner = TorchRunner(
                Shape(*command["shape"]), command["batches"], command["predict_batches"]
            )
            reply = {"ok": True}
        elif command["op"] == "versions":
            import torch

            reply = {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "torch_device": torch.cuda.get_device_name()
                if torch.cuda.is_available()
                else "cpu",
            }
        else:
            reply = {"seconds": getattr(runner, command["op"])()}
        print(json.dumps(reply), flush=True)
    return 0


class TorchClient:
    """Drives a `torch_worker` process, so torch's timings interleave with
    the Keras ones without sharing a process with TensorFlow."""

    def __init__(self):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--torch-worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def call(self, **command):
        self.proc.stdin.write(json.dumps(command) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("The torch worker stopped; see its error above.")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


class TorchVariant:
    def __init__(self, client: TorchClient, shape: Shape, batches: int, predict_batches: int):
        self.client = client
        client.call(
            op="setup",
            shape=list(asdict(shape).values()),
            batches=batches,
            predict_batches=predict_batches,
        )

    def fit(self) -> float:
        return self.client.call(op="fit")["seconds"]

    def predict(self) -> float:
        return self.client.call(op="predict")["seconds"]


def torch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


# Measurement.


def batches_for(shape: Shape, seconds_per_batch: float, config: Config) -> int:
    wanted = config.min_seconds / max(seconds_per_batch, 1e-6)
    return int(min(config.max_batches, max(MIN_BATCHES, round(wanted))))


def measure_shape(shape: Shape, config: Config, torch_client) -> dict:
    import keras

    # Calibrate the numbers of batches on keras.layers.LSTM, the baseline.
    keras.utils.set_random_seed(SEED)
    probe = KerasRunner(BASELINE, shape, batches=CALIBRATION_BATCHES)
    probe.fit()  # compiles
    batches = batches_for(shape, probe.fit() / CALIBRATION_BATCHES, config)
    probe.predict()  # compiles
    predict_batches = batches_for(shape, probe.predict() / CALIBRATION_BATCHES, config)
    weights = probe.model.get_weights()
    del probe

    runners, skipped = {}, {}
    for variant in config.variants:
        keras.utils.set_random_seed(SEED)
        try:
            runner = KerasRunner(variant, shape, batches, weights, predict_batches)
            runner.fit()  # warm-up: tracing, compilation, caches
            runner.predict()
        except ValueError as e:  # SimpleLSTM(use_cudnn=True) where cuDNN cannot run
            skipped[variant] = str(e)
            print(f"skipping {LABELS[variant]}: {e}", file=sys.stderr, flush=True)
            continue
        runners[variant] = runner
    if torch_client is not None:
        runners[TORCH_VARIANT] = TorchVariant(torch_client, shape, batches, predict_batches)
        runners[TORCH_VARIANT].fit()
        runners[TORCH_VARIANT].predict()

    names = list(runners)
    times = {name: {"fit": [], "predict": []} for name in names}
    for r in range(config.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            times[name]["fit"].append(runners[name].fit())
            times[name]["predict"].append(runners[name].predict())
    loops = {name: getattr(runner, "loop", None) for name, runner in runners.items()}
    return {
        "batches": batches,
        "predict_batches": predict_batches,
        "times": times,
        "loops": loops,
        "skipped": skipped,
    }


def memory_probe(variant: str, shape: Shape, batches: int) -> dict:
    """Runs in a fresh process: how much the anonymous resident set grows, at its peak,
    over the first two training epochs (tracing and compilation included:
    allocators keep memory after the first epoch, so a later epoch alone
    would show little growth)."""
    if variant == TORCH_VARIANT:
        runner = TorchRunner(shape, batches)
    else:
        import keras

        keras.utils.set_random_seed(SEED)
        runner = KerasRunner(variant, shape, batches)
    with PeakResident() as peak:
        runner.fit()
        runner.fit()
    return {
        "growth_mb": peak.growth_mb,
        "resident_growth_mb": peak.resident_growth_mb,
        "method": "anonymous resident set, first two epochs",
    }


def measure_memory(variant: str, shape: Shape, batches: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--memory-probe",
        variant,
        "--shapes",
        ",".join(str(v) for v in asdict(shape).values()),
        "--batches",
        str(batches),
    ]
    out = subprocess.run(command, env=_memory_env(), capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"Memory probe failed for {variant} {shape}:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def summarize(shape: Shape, measured: dict, memory: dict) -> list[dict]:
    rows = []
    times = measured["times"]
    sequences = shape.batch * measured["batches"]
    predicted = shape.batch * measured.get("predict_batches", measured["batches"])
    base = times[BASELINE]

    def ratio(t, k):
        # The median over rounds of each round's time over the baseline's in
        # the same round: a round's variants run back to back, so drift of
        # the machine between rounds cancels.
        return _median([ours / theirs for ours, theirs in zip(t[k], base[k], strict=True)])

    for name, t in times.items():
        fit, predict = _median(t["fit"]), _median(t["predict"])
        rows.append(
            {
                "shape": str(shape),
                "variant": name,
                "layer": LABELS[name],
                "loop": measured.get("loops", {}).get(name),
                "train_ms_per_batch": 1000 * fit / measured["batches"],
                "train_seq_per_s": sequences / fit,
                "train_time_vs_keras": ratio(t, "fit"),
                "infer_seq_per_s": predicted / predict,
                "infer_time_vs_keras": ratio(t, "predict"),
                "train_peak_mb": memory[name]["growth_mb"] if name in memory else None,
                "train_peak_resident_mb": (
                    memory[name].get("resident_growth_mb") if name in memory else None
                ),
                "memory_method": memory[name]["method"] if name in memory else None,
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [
        "| shape (B, T, F, H) | layer | loop | train seq/s | train time × keras "
        "| infer seq/s | infer time × keras | train peak MB |",
        "|---|---|---|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        mem = "" if r["train_peak_mb"] is None else f"{r['train_peak_mb']:.0f}"
        lines.append(
            f"| {r['shape']} | {r['layer']} | {r['loop'] or ''} | {r['train_seq_per_s']:,.0f} "
            f"| {r['train_time_vs_keras']:.2f} | {r['infer_seq_per_s']:,.0f} "
            f"| {r['infer_time_vs_keras']:.2f} | {mem} |"
        )
    return "\n".join(lines)


def machine() -> dict:
    import keras

    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")),
                cpu,
            )
    except OSError:
        pass
    info = {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    if keras.backend.backend() == "jax":
        import jax

        info["jax"] = jax.__version__
        info["device"] = str(jax.devices()[0].device_kind)
    if keras.backend.backend() == "torch":
        import torch

        info["torch"] = torch.__version__
        info["device"] = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    return info


# Command line.


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 rounds, short fits, no memory")
    parser.add_argument(
        "--shapes",
        nargs="+",
        help="shapes as batch,steps,features,units (default: the four of a full run)",
    )
    parser.add_argument("--rounds", type=int, help=f"timed rounds (default {ROUNDS})")
    parser.add_argument(
        "--memory",
        choices=("long", "all", "none"),
        help=f"shapes whose peak memory is measured (default {MEMORY_SHAPES!r})",
    )
    parser.add_argument("--no-torch", action="store_true", help="skip torch.nn.LSTM")
    parser.add_argument(
        "--variants",
        help=f"Keras layers to time, comma-separated, from {', '.join(list(LABELS)[:-1])} "
        f"(default: {','.join(KERAS_VARIANTS)}; {BASELINE} is always timed)",
    )
    parser.add_argument(
        "--backend",
        choices=("tensorflow", "jax", "torch"),
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument("--out", type=Path, help="JSON output path")
    # Internal: the torch worker and the memory probes run this file again.
    parser.add_argument("--torch-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    parser.add_argument("--batches", type=int, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def make_config(args) -> Config:
    shapes = [Shape.parse(s) for s in args.shapes] if args.shapes else None
    config = Config(shapes=shapes or [Shape(*s) for s in SHAPES])
    if args.quick:
        config.rounds, config.min_seconds, config.memory = 2, 0.15, "none"
    if args.rounds is not None:
        if args.rounds < 1:
            raise ValueError(f"Expected --rounds >= 1. Received: {args.rounds}")
        config.rounds = args.rounds
    if args.memory is not None:
        config.memory = args.memory
    if args.variants:
        variants = [v for v in args.variants.split(",") if v]
        unknown = [v for v in variants if v not in LABELS or v == TORCH_VARIANT]
        if unknown:
            raise ValueError(
                f"Expected --variants from {', '.join(list(LABELS)[:-1])}. Received: {unknown}"
            )
        config.variants = tuple(dict.fromkeys([BASELINE, *variants]))
    config.torch = not args.no_torch and torch_available()
    return config


def run(config: Config) -> dict:
    import keras

    load_before = os.getloadavg()
    torch_client = TorchClient() if config.torch else None
    results = {"machine": machine(), "config": asdict(config), "shapes": []}
    if torch_client is not None:
        results["machine"].update(torch_client.call(op="versions"))
    rows = []
    longest = max(config.shapes, key=lambda s: s.steps)
    try:
        for shape in config.shapes:
            print(f"measuring {shape} ...", file=sys.stderr, flush=True)
            measured = measure_shape(shape, config, torch_client)
            memory = {}
            if config.memory == "all" or (config.memory == "long" and shape == longest):
                variants = list(measured["times"])
                for variant in variants:
                    memory[variant] = measure_memory(variant, shape, min(measured["batches"], 4))
            shape_rows = summarize(shape, measured, memory)
            rows.extend(shape_rows)
            results["shapes"].append({"shape": asdict(shape), **measured, "memory_mb": memory})
            keras.backend.clear_session()
    finally:
        if torch_client is not None:
            torch_client.close()
    load_after = os.getloadavg()
    results["machine"]["load_average_1min"] = [load_before[0], load_after[0]]
    results["summary"] = rows
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.backend:
        os.environ["KERAS_BACKEND"] = args.backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        config = make_config(args)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.torch_worker:
        return torch_worker()
    if args.memory_probe:
        print(json.dumps(memory_probe(args.memory_probe, config.shapes[0], args.batches or 2)))
        return 0

    results = run(config)
    table = format_table(results["summary"])
    m = results["machine"]
    print(
        f"\n{m['cpu']}, {m['cores']} cores; Keras {m['keras']} ({m['backend']})"
        + (f", torch {m['torch']}" if "torch" in m else "")
        + (f"; device {m['device']}" if "device" in m else "")
        + f"; 1-min load average {m['load_average_1min'][0]:.1f} before, "
        f"{m['load_average_1min'][1]:.1f} after\n"
    )
    print(table)
    out = args.out or RESULTS_DIR / f"lstm_speed-{m['backend']}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
