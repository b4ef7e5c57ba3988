"""What each `SimpleLSTMCell(variant=...)` changes in the standard cell, as data.

A `Variant` says which gates the fused weights hold, what the recurrent weight
multiplies, which gates have diagonal peepholes, whether the products and the
cell state are layer-normalised, and which weight vectors come after W, U and
b. The cell's `build`, `preactivations`, `gates` and weight layout read it; the
step itself is `equations.lstm_equations`, whose options name the same
changes.
"""

from __future__ import annotations

from typing import NamedTuple

from keras_lstm_cell.gate_layout import COUPLED_GATE_ORDER
from keras_lstm_cell.gate_layout import GATE_ORDER
from keras_lstm_cell.gate_layout import PEEPHOLE_GATE_ORDER


class ExtraWeight(NamedTuple):
    """A weight vector beyond W, U and b."""

    name: str  # the variable's name, and the cell's attribute
    key: str  # its key in `gate_weights()`
    per_gate: bool  # `(len(gates) * units,)` if True, else `(units,)`
    initializer: str | None  # a Keras initializer; None: the cell's `kernel_initializer`


class Variant(NamedTuple):
    """One LSTM variant of `SimpleLSTMCell`; the defaults are the standard cell."""

    name: str
    # The blocks of `kernel`, `bias` and the pre-activations z, in this order.
    gates: tuple[str, ...] = GATE_ORDER
    # The recurrent weight: its name, what it multiplies ("h" for h_{t-1},
    # "c" for c_{t-1}) and its blocks; a gate left out has no recurrent term.
    recurrent_weight: str = "recurrent_kernel"
    recurrent_input: str = "h"
    recurrent_gates: tuple[str, ...] = GATE_ORDER
    # `(gate, vector name)`: the gate's pre-activation gains P_g ⊙ c.
    peepholes: tuple[tuple[str, str], ...] = ()
    # Layer normalisation of W x, U h and c with the `norm` weights below.
    layer_norm: bool = False
    # After W, U and b, in this order (their order in `get_weights()`).
    extra_weights: tuple[ExtraWeight, ...] = ()

    @property
    def coupled(self) -> bool:
        """Whether the input gate is 1 - f (no block of its own)."""
        return "i" not in self.gates


# The diagonal peephole vectors, named as in the former tf.keras
# PeepholeLSTMCell, in its order, so its `get_weights()` list loads with
# `set_weights`; initialized like its own.
_PEEPHOLES = {
    "i": "input_gate_peephole_weights",
    "f": "forget_gate_peephole_weights",
    "o": "output_gate_peephole_weights",
}
_PEEPHOLE_VECTORS = tuple(
    ExtraWeight(name, f"P_{gate}", False, None) for gate, name in _PEEPHOLES.items()
)
# The gains and shifts in the order of TensorFlow Addons' LayerNormLSTMCell
# weights (kernel_norm, recurrent_norm, state_norm), γ = 1 and β = 0 at first.
_NORM_VECTORS = (
    ExtraWeight("kernel_norm_gamma", "kernel_norm_gamma", True, "ones"),
    ExtraWeight("kernel_norm_beta", "kernel_norm_beta", True, "zeros"),
    ExtraWeight("recurrent_norm_gamma", "recurrent_norm_gamma", True, "ones"),
    ExtraWeight("recurrent_norm_beta", "recurrent_norm_beta", True, "zeros"),
    ExtraWeight("state_norm_gamma", "state_norm_gamma", False, "ones"),
    ExtraWeight("state_norm_beta", "state_norm_beta", False, "zeros"),
)

# Every variant, by the name `SimpleLSTMCell(variant=...)` takes.
VARIANT_SPECS: dict[str, Variant] = {
    spec.name: spec
    for spec in (
        Variant("standard"),
        Variant(
            "peephole",
            recurrent_weight="peephole_kernel",
            recurrent_input="c",
            recurrent_gates=PEEPHOLE_GATE_ORDER,
        ),
        Variant(
            "diagonal_peephole",
            peepholes=tuple(_PEEPHOLES.items()),
            extra_weights=_PEEPHOLE_VECTORS,
        ),
        Variant("layer_norm", layer_norm=True, extra_weights=_NORM_VECTORS),
        Variant("coupled", gates=COUPLED_GATE_ORDER, recurrent_gates=COUPLED_GATE_ORDER),
    )
}

# Constructor values of `SimpleLSTMCell(variant=...)`; "standard" first.
VARIANTS: tuple[str, ...] = tuple(VARIANT_SPECS)
