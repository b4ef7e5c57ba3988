"""Export of Keras models to LiteRT and ONNX, each LSTM as the native op.

Imports no converter or runtime (tf2onnx, onnx, onnxruntime, ai_edge_litert)
until a file is written or run.
"""

from keras_lstm_cell.export.export_model import export_model

__all__ = ["export_model"]
