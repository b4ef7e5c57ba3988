"""LiteRT (`.tflite`) files: the writer and the reader side by side.

`convert` turns a TensorFlow serving function into a flatbuffer of builtin
ops only, so the standard `ai_edge_litert.interpreter.Interpreter` runs it
without the Flex delegate; `run` runs a file there; `op_names` lists its ops.
"""

from __future__ import annotations

import logging
import tempfile

import numpy as np
import tensorflow as tf

logger = logging.getLogger(__name__)

FUSED_LSTM_OP = "UNIDIRECTIONAL_SEQUENCE_LSTM"
SIGNATURE = "serving_default"


def convert(serve, tracked) -> bytes:
    """The `.tflite` flatbuffer of `serve`, a `tf.function` with an input
    signature; `tracked` holds the variables it reads (the model)."""
    module = tf.Module()
    # The tf.Variables behind the Keras variables: tracked by the module, the
    # SavedModel holds their values and the converter freezes them.
    module.variables_read = [v.value for v in tracked.variables]
    module.serve = serve
    with tempfile.TemporaryDirectory() as saved_model_dir:
        # Through a SavedModel: only this path keeps the `api_implements`
        # functions whole until the converter fuses them.
        tf.saved_model.save(
            module, saved_model_dir, signatures={SIGNATURE: serve.get_concrete_function()}
        )
        converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        converter.experimental_enable_resource_variables = False
        try:
            flatbuffer = converter.convert()
        except Exception as e:  # the converter raises its own ConverterError
            first_line = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise ValueError(
                "The model could not be converted to builtin LiteRT ops (no Flex "
                f"delegate): {first_line}"
            ) from e
    return _without_cell_clip(flatbuffer)


def _without_cell_clip(flatbuffer: bytes) -> bytes:
    """The flatbuffer with its fused LSTM ops' cell clipping turned off.

    The converter writes `cell_clip=10` into every fused LSTM it makes from a
    Keras LSTM; Keras clips nothing, so a cell state beyond ±10 (possible in
    long sequences) would differ.
    """
    from tensorflow.lite.python import schema_py_generated as schema
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.read_model_from_bytearray(bytearray(flatbuffer))
    fused = {
        k
        for k, code in enumerate(model.operatorCodes)
        if max(code.builtinCode, code.deprecatedBuiltinCode)
        == schema.BuiltinOperator.UNIDIRECTIONAL_SEQUENCE_LSTM
    }
    if not fused:
        return flatbuffer
    for subgraph in model.subgraphs:
        for op in subgraph.operators:
            if op.opcodeIndex in fused:
                op.builtinOptions.cellClip = 0.0
                op.builtinOptions.projClip = 0.0
    return flatbuffer_utils.convert_object_to_bytearray(model)


def _interpreter(path: str):
    from ai_edge_litert.interpreter import Interpreter

    return Interpreter(model_path=str(path))


def run(path: str, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    """Runs the file's serving signature on `inputs` (keyed as its inputs);
    returns its outputs `output_0`, `output_1`, ... in that order."""
    runner = _interpreter(path).get_signature_runner(SIGNATURE)
    outputs = runner(**inputs)
    order = sorted(outputs, key=lambda key: int(key.rsplit("_", 1)[-1]))
    return [np.array(outputs[key]) for key in order]  # copies of the interpreter's buffers


def op_names(path: str) -> list[str]:
    """The file's op types, in execution order (e.g. `UNIDIRECTIONAL_SEQUENCE_LSTM`)."""
    interpreter = _interpreter(path)
    interpreter.allocate_tensors()
    return [op["op_name"] for op in interpreter._get_ops_details()]
