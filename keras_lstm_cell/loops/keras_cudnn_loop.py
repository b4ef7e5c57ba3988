from __future__ import annotations

import keras
from keras import ops

# `keras.layers.LSTM` reaches cuDNN through these backend functions; Keras does
# not export them publicly.
from keras.src import backend as keras_backend

from keras_lstm_cell.loops._common import dropped_inputs
from keras_lstm_cell.loops._common import kernel_reason
from keras_lstm_cell.loops.fused_loop import FusedLoop
from keras_lstm_cell.loops.loop_call import LoopCall


class KerasCudnnLoop:
    """cuDNN through Keras's backend function (`keras.src.backend.lstm`), as
    `keras.layers.LSTM` runs it on TensorFlow and JAX, on a GPU.

    The layer reverses the inputs itself for `go_backwards`: Keras 3.15.1's
    JAX function returns a backward pass's sequence in input order, unlike
    its generic loop and its TensorFlow function. On TensorFlow a mask must be
    right-padded (cuDNN reads it as sequence lengths), which is checked on the
    data: any other mask runs the fused loop.
    """

    name = "cudnn"

    def reason(self, layer, call: LoopCall) -> str | None:
        backend = keras.backend.backend()
        cell = layer.cell
        if backend not in ("tensorflow", "jax"):
            return f"Keras's cuDNN function runs on TensorFlow and JAX here; backend={backend!r}"
        reason = kernel_reason(layer, call.training)
        if reason is not None:
            return reason
        if not cell.use_bias:
            return "Keras's cuDNN function needs use_bias=True"
        if cell.compute_dtype != "float32":
            # Keras 3.15.1's JAX cuDNN function fails in the backward pass in
            # float64, and half precision runs the generic loop.
            return f"cuDNN runs float32 here; compute dtype={cell.compute_dtype!r}"
        if call.masked and backend != "tensorflow":
            return f"cuDNN takes a mask on TensorFlow only; backend={backend!r}"
        if call.masked and layer.zero_output_for_mask != layer.return_sequences:
            return (
                "with a mask, cuDNN outputs zeros at padded steps; it needs "
                "zero_output_for_mask == return_sequences"
            )
        if call.device != "gpu":
            return "no GPU is visible"
        return None

    def run(self, layer, sequences, initial_state, mask, training: bool) -> tuple:
        def cudnn():
            return _backend_lstm(layer, sequences, initial_state, mask, training)

        if mask is None or keras.backend.backend() != "tensorflow":
            return cudnn()
        import tensorflow as tf

        present = tf.cast(mask, "bool")
        lengths = tf.reduce_sum(tf.cast(present, "int32"), axis=1)
        right_padded = tf.reduce_all(
            tf.equal(present, tf.sequence_mask(lengths, maxlen=tf.shape(mask)[1]))
        )
        usable = tf.logical_and(right_padded, tf.reduce_all(lengths > 0))
        return tf.cond(
            usable,
            cudnn,
            lambda: FusedLoop().run(layer, sequences, initial_state, mask, training),
        )


def _backend_lstm(layer, sequences, initial_state, mask, training):
    cell = layer.cell
    inputs = dropped_inputs(layer, sequences, training)
    go_backwards = layer.go_backwards
    if go_backwards and mask is None:
        # Reversed here, not by the backend (class docstring). With a mask,
        # TensorFlow reverses each sequence within its length.
        inputs, go_backwards = ops.flip(inputs, axis=1), False
    return keras_backend.lstm(
        inputs,
        initial_state[0],
        initial_state[1],
        mask,
        kernel=cell.kernel,
        recurrent_kernel=cell.recurrent_kernel,
        bias=cell.bias,
        activation=cell.activation,
        recurrent_activation=cell.recurrent_activation,
        return_sequences=layer.return_sequences,
        go_backwards=go_backwards,
        unroll=layer.unroll,
    )
