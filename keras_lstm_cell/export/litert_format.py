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


def convert(serve, tracked, patches=()) -> bytes:
    """The `.tflite` flatbuffer of `serve`, a `tf.function` with an input
    signature; `tracked` holds the variables it reads (the model). Each
    `lstm_graph.NativePatch` is applied to the fused op it belongs to."""
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
    return _finish_fused_ops(flatbuffer, patches)


def _finish_fused_ops(flatbuffer: bytes, patches) -> bytes:
    """The flatbuffer with its fused LSTM ops' cell clipping turned off and
    each patch applied: peephole weights added, or the input gate removed
    (CIFG) for the coupled cell.

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
    ops = [
        (subgraph, op)
        for subgraph in model.subgraphs
        for op in subgraph.operators
        if op.opcodeIndex in fused
    ]
    for _, op in ops:
        op.builtinOptions.cellClip = 0.0
        op.builtinOptions.projClip = 0.0
    for patch in patches:
        subgraph, op = _op_of(model, ops, patch)
        if patch.peephole is not None:
            for gate, position in _CELL_TO_GATE.items():
                op.inputs[position] = _add_constant(model, subgraph, patch.peephole[gate])
        if patch.coupled:
            # CIFG: without input-gate weights the kernel computes i = 1 - f.
            for position in _INPUT_GATE:
                op.inputs[position] = -1
    return flatbuffer_utils.convert_object_to_bytearray(model)


# Inputs of UNIDIRECTIONAL_SEQUENCE_LSTM: recurrent_to_forget_weights and the
# peephole (cell_to_*) weights, per gate.
_RECURRENT_TO_FORGET = 6
_CELL_TO_GATE = {"i": 9, "f": 10, "o": 11}
# input_to_input_weights, recurrent_to_input_weights, input_gate_bias
_INPUT_GATE = (1, 5, 12)


def _op_of(model, ops, patch):
    """The fused op whose recurrent-to-forget weights are `patch`'s U_f."""
    from keras_lstm_cell.gate_layout import split_columns

    units = patch.recurrent_kernel.shape[0]
    expected = split_columns(patch.recurrent_kernel, units)["f"].T  # (H, H): TFLite's layout
    for subgraph, op in ops:
        tensor = subgraph.tensors[op.inputs[_RECURRENT_TO_FORGET]]
        data = model.buffers[tensor.buffer].data
        if data is not None and len(data) == expected.nbytes:
            if np.array_equal(np.frombuffer(bytes(data), "<f4").reshape(expected.shape), expected):
                return subgraph, op
    raise ValueError(
        "The LiteRT converter wrote no fused LSTM op for an LSTM variant layer, so "
        "its peephole weights could not be added."
    )


def _add_constant(model, subgraph, value: np.ndarray) -> int:
    """Adds `value` (float32) as a constant tensor; returns its index."""
    from tensorflow.lite.python import schema_py_generated as schema

    buffer = schema.BufferT()
    buffer.data = np.frombuffer(value.astype("<f4").tobytes(), np.uint8)
    model.buffers.append(buffer)
    tensor = schema.TensorT()
    tensor.shape = np.array(value.shape, np.int32)
    tensor.type = schema.TensorType.FLOAT32
    tensor.buffer = len(model.buffers) - 1
    tensor.name = f"cell_to_gate_weights_{len(subgraph.tensors)}".encode()
    subgraph.tensors.append(tensor)
    return len(subgraph.tensors) - 1


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
