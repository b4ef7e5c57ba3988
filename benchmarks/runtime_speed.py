"""Speed of the default forecaster in every runtime it is shipped to.

Builds the forecasting tool's default network (`build_network` with the
`ForecastConfig` defaults: a window of 7 daily values of one column,
`RNN(SimpleLSTMCell(32)) -> Dense(1)`) and answers the same windows through

- Keras `model.predict`,
- the TensorFlow SavedModel (`model.export`, then `tf.saved_model.load`),
- LiteRT (`export_model(format="litert")`, the standard interpreter; one
  file per batch size, which the fused LSTM op fixes),
- onnxruntime (`export_model(format="onnx")`),
- `torch.nn.LSTM` + `torch.nn.Linear` with the same weights, under
  `torch.inference_mode` (the reference),

for one forecast (batch 1) and a batch of `BIG_BATCH` windows. Every runtime
is first checked to give the model's numbers. The runtimes run interleaved,
round by round in a rotating order, after a warm-up; each round times
`CALLS` calls (fewer for `predict`), and the table shows the median time per
call over rounds, its ratio to `torch.nn.LSTM`'s, and how many times faster than
`model.predict` it is.

    python benchmarks/runtime_speed.py            # about a minute
    python benchmarks/runtime_speed.py --rounds 3 # a quicker look

Writes `benchmarks/results/runtime_speed.json` unless `--out` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

BIG_BATCH = 256  # windows in the batch case
ROUNDS = 7  # timed rounds; the median is reported
CALLS = 200  # calls per runtime per round (batch 1)
BIG_CALLS = 20  # ... for the batch of BIG_BATCH windows
PREDICT_CALLS = 10  # model.predict is slow per call: fewer calls, same rounds
TOLERANCE = 1e-5  # largest absolute difference from model.predict allowed
SEED = 0
RESULTS_DIR = Path(__file__).resolve().parent / "results"

RUNTIMES = ("keras_predict", "saved_model", "litert", "onnxruntime", "torch_lstm")
BASELINE = "torch_lstm"


def build_forecaster():
    """The tool's default network, with random weights (speed does not depend
    on them)."""
    from keras_lstm_cell.forecast.config import ForecastConfig
    from keras_lstm_cell.forecast.model import build_network

    config = ForecastConfig()
    n_features = 1 + len(config.features)  # the target, then any feature columns
    model = build_network(config, n_features)
    return model, config


def torch_reference(model):
    """`torch.nn.LSTM` + `Linear` holding the Keras model's weights."""
    import torch

    lstm_layer, dense = model.layers[1], model.layers[2]
    kernel, recurrent, bias = (w.numpy() for w in lstm_layer.weights)
    units = recurrent.shape[0]
    lstm = torch.nn.LSTM(kernel.shape[0], units, batch_first=True)
    head = torch.nn.Linear(units, dense.units)
    with torch.no_grad():
        # Same gate order (i, f, c̃ = g, o); torch keeps W transposed and adds two biases.
        lstm.weight_ih_l0.copy_(torch.from_numpy(kernel.T))
        lstm.weight_hh_l0.copy_(torch.from_numpy(recurrent.T))
        lstm.bias_ih_l0.copy_(torch.from_numpy(bias))
        lstm.bias_hh_l0.zero_()
        head.weight.copy_(torch.from_numpy(dense.kernel.numpy().T))
        head.bias.copy_(torch.from_numpy(dense.bias.numpy()))

    def run(x):
        with torch.inference_mode():
            outputs, _ = lstm(torch.from_numpy(x))
            return head(outputs[:, -1]).numpy()

    return run


def runners(model, directory: Path, batches: dict):
    """`{runtime: {case: callable(x) -> forecasts}}`."""
    import onnxruntime
    import tensorflow as tf
    from ai_edge_litert.interpreter import Interpreter

    from keras_lstm_cell import export_model

    model.export(directory / "saved_model", format="tf_saved_model", verbose=False)
    saved = tf.saved_model.load(str(directory / "saved_model"))
    export_model(model, directory / "model.onnx", format="onnx")
    session = onnxruntime.InferenceSession(
        str(directory / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    onnx_input = session.get_inputs()[0].name
    litert = {}
    for case, x in batches.items():
        path = directory / f"model-{case}.tflite"
        export_model(model, path, format="litert", batch_size=len(x))
        litert[case] = Interpreter(model_path=str(path)).get_signature_runner()
    torch_run = torch_reference(model)

    def litert_run(case):
        runner = litert[case]
        (name,) = runner.get_input_details()
        return lambda x: next(iter(runner(**{name: x}).values()))

    return {
        "keras_predict": {c: (lambda x: model.predict(x, verbose=0)) for c in batches},
        "saved_model": {c: (lambda x: saved.serve(x).numpy()) for c in batches},
        "litert": {c: litert_run(c) for c in batches},
        "onnxruntime": {c: (lambda x: session.run(None, {onnx_input: x})[0]) for c in batches},
        "torch_lstm": {c: torch_run for c in batches},
    }


def _calls(runtime: str, case: str) -> int:
    if runtime == "keras_predict":
        return PREDICT_CALLS
    return CALLS if case == "one window" else BIG_CALLS


def measure(run, batches, rounds: int) -> dict:
    """Median seconds per call, `{case: {runtime: seconds}}`, and raw times."""
    raw = {case: {name: [] for name in run} for case in batches}
    names = list(run)
    for r in range(rounds + 1):  # round 0 warms up
        order = names[r % len(names) :] + names[: r % len(names)]
        for case, x in batches.items():
            for name in order:
                calls = _calls(name, case)
                start = time.perf_counter()
                for _ in range(calls):
                    run[name][case](x)
                if r:
                    raw[case][name].append((time.perf_counter() - start) / calls)
    medians = {c: {n: statistics.median(t) for n, t in times.items()} for c, times in raw.items()}
    return medians, raw


def check_equal(model, run, batches) -> dict:
    """Largest absolute difference from `model.predict`, per runtime and case."""
    import numpy as np

    diffs = {}
    for case, x in batches.items():
        expected = model.predict(x, verbose=0)
        for name, per_case in run.items():
            diff = float(np.max(np.abs(np.asarray(per_case[case](x)) - expected)))
            if diff > TOLERANCE:
                raise SystemExit(f"{name} differs from model.predict by {diff:.3g} on {case}")
            diffs.setdefault(case, {})[name] = diff
    return diffs


def table(medians: dict) -> str:
    lines = [
        "| case | runtime | ms per call | time × torch.nn.LSTM | speed-up over model.predict |",
        "|---|---|--:|--:|--:|",
    ]
    for case, times in medians.items():
        for name in RUNTIMES:
            t = times[name]
            lines.append(
                f"| {case} | {name} | {t * 1e3:.3f} | {t / times[BASELINE]:.2f} | "
                f"{times['keras_predict'] / t:,.0f}x |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"default {ROUNDS}")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "runtime_speed.json")
    args = parser.parse_args(argv)

    import keras
    import numpy as np
    import tensorflow as tf
    import torch

    keras.utils.set_random_seed(SEED)
    model, config = build_forecaster()
    rng = np.random.default_rng(SEED)
    shape = model.input_shape[1:]
    batches = {
        "one window": rng.standard_normal((1, *shape)).astype("float32"),
        f"{BIG_BATCH} windows": rng.standard_normal((BIG_BATCH, *shape)).astype("float32"),
    }
    with tempfile.TemporaryDirectory() as directory:
        run = runners(model, Path(directory), batches)
        diffs = check_equal(model, run, batches)
        medians, raw = measure(run, batches, args.rounds)
    print(table(medians))
    result = {
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": sys.version.split()[0],
            "tensorflow": tf.__version__,
            "keras": keras.__version__,
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "config": {
            "model": "build_network(ForecastConfig())",
            "window": config.window,
            "units": config.units,
            "layer": config.layer,
            "rounds": args.rounds,
            "calls": CALLS,
            "big_calls": BIG_CALLS,
            "predict_calls": PREDICT_CALLS,
        },
        "max_abs_diff_vs_predict": diffs,
        "median_seconds_per_call": medians,
        "raw_seconds_per_call": raw,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
