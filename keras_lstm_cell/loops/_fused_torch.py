"""The fused loop on torch, unmasked: the steps of `fused_lstm` written in
torch's own functions, the backward pass attached as a
`torch.autograd.Function`.

torch runs each operation eagerly, so a step costs what its operations
cost to dispatch. Here the forward step takes seven (one recurrent product,
the two activations, the cell state, σ_h(c_t), the output) and writes into
preallocated arrays; the backward step takes five or six, because all that
does not depend on the gradient carried through time is computed for every
step at once before the backward loop. With `P_t` the saved part of each
gate's derivative,

    P_t = [c̃_t ⊙ σ_g'(i_t), c_{t-1} ⊙ σ_g'(f_t), i_t ⊙ σ_c'(c̃_t), σ_h(c_t) ⊙ σ_g'(o_t)]
    A_t = o_t ⊙ σ_h'(c_t)

(σ' from the activations' outputs, as `fused_lstm`), the step is

    dĥ_t = ∂L/∂h_t (from step t + 1) + ∂L/∂y_t
    dc_t = ∂L/∂c_t (from step t + 1) + dĥ_t ⊙ A_t
    dz_t = P_t ⊙ [dc_t, dc_t, dc_t, dĥ_t]
    ∂L/∂h_{t-1} = dz_t · Uᵀ,  ∂L/∂c_{t-1} = dc_t ⊙ f_t

and the weight gradients are one product each over all steps' `dz`
(written over P): `dW = xᵀ dz`, `dU = hᵀ_{t-1} dz`, `db = Σ dz`. Without a
gradient the forward loop saves nothing.

Imported by `fused_lstm` on the torch backend only.
"""

from __future__ import annotations

import torch
from keras import activations

from keras_lstm_cell.gate_layout import GATE_ORDER
from keras_lstm_cell.loops.fused_lstm import _DERIVATIVES
from keras_lstm_cell.loops.fused_lstm import LoopConfig

# torch's functions for the activations with a hand-written derivative; each
# writes into `out`. The linear activation copies.
_TORCH_ACTIVATIONS = {
    activations.sigmoid: torch.sigmoid,
    activations.tanh: torch.tanh,
    activations.linear: lambda z, out: out.copy_(z),
}

# The column blocks of the fused z are Keras's (`GATE_ORDER`): the steps
# split them with `chunk`, and the backward step multiplies the first three
# by dc_t and the last by dĥ_t.
if GATE_ORDER != ("i", "f", "c", "o"):
    raise ImportError(f"the torch loop expects the gate order i, f, c, o; GATE_ORDER={GATE_ORDER}")


def supports(config: LoopConfig, mask) -> bool:
    """Whether `torch_fused_lstm` runs this call: the hand-written gradient
    (its activations are those of `_DERIVATIVES`, each in
    `_TORCH_ACTIVATIONS`) and no mask."""
    return config.manual_gradient and mask is None


def torch_fused_lstm(x, kernel, recurrent_kernel, bias, h0, c0, config: LoopConfig):
    """`fused_lstm` on torch for a call that `supports` takes:
    `(outputs, h_T, c_T)`, outputs `(T, B, H)` with `return_sequences`, else
    the last output `(B, H)`."""
    bias = bias if config.use_bias else None
    inputs = (x, kernel, recurrent_kernel, bias, h0, c0)
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in inputs):
        y, c_t = _FusedLSTM.apply(config, *inputs)
    else:
        hs, c_t, _ = _forward(config, *inputs, save=False)
        y = hs[1:] if config.return_sequences else hs[-1]
    h_t = y[-1] if config.return_sequences else y
    return y, h_t, c_t


def _forward(config, x, kernel, recurrent_kernel, bias, h0, c0, save: bool):
    """The forward loop over `x (T, B, D)`: `(hs (T + 1, B, H) or (1, B, H),
    c_T, saved)`, hs starting with h0 and saved `(gates (T, B, 4H),
    cs (T + 1, B, H))` when `save`, else `None` (hs then holds every step
    only with `return_sequences`)."""
    steps, batch, _ = x.shape
    units = recurrent_kernel.shape[0]
    sigma_g = _TORCH_ACTIVATIONS[config.sigma_g]
    sigma_c = _TORCH_ACTIVATIONS[config.sigma_c]
    flat_x = x.reshape(steps * batch, -1)
    xw = torch.mm(flat_x, kernel) if bias is None else torch.addmm(bias, flat_x, kernel)
    xw = xw.view(steps, batch, 4 * units).unbind(0)
    keep_h = save or config.return_sequences
    hs = x.new_empty((steps + 1 if keep_h else 1, batch, units))
    hs[0] = h0
    cs = x.new_empty((steps + 1 if save else 1, batch, units))
    cs[0] = c0
    gates = x.new_empty((steps if save else 1, batch, 4 * units))
    h_views, c_views, gate_views = hs.unbind(0), cs.unbind(0), gates.unbind(0)
    h, c = h_views[0], c_views[0]
    for t in range(steps):
        g = gate_views[t if save else 0]
        z = torch.addmm(xw[t], h, recurrent_kernel)  # (B, 4H)
        sigma_g(z, out=g)
        i, f, c_tilde, o = g.chunk(4, dim=1)
        sigma_c(z[:, 2 * units : 3 * units], out=c_tilde)
        c_next = c_views[t + 1] if save else torch.empty_like(c)
        torch.mul(f, c, out=c_next)
        c_next.addcmul_(i, c_tilde)
        h_next = h_views[t + 1] if keep_h else torch.empty_like(h)
        sigma_c(c_next, out=h_next)
        h_next.mul_(o)
        h, c = h_next, c_next
    if not keep_h:
        hs = h.unsqueeze(0)
    return hs, c, ((gates, cs) if save else None)


def _backward(config, saved, d_y, d_c, input_gradient: bool):
    """Gradients of `_forward` with respect to `(x, W, U, b, h0, c0)`."""
    x, kernel, recurrent_kernel, hs, gates, cs = saved
    steps, batch, features = x.shape
    units = recurrent_kernel.shape[0]
    sigma_g_prime = _DERIVATIVES[config.sigma_g]
    sigma_c_prime = _DERIVATIVES[config.sigma_c]
    sigma_c = _TORCH_ACTIVATIONS[config.sigma_c]
    i, f, c_tilde, o = gates.chunk(4, dim=2)  # each (T, B, H)
    sigma_h = sigma_c(cs[1:], out=torch.empty_like(cs[1:]))  # σ_h(c_t)
    p = torch.empty_like(gates)  # P, then dz
    p_i, p_f, p_c, p_o = p.chunk(4, dim=2)
    torch.mul(c_tilde, sigma_g_prime(i), out=p_i)
    torch.mul(cs[:-1], sigma_g_prime(f), out=p_f)
    torch.mul(i, sigma_c_prime(c_tilde), out=p_c)
    torch.mul(sigma_h, sigma_g_prime(o), out=p_o)
    a = o * sigma_c_prime(sigma_h)
    del sigma_h
    # Per step: the columns that dc_t multiplies, (B, 3, H), and dĥ_t's.
    p_dc = p[:, :, : 3 * units].unflatten(2, (3, units)).unbind(0)
    p_dh = p_o.unbind(0)
    p_steps, a_steps, f_steps = p.unbind(0), a.unbind(0), f.unbind(0)
    d_y_steps = d_y.unbind(0) if config.return_sequences else None
    u_t = recurrent_kernel.t()
    dh = torch.zeros_like(hs[0]) if config.return_sequences else d_y
    dc = d_c.clone()
    for t in range(steps - 1, -1, -1):
        if d_y_steps is not None:
            dh = dh + d_y_steps[t]
        dc.addcmul_(dh, a_steps[t])
        p_dc[t].mul_(dc.unsqueeze(1))
        p_dh[t].mul_(dh)
        dh = torch.mm(p_steps[t], u_t)
        dc.mul_(f_steps[t])
    dz = p.view(steps * batch, 4 * units)
    d_kernel = torch.mm(x.reshape(steps * batch, features).t(), dz)
    d_recurrent = torch.mm(hs[:-1].reshape(steps * batch, units).t(), dz)
    d_bias = dz.sum(dim=0)
    d_x = torch.mm(dz, kernel.t()).view(steps, batch, features) if input_gradient else None
    return d_x, d_kernel, d_recurrent, d_bias, dh, dc


class _FusedLSTM(torch.autograd.Function):
    """The unmasked fused loop with its hand-written backward pass; returns
    `(outputs or the last output, c_T)`."""

    @staticmethod
    def forward(ctx, config, x, kernel, recurrent_kernel, bias, h0, c0):
        hs, c_t, (gates, cs) = _forward(config, x, kernel, recurrent_kernel, bias, h0, c0, True)
        ctx.config = config
        ctx.has_bias = bias is not None
        ctx.save_for_backward(x, kernel, recurrent_kernel, hs, gates, cs)
        y = hs[1:] if config.return_sequences else hs[-1]
        return y, c_t

    @staticmethod
    def backward(ctx, d_y, d_c):
        needs = ctx.needs_input_grad  # (config, x, W, U, b, h0, c0)
        d_x, d_kernel, d_recurrent, d_bias, dh0, dc0 = _backward(
            ctx.config, ctx.saved_tensors, d_y, d_c, input_gradient=needs[1]
        )
        return None, d_x, d_kernel, d_recurrent, (d_bias if ctx.has_bias else None), dh0, dc0
