"""The LSTM equations, written once.

Wikipedia's forget-gate LSTM (https://en.wikipedia.org/wiki/Long_short-term_memory):

    f_t = σ_g(W_f x_t + U_f h_{t-1} + b_f)
    i_t = σ_g(W_i x_t + U_i h_{t-1} + b_i)
    o_t = σ_g(W_o x_t + U_o h_{t-1} + b_o)
    c̃_t = σ_c(W_c x_t + U_c h_{t-1} + b_c)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
    h_t = o_t ⊙ σ_h(c_t)

Every layer of the package computes the pre-activations `z_g` its own way (one
fused product per step in the cell, one product over all steps in the fast
layer) and hands them to `lstm_equations`, so the gate arithmetic exists in
one place only.

The cell variants (`VARIANTS`) change this step in three places, each an
option of `lstm_equations`; the rest is shared:

- `"peephole"` (Wikipedia's peephole LSTM) reads c_{t-1} where the standard
  cell reads h_{t-1}, and its cell input has no recurrent term:
  `z_g = W_g x_t + U_g c_{t-1} + b_g` for g in f, i, o and `z_c = W_c x_t + b_c`.
  Only the pre-activations differ, so `lstm_equations` takes them unchanged.
- `"diagonal_peephole"` (Gers & Schmidhuber) adds elementwise peepholes
  `P_g ⊙ c` to the gate pre-activations: `peephole={"f": P_f, "i": P_i,
  "o": P_o}`. f and i see c_{t-1}; o sees the new c_t.
- `"layer_norm"` normalises `W x` and `U h` before they are summed (in the
  pre-activations) and the new cell state: `normalize_c=LN_c`. The normalised
  c_t is both σ_h's input and the carried state.
- `"coupled"` has no input gate of its own: `coupled=True` sets i_t = 1 - f_t.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from typing import NamedTuple

from keras import ops

from keras_lstm_cell.gate_layout import GATE_ORDER
from keras_lstm_cell.variant import VARIANTS  # noqa: F401  (its former home; re-exported)

Tensor = Any
Activation = Callable[[Tensor], Tensor]


class GateValues(NamedTuple):
    """Every quantity of one LSTM step, each `(batch, units)`."""

    f: Tensor  # forget gate
    i: Tensor  # input gate
    o: Tensor  # output gate
    c_tilde: Tensor  # cell input (candidate)
    c: Tensor  # cell state
    h: Tensor  # hidden state, the output


def split_preactivations(z: Tensor, order: tuple[str, ...] = GATE_ORDER) -> dict[str, Tensor]:
    """Fused `(batch, len(order) * units)` z -> `{gate: (batch, units)}`."""
    return dict(zip(order, ops.split(z, len(order), axis=-1), strict=True))


def layer_norm(x: Tensor, gamma: Tensor, beta: Tensor, epsilon: float) -> Tensor:
    """`γ ⊙ (x - μ) / sqrt(σ² + ε) + β`, with μ and σ² over the last axis.

    Layer normalisation (Ba, Kiros & Hinton, 2016), as
    `keras.layers.LayerNormalization(epsilon=epsilon)` computes it.
    """
    mean, variance = ops.moments(x, axes=[-1], keepdims=True)
    # `ops` throughout: `x`, γ and β may be NumPy arrays, which torch tensors
    # do not combine with through `-` and `*`.
    normalized = ops.multiply(ops.subtract(x, mean), ops.rsqrt(variance + epsilon))
    return ops.add(ops.multiply(normalized, gamma), beta)


def lstm_equations(
    z: dict[str, Tensor],
    c_prev: Tensor,
    sigma_g: Activation,
    sigma_c: Activation,
    sigma_h: Activation,
    *,
    peephole: dict[str, Tensor] | None = None,
    coupled: bool = False,
    normalize_c: Callable[[Tensor], Tensor] | None = None,
) -> GateValues:
    """One LSTM step from the gate pre-activations `z[g] = W_g x + U_g h + b_g`.

    With the defaults this is the standard step of the module docstring.

    Args:
        z: `{gate: (batch, units)}` for f, i, c, o (f, c, o when `coupled`).
        c_prev: c_{t-1}, `(batch, units)`.
        sigma_g, sigma_c, sigma_h: the gate, cell-input and output activations.
        peephole: Diagonal peephole weights `{"f": P_f, "i": P_i, "o": P_o}`,
            each `(units,)`: f_t = σ_g(z_f + P_f ⊙ c_{t-1}), i_t likewise,
            o_t = σ_g(z_o + P_o ⊙ c_t).
        coupled: If `True`, i_t = 1 - f_t (no `z["i"]`).
        normalize_c: Applied to c_t before o_t and h_t read it; its result is
            the returned (carried) c_t.
    """
    p = peephole or {}
    f = sigma_g(z["f"] + p["f"] * c_prev) if "f" in p else sigma_g(z["f"])
    if coupled:
        i = 1.0 - f
    else:
        i = sigma_g(z["i"] + p["i"] * c_prev) if "i" in p else sigma_g(z["i"])
    c_tilde = sigma_c(z["c"])
    c = f * c_prev + i * c_tilde
    if normalize_c is not None:
        c = normalize_c(c)
    o = sigma_g(z["o"] + p["o"] * c) if "o" in p else sigma_g(z["o"])
    h = o * sigma_h(c)
    return GateValues(f=f, i=i, o=o, c_tilde=c_tilde, c=c, h=h)
