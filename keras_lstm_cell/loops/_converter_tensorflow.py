"""The converter loop's TensorFlow kernel: `SimpleLSTM`'s loop while a model
is exported, in the forms the converters read.

The fused loop (`fused_lstm`) is compiled with XLA, which tf2onnx cannot look
into (it leaves an invalid `PartitionedCall` node), and collects its outputs
in a `TensorArray`, which LiteRT runs only with the Flex delegate. While
Keras's `model.export` or `tf.saved_model.save` traces the model for
inference (`export_format`), `SimpleLSTM` runs this loop instead, and
`predict` keeps the XLA loop. By the format written:

- `model.export(format="onnx")`: the standard cell (tanh, sigmoid, float32,
  without `return_state`: `lstm_graph.native_reason`) as
  `tf_lstm.standard_lstm`, which tf2onnx writes as one ONNX `LSTM` node, for
  any batch size and any initial state.
- `model.export(format="litert")`: the standard cell from zero states,
  without `return_state`, for a fixed batch size (an `input_signature` with
  one, `keras.InputSpec(shape=(1, T, D))`: the fused op's states need it,
  and Keras's own signature leaves the batch size dynamic) and over at most
  `CONVERTER_CELL_CLIP` (10) steps, as `tf_lstm.litert_lstm`, which the
  converter fuses into one builtin `UNIDIRECTIONAL_SEQUENCE_LSTM` op. The
  converter writes a cell clipping of ±10 into that op, which Keras's own
  export keeps; from zero states |c_t| < t, so up to 10 steps it never acts.
  Longer sequences take the loop below (`keras_lstm_cell.export_model`
  removes the clipping and fuses any length).
- Otherwise (SavedModel, the cell variants, a dynamic batch size for
  LiteRT, longer sequences, explicit or carried states): a `tf.while_loop`
  over h and c, which every converter reads as builtin ops (LiteRT `WHILE`,
  ONNX `Loop`). With `return_sequences` each step writes its h into a
  `(T, B, H)` tensor (`tf.tensor_scatter_nd_update`: `SCATTER_ND` in LiteRT,
  `ScatterND` in ONNX); with `unroll` and a static length, the steps are a
  Python loop. The standard cell's step is `lstm_equations` on `x_t · W + b`
  computed for all steps before the loop; a variant's step is its cell's own
  `call`.

It has no mask: masked calls take the fused loop.
"""

from __future__ import annotations

import sys

import numpy as np
import tensorflow as tf

from keras_lstm_cell.equations import lstm_equations
from keras_lstm_cell.equations import split_preactivations
from keras_lstm_cell.export import tf_lstm
from keras_lstm_cell.export.lstm_graph import native_reason
from keras_lstm_cell.loops._common import fast_loop_reason

# Modules whose functions trace a model to write it out, and the format each
# writes; any other module of these packages writes a SavedModel.
_FORMAT_MODULES = (("keras.src.export.litert", "litert"), ("keras.src.export.onnx", "onnx"))
_EXPORT_MODULES = ("keras.src.export.", "tensorflow.python.saved_model.")
SAVED_MODEL = "tf_saved_model"


def export_format() -> str | None:
    """The format being written while the caller runs inside Keras's
    `model.export` (`"litert"`, `"onnx"`, else `SAVED_MODEL`) or
    `tf.saved_model.save` (`SAVED_MODEL`); `None` outside them."""
    found = None
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        for prefix, format in _FORMAT_MODULES:
            if module == prefix:
                return format
        if found is None and module.startswith(_EXPORT_MODULES):
            found = SAVED_MODEL
        frame = frame.f_back
    return found


def native_form(layer, x, initial_state, format: str | None) -> str | None:
    """`"onnx"` or `"litert"` when that format's native LSTM op computes this
    call of the standard cell (x time-major), else `None`."""
    if format not in ("onnx", "litert") or layer.cell.compute_dtype != "float32":
        return None
    if native_reason(layer, format) is not None:  # activations, return_state
        return None
    if format == "onnx":
        return format
    steps, batch = x.shape[0], x.shape[1]
    # The fused op returns no states and starts from zeros (`litert_lstm`).
    if layer.stateful or not all(_is_zero(s) for s in initial_state):
        return None
    # Its states need a fixed batch size: with a dynamic one the converter
    # leaves the function unfused, in Flex TensorList ops.
    if batch is None or steps is None or steps > tf_lstm.CONVERTER_CELL_CLIP:
        return None
    return format


def _is_zero(state) -> bool:
    """Whether `state` is a constant zero tensor of the graph (`tf.zeros`)."""
    value = tf.get_static_value(state)
    if value is None and state.op.type == "Fill":
        value = tf.get_static_value(state.op.inputs[1])
    return value is not None and not np.any(value)


def converter_loop(layer, sequences, initial_state) -> tuple:
    """`SimpleLSTM`'s inference over `sequences (B, T, D)` from
    `initial_state [h0, c0]`, in the form the format being written reads.

    Returns what `keras.layers.RNN.inner_loop` returns:
    `(last_output, outputs (B, T, H) or (B, 1, H), [h, c])`.
    """
    cell = layer.cell
    x = tf.transpose(sequences, (1, 0, 2))  # (T, B, D)
    if layer.go_backwards:
        x = tf.reverse(x, axis=[0])
    h0, c0 = initial_state
    if fast_loop_reason(layer, training=False) is not None:  # a variant, another dtype
        outputs, h, c = _steps(_cell_step(cell, x), x, h0, c0, layer)
    else:
        outputs, h, c = _standard_lstm(layer, x, initial_state)
    if layer.return_sequences:
        return outputs[-1], tf.transpose(outputs, (1, 0, 2)), [h, c]
    return outputs, outputs[:, None], [h, c]


def _standard_lstm(layer, x, initial_state):
    """The standard cell over `x (T, B, D)`, as the format being written
    reads it: `(outputs, h_T, c_T)`, outputs `(T, B, H)` with
    `return_sequences`, else `h_T`."""
    cell = layer.cell
    h0, c0 = initial_state
    form = native_form(layer, x, initial_state, export_format())
    if form is None:
        return _steps(_fused_step(cell, x), x, h0, c0, layer)
    if form == "onnx":
        last, outputs, h, c, _ = tf_lstm.standard_lstm(x, h0, c0, *_weights(cell), time_major=True)
        return (outputs if layer.return_sequences else last), h, c
    # The weights as constants: the converter fuses the function only when
    # they are (it crashes on variables read inside it).
    with tf.init_scope():
        weights = [tf.constant(w.numpy()) for w in _weights(cell)]
    outputs = tf_lstm.litert_lstm(x, *weights, time_major=True)  # (T, B, H)
    h = outputs[-1]
    c = tf.zeros_like(h)  # not read: the form is taken without return_state
    return (outputs if layer.return_sequences else h), h, c


def _weights(cell):
    kernel = tf.convert_to_tensor(cell.kernel)
    bias = cell.bias if cell.use_bias else tf.zeros((4 * cell.units,), kernel.dtype)
    return kernel, tf.convert_to_tensor(cell.recurrent_kernel), tf.convert_to_tensor(bias)


def _fused_step(cell, x):
    """The standard cell's step, with `x_t · W + b` of every step computed
    before the loop and read per step with `tf.gather`."""
    kernel, recurrent_kernel, bias = _weights(cell)
    xw = tf.matmul(x, kernel) + bias  # (T, B, 4H)

    def step(t, h, c):
        z = tf.gather(xw, t) + tf.matmul(h, recurrent_kernel)
        g = lstm_equations(
            split_preactivations(z), c, cell.recurrent_activation, cell.activation, cell.activation
        )
        return g.h, g.c

    return step


def _cell_step(cell, x):
    """The cell's own step (a variant, another dtype)."""

    def step(t, h, c):
        h, (h, c) = cell.call(tf.gather(x, t), [h, c], training=False)
        return h, c

    return step


def _steps(step, x, h0, c0, layer):
    """`step` over the `T` steps of `x (T, B, D)`: `(outputs, h_T, c_T)`,
    outputs `(T, B, H)` with `return_sequences`, else `h_T`."""
    if layer.unroll and x.shape[0] is not None:
        h, c, outputs = h0, c0, []
        for t in range(x.shape[0]):
            h, c = step(t, h, c)
            outputs.append(h)
        return (tf.stack(outputs) if layer.return_sequences else h), h, c

    steps = tf.shape(x)[0]
    if not layer.return_sequences:

        def body(t, h, c):
            return (t + 1, *step(t, h, c))

        _, h, c = tf.while_loop(lambda t, *_: t < steps, body, (0, h0, c0))
        return h, h, c

    def body_with_outputs(t, h, c, outputs):
        h, c = step(t, h, c)
        return t + 1, h, c, tf.tensor_scatter_nd_update(outputs, [[t]], h[None])

    outputs = tf.zeros(tf.stack([steps, tf.shape(h0)[0], tf.shape(h0)[1]]), h0.dtype)
    _, h, c, outputs = tf.while_loop(
        lambda t, *_: t < steps, body_with_outputs, (0, h0, c0, outputs)
    )
    return outputs, h, c
