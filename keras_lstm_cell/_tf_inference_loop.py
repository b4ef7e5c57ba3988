"""`SimpleLSTM`'s loop on TensorFlow while a model is exported, in ops every
converter reads.

The fused loop (`_fast_lstm`) is compiled with XLA, which tf2onnx cannot look
into (it leaves an invalid `PartitionedCall` node), and collects its outputs
in a `TensorArray`, which LiteRT runs only with the Flex delegate. While
Keras's `model.export` or `tf.saved_model.save` traces the model for
inference (`in_export_trace`), `SimpleLSTM` runs this loop instead, so that
`model.export(format="litert" | "onnx")` writes a file the standard LiteRT
interpreter and onnxruntime run, for any batch size. `predict` keeps the XLA
loop (on a 2-core CPU, 0.57x the inference time of `keras.layers.LSTM` on
(128, 100, 32, 256); this loop measured 1.0-1.4x). This loop has:

- the input projection `x_t · W + b` of every step as one product before the
  loop (as in `_fast_lstm`), read per step with `tf.gather`;
- a `tf.while_loop` carrying h and c, and with `return_sequences` a `(T, B, H)`
  tensor that each step writes its h into (`tf.tensor_scatter_nd_update`,
  in place in TensorFlow; `SCATTER_ND` in LiteRT, `ScatterND` in ONNX);
- with `unroll` and a static length, the same step in a Python loop.

The step is `lstm_equations`. It has no mask: masked calls take `_fast_lstm`.
"""

from __future__ import annotations

import sys

from keras_lstm_cell._fast_lstm import LoopConfig
from keras_lstm_cell.equations import lstm_equations
from keras_lstm_cell.equations import split_preactivations

# Modules whose functions trace a model to write it out.
_EXPORT_MODULES = ("keras.src.export.", "tensorflow.python.saved_model.")


def in_export_trace() -> bool:
    """Whether the caller runs inside Keras's `model.export` (any format) or
    `tf.saved_model.save`: one of their functions is on the call stack."""
    frame = sys._getframe(1)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith(_EXPORT_MODULES):
            return True
        frame = frame.f_back
    return False


def inference_lstm(x, kernel, recurrent_kernel, bias, h0, c0, config: LoopConfig):
    """The LSTM over a time-major sequence, for inference on TensorFlow.

    Args, returns: as `_fast_lstm.fused_lstm` without a mask: `x (T, B, D)`,
    W `(D, 4H)`, U `(H, 4H)`, b `(4H,)`, h0 and c0 `(B, H)`; returns
    `(outputs, h_T, c_T)` with outputs `(T, B, H)` under
    `config.return_sequences`, else the last output `(B, H)`.
    """
    import tensorflow as tf

    xw = tf.matmul(x, kernel)  # (T, B, 4H)
    if config.use_bias:
        xw = xw + bias

    def step(t, h, c):
        z = tf.gather(xw, t) + tf.matmul(h, recurrent_kernel)
        g = lstm_equations(
            split_preactivations(z), c, config.sigma_g, config.sigma_c, config.sigma_c
        )
        return g.h, g.c

    if config.unroll and x.shape[0] is not None:
        h, c, outputs = h0, c0, []
        for t in range(x.shape[0]):
            h, c = step(t, h, c)
            outputs.append(h)
        return (tf.stack(outputs) if config.return_sequences else h), h, c

    steps = tf.shape(x)[0]
    if not config.return_sequences:

        def body(t, h, c):
            return (t + 1, *step(t, h, c))

        _, h, c = tf.while_loop(lambda t, *_: t < steps, body, (0, h0, c0))
        return h, h, c

    def body_with_outputs(t, h, c, outputs):
        h, c = step(t, h, c)
        return t + 1, h, c, tf.tensor_scatter_nd_update(outputs, [[t]], h[None])

    outputs = tf.zeros((steps, tf.shape(h0)[0], recurrent_kernel.shape[0]), h0.dtype)
    _, h, c, outputs = tf.while_loop(
        lambda t, *_: t < steps, body_with_outputs, (0, h0, c0, outputs)
    )
    return outputs, h, c
