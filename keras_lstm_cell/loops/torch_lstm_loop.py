from __future__ import annotations

import keras
from keras import ops

from keras_lstm_cell.loops._common import dropped_inputs
from keras_lstm_cell.loops._common import kernel_reason
from keras_lstm_cell.loops.loop_call import LoopCall


class TorchLSTMLoop:
    """torch's own LSTM kernel (`torch._VF.lstm`, what `torch.nn.LSTM` runs:
    cuDNN on a CUDA device, torch's native kernel on a CPU) on the layer's
    weights, differentiated by torch's autograd. Takes `use_bias=False`;
    takes no mask (that would need packed sequences)."""

    name = "torch_lstm"

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
        # torch keeps W and U transposed, (4H, D) and (4H, H), in the same gate
        # order (i, f, g = c̃, o), and adds two biases: b and zeros.
        params = [ops.transpose(cell.kernel), ops.transpose(cell.recurrent_kernel)]
        if cell.use_bias:
            bias = ops.convert_to_tensor(cell.bias)
            params += [bias, torch.zeros_like(bias)]
        h0, c0 = (ops.expand_dims(s, 0) for s in initial_state)  # (1, B, H)
        outputs, h, c = torch._VF.lstm(
            inputs,
            (h0, c0),
            [p.contiguous() for p in params],
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
