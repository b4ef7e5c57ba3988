"""A float64 NumPy LSTM, independent of Keras, for checking the layers.

It works on the Wikipedia-named per-gate weights (`W_f (units, input_dim)`,
`U_f (units, units)`, `b_f (units,)`, ...), the form `SimpleLSTMCell.gate_weights()`
returns, and loops over time in plain NumPy. It shares no code with the Keras
layers, so agreement between the two is evidence, not a tautology.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    # Split by sign so large |x| neither overflows nor loses precision.
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _linear(x: np.ndarray) -> np.ndarray:
    return x


ACTIVATIONS = {"sigmoid": sigmoid, "tanh": np.tanh, "linear": _linear, None: _linear}


# The gate layout of the fused layer-norm gains and shifts (Keras's i, f, c, o;
# the coupled cell drops i).
_FUSED = {"coupled": ("f", "c", "o")}
_FUSED_DEFAULT = ("i", "f", "c", "o")
VARIANTS = ("standard", "peephole", "diagonal_peephole", "layer_norm", "coupled")


def _layer_norm(v, gamma, beta, epsilon):
    mean = v.mean(axis=-1, keepdims=True)
    var = ((v - mean) ** 2).mean(axis=-1, keepdims=True)
    return gamma * (v - mean) / np.sqrt(var + epsilon) + beta


def lstm_forward(
    x: np.ndarray,
    weights: dict[str, np.ndarray],
    h0: np.ndarray | None = None,
    c0: np.ndarray | None = None,
    activation: str | None = "tanh",
    recurrent_activation: str | None = "sigmoid",
    variant: str = "standard",
    norm_epsilon: float = 1e-3,
) -> dict[str, np.ndarray]:
    """Runs the LSTM over `x (batch, time, input_dim)` in float64.

    Returns a dict of `(batch, time, units)` arrays for `f, i, o, c_tilde, c, h`.
    Missing biases (`use_bias=False`) are treated as zeros. `weights` is keyed
    as `SimpleLSTMCell(variant=variant).gate_weights()` returns:

    - `"standard"`: W_g, U_g, b_g for g in f, i, o, c.
    - `"peephole"` (gates read c_{t-1}, no U_c): W_g, b_g; U_f, U_i, U_o.
    - `"diagonal_peephole"`: the standard weights and vectors P_f, P_i, P_o;
      f and i read P ⊙ c_{t-1}, o reads P_o ⊙ c_t.
    - `"layer_norm"`: the standard weights and `kernel_norm_gamma`,
      `kernel_norm_beta`, `recurrent_norm_gamma`, `recurrent_norm_beta`
      (4 * units, Keras's i, f, c, o layout), `state_norm_gamma`,
      `state_norm_beta` (units).
    - `"coupled"` (i = 1 - f): W_g, U_g, b_g for g in f, o, c.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(
            f"Expected `x` of rank 3, (batch, time, input_dim). Received: x.shape={x.shape}"
        )
    if activation not in ACTIVATIONS or recurrent_activation not in ACTIVATIONS:
        raise ValueError(
            f"Expected activations among {sorted(map(str, ACTIVATIONS))}. Received: "
            f"activation={activation!r}, recurrent_activation={recurrent_activation!r}"
        )
    if variant not in VARIANTS:
        raise ValueError(
            f"Expected `variant` to be one of {VARIANTS}. Received: variant={variant!r}"
        )
    sigma_g = ACTIVATIONS[recurrent_activation]
    sigma_c = sigma_h = ACTIVATIONS[activation]
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    units = w["U_f"].shape[0]
    batch, steps, _ = x.shape
    h = np.zeros((batch, units)) if h0 is None else np.asarray(h0, np.float64)
    c = np.zeros((batch, units)) if c0 is None else np.asarray(c0, np.float64)
    fused = _FUSED.get(variant, _FUSED_DEFAULT)
    if variant == "peephole":
        recurrent_gates = ("f", "i", "o")
    else:
        recurrent_gates = fused

    def normalized(products: dict, norm: str) -> dict[str, np.ndarray]:
        # One normalisation over all gates' units together, as one fused vector.
        if variant != "layer_norm":
            return products
        v = np.concatenate([products[g] for g in fused], axis=-1)
        v = _layer_norm(v, w[f"{norm}_gamma"], w[f"{norm}_beta"], norm_epsilon)
        return dict(zip(fused, np.split(v, len(fused), axis=-1), strict=True))

    names = ("f", "i", "o", "c_tilde", "c", "h")
    trace = {k: np.zeros((batch, steps, units)) for k in names}
    for t in range(steps):
        x_t = x[:, t, :]
        r = c if variant == "peephole" else h  # what the gates read of the past
        wx = normalized({g: x_t @ w[f"W_{g}"].T for g in fused}, "kernel_norm")
        ur = {g: r @ w[f"U_{g}"].T for g in recurrent_gates}
        ur = normalized(ur, "recurrent_norm")
        z = {g: wx[g] + ur.get(g, 0.0) + w.get(f"b_{g}", np.zeros(units)) for g in fused}
        if variant == "diagonal_peephole":
            z["f"] = z["f"] + w["P_f"] * c
            z["i"] = z["i"] + w["P_i"] * c
        f = sigma_g(z["f"])
        i = 1.0 - f if variant == "coupled" else sigma_g(z["i"])
        c_tilde = sigma_c(z["c"])
        c = f * c + i * c_tilde
        if variant == "layer_norm":
            gamma, beta = w["state_norm_gamma"], w["state_norm_beta"]
            c = _layer_norm(c, gamma, beta, norm_epsilon)
        if variant == "diagonal_peephole":
            z["o"] = z["o"] + w["P_o"] * c
        o = sigma_g(z["o"])
        h = o * sigma_h(c)
        for name, value in zip(trace, (f, i, o, c_tilde, c, h), strict=True):
            trace[name][:, t, :] = value
    return trace
