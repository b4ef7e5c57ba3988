"""The TensorFlow function an exported file is converted from."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import tree

from keras_lstm_cell.export import lstm_graph


def _input_names(model) -> list[str]:
    from keras_lstm_cell.export.export_model import sanitized_name

    names = [sanitized_name(getattr(x, "name", ""), k) for k, x in enumerate(model.inputs)]
    if len(set(names)) != len(names):
        names = [f"input_{k}" for k in range(len(names))]
    return names


def serving_function(model: keras.Model, target: str, batch_size: int | None):
    """`(serve, tracked, input_names)`: `serve` is a `tf.function` from the
    model's inputs (batch `batch_size`, or any when `None`) to its outputs,
    flattened, with each LSTM in the form `target`'s converter reads;
    `tracked` holds the variables it reads."""
    lstm_graph.check_model(model)
    inputs = getattr(model, "inputs", None)
    if not inputs:
        raise ValueError(
            "Expected a built model with known inputs: start it with `keras.Input` "
            f"or call it on data first. Received: model {model.name!r} without inputs"
        )
    clone = lstm_graph.inference_model(model, target, batch_size)
    names = _input_names(model)
    specs = [
        tf.TensorSpec((batch_size, *x.shape[1:]), x.dtype, name=name)
        for x, name in zip(inputs, names)
    ]

    def serve(*args):
        outputs = clone(list(args) if len(args) > 1 else args[0], training=False)
        return [tf.identity(y) for y in tree.flatten(outputs)]

    return tf.function(serve, input_signature=specs, autograph=False), clone, names
