"""The standard LSTM as TensorFlow graphs the LiteRT and ONNX converters read.

Each converter recognises one shape of graph and turns it into its native op:

- `standard_lstm` is Keras 2's `standard_lstm`: a `tf.while_loop` over a
  `TensorArray` of the inputs, one step `z = x_t · W + h_{t-1} · U + b`,
  split in (i, f, c, o). tf2onnx's LSTM rewriter matches this loop and writes
  one ONNX `LSTM` node, for any batch size.
- `composite_lstm` wraps it in a `tf.function` that carries the attribute
  `api_implements="lstm_<id>"` with Keras 2's argument contract (inputs,
  init_h, init_c, kernel, recurrent_kernel, bias -> last output, all outputs,
  h, c and a fifth output). The TFLite converter replaces such a function by
  one `UNIDIRECTIONAL_SEQUENCE_LSTM` op (TensorFlow's
  `prepare_composite_functions_tf.cc`, `lstm_utils.cc: ConvertKerasLSTMLayer`).
  Its body runs only when TensorFlow itself calls it.
- `litert_lstm` calls that function so that the fused op starts from zero
  states at every invocation, as a Keras layer does.
- `unrolled_lstm` calls a cell step by step over a static number of steps,
  for what neither native op computes (the cell variants, other activations,
  explicit states): plain builtin ops, no loop.

The step is `lstm_equations`, the package's one copy of the LSTM arithmetic.
"""

from __future__ import annotations

import uuid

import numpy as np
import tensorflow as tf

from keras_lstm_cell.equations import lstm_equations
from keras_lstm_cell.equations import split_preactivations
from keras_lstm_cell.gate_layout import GATE_ORDER

# A value far beyond any pre-activation: sigmoid(-RESET_LOGIT) is 0 in float32.
RESET_LOGIT = 1e4
# The cell clipping the TFLite converter writes into the fused op it makes
# from a Keras LSTM: |c_t| < t from zero states, so up to this many steps it
# never acts.
CONVERTER_CELL_CLIP = 10.0


def standard_lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias, time_major=False):
    """The standard LSTM (tanh, sigmoid) over `inputs`, Keras 2's contract.

    Args:
        inputs: `(B, T, D)`, or `(T, B, D)` when `time_major`.
        init_h, init_c: `(B, H)`.
        kernel: W `(D, 4H)`; recurrent_kernel: U `(H, 4H)`; bias: b `(4H,)`,
            all in `GATE_ORDER`.

    Returns:
        `(last_output (B, H), outputs, h, c, runtime)`, `outputs` laid out as
        `inputs`; `runtime` is a float scalar, as in Keras 2.
    """
    x = inputs if time_major else tf.transpose(inputs, (1, 0, 2))  # (T, B, D)
    steps = tf.shape(x)[0]
    xs = tf.TensorArray(x.dtype, size=steps).unstack(x)
    ys = tf.TensorArray(x.dtype, size=steps)

    def step(t, h, c, ys):
        z = tf.matmul(xs.read(t), kernel)
        z = z + tf.matmul(h, recurrent_kernel)
        z = tf.nn.bias_add(z, bias)
        g = lstm_equations(split_preactivations(z), c, tf.sigmoid, tf.tanh, tf.tanh)
        return t + 1, g.h, g.c, ys.write(t, g.h)

    _, h, c, ys = tf.while_loop(lambda t, *_: t < steps, step, (0, init_h, init_c, ys))
    outputs = ys.stack()  # (T, B, H)
    last_output = outputs[-1]
    if not time_major:
        outputs = tf.transpose(outputs, (1, 0, 2))
    return last_output, outputs, h, c, tf.constant(0.0)


def composite_lstm(time_major: bool = False):
    """`standard_lstm` as the function the TFLite converter fuses into
    `UNIDIRECTIONAL_SEQUENCE_LSTM`. The fused op returns only the outputs:
    its h and c outputs are zeros, and it starts from states that it keeps
    between invocations (see `litert_format`)."""

    def lstm(inputs, init_h, init_c, kernel, recurrent_kernel, bias):
        return standard_lstm(
            inputs, init_h, init_c, kernel, recurrent_kernel, bias, time_major=time_major
        )

    return tf.function(
        lstm,
        autograph=False,
        experimental_attributes={
            # A name unique per function: the converter fuses by this name.
            "api_implements": f"lstm_{uuid.uuid4()}",
            "api_preferred_device": "CPU",
            "time_major": time_major,
            "go_backwards": False,  # the caller reverses the inputs itself
        },
    )


def litert_lstm(inputs, kernel, recurrent_kernel, bias, coupled=False, time_major=False):
    """The outputs of the fused LiteRT op over `inputs` from zero states, at
    every invocation: `(B, T, H)`, or `(T, B, H)` when `time_major`.

    The fused op reads its initial states from state tensors that it
    overwrites with its final states, so a second invocation would start
    where the first ended. Reset steps before the sequence clear them: an
    extra input feature per reset step, 1 there and 0 elsewhere, whose weight
    -RESET_LOGIT into the f and o gates (and i) makes them 0 there
    (sigmoid(-1e4) is 0 in float32), so h = 0 and, with i = 0, c = 0 exactly,
    whatever the states held. The `coupled` cell's i = 1 - f is 1 there (its
    input-gate blocks are removed from the file, `litert_format`), so its
    c = c̃ after the first reset step; a second one, whose feature adds -b_c
    to z_c (and h = 0 now), makes c̃ = tanh(0) = 0. At the sequence's own
    steps the features add 0. The batch size may be dynamic.

    Args: `kernel (D, 4H)`, `recurrent_kernel (H, 4H)`, `bias (4H,)` in
    `GATE_ORDER`, tensors or arrays.
    """
    kernel = tf.convert_to_tensor(kernel)
    bias = tf.convert_to_tensor(bias)
    units = recurrent_kernel.shape[0]
    block = {gate: k for k, gate in enumerate(GATE_ORDER)}
    closed = np.zeros((4, units), "float32")
    for gate in ("f", "o") if coupled else ("i", "f", "o"):
        closed[block[gate]] = -RESET_LOGIT
    rows = [tf.constant(closed.reshape(-1))]
    if coupled:
        cell_block = tf.one_hot(block["c"], 4, dtype=bias.dtype)[:, None]  # (4, 1)
        rows.append(rows[0] - tf.reshape(cell_block * tf.reshape(bias, (4, units)), (-1,)))
    n = len(rows)
    features = inputs.shape[-1]
    kernel = tf.concat([kernel, tf.stack(rows)], axis=0)  # (D + n, 4H)
    # Step k of the reset steps sets feature D + k.
    flags = tf.concat([tf.zeros((n, features)), tf.eye(n)], axis=1)  # (n, D + n)
    time_axis, batch_axis = (0, 1) if time_major else (1, 0)
    batch = tf.shape(inputs)[batch_axis]
    if time_major:
        reset_steps = tf.tile(flags[:, None, :], tf.stack([1, batch, 1]))
    else:
        reset_steps = tf.tile(flags[None], tf.stack([batch, 1, 1]))
    flagged = tf.pad(inputs, [[0, 0], [0, 0], [0, n]])  # (..., D + n)
    sequence = tf.concat([reset_steps, flagged], axis=time_axis)
    zeros = tf.zeros(tf.stack([batch, units]), inputs.dtype)
    _, outputs, _, _, _ = composite_lstm(time_major)(
        sequence, zeros, zeros, kernel, recurrent_kernel, bias
    )
    outputs = outputs[n:] if time_major else outputs[:, n:]
    outputs.set_shape(inputs.shape[:-1].concatenate([units]))  # the function's is dynamic
    return outputs


def unrolled_lstm(cell, inputs, init_h, init_c):
    """The cell's own step over the `T` (static) steps of `inputs (B, T, D)`:
    returns `(outputs (B, T, H), h, c)`."""
    steps = inputs.shape[1]
    if steps is None:
        raise ValueError(
            "Expected a static number of timesteps to unroll the cell. "
            f"Received: inputs.shape={tuple(inputs.shape)}"
        )
    h, c = init_h, init_c
    outputs = []
    for t in range(steps):
        h, (h, c) = cell.call(inputs[:, t], [h, c], training=False)
        outputs.append(h)
    return tf.stack(outputs, axis=1), h, c
