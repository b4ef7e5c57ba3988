"""Which loop trains `SimpleLSTM` faster on a torch CPU: torch's LSTM kernel
or the fused loop, over a grid of shapes.

Times one forward and backward pass of the layer alone (the loss is the sum
of squared outputs) with each loop run directly (`keras_lstm_cell.loops`'
`TORCH_LSTM.run` and `FUSED.run`, in training mode) and with
`keras.layers.LSTM`, interleaved round by round after a warm-up; a ratio
("× keras") is the median over rounds of the loop's time over the built-in's
in the same round. The last columns say which loop was faster and which one
`AUTO_LOOPS` takes (`FUSED_SHORT`: the fused loop for at most units² / 4096
timesteps), so a run shows where that rule holds on a machine.

    python benchmarks/torch_loop_choice.py               # the grid, ~2 minutes
    python benchmarks/torch_loop_choice.py --shapes 7,7,1,256 --rounds 9

Writes `benchmarks/results/torch_loop_choice.json` unless `--out` says
otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"

# (batch, time steps, features, units): around where the two loops cross.
SHAPES = (
    (7, 7, 1, 256),  # the seed tutorial's model
    (1, 7, 1, 256),
    (16, 7, 1, 256),
    (32, 7, 1, 256),
    (128, 7, 1, 256),
    (7, 10, 1, 256),
    (7, 15, 1, 256),
    (7, 30, 1, 256),
    (64, 4, 1, 256),
    (2, 100, 1, 256),
    (7, 7, 1, 512),
    (16, 16, 1, 512),
    (32, 20, 1, 512),
    (1, 7, 1, 128),
    (7, 7, 1, 128),
    (4, 15, 1, 128),
    (16, 10, 3, 128),
    (7, 7, 1, 64),
    (64, 7, 5, 64),
    (64, 30, 5, 64),
)
ROUNDS = 5
MIN_SECONDS = 0.2  # per timed run of one variant
RESULTS = Path(__file__).resolve().parent / "results" / "torch_loop_choice.json"


def _shape(text: str) -> tuple[int, ...]:
    values = tuple(int(v) for v in text.split(","))
    if len(values) != 4 or min(values) <= 0:
        raise argparse.ArgumentTypeError(
            f"expected 'batch,steps,features,units', four positive integers; got {text!r}"
        )
    return values


def measure(shape, rounds: int) -> dict:
    import keras
    import numpy as np
    import torch

    from keras_lstm_cell import SimpleLSTM
    from keras_lstm_cell import loops

    batch, steps, features, units = shape
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(batch, steps, features)).astype("float32"))
    builtin = keras.layers.LSTM(units)
    builtin.build((None, steps, features))
    layer = SimpleLSTM(units)
    layer.build((None, steps, features))
    layer.set_weights(builtin.get_weights())
    zeros = [torch.zeros(batch, units), torch.zeros(batch, units)]

    def run_loop(loop):
        def run():
            last, _, _ = loop.run(layer, x, zeros, None, True)
            last.square().sum().backward()

        return run

    def run_builtin():
        builtin(x, training=True).square().sum().backward()

    variants = {
        "keras_lstm": run_builtin,
        "torch_lstm": run_loop(loops.TORCH_LSTM),
        "fused": run_loop(loops.FUSED),
    }
    calls = {}
    for name, run in variants.items():
        run()  # warm-up
        start = time.perf_counter()
        run()
        calls[name] = max(3, int(MIN_SECONDS / max(time.perf_counter() - start, 1e-6)))
    times = {name: [] for name in variants}
    names = list(variants)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            for _ in range(calls[name]):
                variants[name]()
            times[name].append((time.perf_counter() - start) / calls[name])

    def ratio(name):
        return statistics.median(a / b for a, b in zip(times[name], times["keras_lstm"]))

    call = loops.LoopCall(training=True, masked=False, device="cpu", steps=steps)
    chosen = "fused" if loops.FUSED_SHORT.reason(layer, call) is None else "torch_lstm"
    ratios = {name: ratio(name) for name in ("torch_lstm", "fused")}
    return {
        "shape": list(shape),
        "units_squared_per_step": units * units / steps,
        "keras_ms": 1000 * statistics.median(times["keras_lstm"]),
        "times_s": times,
        "ratio": ratios,
        "faster": min(ratios, key=ratios.get),
        "chosen": chosen,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shapes", type=_shape, nargs="+", default=list(SHAPES))
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    import torch
    from lstm_speed import machine

    rows = []
    print(
        "| shape (B, T, F, H) | units²/T | keras ms | torch_lstm × keras | fused × keras "
        "| faster | AUTO_LOOPS |"
    )
    print("|---|--:|--:|--:|--:|---|---|")
    for shape in args.shapes:
        row = measure(shape, args.rounds)
        rows.append(row)
        mark = "" if row["faster"] == row["chosen"] else " (not the faster)"
        print(
            f"| {tuple(shape)} | {row['units_squared_per_step']:,.0f} | {row['keras_ms']:.2f} "
            f"| {row['ratio']['torch_lstm']:.2f} | {row['ratio']['fused']:.2f} "
            f"| {row['faster']} | {row['chosen']}{mark} |",
            flush=True,
        )
    result = {
        "machine": {**machine(), "torch": torch.__version__, "threads": torch.get_num_threads()},
        "rounds": args.rounds,
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
