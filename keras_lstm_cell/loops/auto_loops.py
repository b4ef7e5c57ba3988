"""Which loops `SimpleLSTM(use_cudnn="auto")` tries, per backend, device and mode.

The first loop of an entry that can run a call runs it (`Loop.reason` is
`None` and `run` does not decline); the generic loop, last in each entry,
always can. The orders are measured (docs/speed.md): on a CPU with
`benchmarks/lstm_speed.py`, on a GPU with `benchmarks/gpu_check.py`.
"""

from __future__ import annotations

from keras_lstm_cell.loops.converter_loop import ConverterLoop
from keras_lstm_cell.loops.fused_loop import FusedLoop
from keras_lstm_cell.loops.generic_loop import GenericLoop
from keras_lstm_cell.loops.keras_cudnn_loop import KerasCudnnLoop
from keras_lstm_cell.loops.loop import Loop
from keras_lstm_cell.loops.torch_lstm_loop import TorchLSTMLoop

CUDNN = KerasCudnnLoop()
CONVERTER = ConverterLoop()
TORCH_LSTM = TorchLSTMLoop()
FUSED = FusedLoop()
# torch, 2-core CPU, training (benchmarks/torch_loop_choice.py): a call of
# oneDNN's LSTM kernel has a fixed cost that grows with the weights (units²),
# a step of the fused loop about 0.1 ms of dispatch. The fused loop, taken for
# at most units² / 4096 timesteps, trained a layer in 0.45-0.74x
# keras.layers.LSTM's time on the 11 shapes of 20 where the rule takes it
# (faster than torch's kernel on 7 of them, at most 0.07x slower on the
# others), where torch's kernel took up to 1.28x ((7, 7, 1, 512));
# `fit` of (7, 7, 1, 256) went from 1.02x to 0.84x the built-in's time.
FUSED_SHORT = FusedLoop(units_squared_per_step=4096)
GENERIC = GenericLoop()
MODES = ("training", "inference")

AUTO_LOOPS: dict[tuple[str, str, str], tuple[Loop, ...]] = {
    # 2-core CPU (docs/speed.md): the fused loop trains in 0.53-0.84x
    # keras.layers.LSTM's time and predicts in 0.62-0.71x. On long sequences
    # its backward pass runs from checkpoints (fused_loop), which holds
    # (32, 1000, 8, 128) at 122-125 MB of allocations at peak against the
    # built-in's 170-171 MB.
    # While model.export traces for inference, the loop its converters read.
    ("tensorflow", "cpu", "training"): (FUSED, GENERIC),
    ("tensorflow", "cpu", "inference"): (CONVERTER, FUSED, GENERIC),
    # Not measured (no TensorFlow on the GPU machine): as keras.layers.LSTM.
    ("tensorflow", "gpu", "training"): (CUDNN, FUSED, GENERIC),
    ("tensorflow", "gpu", "inference"): (CONVERTER, CUDNN, FUSED, GENERIC),
    # 2-core CPU (docs/speed.md): the fused loop, x_t · W in each step and
    # its gates saved apart for the hand-written backward pass.
    ("jax", "cpu", "training"): (FUSED, GENERIC),
    ("jax", "cpu", "inference"): (FUSED, GENERIC),
    # H200, JAX 0.11.2: the fused loop trained in 0.43-0.68x cuDNN's time on
    # three shapes of four and 1.01x on the fourth.
    **{("jax", "gpu", mode): (FUSED, GENERIC) for mode in MODES},
    # 2-core CPU (docs/speed.md): torch's kernel trained in 0.07-0.40x
    # keras.layers.LSTM's time where FUSED_SHORT declines, and predicted in
    # 0.28-0.90x. H200, torch 2.11: cuDNN (torch's kernel there) trained in
    # 0.13-0.19x the time of the generic loop.
    ("torch", "cpu", "training"): (FUSED_SHORT, TORCH_LSTM, FUSED, GENERIC),
    ("torch", "cpu", "inference"): (TORCH_LSTM, FUSED, GENERIC),
    **{("torch", "gpu", mode): (TORCH_LSTM, FUSED, GENERIC) for mode in MODES},
}

# The loop `use_cudnn=True` asks for, per backend.
CUDNN_LOOPS: dict[str, Loop] = {"tensorflow": CUDNN, "jax": CUDNN, "torch": TORCH_LSTM}
