"""The fused LSTM loop behind `SimpleLSTM`.

`fused_lstm` runs the standard LSTM over a whole time-major sequence: the
input projection `x_t · W + b` of every step as one matrix product before the
loop (or in each step, `LoopConfig.project_in_step`), one recurrent product
per step, `z_t = (x_t · W + b) + h_{t-1} · U`,
and the gate arithmetic of `lstm_equations`. (The cell adds `b` last; the sums
differ by rounding only.) Inside the loop each activation runs over all four
gates of `z_t` before the split, because XLA on CPU runs one wide kernel about
twice as fast as four narrow ones; with `LoopConfig.sigmoid_as_tanh` the
standard σ_g = sigmoid and σ_c = tanh run as one tanh over all four
(σ(z) = (1 + tanh(z / 2)) / 2).

Its backward pass through time is written by hand: per step, the gradient of
the fused pre-activation

    dz_t = [di_t ⊙ σ_g'(i_t), df_t ⊙ σ_g'(f_t), dc̃_t ⊙ σ_c'(c̃_t), do_t ⊙ σ_g'(o_t)]

(in `GATE_ORDER`) with

    dĥ_t = ∂L/∂h_t (from above and from step t + 1)
    do_t = dĥ_t ⊙ σ_h(c_t)
    dc_t = ∂L/∂c_t (from step t + 1) + dĥ_t ⊙ o_t ⊙ σ_h'(c_t)
    di_t = dc_t ⊙ c̃_t,  df_t = dc_t ⊙ c_{t-1},  dc̃_t = dc_t ⊙ i_t
    ∂L/∂h_{t-1} = dz_t · Uᵀ,  ∂L/∂c_{t-1} = dc_t ⊙ f_t

and, summed in the same loop, `dW = Σ_t x_tᵀ dz_t`, `dU = Σ_t h_{t-1}ᵀ dz_t`,
`db = Σ_t Σ_batch dz_t`, with `dx_t = dz_t · Wᵀ`: no `(T, B, 4H)` gradient is
ever held. Where x is not differentiated (JAX tells, `_fused_jax`) no step
computes `dx_t`. The forward loop saves each step's incoming states `h_{t-1}`
and `c_{t-1}`, and its activated gates (each apart, `(T, B, H)`) unless
`LoopConfig.recompute_gates`, where the backward loop computes them again
from `x_t`, `h_{t-1}` and `c_{t-1}` (2H numbers per sequence and step saved,
against 6H); it recomputes `c_t` either way. With
`LoopConfig.checkpoint_every = k` the forward loop saves only the states at
the start of each segment of k steps, and the backward loop, segment by
segment from the last, runs the forward steps of a segment again from its
start, keeping their states and gates, then its k steps back: per sequence
(T / k) · 2H + k · 6H numbers are held, not T · 2H. Without a mask the
output is the state, and neither loop carries it apart. The derivatives σ'
are taken from the activations' outputs (σ' = σ(1 - σ), tanh' = 1 - tanh²),
so only activations listed in `_DERIVATIVES` get the hand-written pass;
others are differentiated automatically.

Masks follow `keras.layers.RNN` on each backend: at a masked step the states
keep their previous value and the output is zero (`zero_output_for_mask`),
or else repeats the previous output (TensorFlow, torch) or the previous
state h (JAX), which differ only when the first steps are masked.

On TensorFlow the forward and backward loops are compiled with XLA
(`jit=True`); on JAX they are traced into the caller's `jax.jit`. Outside
training the TensorFlow forward loop keeps only what it returns (saving every
step's gates for a backward pass cost about 40% of the loop's time on CPU). A
gradient taken through such a call runs the forward loop again, saving, before
the backward loop. On JAX the primal call runs a forward loop that saves
nothing; `jax.custom_vjp`'s forward rule saves.
On torch the loop runs step by step, eagerly: unmasked, in torch's own
functions with the backward pass attached as a `torch.autograd.Function`
(`_fused_torch`, whose backward step computes less than the one here: each
Keras operation costs a dispatch there); under a mask, these steps,
differentiated by torch's autograd.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import NamedTuple

import keras
import numpy as np
from keras import activations
from keras import ops

from keras_lstm_cell.equations import lstm_equations
from keras_lstm_cell.equations import split_preactivations
from keras_lstm_cell.gate_layout import GATE_ORDER

Tensor = Any

# The `GateValues` field that holds each gate of `GATE_ORDER`.
_GATE_FIELD = {"i": "i", "f": "f", "c": "c_tilde", "o": "o"}


def _sigmoid_derivative(y):
    return y * (1.0 - y)


def _tanh_derivative(y):
    return 1.0 - y * y


def _linear_derivative(y):
    return ops.ones_like(y)


# σ'(z) written with y = σ(z), for the activations the backward pass knows.
_DERIVATIVES: dict[Callable, Callable] = {
    activations.sigmoid: _sigmoid_derivative,
    activations.tanh: _tanh_derivative,
    activations.linear: _linear_derivative,
}


def has_derivative(activation: Callable) -> bool:
    """Whether the hand-written backward pass knows `activation`'s derivative."""
    return activation in _DERIVATIVES


class LoopConfig(NamedTuple):
    """The static choices of one fused loop (hashable: kernels are cached on it)."""

    sigma_g: Callable  # gate activation (recurrent_activation)
    sigma_c: Callable  # cell input and output activation (activation)
    use_bias: bool
    zero_output_for_mask: bool
    # At a masked step (without zero_output_for_mask) the output repeats the
    # previous state h (JAX's keras.layers.RNN), else the previous output.
    masked_output_repeats_state: bool
    return_sequences: bool  # all outputs (T, B, H), else the last (B, H)
    unroll: bool  # unroll the time loop when the length is static
    manual_gradient: bool  # hand-written backward pass, else autodiff
    jit: bool  # TensorFlow only: compile both loops with XLA
    project_in_step: bool = False  # x_t · W in each step, else all steps before the loop
    scan_unroll: int = 1  # steps per iteration of the compiled loop (JAX)
    # The backward loop recomputes each step's gates from x_t, h_{t-1} and
    # c_{t-1}, else the forward loop saves them (4H more numbers per step).
    recompute_gates: bool = False
    # With k > 0 (a divisor of the length), the forward loop saves only the
    # states at the start of each segment of k steps, and the backward loop
    # runs each segment forward again, keeping its states and gates, before
    # its k steps back: (T / k) · 2H + k · 6H numbers saved per sequence.
    checkpoint_every: int = 0
    # With σ_g = sigmoid and σ_c = tanh, both as one tanh over all four gates
    # (`_sigmoid_tanh_gates`), else each activation over all four.
    sigmoid_as_tanh: bool = False


def fused_lstm(
    x, kernel, recurrent_kernel, bias, h0, c0, mask, config: LoopConfig, training: bool = True
):
    """The LSTM over a time-major sequence.

    Args:
        x: inputs, `(T, B, D)`.
        kernel: W, `(D, 4H)`.
        recurrent_kernel: U, `(H, 4H)`.
        bias: b, `(4H,)`; ignored unless `config.use_bias`.
        h0, c0: initial states, `(B, H)`.
        mask: `(T, B, 1)` booleans, or `None`.
        config: `LoopConfig`.
        training: Whether to keep the gates for a backward pass (TensorFlow);
            without them a gradient recomputes the forward loop. Either way
            the values and gradients are the same.

    Returns:
        `(outputs, h_T, c_T)`, where outputs is `(T, B, H)` with
        `return_sequences`, else the last output `(B, H)`.
    """
    backend = keras.backend.backend()
    args = (x, kernel, recurrent_kernel, bias, h0, c0, mask)
    # Each backend's kernels import their framework: only the one in use loads.
    if backend == "tensorflow":
        from keras_lstm_cell.loops._fused_tensorflow import tf_fused_lstm

        return tf_fused_lstm(*args, config, training)
    if backend == "jax":
        from keras_lstm_cell.loops._fused_jax import jax_kernel

        return jax_kernel(config)(*args)
    if backend == "torch":
        from keras_lstm_cell.loops import _fused_torch

        if _fused_torch.supports(config, mask):
            return _fused_torch.torch_fused_lstm(*args[:6], config)
        # Under a mask: these steps, differentiated by torch's autograd.
        return forward_loop(python_scan, *args, config._replace(manual_gradient=False))[:3]
    raise ValueError(
        "The fused LSTM loop supports the 'tensorflow', 'jax' and 'torch' backends. "
        f"Received: backend={backend!r}"
    )


# Backend-independent loop bodies; `scan` is `jax.lax.scan`, TensorFlow's
# `while_loop` scan (`_fused_tensorflow`) or `python_scan`.


def _gate_values(z, c_prev, config):
    """`lstm_equations` on the fused pre-activations `z`, `(B, 4H)`, each
    activation run over all four gates before the split (module docstring)."""
    if config.sigmoid_as_tanh and _sigmoid_and_tanh(config):
        activated = split_preactivations(_sigmoid_tanh_gates(z))
    else:
        gate = split_preactivations(config.sigma_g(z))
        cell = split_preactivations(config.sigma_c(z))
        activated = {k: cell[k] if k == "c" else gate[k] for k in GATE_ORDER}
    return _activated_values(activated, c_prev, config)


def _sigmoid_and_tanh(config) -> bool:
    return config.sigma_g is activations.sigmoid and config.sigma_c is activations.tanh


def _sigmoid_tanh_gates(z):
    """σ on the i, f and o columns of `z` and tanh on c's, as one tanh over all
    four gates: σ(z) = (1 + tanh(z / 2)) / 2. Per column, with s = 1/2 on the
    gates and 1 on c, `s ⊙ tanh(s ⊙ z) + (1 - s)`, where (1 - s) is 1/2 or 0;
    the products by 1/2 are exact, so each value is a correctly rounded sum
    away from the sigmoid's (the tests compare against keras.layers.LSTM)."""
    units = z.shape[-1] // len(GATE_ORDER)
    scale = np.repeat([1.0 if k == "c" else 0.5 for k in GATE_ORDER], units)
    scale = ops.convert_to_tensor(scale, dtype=z.dtype)
    return ops.tanh(z * scale) * scale + (1.0 - scale)


def _activated_values(activated, c_prev, config):
    """`lstm_equations` on gates already activated, `{gate: (B, H)}`."""
    return lstm_equations(
        activated,
        c_prev,
        sigma_g=activations.linear,
        sigma_c=activations.linear,
        sigma_h=config.sigma_c,
    )


def _project(x, kernel, bias, config):
    """`x · W + b` (without `b` unless `config.use_bias`)."""
    xw = ops.matmul(x, kernel)
    return xw + bias if config.use_bias else xw


def _step_inputs(x, kernel, bias, config):
    """What the forward step reads of `x`, `(T, B, ...)`: `x_t · W + b` of
    every step at once, or `x` itself where each step projects its own
    (`config.project_in_step`)."""
    return x if config.project_in_step else _project(x, kernel, bias, config)


def _forward_step(
    kernel,
    recurrent_kernel,
    bias,
    config,
    carry_y,
    *,
    outputs=True,
    residuals=False,
    save_gates=False,
):
    """The forward loop's step. Per step it returns, with `outputs`, the
    sequence outputs `(h_seq, y_seq)` (`None` where not asked for), then with
    `residuals` `(h_{t-1}, c_{t-1}, *gates)`, the gates `None` unless
    `save_gates`."""

    def step(carry, inputs):
        h, c, *y = carry
        y = y[0] if carry_y else None
        xw_t, m_t = inputs
        if config.project_in_step:
            xw_t = _project(xw_t, kernel, bias, config)
        g = _gate_values(xw_t + ops.matmul(h, recurrent_kernel), c, config)
        if m_t is None:
            h_next, c_next, y_next = g.h, g.c, None
        else:
            if config.zero_output_for_mask:
                y_masked = ops.zeros_like(g.h)
            else:
                y_masked = h if config.masked_output_repeats_state else y
            h_next = ops.where(m_t, g.h, h)
            c_next = ops.where(m_t, g.c, c)
            y_next = ops.where(m_t, g.h, y_masked)
        carry = (h_next, c_next, y_next) if carry_y else (h_next, c_next)
        per_step = ()
        if outputs:
            # The outputs differ from the states only under a mask.
            y_seq = y_next if (m_t is not None and config.return_sequences) else None
            h_seq = h_next if (y_seq is None and config.return_sequences) else None
            per_step = (h_seq, y_seq)
        if not residuals:
            return carry, per_step
        # Each gate apart, (B, H): XLA on CPU reads a gate from a saved
        # (T, B, 4H) block far slower (its backward loop took 1.5x the time).
        gates = (None,) * len(GATE_ORDER)
        if save_gates:
            gates = tuple(getattr(g, _GATE_FIELD[k]) for k in GATE_ORDER)
        # The backward pass reads each step's incoming states (h_{t-1},
        # c_{t-1}) and gates; it recomputes c_t from them.
        return carry, (*per_step, h, c, *gates)

    return step


def _segmented(a, steps_per_segment):
    """`(T, B, n)` as `(T / k, k, B, n)`, or `None`."""
    if a is None:
        return None
    return ops.reshape(a, (a.shape[0] // steps_per_segment, steps_per_segment, -1, a.shape[-1]))


def _unsegmented(a):
    """`(T / k, k, B, n)` as `(T, B, n)`, or `None`."""
    return None if a is None else ops.reshape(a, (a.shape[0] * a.shape[1], -1, a.shape[-1]))


def forward_loop(scan, x, kernel, recurrent_kernel, bias, h0, c0, mask, config):
    """Runs the loop; returns `(outputs, h_T, c_T, residuals)`: for the
    backward loop `(h_{t-1}, c_{t-1}, *gates)` of every step, or with
    `config.checkpoint_every` the states (h, c, and y under a mask) at each
    segment's start; `()` without the manual gradient."""

    xw = _step_inputs(x, kernel, bias, config)

    # Without a mask the output is the state h_t: only a mask carries y apart.
    carry_y = mask is not None
    carry = (h0, c0, ops.zeros_like(h0)) if carry_y else (h0, c0)
    checkpoints = config.manual_gradient and config.checkpoint_every
    step = _forward_step(
        kernel,
        recurrent_kernel,
        bias,
        config,
        carry_y,
        residuals=config.manual_gradient and not checkpoints,
        save_gates=not config.recompute_gates,
    )
    if not checkpoints:
        (h_t, c_t, *y_t), (hs, ys, *residuals) = scan(step, carry, (xw, mask), reverse=False)
    else:

        def segment(carry, inputs):
            end, outputs = scan(step, carry, inputs, reverse=False)
            return end, (*outputs, *carry)  # the states at the segment's start

        k = config.checkpoint_every
        (h_t, c_t, *y_t), (hs, ys, *residuals) = scan(
            segment, carry, (_segmented(xw, k), _segmented(mask, k)), reverse=False
        )
        hs, ys = _unsegmented(hs), _unsegmented(ys)
    if config.return_sequences:
        outputs = hs if ys is None else ys
    else:
        outputs = y_t[0] if carry_y else h_t
    return outputs, h_t, c_t, tuple(residuals)


def backward_loop(scan, saved, cotangents, config, input_gradient=True):
    """Gradients of `forward_loop` with respect to `(x, W, U, b, h0, c0)`.

    The weight gradients are summed inside the loop, step by step, so that
    no `(T, B, 4H)` tensor beyond the saved gates is ever held. Without
    `input_gradient` (x is not differentiated: the layer reads the model's
    inputs) the gradient of x is `None`, and no step computes `dz_t · Wᵀ`."""
    (x, kernel, recurrent_kernel, bias, h0, c0, mask), residuals = saved
    d_outputs, d_h, d_c = cotangents
    sigma_g_prime = _DERIVATIVES[config.sigma_g]
    sigma_c_prime = _DERIVATIVES[config.sigma_c]
    u_t = ops.transpose(recurrent_kernel)  # (4H, H)
    w_t = ops.transpose(kernel)  # (4H, D)
    if config.return_sequences:
        d_y_seq, d_y_last = d_outputs, None
    else:
        d_y_seq, d_y_last = None, d_outputs
    # Without a mask the output y_t is the state h_t: the gradient of the last
    # output joins that of h_T, and no separate dy is carried.
    carry_dy = mask is not None
    if carry_dy and d_y_last is None:
        d_y_last = ops.zeros_like(d_h)
    elif not carry_dy and d_y_last is not None:
        d_h = d_h + d_y_last

    def step(carry, inputs):
        # Gradients with respect to the state h_t, the state c_t and (under a
        # mask) the output y_t, as carried from step t + 1; the weight
        # gradients so far.
        dh, dc, *dy, d_kernel, d_recurrent, d_bias = carry
        dy = dy[0] if carry_dy else None
        x_t, h_prev_t, c_prev_t, m_t, d_y_t, *gates_t = inputs
        if gates_t[0] is None:
            z = _project(x_t, kernel, bias, config) + ops.matmul(h_prev_t, recurrent_kernel)
            values = _gate_values(z, c_prev_t, config)
        else:
            values = _activated_values(dict(zip(GATE_ORDER, gates_t)), c_prev_t, config)
        g = {k: getattr(values, _GATE_FIELD[k]) for k in GATE_ORDER}  # {gate: (B, H)}
        c_t = values.c  # the step's c_t, before any mask
        if m_t is None:
            dh_hat, dc_t = (dh if d_y_t is None else dh + d_y_t), dc
        else:
            d_out = dy if d_y_t is None else dy + d_y_t
            dy_prev = ops.zeros_like(dy)
            m = ops.cast(m_t, dh.dtype)
            dh_hat, dc_t = m * (dh + d_out), m * dc
            if config.zero_output_for_mask:
                dh_pass = (1.0 - m) * dh
            elif config.masked_output_repeats_state:
                dh_pass = (1.0 - m) * (dh + d_out)
            else:
                dh_pass = (1.0 - m) * dh
                dy_prev = (1.0 - m) * d_out
        tanh_c = config.sigma_c(c_t)  # σ_h(c_t)
        d_o = dh_hat * tanh_c
        dc_t = dc_t + dh_hat * g["o"] * sigma_c_prime(tanh_c)
        dz_gate = {
            "i": dc_t * g["c"] * sigma_g_prime(g["i"]),
            "f": dc_t * c_prev_t * sigma_g_prime(g["f"]),
            "c": dc_t * g["i"] * sigma_c_prime(g["c"]),
            "o": d_o * sigma_g_prime(g["o"]),
        }
        dz = ops.concatenate([dz_gate[k] for k in GATE_ORDER], axis=-1)  # (B, 4H)
        dh_prev = ops.matmul(dz, u_t)
        dc_prev = dc_t * g["f"]
        if m_t is not None:
            dh_prev = dh_prev + dh_pass
            dc_prev = dc_prev + (1.0 - m) * dc
        d_x_t = ops.matmul(dz, w_t) if input_gradient else None  # (B, D)
        states = (dh_prev, dc_prev, dy_prev) if carry_dy else (dh_prev, dc_prev)
        d_kernel = d_kernel + ops.matmul(ops.transpose(x_t), dz)  # (D, 4H)
        d_recurrent = d_recurrent + ops.matmul(ops.transpose(h_prev_t), dz)  # (H, 4H)
        d_bias = d_bias + ops.sum(dz, axis=0)  # (4H,)
        return (*states, d_kernel, d_recurrent, d_bias), (d_x_t,)

    carry = (
        d_h,
        d_c,
        *((d_y_last,) if carry_dy else ()),
        ops.zeros_like(kernel),
        ops.zeros_like(recurrent_kernel),
        ops.zeros_like(recurrent_kernel[0]),  # (4H,)
    )
    if not config.checkpoint_every:
        h_prev, c_prev, *gates = residuals
        carry, (d_x,) = scan(step, carry, (x, h_prev, c_prev, mask, d_y_seq, *gates), reverse=True)
    else:
        # Segment by segment, last first: the forward loop again from the
        # segment's saved start, keeping its k steps' states and gates, then
        # the backward loop over those k steps.
        replay = _forward_step(
            kernel,
            recurrent_kernel,
            bias,
            config,
            carry_y=carry_dy,
            outputs=False,
            residuals=True,
            save_gates=True,
        )

        def segment(carry, inputs):
            x_s, m_s, d_y_s, *start = inputs
            xw_s = _step_inputs(x_s, kernel, bias, config)
            _, residuals_s = scan(replay, tuple(start), (xw_s, m_s), reverse=False)
            h_prev_s, c_prev_s, *gates_s = residuals_s
            return scan(step, carry, (x_s, h_prev_s, c_prev_s, m_s, d_y_s, *gates_s), reverse=True)

        k = config.checkpoint_every
        segments = (_segmented(x, k), _segmented(mask, k), _segmented(d_y_seq, k))
        carry, (d_x,) = scan(segment, carry, (*segments, *residuals), reverse=True)
        d_x = _unsegmented(d_x)
    dh0, dc0, *_, d_kernel, d_recurrent, d_bias = carry
    return d_x, d_kernel, d_recurrent, d_bias, dh0, dc0  # d_x: (T, B, D) or None


def python_scan(step, carry, xs, reverse):
    """`jax.lax.scan` as a Python loop: unrolled when traced (TensorFlow), or
    run step by step (torch, eager)."""
    # Unstacked once: on torch, indexing x[t] at every step would make
    # autograd write a zero-filled gradient of the whole `x` per step.
    slices = [None if x is None else ops.unstack(x, axis=0) for x in xs]
    n = len(next(x for x in slices if x is not None))
    order = range(n - 1, -1, -1) if reverse else range(n)
    per_step = [None] * n
    for t in order:
        carry, per_step[t] = step(carry, tuple(None if x is None else x[t] for x in slices))
    stacked = tuple(
        None if per_step[0][k] is None else ops.stack([ys[k] for ys in per_step])
        for k in range(len(per_step[0]))
    )
    return carry, stacked
