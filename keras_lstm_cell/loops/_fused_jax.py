"""The fused loop on JAX: `jax.lax.scan` steps traced into the caller's
`jax.jit`, the backward pass attached with `jax.custom_vjp`.

Imported by `fused_lstm` on the JAX backend only.
"""

from __future__ import annotations

import functools

import jax

from keras_lstm_cell.loops.fused_lstm import LoopConfig
from keras_lstm_cell.loops.fused_lstm import backward_loop
from keras_lstm_cell.loops.fused_lstm import forward_loop


@functools.cache
def jax_kernel(config: LoopConfig):
    def scan(step, carry, xs, reverse):
        return jax.lax.scan(
            step, carry, xs, reverse=reverse, unroll=config.unroll or config.scan_unroll
        )

    def forward(*args):
        return forward_loop(scan, *args, config)

    if not config.manual_gradient:
        return lambda *args: forward(*args)[:3]

    outputs_only = config._replace(manual_gradient=False)

    @jax.custom_vjp
    def run(x, kernel, recurrent_kernel, bias, h0, c0, mask):
        return forward_loop(scan, x, kernel, recurrent_kernel, bias, h0, c0, mask, outputs_only)[:3]

    def run_forward(x, kernel, recurrent_kernel, bias, h0, c0, mask):
        outputs, h_t, c_t, residuals = forward(x, kernel, recurrent_kernel, bias, h0, c0, mask)
        saved = ((x, kernel, recurrent_kernel, bias, h0, c0, mask), residuals)
        return (outputs, h_t, c_t), saved

    def run_backward(saved, cotangents):
        return (*backward_loop(scan, saved, cotangents, config), None)  # None: mask

    run.defvjp(run_forward, run_backward)
    return run
