"""Proof that `SimpleLSTMCell` and `SimpleLSTM` compute what `keras.layers.LSTM` computes.

Run `python -m keras_lstm_cell.verify` to print, for a grid of configurations
and for both `keras.layers.RNN(SimpleLSTMCell(n))` and `SimpleLSTM(n)`, the
largest absolute difference from `keras.layers.LSTM(n)` after `set_weights`,
in the outputs (sequence or last output, final h and c) and in the gradients
with respect to the inputs and every weight (by `tf.GradientTape`, `jax.grad`
or torch autograd); then the difference from the float64 NumPy reference in
`keras_lstm_cell.reference`. The test suite runs the same comparisons.

The reference is the built-in's own loop over `keras.layers.LSTMCell`
(`use_cudnn=False`), which defines its documented semantics. Its cuDNN path is
not a reference: on a GPU with Keras 3.15.1's JAX backend it returns the
sequence of `go_backwards=True, return_sequences=True` in reverse order.

The grid runs with float32 matrix products at full precision
(`accelerator.full_float32_precision()`); one more row, at the device's
default precision, shows what TF32 changes on a GPU, against its own
tolerance, `TF32_TOLERANCE`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field

import keras
import numpy as np

from keras_lstm_cell import accelerator
from keras_lstm_cell.reference import lstm_forward
from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

BATCH = 4  # sequences per batch
STEPS = 6  # time steps
INPUT_DIM = 3  # features per step
UNITS = 5  # LSTM units
# Allowed difference per dtype, as `scaled_diff` measures it: absolute for
# values up to 1, relative above (one float32 rounding of a gradient near 8 is
# already 4.8e-7).
TOLERANCE = {"float32": 1e-6, "float64": 1e-12}
# Max |Δ| allowed at the device's default precision, where float32 products may
# run in TF32: four times one TF32 rounding (2^-11 ≈ 4.9e-4), about twice the
# largest difference measured on an NVIDIA H200 (9.6e-4, a gradient).
TF32_TOLERANCE = 2e-3
LAYERS = ("RNN(SimpleLSTMCell)", "SimpleLSTM")


def reference_tolerance() -> float:
    """Allowed max |Δ| between float64 layers and the float64 NumPy reference.

    On the JAX and torch backends, Keras 3.15's type promotion turns float64
    into float32 (`keras.backend.result_type("float64", "float64")` is
    "float32" there), so `keras.ops.matmul` and `keras.ops.tanh` compute
    float64 inputs in float32 and float64 agrees only to float32 precision;
    `keras.layers.LSTM` shares this.
    """
    return 1e-6 if keras.backend.backend() in ("jax", "torch") else 1e-12


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


def tolerance(dtype: str, layer: str = LAYERS[0]) -> float:
    """Allowed max |Δ| from the built-in at full precision.

    On JAX and torch, Keras's float64 operations are float32-accurate
    (`reference_tolerance`): `SimpleLSTM`'s fused loop (which applies tanh to
    all four gates at once where the cell applies it per gate) and torch's
    LSTM kernel (true float64) round differently from the cell there.
    """
    if dtype == "float64" and layer == "SimpleLSTM":
        return max(TOLERANCE[dtype], reference_tolerance())
    return TOLERANCE[dtype]


@dataclass
class ParityResult:
    name: str
    dtype: str
    forward: float  # `scaled_diff` over outputs and states
    gradient: float  # `scaled_diff` over d/dx and d/dweights
    tolerance: float
    layer: str = LAYERS[0]
    loop: str | None = None  # the loop SimpleLSTM ran (its `last_loop`)

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
    """The built-in's own loop (module docstring: why not its cuDNN path)."""
    return keras.layers.LSTM(
        units, **config.cell, **config.rnn, use_cudnn=False, dtype=config.dtype
    )


def our_rnn(config: ParityConfig, units: int = UNITS) -> keras.layers.RNN:
    cell = SimpleLSTMCell(units, **config.cell, dtype=config.dtype)
    return keras.layers.RNN(cell, **config.rnn, dtype=config.dtype)


def our_layer(layer: str, config: ParityConfig, units: int = UNITS) -> keras.layers.Layer:
    """`layer` (one of `LAYERS`) configured as `config`."""
    if layer == "SimpleLSTM":
        return SimpleLSTM(units, **config.cell, **config.rnn, dtype=config.dtype)
    if layer == "RNN(SimpleLSTMCell)":
        return our_rnn(config, units)
    raise ValueError(f"Expected `layer` to be one of {LAYERS}. Received: layer={layer!r}")


def outputs_and_gradients(
    model: keras.Model, x: np.ndarray, cotangent_seed: int = 1, training: bool = False
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The model's outputs, and the gradients of a fixed random projection of
    them with respect to `x` and each trainable weight (in weight order),
    from a call in training mode where `training` (dropout then acts)."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        xt = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            outputs = keras.tree.flatten(model(xt, training=training))
            loss = _projection(outputs, cotangent_seed)
        grads = tape.gradient(loss, [xt, *model.trainable_variables])
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_fn(xj, weights):
            y, _ = model.stateless_call(weights, non_trainable, xj, training=training)
            flat = keras.tree.flatten(y)
            return _projection(flat, cotangent_seed), flat

        (_, outputs), (gx, gw) = jax.value_and_grad(loss_fn, argnums=(0, 1), has_aux=True)(
            x, trainable
        )
        grads = [gx, *gw]
        model(x)  # advance stateful RNN states as an eager call would
    elif backend == "torch":
        import torch

        # On Keras's device; an explicit dtype, as torch's backend would
        # otherwise make float64 arrays floatx.
        xt = keras.ops.convert_to_tensor(x, dtype=x.dtype.name).requires_grad_(True)
        outputs = keras.tree.flatten(model(xt, training=training))
        loss = _projection(outputs, cotangent_seed)
        grads = torch.autograd.grad(loss, [xt, *(v.value for v in model.trainable_variables)])
    else:
        raise ValueError(
            "Gradient comparison supports the 'tensorflow', 'jax' and 'torch' backends. "
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
        total = total + keras.ops.sum(keras.ops.multiply(out, weights))
    return total


def scaled_diff(reference: list[np.ndarray], other: list[np.ndarray]) -> float:
    """The largest `max |Δ| / max(1, max |reference|)` over pairs of arrays:
    the absolute difference for values up to 1, the relative one above."""
    if len(reference) != len(other):
        raise ValueError(
            f"Expected equal-length lists. Received: {len(reference)} and {len(other)}"
        )
    return max(
        float(np.max(np.abs(np.asarray(u) - np.asarray(v))) / max(1.0, np.max(np.abs(u))))
        for u, v in zip(reference, other)
    )


def compare_with_keras_lstm(
    config: ParityConfig, seed: int = 0, layer: str = LAYERS[0], full_precision: bool = True
) -> ParityResult:
    """Builds `layer` and the built-in with the same weights and compares
    values, with float32 products at full precision unless told otherwise."""
    precision = accelerator.full_float32_precision() if full_precision else contextlib.nullcontext()
    with precision:
        keras.utils.set_random_seed(seed)
        reference = build_model(builtin_lstm(config), config)
        ours_layer = our_layer(layer, config)
        ours = build_model(ours_layer, config)
        ours.set_weights(reference.get_weights())
        x = make_inputs(config, seed)
        batches = [x, make_inputs(config, seed + 1)] if config.rnn.get("stateful") else [x]
        forward = gradient = 0.0
        for batch in batches:  # stateful configs carry the state into the second batch
            out_ref, grad_ref = outputs_and_gradients(reference, batch)
            out_ours, grad_ours = outputs_and_gradients(ours, batch)
            forward = max(forward, scaled_diff(out_ref, out_ours))
            gradient = max(gradient, scaled_diff(grad_ref, grad_ours))
    return ParityResult(
        config.name,
        config.dtype,
        forward,
        gradient,
        tolerance(config.dtype, layer),
        layer=layer,
        loop=getattr(ours_layer, "last_loop", None),
    )


def compare_at_default_precision(
    configs: tuple[ParityConfig, ...] = GRID, seed: int = 0
) -> ParityResult:
    """The float32 configurations of `configs`, both layers, at the device's
    default precision (TF32 where a GPU allows it): the largest differences."""
    results = [
        compare_with_keras_lstm(config, seed, layer, full_precision=False)
        for config in configs
        if config.dtype == "float32"
        for layer in LAYERS
    ]
    return ParityResult(
        "all float32 rows, default precision",
        "float32",
        max(r.forward for r in results),
        max(r.gradient for r in results),
        TF32_TOLERANCE,
        layer="both",
    )


def compare_with_reference(
    seed: int = 0, go_backwards: bool = False, layer: str = LAYERS[0]
) -> float:
    """Max |Δ| of h and c between float64 `layer` (one of `LAYERS`) and the
    float64 NumPy reference, on random weights."""
    keras.utils.set_random_seed(seed)
    config = ParityConfig("reference", dtype="float64")
    options = dict(return_sequences=True, return_state=True, go_backwards=go_backwards)
    if layer == "SimpleLSTM":
        rnn = SimpleLSTM(UNITS, bias_initializer="random_normal", dtype="float64", **options)
    else:
        cell = SimpleLSTMCell(UNITS, bias_initializer="random_normal", dtype="float64")
        rnn = keras.layers.RNN(cell, dtype="float64", **options)
    x = make_inputs(config, seed)
    seq, h, c = (
        keras.ops.convert_to_numpy(t) for t in rnn(keras.ops.convert_to_tensor(x, dtype="float64"))
    )
    ref = lstm_forward(x[:, ::-1] if go_backwards else x, rnn.cell.gate_weights())
    return max(
        float(np.max(np.abs(seq - ref["h"]))),
        float(np.max(np.abs(h - ref["h"][:, -1]))),
        float(np.max(np.abs(c - ref["c"][:, -1]))),
    )


def describe() -> str:
    """Backend, device and float32 precision: the header of a report."""
    return (
        f"backend={keras.backend.backend()}, device={accelerator.device_name()}, "
        f"precision={accelerator.precision_name()}"
    )


def format_table(results: list[ParityResult]) -> str:
    header = (
        f"| {'layer':19} | {'configuration':35} | dtype   | {'loop':7} "
        "| forward max diff | gradient max diff | tolerance | ok  |"
    )
    lines = [header, "|" + "|".join("-" * (len(p)) for p in header.split("|")[1:-1]) + "|"]
    for r in results:
        lines.append(
            f"| {r.layer:19} | {r.name:35} | {r.dtype:7} | {r.loop or '-':7} "
            f"| {r.forward:16.3g} | {r.gradient:17.3g} | {r.tolerance:9.0e} "
            f"| {'yes' if r.ok else 'NO':3} |"
        )
    return "\n".join(lines)


def default_precision_row(results: list[ParityResult]) -> ParityResult:
    """The TF32 row: measured again on a GPU; on a CPU, where the default
    precision is the full one, the largest float32 differences above."""
    if accelerator.device_kind() != "cpu":
        return compare_at_default_precision()
    float32 = [r for r in results if r.dtype == "float32"]
    return ParityResult(
        "all float32 rows, default precision",
        "float32",
        max(r.forward for r in float32),
        max(r.gradient for r in float32),
        TF32_TOLERANCE,
        layer="both",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m keras_lstm_cell.verify",
        description="Compare SimpleLSTMCell and SimpleLSTM with keras.layers.LSTM and a "
        "NumPy reference.",
    )
    parser.add_argument("--json", help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    with accelerator.full_float32_precision():
        header = describe()
        results = [
            compare_with_keras_lstm(config, layer=layer) for layer in LAYERS for config in GRID
        ]
        ref_diffs = {
            layer: max(
                compare_with_reference(layer=layer),
                compare_with_reference(go_backwards=True, layer=layer),
            )
            for layer in LAYERS
        }
    print(
        "RNN(SimpleLSTMCell) and SimpleLSTM vs keras.layers.LSTM (its own loop, "
        "use_cudnn=False), outputs and gradients\n"
        f"{header}\n"
        f"batch={BATCH}, steps={STEPS}, input_dim={INPUT_DIM}, units={UNITS}; "
        "diff = max |Δ| / max(1, max |value|) per output and gradient"
    )
    print(format_table(results))

    default = default_precision_row(results)
    print(
        f"\nAt the device's default precision, {accelerator.precision_name()}, every "
        f"float32 row, both layers: forward max diff {default.forward:.3g}, gradient "
        f"{default.gradient:.3g} (tolerance {default.tolerance:g}): "
        f"{'yes' if default.ok else 'NO'}"
    )
    tolerance = reference_tolerance()
    for layer, diff in ref_diffs.items():
        print(
            f"float64 {layer} vs NumPy float64 reference: max abs diff {diff:.3g} "
            f"(tolerance {tolerance:g})"
        )
    ok = (
        all(r.ok for r in results)
        and default.ok
        and all(diff <= tolerance for diff in ref_diffs.values())
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "backend": keras.backend.backend(),
                    "device": accelerator.device_name(),
                    "header": header,
                    "results": [asdict(r) for r in results],
                    "default_precision": asdict(default),
                    "reference": ref_diffs,
                    "ok": ok,
                },
                f,
                indent=2,
            )
    print("\nall within tolerance" if ok else "\nSOME CONFIGURATIONS DIFFER", file=sys.stdout)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
