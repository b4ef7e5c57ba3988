"""keras-lstm-cell: a readable, verified LSTM cell for Keras 3."""

from keras_lstm_cell import _tf_startup  # noqa: F401  (first: loads TensorFlow quietly)
from keras_lstm_cell._version import __version__
from keras_lstm_cell.equations import VARIANTS
from keras_lstm_cell.equations import GateValues
from keras_lstm_cell.equations import lstm_equations
from keras_lstm_cell.export import export_model
from keras_lstm_cell.gate_layout import GATE_ORDER
from keras_lstm_cell.gate_monitor import GateMonitor
from keras_lstm_cell.gate_trace import GateTrace
from keras_lstm_cell.gate_trace import find_lstm_layers
from keras_lstm_cell.gate_trace import trace
from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

__all__ = [
    "GATE_ORDER",
    "VARIANTS",
    "GateMonitor",
    "GateTrace",
    "GateValues",
    "SimpleLSTM",
    "SimpleLSTMCell",
    "__version__",
    "export_model",
    "find_lstm_layers",
    "lstm_equations",
    "trace",
]
