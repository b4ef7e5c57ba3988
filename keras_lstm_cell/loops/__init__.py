"""The time loops `SimpleLSTM` runs, one module each, and the table that picks one."""

from keras_lstm_cell.loops.auto_loops import AUTO_LOOPS
from keras_lstm_cell.loops.auto_loops import CONVERTER
from keras_lstm_cell.loops.auto_loops import CUDNN
from keras_lstm_cell.loops.auto_loops import CUDNN_LOOPS
from keras_lstm_cell.loops.auto_loops import FUSED
from keras_lstm_cell.loops.auto_loops import FUSED_SHORT
from keras_lstm_cell.loops.auto_loops import GENERIC
from keras_lstm_cell.loops.auto_loops import TORCH_LSTM
from keras_lstm_cell.loops.converter_loop import ConverterLoop
from keras_lstm_cell.loops.fused_loop import FusedLoop
from keras_lstm_cell.loops.generic_loop import GenericLoop
from keras_lstm_cell.loops.keras_cudnn_loop import KerasCudnnLoop
from keras_lstm_cell.loops.loop import Loop
from keras_lstm_cell.loops.loop_call import LoopCall
from keras_lstm_cell.loops.torch_lstm_loop import TorchLSTMLoop

__all__ = [
    "AUTO_LOOPS",
    "CONVERTER",
    "CUDNN",
    "CUDNN_LOOPS",
    "ConverterLoop",
    "FUSED",
    "FUSED_SHORT",
    "GENERIC",
    "TORCH_LSTM",
    "FusedLoop",
    "GenericLoop",
    "KerasCudnnLoop",
    "Loop",
    "LoopCall",
    "TorchLSTMLoop",
]
