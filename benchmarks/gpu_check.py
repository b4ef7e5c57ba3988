"""Everything a GPU machine should measure, in one run.

For each Keras backend that imports here (TensorFlow, JAX, torch; a machine
without TensorFlow skips it), in a fresh process each:

1. `python -m keras_lstm_cell.verify`: the parity grid of RNN(SimpleLSTMCell)
   and SimpleLSTM against keras.layers.LSTM's own loop at full float32
   precision, and the row at the device's default precision (TF32).
2. The tests marked `gpu` (tests/test_simple_lstm_gpu.py): the grid again,
   forced cuDNN, the TF32 tolerance and the loop `"auto"` takes.
3. `benchmarks/lstm_speed.py`: fit and predict time of keras.layers.LSTM,
   RNN(SimpleLSTMCell), SimpleLSTM, SimpleLSTM(use_cudnn=False) (the fused
   loop) and SimpleLSTM(use_cudnn=True) on the shapes of the GPU table of
   docs/speed.md; torch.nn.LSTM (cuDNN) alongside the torch backend's run.

Then it writes `summary.md` with the parity rows and one speed table per
backend, the tables docs/speed.md shows. Every step writes its
own files under `--out` as it finishes, so a run cut short keeps what it had.

    python benchmarks/gpu_check.py --out gpu-results          # a GPU machine, ~10 minutes
    python benchmarks/gpu_check.py --quick --out /tmp/check   # a smoke test, on a CPU too

Run it from the project's root (it puts the root on PYTHONPATH); Keras,
JAX and torch come from the environment.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BACKENDS = ("tensorflow", "jax", "torch")
# The shapes of the GPU table of docs/speed.md, (batch, steps, features, units).
SHAPES = ("7,7,1,256", "64,30,5,64", "128,100,32,256", "32,1000,8,128", "512,100,64,512")
QUICK_SHAPES = ("64,30,5,64",)
VARIANTS = "keras_lstm,rnn_cell,simple_lstm,simple_lstm_fused,simple_lstm_cudnn"
ROUNDS = 3  # timed rounds per variant in a full run
STEP_SECONDS = {"verify": 600, "tests": 900, "speed": 1800}  # limits of one step
QUICK_STEP_SECONDS = {"verify": 300, "tests": 300, "speed": 600}


def available_backends() -> list[str]:
    """The backends whose library imports here (TensorFlow is optional)."""
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def _env(backend: str) -> dict:
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONPATH": path, "MPLBACKEND": "Agg"}
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if backend == "jax":
        env["JAX_ENABLE_X64"] = "1"  # the float64 rows mean float64
    return env


def run_step(name: str, command: list[str], backend: str, out: Path, limit: float) -> dict:
    """Runs one step in a fresh process; its output goes to `<name>.log`."""
    log = out / f"{name}.log"
    start = time.perf_counter()
    print(f"== {name}: {' '.join(command)}", flush=True)
    with open(log, "w") as f:
        try:
            rc = subprocess.run(
                command,
                cwd=ROOT,
                env=_env(backend),
                stdout=f,
                stderr=subprocess.STDOUT,
                timeout=limit,
                check=False,
            ).returncode
        except subprocess.TimeoutExpired:
            rc = "timeout"
    seconds = time.perf_counter() - start
    print(f"   rc={rc} in {seconds:.0f} s, log {log}", flush=True)
    return {"step": name, "backend": backend, "rc": rc, "seconds": seconds, "log": str(log)}


def check_backend(backend: str, out: Path, quick: bool, torch_rows: bool) -> list[dict]:
    limits = QUICK_STEP_SECONDS if quick else STEP_SECONDS
    python = sys.executable
    steps = [
        run_step(
            f"verify-{backend}",
            [python, "-m", "keras_lstm_cell.verify", "--json", str(out / f"verify-{backend}.json")],
            backend, out, limits["verify"],
        ),
        run_step(
            f"tests-{backend}",
            [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "gpu",
             "tests/test_simple_lstm_gpu.py"],
            backend, out, limits["tests"],
        ),
    ]  # fmt: skip
    speed = [
        python, "benchmarks/lstm_speed.py", "--backend", backend, "--variants", VARIANTS,
        "--memory", "none", "--out", str(out / f"speed-{backend}.json"),
        "--shapes", *(QUICK_SHAPES if quick else SHAPES),
    ]  # fmt: skip
    speed += ["--quick"] if quick else ["--rounds", str(ROUNDS)]
    if not torch_rows:
        speed.append("--no-torch")
    steps.append(run_step(f"speed-{backend}", speed, backend, out, limits["speed"]))
    return steps


# The summary.


def parity_lines(verify: dict) -> list[str]:
    rows = verify["results"]
    worst = {}
    for r in rows:
        key = (r["layer"], r["dtype"])
        worst[key] = max(worst.get(key, 0.0), r["forward"], r["gradient"])
    failing = [f"{r['layer']} / {r['name']}" for r in rows if not _ok(r)]
    default = verify["default_precision"]
    lines = [f"{verify['header']}", ""]
    lines += [
        f"- {layer}, {dtype}: largest difference {diff:.3g}"
        for (layer, dtype), diff in worst.items()
    ]
    lines.append(
        f"- default precision (TF32 where allowed): forward {default['forward']:.3g}, "
        f"gradient {default['gradient']:.3g}, tolerance {default['tolerance']:g}"
    )
    lines.append(f"- loops SimpleLSTM took: {sorted({r['loop'] for r in rows if r['loop']})}")
    lines.append(f"- rows over tolerance: {', '.join(failing) if failing else 'none'}")
    return lines


def _ok(row: dict) -> bool:
    return row["forward"] <= row["tolerance"] and row["gradient"] <= row["tolerance"]


def speed_lines(speed: dict) -> list[str]:
    m = speed["machine"]
    device = m.get("device") or m.get("torch_device") or "cpu"
    lines = [
        f"Keras {m['keras']} ({m['backend']}), device {device}; fit and predict, median of "
        f"{speed['config']['rounds']} rounds; ms per batch, and time × keras.layers.LSTM",
        "",
        "| shape (B, T, F, H) | layer | loop | train ms/batch | train × keras | infer × keras |",
        "|---|---|---|--:|--:|--:|",
    ]
    for r in speed["summary"]:
        lines.append(
            f"| {r['shape']} | {r['layer']} | {r['loop'] or ''} | {r['train_ms_per_batch']:.1f} "
            f"| {r['train_time_vs_keras']:.2f} | {r['infer_time_vs_keras']:.2f} |"
        )
    for shape in speed["shapes"]:
        for variant, error in shape.get("skipped", {}).items():
            # Keras wraps the layer's message in call details and colour codes.
            plain = re.sub(r"\x1b\[[0-9;]*m", "", error)
            reason = next((ln for ln in plain.splitlines() if "cuDNN" in ln), plain)
            lines.append(f"\nNot timed, {variant} on {tuple(shape['shape'].values())}: {reason}")
    return lines


def write_summary(out: Path, steps: list[dict]) -> Path:
    lines = ["# GPU check", "", f"{time.strftime('%Y-%m-%d %H:%M')}, {_gpu_name()}", ""]
    lines += ["## Steps", "", "| step | rc | seconds |", "|---|---|--:|"]
    lines += [f"| {s['step']} | {s['rc']} | {s['seconds']:.0f} |" for s in steps]
    for backend in BACKENDS:
        verify, speed = out / f"verify-{backend}.json", out / f"speed-{backend}.json"
        if not verify.exists() and not speed.exists():
            continue
        lines += ["", f"## {backend}", ""]
        if verify.exists():
            lines += parity_lines(json.loads(verify.read_text())) + [""]
        if speed.exists():
            lines += speed_lines(json.loads(speed.read_text()))
    path = out / "summary.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _gpu_name() -> str:
    try:
        done = subprocess.run(
            ["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=False
        )
        return done.stdout.strip() or "no GPU listed by nvidia-smi"
    except (OSError, subprocess.TimeoutExpired):
        return "no nvidia-smi"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for logs and results")
    parser.add_argument("--quick", action="store_true", help="one shape, short runs")
    parser.add_argument(
        "--backends",
        help=f"comma-separated, from {', '.join(BACKENDS)} (default: those that import here)",
    )
    args = parser.parse_args(argv)
    backends = args.backends.split(",") if args.backends else available_backends()
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        print(f"error: Expected --backends from {', '.join(BACKENDS)}. Received: {unknown}")
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    # torch.nn.LSTM once: beside the torch backend's run, else the first one.
    torch_rows = "torch" if "torch" in backends else backends[0]
    steps = []
    for backend in backends:
        steps += check_backend(backend, args.out, args.quick, torch_rows == backend)
        write_summary(args.out, steps)  # after every backend: a cut run keeps it
    (args.out / "steps.json").write_text(json.dumps(steps, indent=2) + "\n")
    print(f"wrote {write_summary(args.out, steps)}")
    return 0 if all(s["rc"] == 0 for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
