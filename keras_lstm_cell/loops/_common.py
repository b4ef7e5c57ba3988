"""Conditions and steps that several loops share."""

from __future__ import annotations

import keras
from keras import activations
from keras import ops

# The backends whose fast loops exist.
BACKENDS = ("tensorflow", "jax", "torch")
FUSED_DTYPES = ("float32", "float64")


def fast_loop_reason(layer, training: bool) -> str | None:
    """Why no loop but keras.layers.RNN's can run `layer` (`None`: one can)."""
    backend = keras.backend.backend()
    cell = layer.cell
    variant = getattr(cell, "variant", "standard")
    if not layer.use_fused:
        return "use_fused=False"
    if backend not in BACKENDS:
        return f"the fast loops support {', '.join(BACKENDS)}; backend={backend!r}"
    if variant != "standard":
        return f"the fast loops compute the standard LSTM; variant={variant!r}"
    compute_dtype = cell.compute_dtype
    if compute_dtype not in FUSED_DTYPES or cell.variable_dtype != compute_dtype:
        return (
            "the fast loops compute in float32 or float64 with weights of "
            f"the same dtype; compute dtype={compute_dtype!r}, variable "
            f"dtype={cell.variable_dtype!r}"
        )
    if training and cell.recurrent_dropout > 0.0:
        return f"recurrent dropout acts inside the loop; recurrent_dropout={cell.recurrent_dropout}"
    return None


def kernel_reason(layer, training: bool) -> str | None:
    """Why neither cuDNN nor torch's LSTM kernel can compute `layer`, beyond
    `fast_loop_reason`; `None` when they can."""
    cell = layer.cell
    if layer.use_cudnn is False:
        # As keras.layers.LSTM(use_cudnn=False) skips its backend function.
        return "use_cudnn=False"
    reason = fast_loop_reason(layer, training)
    if reason is not None:
        return reason
    if cell.activation is not activations.tanh:
        return "the LSTM kernels need activation='tanh'"
    if cell.recurrent_activation is not activations.sigmoid:
        return "the LSTM kernels need recurrent_activation='sigmoid'"
    if layer.unroll:
        return "the LSTM kernels do not unroll; unroll=True"
    return None


def dropped_inputs(layer, sequences, training: bool):
    """Inputs times the cell's dropout mask, the same mask at every step."""
    cell = layer.cell
    if not (training and cell.dropout > 0.0):
        return sequences
    dp_mask = cell.get_dropout_mask(sequences[:, 0, :])  # (B, D)
    return sequences * ops.expand_dims(dp_mask, axis=1)
