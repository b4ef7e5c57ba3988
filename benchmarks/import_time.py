"""What `import keras_lstm_cell` costs against `import keras`, per Keras backend.

Each import runs in a fresh interpreter, which times the import statement
alone (`time.perf_counter` around it, so the interpreter's own start is left
out) and reports its peak resident set after it (`ru_maxrss`). For each
backend the two imports alternate round by round, the first one switching
each round, so the drift of a shared machine reaches both alike; the table
shows medians over the rounds and the ratios `keras_lstm_cell / keras` (the
goal: at most 1.15 on JAX and torch).

    python benchmarks/import_time.py                       # jax, torch, tensorflow
    python benchmarks/import_time.py --backends jax --rounds 9

Writes `benchmarks/results/import_time.json` (every round, the medians, the
machine) unless `--out` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

BACKENDS = ("jax", "torch", "tensorflow")
MODULES = ("keras", "keras_lstm_cell")  # the baseline first
ROUNDS = 7  # fresh imports of each module per backend
CHILD_TIMEOUT = 300  # seconds for one import
RESULTS_DIR = Path(__file__).resolve().parent / "results"
MIB = 2**20

# Run by each child: the import's seconds and the process's peak resident set.
CHILD = """
import json, resource, sys, time
started = time.perf_counter()
import {module}
seconds = time.perf_counter() - started
unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB elsewhere
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit
print(json.dumps({{"seconds": seconds, "peak_bytes": peak}}))
"""


def measure(module: str, backend: str) -> dict:
    """One import of `module` in a fresh interpreter on `backend`."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(module=module)],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        env={**os.environ, "KERAS_BACKEND": backend},
    )
    if done.returncode != 0:
        raise RuntimeError(f"import {module} on {backend} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def run_backend(backend: str, rounds: int) -> dict:
    """Every round's measurements of both modules, and their medians."""
    raw = {module: [] for module in MODULES}
    for round_index in range(rounds):
        order = MODULES if round_index % 2 == 0 else MODULES[::-1]
        for module in order:
            raw[module].append(measure(module, backend))
    medians = {
        module: {
            "seconds": statistics.median(m["seconds"] for m in runs),
            "peak_bytes": statistics.median(m["peak_bytes"] for m in runs),
        }
        for module, runs in raw.items()
    }
    keras_, ours = medians["keras"], medians["keras_lstm_cell"]
    return {
        "raw": raw,
        "medians": medians,
        "time_ratio": ours["seconds"] / keras_["seconds"],
        "memory_ratio": ours["peak_bytes"] / keras_["peak_bytes"],
    }


def format_table(results: dict) -> str:
    lines = [
        "| backend | `import keras` | `import keras_lstm_cell` | time ratio "
        "| RSS `keras` | RSS `keras_lstm_cell` | RSS ratio |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for backend, result in results.items():
        keras_, ours = (result["medians"][module] for module in MODULES)
        lines.append(
            f"| {backend} | {keras_['seconds']:.2f} s | {ours['seconds']:.2f} s "
            f"| {result['time_ratio']:.2f} | {keras_['peak_bytes'] / MIB:.0f} MiB "
            f"| {ours['peak_bytes'] / MIB:.0f} MiB | {result['memory_ratio']:.2f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="imports of each, per backend")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "import_time.json")
    args = parser.parse_args(argv)
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown or args.rounds < 1:
        parser.error(f"expected backends among {', '.join(BACKENDS)} and --rounds >= 1")

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = {backend: run_backend(backend, args.rounds) for backend in backends}
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"Import time and peak RSS, medians of {args.rounds} interleaved rounds; {machine}")
    print(format_table(results))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "date": started,
                "machine": machine,
                "python": platform.python_version(),
                "rounds": args.rounds,
                "results": results,
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
