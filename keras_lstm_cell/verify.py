"""Proof that `SimpleLSTMCell` computes what `keras.layers.LSTM` computes.

Run `python -m keras_lstm_cell.verify` to print, for a grid of configurations,
the largest absolute difference between `keras.layers.RNN(SimpleLSTMCell(n))`
and `keras.layers.LSTM(n)` after `set_weights`, in the outputs (sequence or
last output, final h and c) and in the gradients with respect to the inputs and
every weight; then the difference from the float64 NumPy reference in
`keras_lstm_cell.reference`. The test suite runs the same comparisons.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

import keras
import numpy as np

from keras_lstm_cell.reference import lstm_forward
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

BATCH = 4  # sequences per batch
STEPS = 6  # time steps
INPUT_DIM = 3  # features per step
UNITS = 5  # LSTM units
TOLERANCE = {"float32": 1e-6, "float64": 1e-12}


def reference_tolerance() -> float:
    """Allowed max |Δ| between float64 layers and the float64 NumPy reference.

    On the JAX backend, `keras.ops.tanh` computes float64 inputs in float32
    (Keras 3.15 promotes them with `result_type(x.dtype, float)`), so float64
    agrees only to float32 precision there; `keras.layers.LSTM` shares this.
    """
    return 1e-6 if keras.backend.backend() == "jax" else 1e-12


@dataclass(frozen=True)
class ParityConfig:
    """One configuration of the comparison grid."""

    name: str
    rnn: dict = field(default_factory=dict)  # keras.layers.RNN options
    cell: dict = field(default_factory=dict)  # LSTM cell options
    dtype: str = "float32"
    mask: bool = False  # pad some sequences with zeros behind a Masking layer


GRID: tuple[ParityConfig, ...] = (
    ParityConfig("last output"),
    ParityConfig("return_sequences", rnn={"return_sequences": True}),
    ParityConfig("return_state", rnn={"return_sequences": True, "return_state": True}),
    ParityConfig("go_backwards", rnn={"return_sequences": True, "go_backwards": True}),
    ParityConfig("mask", rnn={"return_sequences": True}, mask=True),
    ParityConfig(
        "mask + zero_output_for_mask",
        rnn={"return_sequences": True, "zero_output_for_mask": True},
        mask=True,
    ),
    ParityConfig(
        "mask + go_backwards", rnn={"go_backwards": True, "return_state": True}, mask=True
    ),
    ParityConfig("stateful, 2 batches", rnn={"stateful": True, "return_state": True}),
    ParityConfig("use_bias=False", cell={"use_bias": False}),
    ParityConfig("unit_forget_bias=False", cell={"unit_forget_bias": False}),
    ParityConfig("unroll", rnn={"unroll": True, "return_sequences": True}),
    ParityConfig("unroll + mask", rnn={"unroll": True}, mask=True),
    ParityConfig("float64", rnn={"return_sequences": True}, dtype="float64"),
    ParityConfig(
        "float64 + mask + go_backwards",
        rnn={"go_backwards": True, "return_state": True},
        dtype="float64",
        mask=True,
    ),
)


@dataclass
class ParityResult:
    name: str
    dtype: str
    forward: float  # max |Δ| over outputs and states
    gradient: float  # max |Δ| over d/dx and d/dweights
    tolerance: float

    @property
    def ok(self) -> bool:
        return self.forward <= self.tolerance and self.gradient <= self.tolerance


def make_inputs(config: ParityConfig, seed: int = 0) -> np.ndarray:
    """`(batch, steps, input_dim)` inputs; masked configs get zero padding."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(BATCH, STEPS, INPUT_DIM)).astype(config.dtype)
    if config.mask:
        x[1, -2:] = 0.0  # right padding
        x[2, :3] = 0.0  # left padding
        x[3, 2] = 0.0  # a hole in the middle
    return x


def build_model(layer: keras.layers.Layer, config: ParityConfig) -> keras.Model:
    batch_size = BATCH if config.rnn.get("stateful") else None
    inputs = keras.Input((STEPS, INPUT_DIM), batch_size=batch_size, dtype=config.dtype)
    x = keras.layers.Masking(0.0, dtype=config.dtype)(inputs) if config.mask else inputs
    return keras.Model(inputs, layer(x))


def builtin_lstm(config: ParityConfig, units: int = UNITS) -> keras.layers.LSTM:
    return keras.layers.LSTM(units, **config.cell, **config.rnn, dtype=config.dtype)


def our_rnn(config: ParityConfig, units: int = UNITS) -> keras.layers.RNN:
    cell = SimpleLSTMCell(units, **config.cell, dtype=config.dtype)
    return keras.layers.RNN(cell, **config.rnn, dtype=config.dtype)


def outputs_and_gradients(
    model: keras.Model, x: np.ndarray, cotangent_seed: int = 1
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The model's outputs, and the gradients of a fixed random projection of
    them with respect to `x` and each trainable weight (in weight order)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            outputs = keras.tree.flatten(model(xt))
            loss = _projection(outputs, cotangent_seed)
        grads = tape.gradient(loss, [xt, *model.trainable_variables])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_fn(xj, weights):
            y, _ = model.stateless_call(weights, non_trainable, xj)
            flat = keras.tree.flatten(y)
            return _projection(flat, cotangent_seed), flat

        (_, outputs), (gx, gw) = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(
            x, trainable
        )
        grads = [gx, *gw]
        model(x)  # advance stateful RNN states as an eager call would
    else:
        raise ValueError(
            "Gradient comparison supports the 'tensorflow' and 'jax' backends. "
            f"Received: backend={backend!r}"
        )
    to_np = keras.ops.convert_to_numpy
    return [to_np(o) for o in outputs], [to_np(g) for g in grads]


def _projection(outputs, seed: int):
    rng = np.random.default_rng(seed)
    total = 0.0
    for out in outputs:
        dtype = keras.backend.standardize_dtype(out.dtype)
        weights = rng.normal(size=tuple(out.shape)).astype(dtype)
        total = total + keras.ops.sum(out * weights)
    return total


def _max_abs_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    if len(a) != len(b):
        raise ValueError(f"Expected equal-length lists. Received: {len(a)} and {len(b)}")
    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))


def compare_with_keras_lstm(config: ParityConfig, seed: int = 0) -> ParityResult:
    """Builds both layers with the same weights and compares values."""
    keras.utils.set_random_seed(seed)
    reference = build_model(builtin_lstm(config), config)
    ours = build_model(our_rnn(config), config)
    ours.set_weights(reference.get_weights())
    x = make_inputs(config, seed)
    batches = [x, make_inputs(config, seed + 1)] if config.rnn.get("stateful") else [x]
    forward = gradient = 0.0
    for batch in batches:  # stateful configs carry the state into the second batch
        out_ref, grad_ref = outputs_and_gradients(reference, batch)
        out_ours, grad_ours = outputs_and_gradients(ours, batch)
        forward = max(forward, _max_abs_diff(out_ref, out_ours))
        gradient = max(gradient, _max_abs_diff(grad_ref, grad_ours))
    return ParityResult(config.name, config.dtype, forward, gradient, TOLERANCE[config.dtype])


def compare_with_reference(seed: int = 0, go_backwards: bool = False) -> float:
    """Max |Δ| of h and c between a float64 `RNN(SimpleLSTMCell)` and the
    float64 NumPy reference, on random weights."""
    keras.utils.set_random_seed(seed)
    config = ParityConfig("reference", dtype="float64")
    layer = keras.layers.RNN(
        SimpleLSTMCell(UNITS, bias_initializer="random_normal", dtype="float64"),
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        dtype="float64",
    )
    x = make_inputs(config, seed)
    seq, h, c = (keras.ops.convert_to_numpy(t) for t in layer(x))
    ref = lstm_forward(x[:, ::-1] if go_backwards else x, layer.cell.gate_weights())
    return max(
        float(np.max(np.abs(seq - ref["h"]))),
        float(np.max(np.abs(h - ref["h"][:, -1]))),
        float(np.max(np.abs(c - ref["c"][:, -1]))),
    )


def format_table(results: list[ParityResult]) -> str:
    header = (
        f"| {'configuration':32} | dtype   | forward max abs diff | gradient max abs diff | ok  |"
    )
    lines = [header, "|" + "|".join("-" * (len(p)) for p in header.split("|")[1:-1]) + "|"]
    for r in results:
        lines.append(
            f"| {r.name:32} | {r.dtype:7} | {r.forward:20.3g} | {r.gradient:21.3g} | "
            f"{'yes' if r.ok else 'NO':3} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keras_lstm_cell.verify",
        description="Compare SimpleLSTMCell with keras.layers.LSTM and a NumPy reference.",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    results = [compare_with_keras_lstm(config) for config in GRID]
    print(
        f"RNN(SimpleLSTMCell) vs keras.layers.LSTM, backend={keras.backend.backend()}, "
        f"batch={BATCH}, steps={STEPS}, input_dim={INPUT_DIM}, units={UNITS}"
    )
    print(format_table(results))
    ref_diff = max(compare_with_reference(), compare_with_reference(go_backwards=True))
    tolerance = reference_tolerance()
    print(
        f"\nfloat64 RNN(SimpleLSTMCell) vs NumPy float64 reference: max abs diff "
        f"{ref_diff:.3g} (tolerance {tolerance:g})"
    )
    ok = all(r.ok for r in results) and ref_diff <= tolerance
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "backend": keras.backend.backend(),
                    "results": [asdict(r) for r in results],
                    "reference": ref_diff,
                    "ok": ok,
                },
                f,
                indent=2,
            )
    print("\nall within tolerance" if ok else "\nSOME CONFIGURATIONS DIFFER", file=sys.stdout)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
