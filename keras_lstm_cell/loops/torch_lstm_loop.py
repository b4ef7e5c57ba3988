from __future__ import annotations

import weakref

import keras
from keras import ops

from keras_lstm_cell.loops._common import dropped_inputs
from keras_lstm_cell.loops._common import kernel_reason
from keras_lstm_cell.loops.loop_call import LoopCall


class TorchLSTMLoop:
    """torch's own LSTM kernel (`torch._VF.lstm`, what `torch.nn.LSTM` runs:
    cuDNN on a CUDA device, oneDNN's on a CPU in float32) on the layer's
    weights, differentiated by torch's autograd. Takes `use_bias=False`;
    takes no mask (that would need packed sequences)."""

    name = "torch_lstm"

    def __init__(self):
        # Per cell, its weights in torch's layout for calls without autograd,
        # with the tensors they were copied from and those tensors' versions.
        self._inference_weights = weakref.WeakKeyDictionary()

    def reason(self, layer, call: LoopCall) -> str | None:
        backend = keras.backend.backend()
        if backend != "torch":
            return f"torch's LSTM kernel runs on the torch backend; backend={backend!r}"
        reason = kernel_reason(layer, call.training)
        if reason is not None:
            return reason
        if call.device == "gpu" and layer.cell.compute_dtype != "float32":
            return f"cuDNN runs float32 here; compute dtype={layer.cell.compute_dtype!r}"
        if call.masked:
            return "torch's LSTM kernel takes no mask here"
        return None

    def run(self, layer, sequences, initial_state, mask, training: bool) -> tuple:
        import torch

        cell = layer.cell
        inputs = dropped_inputs(layer, sequences, training)  # (B, T, D)
        if layer.go_backwards:
            inputs = torch.flip(inputs, dims=(1,))
        params = self._weights(cell)
        h0, c0 = (ops.expand_dims(s, 0) for s in initial_state)  # (1, B, H)
        outputs, h, c = torch._VF.lstm(
            inputs,
            (h0, c0),
            params,
            cell.use_bias,  # has_biases
            1,  # num_layers
            0.0,  # dropout between layers
            torch.is_grad_enabled(),  # train: cuDNN keeps what its backward pass needs
            False,  # bidirectional
            True,  # batch_first
        )  # outputs (B, T, H); h, c (1, B, H)
        last_output = outputs[:, -1]
        if not layer.return_sequences:
            outputs = ops.expand_dims(last_output, axis=1)
        return last_output, outputs, [h[0], c[0]]

    def _weights(self, cell) -> list:
        """W and U transposed, (4H, D) and (4H, H), in the same gate order
        (i, f, g = c̃, o), and two biases, b and zeros: the parameters of
        torch's kernel. Contiguous: its oneDNN CPU kernel copies transposed
        views at every call, as cuDNN does. Without autograd (predict) the
        copies are kept while the variables are unchanged: on (7, 7, 1, 256)
        a call took 0.96 ms copying them, 0.24 ms with them kept (2-core
        CPU)."""
        import torch

        variables = [cell.kernel, cell.recurrent_kernel] + ([cell.bias] if cell.use_bias else [])
        values = [v.value for v in variables]
        cache = not torch.is_grad_enabled()
        if cache:
            # The same tensors (not values of a stateless call), unchanged in
            # place since (a tensor's version counts its in-place changes:
            # assign, set_weights, the optimizer's updates).
            versions = [t._version for t in values]
            kept = self._inference_weights.get(cell)
            if (
                kept is not None
                and all(a is b for a, b in zip(kept[0], values))
                and kept[1] == versions
            ):
                return kept[2]
        params = [values[0].T.contiguous(), values[1].T.contiguous()]
        if cell.use_bias:
            params += [values[2], torch.zeros_like(values[2])]
        if cache:
            self._inference_weights[cell] = (values, versions, params)
        return params
