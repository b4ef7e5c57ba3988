"""The fused loop on JAX: `jax.lax.scan` steps traced into the caller's
`jax.jit`, the backward pass attached with `jax.custom_vjp`.

Imported by `fused_lstm` on the JAX backend only.
"""

from __future__ import annotations

import functools

import jax
from jax.custom_derivatives import SymbolicZero
from jax.custom_derivatives import custom_vjp_primal_tree_values

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

    # With symbolic zeros the forward rule learns which inputs are
    # differentiated (`perturbed`): x is not where the layer reads the model's
    # inputs, and then the backward loop skips its gradient.
    def run_forward(*primals):
        args = custom_vjp_primal_tree_values(primals)  # the mask may be None
        outputs, h_t, c_t, residuals = forward(*args)
        # The flag travels as the residuals' structure (a pytree without
        # leaves): `()` where x is differentiated, else `None`.
        input_gradient = () if primals[0].perturbed else None
        return (outputs, h_t, c_t), (args, residuals, input_gradient)

    def run_backward(saved, cotangents):
        args, residuals, input_gradient = saved
        cotangents = tuple(
            jax.numpy.zeros(d.shape, d.dtype) if isinstance(d, SymbolicZero) else d
            for d in cotangents
        )
        gradients = backward_loop(
            scan, (args, residuals), cotangents, config, input_gradient=input_gradient is not None
        )
        return (*gradients, None)  # None: mask

    run.defvjp(run_forward, run_backward, symbolic_zeros=True)
    return run
