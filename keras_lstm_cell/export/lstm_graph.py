"""A Keras model's forward pass with each LSTM layer in the form a converter
turns into its native LSTM op.

`inference_model` clones the model (Sequential or functional, nested models
included) and puts an `ExportedLSTM` in place of every `SimpleLSTM`,
`RNN(SimpleLSTMCell)`, `RNN(LSTMCell)` and `keras.layers.LSTM`, and an
`ExportedBidirectional` in place of a `Bidirectional` of one; every other
layer is the model's own, weights shared. An LSTM the native op computes (the
standard cell, the diagonal-peephole one, for ONNX also the coupled one; tanh and
sigmoid, no explicit initial state) runs as `tf_lstm.standard_lstm` (ONNX,
completed by a `NativePatch` for a variant) or `tf_lstm.composite_lstm`
(LiteRT); any other runs its cell unrolled over the steps
(`tf_lstm.unrolled_lstm`).

What neither form can compute is refused with a `ValueError` naming the layer
and the option: masks (a `Masking` layer, `Embedding(mask_zero=True)`) and
`stateful=True`.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf
from keras import activations

from keras_lstm_cell.export import tf_lstm
from keras_lstm_cell.gate_layout import COUPLED_GATE_ORDER
from keras_lstm_cell.gate_layout import join_columns
from keras_lstm_cell.gate_layout import split_columns
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

TARGETS = ("litert", "onnx")
# How an exported LSTM is computed: the converter's native op, or the cell's
# own step unrolled into builtin ops.
NATIVE, UNROLLED = "native", "unrolled"


def is_lstm_layer(layer) -> bool:
    """Whether `layer` is an RNN layer over a `SimpleLSTMCell` or a
    `keras.layers.LSTMCell` (`SimpleLSTM` and `keras.layers.LSTM` are)."""
    return isinstance(layer, keras.layers.RNN) and isinstance(
        layer.cell, (SimpleLSTMCell, keras.layers.LSTMCell)
    )


# Variants each native op computes. The converters fuse only the standard
# cell; the format modules complete the op they write (see `NativePatch`):
# the diagonal peepholes are LiteRT's `cell_to_*` weights and ONNX's `P`, the
# coupled gates LiteRT's CIFG form and ONNX's `input_forget=1`.
NATIVE_VARIANTS = {
    "litert": ("standard", "diagonal_peephole", "coupled"),
    "onnx": ("standard", "diagonal_peephole", "coupled"),
}


class NativePatch(NamedTuple):
    """What a native LSTM op written from the standard loop needs added to
    compute a variant; the op is found by its recurrent weights."""

    recurrent_kernel: np.ndarray  # U, `(H, 4H)` in `GATE_ORDER`
    kernel: np.ndarray  # W, `(D, 4H)` in `GATE_ORDER`
    peephole: dict[str, np.ndarray] | None  # {"i": P_i, "f": P_f, "o": P_o}, each `(H,)`
    coupled: bool


def native_reason(layer, target: str) -> str | None:
    """Why `target`'s native LSTM op cannot compute `layer`, or `None`."""
    cell = layer.cell
    variant = getattr(cell, "variant", "standard")
    if variant not in NATIVE_VARIANTS[target]:
        return f"variant={variant!r}"
    if cell.activation is not activations.tanh:
        return "activation is not tanh"
    if cell.recurrent_activation is not activations.sigmoid:
        return "recurrent_activation is not sigmoid"
    if layer.return_state:
        return "return_state=True"
    return None


def check_exportable(layer) -> None:
    """Raises `ValueError` for a layer whose computation cannot be exported."""
    if isinstance(layer, keras.layers.Masking):
        raise ValueError(
            f"Layer {layer.name!r} (Masking) masks steps, which the exported LSTM "
            "ops cannot skip. Remove the mask (pad the sequences instead). "
            "Received: a Masking layer"
        )
    if isinstance(layer, keras.layers.Embedding) and layer.mask_zero:
        raise ValueError(
            f"Layer {layer.name!r} (Embedding) masks steps, which the exported LSTM "
            "ops cannot skip. Received: mask_zero=True"
        )
    if isinstance(layer, keras.layers.RNN) and layer.stateful:
        raise ValueError(
            f"Layer {layer.name!r} keeps its states between batches, which an "
            "exported file cannot. Export a copy built with stateful=False, or a "
            "step model (x_t, h, c) -> (h, c). Received: stateful=True"
        )


def _standard_weights(cell) -> tuple[np.ndarray, ...]:
    """`(kernel (D, 4H), recurrent_kernel (H, 4H), bias (4H,))` as float32
    arrays in `GATE_ORDER`, with a zero bias without `use_bias`.

    The coupled cell (f_t = σ(z_f), i_t = 1 - f_t) has no input-gate blocks.
    onnxruntime's `input_forget=1` couples the other way, f_t = 1 - σ(z_i), so
    the input-gate blocks are the forget gate's negated: σ(-z_f) = 1 - f_t is
    the cell's i_t, and 1 - i_t its f_t."""
    weights = [cell.kernel, cell.recurrent_kernel]
    if cell.use_bias:
        weights.append(cell.bias)
    arrays = [keras.ops.convert_to_numpy(w).astype("float32") for w in weights]
    if not cell.use_bias:
        arrays.append(np.zeros((arrays[0].shape[1],), "float32"))
    if getattr(cell, "variant", "standard") == "coupled":
        units = cell.units
        blocks = [split_columns(a, units, COUPLED_GATE_ORDER) for a in arrays]
        arrays = [join_columns({"i": -b["f"]} | b) for b in blocks]
    return tuple(arrays)


def _native_patch(cell, constants) -> NativePatch | None:
    variant = getattr(cell, "variant", "standard")
    if constants is None or variant == "standard":
        return None
    peephole = None
    if variant == "diagonal_peephole":
        names = {"i": "input", "f": "forget", "o": "output"}
        peephole = {
            gate: keras.ops.convert_to_numpy(getattr(cell, f"{name}_gate_peephole_weights")).astype(
                "float32"
            )
            for gate, name in names.items()
        }
    return NativePatch(constants[1], constants[0], peephole, coupled=variant == "coupled")


def _refuse_mask(layer, mask) -> None:
    if mask is not None:
        raise ValueError(
            f"Layer {layer.name!r} is called with a mask, whose steps the exported "
            "LSTM ops cannot skip. Received: mask of shape "
            f"{tuple(mask.shape)}"
        )


class ExportedLSTM(keras.layers.Layer):
    """An LSTM layer's inference in the form `target`'s converter reads.

    The weights are the source layer's, frozen as constants. Outputs follow
    the source layer: the last output, or all of them with
    `return_sequences`, reversed in time with `go_backwards`, and with
    `return_state` the final `h` and `c`.
    """

    def __init__(self, source, target: str, batch_size: int | None = None, **kwargs):
        super().__init__(name=source.name, **kwargs)
        self.source = source
        self.target = target
        self.batch_size = batch_size
        self.mode = UNROLLED if native_reason(source, target) else NATIVE
        self.constants = _standard_weights(source.cell) if self.mode == NATIVE else None
        self.patch = _native_patch(source.cell, self.constants)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        del training  # inference only
        source = self.source
        _refuse_mask(source, mask)
        if source.go_backwards:
            sequences = tf.reverse(sequences, axis=[1])
        mode = self.mode if initial_state is None else UNROLLED
        if mode == NATIVE and self.target == "litert":
            outputs = self._litert_lstm(sequences)
            h = c = None
        elif mode == NATIVE:
            _, outputs, h, c, _ = tf_lstm.standard_lstm(
                sequences, *self._zero_states(sequences), *self._weights()
            )
        else:
            states = initial_state if initial_state is not None else self._zero_states(sequences)
            outputs, h, c = tf_lstm.unrolled_lstm(source.cell, sequences, *states)
        output = outputs if source.return_sequences else outputs[:, -1]
        if source.return_state:
            return [output, h, c]
        return output

    def _weights(self):
        return tuple(tf.constant(w) for w in self.constants)

    def _zero_states(self, sequences):
        units = self.source.cell.units
        zeros = tf.zeros((tf.shape(sequences)[0], units), sequences.dtype)
        return zeros, zeros

    def _litert_lstm(self, sequences):
        """The fused op, started from zeros at every invocation
        (`tf_lstm.litert_lstm`)."""
        coupled = self.patch is not None and self.patch.coupled
        return tf_lstm.litert_lstm(sequences, *self._weights(), coupled=coupled)


class ExportedBidirectional(keras.layers.Layer):
    """A `Bidirectional` of LSTM layers, each half an `ExportedLSTM`, merged
    as `keras.layers.Bidirectional` merges them."""

    def __init__(self, source, target: str, batch_size: int | None = None, **kwargs):
        super().__init__(name=source.name, **kwargs)
        if source.return_state:
            raise ValueError(
                f"Layer {source.name!r} (Bidirectional) returns its states, which "
                "export_model does not export for Bidirectional. Received: "
                "return_state=True"
            )
        self.merge_mode = source.merge_mode
        self.return_sequences = source.return_sequences
        self.forward = ExportedLSTM(source.forward_layer, target, batch_size)
        self.backward = ExportedLSTM(source.backward_layer, target, batch_size)

    def call(self, sequences, mask=None, training=False):
        _refuse_mask(self, mask)
        y = self.forward(sequences)
        y_rev = self.backward(sequences)
        if self.return_sequences:
            y_rev = tf.reverse(y_rev, axis=[1])
        if self.merge_mode == "concat":
            return tf.concat([y, y_rev], axis=-1)
        if self.merge_mode == "sum":
            return y + y_rev
        if self.merge_mode == "ave":
            return (y + y_rev) / 2
        if self.merge_mode == "mul":
            return y * y_rev
        return [y, y_rev]


def _replacement(target: str, batch_size: int | None):
    def replace(layer):
        check_exportable(layer)
        if is_lstm_layer(layer):
            return ExportedLSTM(layer, target, batch_size)
        if isinstance(layer, keras.layers.Bidirectional) and is_lstm_layer(layer.forward_layer):
            for half in (layer.forward_layer, layer.backward_layer):
                check_exportable(half)
            return ExportedBidirectional(layer, target, batch_size)
        if isinstance(layer, keras.layers.Bidirectional):
            check_exportable(layer.forward_layer)
        return layer  # the model's own layer, weights shared

    return replace


def inference_model(model: keras.Model, target: str, batch_size: int | None = None):
    """A clone of `model` whose LSTM layers are `ExportedLSTM`s for `target`."""
    if target not in TARGETS:
        raise ValueError(f"Expected `target` to be one of {TARGETS}. Received: target={target!r}")
    check_model(model)
    return keras.models.clone_model(
        model, clone_function=_replacement(target, batch_size), recursive=True
    )


def native_patches(clone) -> list[NativePatch]:
    """The `NativePatch` of every `ExportedLSTM` in `clone` that needs one."""
    patches = []
    for layer in clone._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, ExportedLSTM) and layer.patch is not None:
            patches.append(layer.patch)
    return patches


def check_model(model) -> None:
    """Raises `ValueError` unless `model` is a Sequential or functional model."""
    if not isinstance(model, keras.Model) or not (
        isinstance(model, keras.Sequential) or _is_functional(model)
    ):
        raise ValueError(
            "Expected a Sequential or functional keras.Model, whose layers can be "
            f"walked. Received: model of type {type(model).__name__}"
        )


def _is_functional(model) -> bool:
    from keras.src.models.functional import Functional

    return isinstance(model, Functional)
