"""ONNX (`.onnx`) files: the writer and the reader side by side.

`convert` turns a TensorFlow serving function into an ONNX model with
tf2onnx (as Keras's own `model.export(format="onnx")` does), whose LSTM
rewriter writes each `tf_lstm.standard_lstm` loop as one `LSTM` node; `run`
runs a file in onnxruntime; `op_names` lists its node types.
"""

from __future__ import annotations

import numpy as np


def convert(serve, opset: int | None = None) -> bytes:
    """The serialized ONNX model of `serve`, a `tf.function` with an input
    signature (any batch size where the signature leaves it `None`)."""
    import tf2onnx

    # tf2onnx 1.17 still reads NumPy aliases that NumPy 2 removed; Keras
    # patches them back the same way before its own ONNX export.
    from keras.src.export.tf2onnx_lib import patch_tf2onnx

    patch_tf2onnx()
    try:
        model_proto, _ = tf2onnx.convert.from_function(
            serve, input_signature=serve.input_signature, opset=opset
        )
    except Exception as e:  # tf2onnx raises many kinds, all "cannot convert"
        raise ValueError(f"The model could not be converted to ONNX: {e}") from e
    return model_proto.SerializeToString()


def _session(path: str):
    import onnxruntime

    return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def run(path: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Runs the file in onnxruntime on `inputs` (keyed as its inputs);
    returns its outputs in order."""
    return _session(path).run(None, inputs)


def op_names(path: str) -> list[str]:
    """The node types of the file's main graph (e.g. `LSTM`)."""
    import onnx

    return [node.op_type for node in onnx.load(str(path)).graph.node]
