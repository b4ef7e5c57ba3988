from __future__ import annotations

import keras
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

# Per backend, whether the backward loop recomputes each step's gates rather
# than the forward loop saving them (2-core CPU, (32, 1000, 8, 128), training
# peak memory against keras.layers.LSTM's): TensorFlow 175 MB against 188 MB
# (256 MB when saved), and no slower (0.58x against 0.65x the built-in's
# time); JAX 201 MB saved against 294-304 MB, where recomputing cost time
# (1.09x against 0.95x).
_RECOMPUTE_GATES = {"tensorflow": True, "jax": False}


class FusedLoop:
    """The fused loop (`fused_lstm`): one recurrent product per step, the
    gate arithmetic of `lstm_equations`, and on TensorFlow and JAX a
    hand-written backward pass through time. Runs every configuration of the
    standard cell in float32 or float64 (masks, `unroll`, any activation).

    With `min_steps`, it runs only calls of at least that many (static)
    timesteps: where it is measured faster only on long sequences."""

    name = "fused"

    def __init__(self, min_steps: int | None = None):
        self.min_steps = min_steps

    def reason(self, layer, call: LoopCall) -> str | None:
        if self.min_steps is not None and (call.steps is None or call.steps < self.min_steps):
            return (
                f"the fused loop is taken here from {self.min_steps} timesteps; steps={call.steps}"
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
            loop_config(layer),
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


def loop_config(layer) -> fused_lstm.LoopConfig:
    """The static choices of `layer`'s fused loop on the current backend."""
    cell = layer.cell
    backend = keras.backend.backend()
    # torch differentiates the loop with its autograd.
    manual = (
        backend != "torch"
        and fused_lstm.has_derivative(cell.activation)
        and fused_lstm.has_derivative(cell.recurrent_activation)
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
        recompute_gates=_RECOMPUTE_GATES.get(backend, False),
    )
