from __future__ import annotations

import keras

from keras_lstm_cell.loops._common import fast_loop_reason
from keras_lstm_cell.loops.fused_loop import FusedLoop
from keras_lstm_cell.loops.loop_call import LoopCall


class ConverterLoop(FusedLoop):
    """The loop `model.export` traces on TensorFlow: the fused loop's
    arithmetic in a plain `tf.while_loop` that the LiteRT and ONNX converters
    read (`_converter_tensorflow`), for inference without a mask, and only
    while Keras's `model.export` or `tf.saved_model.save` traces the model;
    `predict` keeps the faster XLA-compiled fused loop."""

    name = "converter"

    def reason(self, layer, call: LoopCall) -> str | None:
        if keras.backend.backend() != "tensorflow":
            return f"the converter loop is TensorFlow's; backend={keras.backend.backend()!r}"
        if call.training or call.masked:
            return "the converter loop runs inference without a mask"
        reason = fast_loop_reason(layer, call.training)
        if reason is not None:
            return reason
        from keras_lstm_cell.loops import _converter_tensorflow

        if not _converter_tensorflow.in_export_trace():
            return "the converter loop runs only while model.export traces the model"
        return None

    def time_loop(self, x, kernel, recurrent_kernel, bias, h0, c0, mask, config, training):
        from keras_lstm_cell.loops import _converter_tensorflow

        return _converter_tensorflow.inference_lstm(
            x, kernel, recurrent_kernel, bias, h0, c0, config
        )
