"""The gate layout shared by every weight in the package: where each gate's block lies.

Keras fuses the four gate blocks of an LSTM into one matrix, in the order
input, forget, cell candidate, output. Every fused tensor in this package
(`kernel`, `recurrent_kernel`, `bias`, the pre-activation `z`) follows that
order so that `set_weights` moves weights between `SimpleLSTMCell` and
`keras.layers.LSTM` with no conversion.
"""

from __future__ import annotations

import numpy as np

# Keras's fused layout: kernel[:, k*units:(k+1)*units] belongs to GATE_ORDER[k].
GATE_ORDER: tuple[str, ...] = ("i", "f", "c", "o")

# Wikipedia's order, used when the gates are shown to people.
WIKIPEDIA_ORDER: tuple[str, ...] = ("f", "i", "o", "c")


# The cell variants fuse fewer blocks, kept in Keras's relative order:
# the peephole cell's `peephole_kernel` reads c_{t-1} into i, f and o only (the
# cell input c̃ has no recurrent term there), and the coupled cell has no input
# gate of its own (i = 1 - f).
PEEPHOLE_GATE_ORDER: tuple[str, ...] = ("i", "f", "o")
COUPLED_GATE_ORDER: tuple[str, ...] = ("f", "c", "o")


def gate_slice(gate: str, units: int, order: tuple[str, ...] = GATE_ORDER) -> slice:
    """Columns of a fused `(.., len(order) * units)` tensor that belong to `gate`."""
    if gate not in order:
        raise ValueError(f"Expected `gate` to be one of {order}. Received: gate={gate!r}")
    k = order.index(gate)
    return slice(k * units, (k + 1) * units)


def split_columns(
    fused: np.ndarray, units: int, order: tuple[str, ...] = GATE_ORDER
) -> dict[str, np.ndarray]:
    """Fused `(.., len(order) * units)` array -> `{gate: (.., units)}`."""
    if fused.shape[-1] != len(order) * units:
        raise ValueError(
            f"Expected a last axis of {len(order)} * units = {len(order) * units} "
            f"for gates {order}. Received: shape={fused.shape}"
        )
    return {g: np.array(fused[..., gate_slice(g, units, order)]) for g in order}


def join_columns(blocks: dict[str, np.ndarray], order: tuple[str, ...] = GATE_ORDER) -> np.ndarray:
    """`{gate: (.., units)}` -> one fused `(.., len(order) * units)` array."""
    return np.concatenate([blocks[g] for g in order], axis=-1)


def check_weight_dict(
    weights: dict[str, np.ndarray],
    expected: dict[str, tuple[int, ...]],
    dtype="float32",
) -> dict[str, np.ndarray]:
    """Returns `weights` as arrays of `dtype` once its keys and shapes are `expected`.

    Raises `ValueError` naming the key when one is missing, unexpected or has
    the wrong shape.
    """
    if not isinstance(weights, dict):
        raise ValueError(
            "Expected `weights` to be a dict of NumPy arrays keyed W_f, U_f, b_f, "
            f"... Received: {type(weights).__name__}"
        )
    missing = sorted(set(expected) - set(weights))
    if missing:
        raise ValueError(
            f"Missing gate weights {missing}; expected keys {sorted(expected)}. "
            f"Received keys: {sorted(weights)}"
        )
    unexpected = sorted(set(weights) - set(expected))
    if unexpected:
        raise ValueError(
            f"Unexpected gate weights {unexpected}; expected keys "
            f"{sorted(expected)}. Received keys: {sorted(weights)}"
        )
    arrays = {}
    for key, shape in expected.items():
        try:
            value = np.asarray(weights[key], dtype=dtype)
        except (ValueError, TypeError) as e:
            raise ValueError(
                f"Expected `{key}` to be an array of numbers of shape {shape}. "
                f"Received: {key}={weights[key]!r} ({e})"
            ) from e
        if value.shape != shape:
            raise ValueError(
                f"Expected `{key}` to have shape {shape}. Received: {key}.shape={value.shape}"
            )
        arrays[key] = value
    return arrays
