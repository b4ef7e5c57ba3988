"""`export_model`: Keras's `Model.export`, with every LSTM as the native op."""

from __future__ import annotations

import logging
import os
import re
import uuid
from pathlib import Path

import keras
import numpy as np
from keras import tree

from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell._checks import is_number

logger = logging.getLogger(__name__)

# The formats written here; any other goes to Keras's own `model.export`.
NATIVE_FORMATS = ("litert", "onnx")
# Rows of the probe batch an ONNX file is checked on: more than one, so that a
# file that only works for batch 1 is caught.
ONNX_PROBE_BATCH = 3
PROBE_SEED = 0  # the probe batch is the same on every export


def export_model(
    model: keras.Model,
    filepath,
    format: str = "tf_saved_model",
    verbose: bool | None = None,
    input_signature=None,
    **kwargs,
):
    """Exports `model` as `Model.export` does, each LSTM as the native LSTM op.

    For `format="litert"` and `format="onnx"`, every `SimpleLSTM`,
    `RNN(SimpleLSTMCell)`, `keras.layers.LSTM` (and `RNN(LSTMCell)`), also
    inside `Bidirectional` and nested models, becomes the runtime's own LSTM
    op where that op computes it: LiteRT's builtin
    `UNIDIRECTIONAL_SEQUENCE_LSTM` (the file has builtin ops only, so the
    standard `ai_edge_litert` interpreter runs it without the Flex delegate)
    and ONNX's `LSTM` (no `Loop`, any batch size). The
    `"diagonal_peephole"` cell variant maps onto both (peephole weights), the
    `"coupled"` one onto ONNX's (`input_forget`). An LSTM the native op does not compute (the other
    variants, other activations, `return_state=True`, an explicit
    `initial_state`) runs its cell's own step unrolled over the timesteps, in
    builtin ops. The other layers are converted as TensorFlow's converters
    convert them.

    The file is written beside its destination, run once in its runtime
    (the LiteRT interpreter, onnxruntime) on a probe batch and compared with
    `model.predict`, then renamed into place: a file that differs by more
    than `tolerance` is removed and refused with a `ValueError`, and no
    half-written file is left behind.

    Masks (a `Masking` layer, `Embedding(mask_zero=True)`) and
    `stateful=True` layers are refused with a `ValueError` naming the layer
    and the option. Any other `format` is passed on to `model.export`.

    Args:
        model: A built Sequential or functional `keras.Model`. The LiteRT
            and ONNX formats need the TensorFlow backend.
        filepath: Where to write; a LiteRT file must end in `.tflite`.
        format: `"litert"`, `"onnx"`, or another format of `Model.export`
            (`"tf_saved_model"`, `"openvino"`). Default: `"tf_saved_model"`.
        verbose: Whether to log the path written (at INFO level).
        input_signature: Ignored by the LiteRT and ONNX formats, whose
            inputs are the model's (with the batch size below); passed on for
            the others.
        **kwargs: For `"litert"`: `batch_size` (default 1), fixed in the
            file, as the fused LSTM op needs. For `"onnx"`: `opset_version`.
            For both: `tolerance` (default `1e-5`), the largest absolute
            difference allowed on the probe, relative to the largest output
            magnitude when that exceeds 1; `probe_inputs`, the batch to check
            on (default: standard-normal data, seeded). For other formats,
            passed on to `model.export`.

    Returns:
        For `"litert"` and `"onnx"`, the largest absolute difference measured
        between the file and `model.predict` on the probe batch; otherwise
        what `model.export` returns.

    Example:

    >>> model = keras.Sequential([keras.Input((7, 3)), SimpleLSTM(16), keras.layers.Dense(1)])
    >>> export_model(model, "forecaster.tflite", format="litert")  # doctest: +SKIP
    """
    if format not in NATIVE_FORMATS:
        return model.export(
            filepath, format=format, verbose=verbose, input_signature=input_signature, **kwargs
        )
    options = _check_options(format, kwargs)
    _check_backend(format)
    from keras_lstm_cell.export import lstm_graph
    from keras_lstm_cell.export import serving

    path = Path(filepath)
    if format == "litert" and path.suffix != ".tflite":
        raise ValueError(
            "Expected a LiteRT `filepath` ending in '.tflite'. "
            f"Received: filepath={str(filepath)!r}"
        )
    batch_size = options["batch_size"] if format == "litert" else None
    serve, tracked, input_names = serving.serving_function(model, format, batch_size)
    patches = lstm_graph.native_patches(tracked)
    if format == "litert":
        from keras_lstm_cell.export import litert_format as runtime

        content = runtime.convert(serve, tracked, patches)
    else:
        from keras_lstm_cell.export import onnx_format as runtime

        content = runtime.convert(serve, options["opset_version"], patches)
    probe = options["probe_inputs"]
    if probe is None:
        probe = _probe_batch(serve.input_signature, batch_size or ONNX_PROBE_BATCH)
    probe = _as_list(probe)
    diff = _write_checked(path, content, runtime, model, dict(zip(input_names, probe)), options)
    if verbose:
        logger.info("Saved %s file at %s (max abs diff %.2g)", format, path, diff)
    return diff


def _check_options(format: str, kwargs: dict) -> dict:
    allowed = {"tolerance", "probe_inputs"}
    allowed |= {"batch_size"} if format == "litert" else {"opset_version"}
    unknown = sorted(set(kwargs) - allowed)
    if unknown:
        raise ValueError(
            f"Unexpected keyword arguments {unknown} for format={format!r}; "
            f"expected some of {sorted(allowed)}. Received: {sorted(kwargs)}"
        )
    options = {"tolerance": 1e-5, "probe_inputs": None, "batch_size": 1, "opset_version": None}
    options |= kwargs
    check_positive_int("batch_size", options["batch_size"])
    tolerance = options["tolerance"]
    if not is_number(tolerance) or not 0 < tolerance < float("inf"):
        raise ValueError(
            f"Expected `tolerance` to be a positive number. Received: tolerance={tolerance!r}"
        )
    if options["opset_version"] is not None:
        check_positive_int("opset_version", options["opset_version"])
    return options


def _check_backend(format: str) -> None:
    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise ValueError(
            f"format={format!r} converts the model through TensorFlow: set "
            "KERAS_BACKEND=tensorflow before importing Keras (weights saved with "
            f"another backend load there unchanged). Received: backend={backend!r}"
        )


def _probe_batch(specs, batch: int) -> list[np.ndarray]:
    rng = np.random.default_rng(PROBE_SEED)
    probe = []
    for spec in specs:
        shape = (batch, *spec.shape[1:])
        if spec.dtype.is_floating:
            probe.append(rng.standard_normal(shape).astype(spec.dtype.as_numpy_dtype))
        else:
            probe.append(rng.integers(0, 2, shape).astype(spec.dtype.as_numpy_dtype))
    return probe


def _as_list(inputs) -> list[np.ndarray]:
    if isinstance(inputs, (list, tuple)):
        return [np.asarray(x) for x in inputs]
    return [np.asarray(inputs)]


def _write_checked(path: Path, content: bytes, runtime, model, inputs: dict, options) -> float:
    """Writes `content` beside `path`, runs it against `model.predict` and
    renames it into place; removes it and raises when they differ."""
    partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.partial")
    try:
        partial.write_bytes(content)
        got = runtime.run(partial, inputs)
        diff = _max_difference(model, inputs, got, options["tolerance"])
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return diff


def _max_difference(model, inputs: dict, got: list[np.ndarray], tolerance: float) -> float:
    batch = list(inputs.values())
    expected = tree.flatten(model.predict(batch if len(batch) > 1 else batch[0], verbose=0))
    if len(got) != len(expected):
        raise ValueError(
            f"The exported file returns {len(got)} outputs where the model returns "
            f"{len(expected)}; it was removed."
        )
    diff, scale = 0.0, 1.0
    for e, g in zip(expected, got):
        e = np.asarray(e, "float64")
        g = np.asarray(g, "float64")
        if e.shape != g.shape:
            raise ValueError(
                f"The exported file returns an output of shape {g.shape} where the model "
                f"returns {e.shape}; it was removed."
            )
        diff = max(diff, float(np.max(np.abs(e - g), initial=0.0)))
        scale = max(scale, float(np.max(np.abs(e), initial=0.0)))
    if not diff <= tolerance * scale:  # also refuses NaN
        raise ValueError(
            f"The exported file computes other numbers than model.predict: max abs "
            f"difference {diff:.3g} on the probe batch, above tolerance={tolerance:g}"
            f"{f' x {scale:.3g}' if scale > 1 else ''}; it was removed."
        )
    return diff


def sanitized_name(name: str, k: int) -> str:
    """An input name usable as a signature key."""
    name = re.sub(r"\W", "_", name or "")
    return name if name and not name[0].isdigit() else f"input_{k}"
