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
# JAX, 2-core CPU: the fused loop trained in 0.77-0.86x keras.layers.LSTM's
# time at 1000 timesteps (4 runs), but 0.84-1.10x at 100 and 1.12-1.19x at 30.
FUSED_LONG = FusedLoop(min_steps=500)
GENERIC = GenericLoop()
MODES = ("training", "inference")

AUTO_LOOPS: dict[tuple[str, str, str], tuple[Loop, ...]] = {
    # 2-core CPU (docs/speed.md): the fused loop trains in 0.58-0.90x
    # keras.layers.LSTM's time and predicts in 0.42-0.96x. Recomputing the
    # gates in its backward pass holds the built-in's peak memory on
    # (32, 1000, 8, 128): 175-190 MB against 188-190 MB in two runs.
    # While model.export traces for inference, the loop its converters read.
    ("tensorflow", "cpu", "training"): (FUSED, GENERIC),
    ("tensorflow", "cpu", "inference"): (CONVERTER, FUSED, GENERIC),
    # Not measured (no TensorFlow on the GPU machine): as keras.layers.LSTM.
    ("tensorflow", "gpu", "training"): (CUDNN, FUSED, GENERIC),
    ("tensorflow", "gpu", "inference"): (CONVERTER, CUDNN, FUSED, GENERIC),
    # 2-core CPU (docs/speed.md): the fused loop, x_t · W in each step,
    # predicts in 0.74-0.99x keras.layers.LSTM's time. Its hand-written
    # backward pass pays on long sequences only (FUSED_LONG); on short ones
    # XLA's own gradient of the scan is faster, so training takes
    # keras.layers.RNN's loop, the built-in's own.
    ("jax", "cpu", "training"): (FUSED_LONG, GENERIC),
    ("jax", "cpu", "inference"): (FUSED, GENERIC),
    # H200, JAX 0.11.2: the fused loop trained in 0.43-0.68x cuDNN's time on
    # three shapes of four and 1.01x on the fourth.
    **{("jax", "gpu", mode): (FUSED, GENERIC) for mode in MODES},
    # 2-core CPU: torch's kernel trained in 0.47x keras.layers.LSTM's time on
    # (64, 30, 5, 64), the fused loop in 0.94x, the generic loop in 1.54x.
    # H200, torch 2.11: cuDNN (torch's kernel there) trained in 0.13-0.19x
    # the time of the generic loop.
    **{
        ("torch", device, mode): (TORCH_LSTM, FUSED, GENERIC)
        for device in ("cpu", "gpu")
        for mode in MODES
    },
}

# The loop `use_cudnn=True` asks for, per backend.
CUDNN_LOOPS: dict[str, Loop] = {"tensorflow": CUDNN, "jax": CUDNN, "torch": TORCH_LSTM}
