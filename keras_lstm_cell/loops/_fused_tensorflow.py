"""The fused loop on TensorFlow: `tf.while_loop` steps, both directions
compiled with XLA, the backward pass attached with `tf.custom_gradient`.

Imported by `fused_lstm` on the TensorFlow backend only.
"""

from __future__ import annotations

import functools

import tensorflow as tf

from keras_lstm_cell.loops.fused_lstm import LoopConfig
from keras_lstm_cell.loops.fused_lstm import backward_loop
from keras_lstm_cell.loops.fused_lstm import forward_loop
from keras_lstm_cell.loops.fused_lstm import python_scan


def _tf_scan(step, carry, xs, reverse):
    """`jax.lax.scan` for TensorFlow: `xs` and the per-step outputs are tuples
    of `(T, ...)` tensors or `None`."""
    present = [x for x in xs if x is not None]
    n = present[0].shape[0]
    if n is None:
        n = tf.shape(present[0])[0]

    def read(t):
        # Slices, not TensorArray reads: XLA copies an unstacked array.
        return tuple(None if x is None else x[t] for x in xs)

    # Which per-step outputs exist (loop variables cannot be None), and their
    # types: from the step traced apart, in a graph that never runs.
    def spec(v):
        return None if v is None else tf.TensorSpec(v.shape, v.dtype)

    specs = (tf.nest.map_structure(spec, tuple(carry)), tf.nest.map_structure(spec, read(0)))
    probe = tf.function(step, autograph=False).get_concrete_function(*specs)
    ys_specs = probe.structured_outputs[1]
    outputs = {
        k: tf.TensorArray(y.dtype, size=n, element_shape=y.shape)
        for k, y in enumerate(ys_specs)
        if y is not None
    }

    def body(i, carry, outputs):
        t = n - 1 - i if reverse else i
        carry, ys = step(carry, read(t))
        return i + 1, carry, {k: ta.write(t, ys[k]) for k, ta in outputs.items()}

    _, carry, outputs = tf.while_loop(
        lambda i, *_: i < n,
        body,
        (tf.constant(0), tuple(carry), outputs),
    )
    stacked = tuple(outputs[k].stack() if k in outputs else None for k in range(len(ys_specs)))
    return carry, stacked


@functools.cache
def _kernels(config: LoopConfig):
    def scan(step, carry, xs, reverse):
        n = next(x for x in xs if x is not None).shape[0]
        # Run eagerly (not compiled), tf.while_loop is a Python loop too.
        if (config.unroll and n is not None) or tf.executing_eagerly():
            return python_scan(step, carry, xs, reverse)
        return _tf_scan(step, carry, xs, reverse)

    def forward(*args):
        return forward_loop(scan, *args, config)

    def backward(saved, cotangents):
        return backward_loop(scan, saved, cotangents, config)

    def outputs_only(*args):
        return forward_loop(scan, *args, config)[:3]

    if config.jit:
        forward, backward, outputs_only = (
            tf.function(f, jit_compile=True, autograph=False)
            for f in (forward, backward, outputs_only)
        )
    return forward, backward, outputs_only


def tf_fused_lstm(x, kernel, recurrent_kernel, bias, h0, c0, mask, config, training):
    forward, backward, outputs_only = _kernels(config)
    # Tensors, not variables: `run` must not read variables itself.
    weights = tuple(tf.convert_to_tensor(v) for v in (kernel, recurrent_kernel, bias))
    if not config.manual_gradient:
        return forward(x, *weights, h0, c0, mask)[:3]

    @tf.custom_gradient
    def run(x, kernel, recurrent_kernel, bias, h0, c0):
        # `grad` is the only gradient: a tape that saw the loop would also ask
        # the compiled function for the loop's internals, which XLA cannot give.
        inputs = tuple(tf.stop_gradient(v) for v in (x, kernel, recurrent_kernel, bias, h0, c0))
        if training:
            outputs, h_t, c_t, residuals = forward(*inputs, mask)
        else:
            (outputs, h_t, c_t), residuals = outputs_only(*inputs, mask), None
        x, kernel, recurrent_kernel, bias, h0, c0 = inputs

        def grad(*cotangents):
            cotangents = tuple(
                tf.zeros_like(ref) if d is None else d
                for d, ref in zip(cotangents, (outputs, h_t, c_t), strict=True)
            )
            kept = forward(*inputs, mask)[3] if residuals is None else residuals
            return backward(((x, kernel, recurrent_kernel, bias, h0, c0, mask), kept), cotangents)

        return (outputs, h_t, c_t), grad

    return run(x, *weights, h0, c0)
