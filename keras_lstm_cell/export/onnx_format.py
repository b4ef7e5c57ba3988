"""ONNX (`.onnx`) files: the writer and the reader side by side.

`convert` turns a TensorFlow serving function into an ONNX model with
tf2onnx (as Keras's own `model.export(format="onnx")` does), whose LSTM
rewriter writes each `tf_lstm.standard_lstm` loop as one `LSTM` node; `run`
runs a file in onnxruntime; `op_names` lists its node types.
"""

from __future__ import annotations

import warnings

import numpy as np

# ONNX's gate order in W, R and B; P holds i, o, f.
ONNX_GATE_ORDER = ("i", "o", "f", "c")
_P_INPUT = 7  # X, W, R, B, sequence_lens, initial_h, initial_c, P


def convert(serve, opset: int | None = None, patches=()) -> bytes:
    """The serialized ONNX model of `serve`, a `tf.function` with an input
    signature (any batch size where the signature leaves it `None`), with
    each `lstm_graph.NativePatch` applied to the `LSTM` node it belongs to."""
    import tf2onnx

    # tf2onnx 1.17 still reads NumPy aliases that NumPy 2 removed; Keras
    # patches them back the same way before its own ONNX export (its check
    # for `np.object` warns in NumPy 2, which says nothing to the user).
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*np.object.*", category=FutureWarning)
        from keras.src.export.tf2onnx_lib import patch_tf2onnx

        patch_tf2onnx()
    try:
        model_proto, _ = tf2onnx.convert.from_function(
            serve, input_signature=serve.input_signature, opset=opset
        )
    except Exception as e:  # tf2onnx raises many kinds, all "cannot convert"
        raise ValueError(f"The model could not be converted to ONNX: {e}") from e
    for patch in patches:
        _apply(model_proto.graph, patch)
    return model_proto.SerializeToString()


def _apply(graph, patch) -> None:
    """Adds `patch`'s peepholes or `input_forget` to the LSTM node whose R
    holds `patch.recurrent_kernel` (one of its directions)."""
    from onnx import helper
    from onnx import numpy_helper

    from keras_lstm_cell.gate_layout import split_columns

    units = patch.recurrent_kernel.shape[0]
    blocks = split_columns(patch.recurrent_kernel, units)
    r_expected = np.concatenate([blocks[g].T for g in ONNX_GATE_ORDER])  # (4H, H)
    initializers = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type != "LSTM" or node.input[2] not in initializers:
            continue
        r = numpy_helper.to_array(initializers[node.input[2]])  # (directions, 4H, H)
        matches = [d for d in range(r.shape[0]) if np.array_equal(r[d], r_expected)]
        if not matches:
            continue
        if patch.coupled and "input_forget" not in {a.name for a in node.attribute}:
            # Both directions of a bidirectional node are the same variant.
            node.attribute.append(helper.make_attribute("input_forget", 1))
        if patch.peephole is not None:
            peephole = np.concatenate([patch.peephole[g] for g in "iof"])  # ONNX's P order
            _set_peephole(graph, node, initializers, r.shape[0], matches[0], peephole)
        return
    raise ValueError(
        "The ONNX converter wrote no LSTM node for an LSTM variant layer, so its "
        "peepholes or coupled gates could not be added."
    )


def _set_peephole(graph, node, initializers, directions, direction, peephole) -> None:
    from onnx import numpy_helper

    inputs = list(node.input) + [""] * (_P_INPUT + 1 - len(node.input))
    if inputs[_P_INPUT]:
        p = numpy_helper.to_array(initializers[inputs[_P_INPUT]]).copy()
    else:
        p = np.zeros((directions, peephole.shape[0]), "float32")
    p[direction] = peephole
    name = f"{node.name}_P"
    graph.initializer.append(numpy_helper.from_array(p, name))
    inputs[_P_INPUT] = name
    del node.input[:]
    node.input.extend(inputs)


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
