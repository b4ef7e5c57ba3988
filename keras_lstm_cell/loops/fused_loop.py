from __future__ import annotations

import keras
import numpy as np
from keras import ops

from keras_lstm_cell.loops import fused_lstm
from keras_lstm_cell.loops._common import dropped_inputs
from keras_lstm_cell.loops._common import fast_loop_reason
from keras_lstm_cell.loops.loop_call import LoopCall

# Per backend, whether the fused loop computes x_t · W in each step rather
# than for all steps before the loop (2-core CPU): XLA's CPU loops read a
# precomputed (T, B, 4H) projection slower than they compute it per step (JAX
# 0.10, (32, 1000, 8, 128): 0.41 s against 0.47 s per training step, 36 ms
# against 99 ms per forward pass; TensorFlow 2.21: predict 0.44x against 0.64x
# keras.layers.LSTM's time, training alike).
_PROJECT_IN_STEP = {"tensorflow": True, "jax": True, "torch": False}

# Per backend, from how many bytes of saved gates per sequence (4H numbers per
# step) the backward loop does not read saved gates: it runs the forward loop
# again from checkpoints every `segment_steps(T)` steps (or, for a length
# without a divisor near its square root, recomputes each step's gates from
# its saved states); `None`: never. TensorFlow, 2-core CPU: saving the gates
# trained (64, 30, 5, 64) in 0.79x keras.layers.LSTM's time against 0.93x
# when recomputing, but on (32, 1000, 8, 128) (2 MB of gates per sequence)
# its resident set peaked at 250-267 MB against the built-in's 186-188 MB.
# There checkpoints every 25 steps trained in 0.64x the built-in's time
# (0.65x recomputing), holding 122-124 MB of allocations at peak against the
# built-in's 171 MB (129 MB recomputing); each later epoch peaked 12 MB above
# its start, against 41 MB recomputing and 8 MB for the built-in. JAX saved
# the gates in 188 MB against the built-in's 309 MB; recomputing cost time
# there (1.09x against 0.95x the built-in's).
_RECOMPUTE_GATES_FROM = {"tensorflow": 2**20}

# Per backend, whether the gate sigmoids and the cell tanh run as one tanh
# over all four gates (`fused_lstm._sigmoid_tanh_gates`): one wide kernel
# where XLA on CPU ran two ((64, 30, 5, 64), forward pass against
# keras.layers.LSTM's: JAX 0.90x against 1.00x, TensorFlow 0.64x against
# 0.73x). torch runs its loop eagerly, one kernel per operation: four for the
# one tanh (scale, tanh, scale, shift) against two.
_SIGMOID_AS_TANH = {"tensorflow": True, "jax": True}


class FusedLoop:
    """The fused loop (`fused_lstm`): one recurrent product per step, the
    gate arithmetic of `lstm_equations`, and a hand-written backward pass
    through time (on torch without a mask). Runs every configuration of the
    standard cell in float32 or float64 (masks, `unroll`, any activation).

    With `units_squared_per_step = k`, it runs only calls of at most
    units² / k (static) timesteps: where it is measured faster than another
    loop on short sequences of wide layers only."""

    name = "fused"

    def __init__(self, units_squared_per_step: int | None = None):
        self.units_squared_per_step = units_squared_per_step

    def reason(self, layer, call: LoopCall) -> str | None:
        k = self.units_squared_per_step
        if k is not None:
            max_steps = layer.cell.units**2 // k
            if call.steps is None or call.steps > max_steps:
                return (
                    f"the fused loop is taken here for at most units² / {k} = {max_steps} "
                    f"timesteps; steps={call.steps}"
                )
        return fast_loop_reason(layer, call.training)

    def run(self, layer, sequences, initial_state, mask, training: bool) -> tuple:
        cell = layer.cell
        x = ops.transpose(dropped_inputs(layer, sequences, training), (1, 0, 2))  # (T, B, D)
        if mask is not None:
            mask = ops.expand_dims(ops.transpose(ops.cast(mask, "bool")), -1)  # (T, B, 1)
        if layer.go_backwards:
            x = ops.flip(x, axis=0)
            mask = None if mask is None else ops.flip(mask, axis=0)
        bias = cell.bias if cell.use_bias else ops.zeros((4 * cell.units,), x.dtype)
        weights = (cell.kernel, cell.recurrent_kernel, bias)
        outputs, h, c = self.time_loop(
            x,
            *(ops.convert_to_tensor(w) for w in weights),
            initial_state[0],
            initial_state[1],
            mask,
            loop_config(layer, steps=x.shape[0], gate_bytes=_gate_bytes(cell.units, x)),
            training,
        )
        if layer.return_sequences:
            last_output = outputs[-1]
            outputs = ops.transpose(outputs, (1, 0, 2))  # (B, T, H)
        else:
            last_output = outputs
            outputs = ops.expand_dims(outputs, axis=1)  # (B, 1, H)
        return last_output, outputs, [h, c]

    def time_loop(self, x, kernel, recurrent_kernel, bias, h0, c0, mask, config, training):
        """The loop over time-major `x (T, B, D)`: `(outputs, h_T, c_T)`."""
        return fused_lstm.fused_lstm(
            x, kernel, recurrent_kernel, bias, h0, c0, mask, config, training=training
        )


def _gate_bytes(units: int, x) -> int | None:
    """Bytes of one sequence's gates over all steps of time-major `x`, or
    `None` where its length is not known when tracing."""
    steps = x.shape[0]
    itemsize = np.dtype(keras.backend.standardize_dtype(x.dtype)).itemsize
    return None if steps is None else 4 * units * steps * itemsize


def segment_steps(steps: int | None) -> int:
    """The segment length of a checkpointed loop over `steps` timesteps: the
    divisor of `steps` nearest √steps, within a factor of 2 of it, else 0
    (no segments: a prime length, say, or one not known when tracing)."""
    if steps is None or steps < 16:
        return 0
    root = steps**0.5
    candidates = [k for k in range(2, int(2 * root) + 1) if steps % k == 0 and k >= root / 2]
    return min(candidates, key=lambda k: abs(k - root)) if candidates else 0


def loop_config(
    layer, steps: int | None = None, gate_bytes: int | None = None
) -> fused_lstm.LoopConfig:
    """The static choices of `layer`'s fused loop on the current backend, for
    a call of `steps` timesteps whose saved gates take `gate_bytes` per
    sequence (`None`: not known, or not asked)."""
    cell = layer.cell
    backend = keras.backend.backend()
    recompute_from = _RECOMPUTE_GATES_FROM.get(backend)
    recompute = recompute_from is not None and (gate_bytes is None or gate_bytes >= recompute_from)
    manual = fused_lstm.has_derivative(cell.activation) and fused_lstm.has_derivative(
        cell.recurrent_activation
    )
    return fused_lstm.LoopConfig(
        sigma_g=cell.recurrent_activation,
        sigma_c=cell.activation,
        use_bias=cell.use_bias,
        zero_output_for_mask=layer.zero_output_for_mask,
        masked_output_repeats_state=backend == "jax",
        return_sequences=layer.return_sequences,
        unroll=layer.unroll,
        manual_gradient=manual,
        # XLA removes most of the per-step cost of small ops on CPU; it
        # cannot differentiate the loop, so only with the manual gradient.
        jit=manual,
        project_in_step=_PROJECT_IN_STEP.get(backend, False),
        recompute_gates=recompute,
        checkpoint_every=segment_steps(steps) if recompute else 0,
        sigmoid_as_tanh=_SIGMOID_AS_TANH.get(backend, False),
    )
