from __future__ import annotations

import keras

from keras_lstm_cell.loops.loop_call import LoopCall


class ConverterLoop:
    """The loop `model.export` traces on TensorFlow: the LSTM in the forms
    the LiteRT and ONNX converters read (`_converter_tensorflow`), each
    LiteRT's and ONNX's native LSTM op where it computes the call, otherwise
    a plain `tf.while_loop`; for inference without a mask, and only while
    Keras's `model.export` or `tf.saved_model.save` traces the model.
    `predict` keeps the faster XLA-compiled fused loop."""

    name = "converter"

    def reason(self, layer, call: LoopCall) -> str | None:
        if keras.backend.backend() != "tensorflow":
            return f"the converter loop is TensorFlow's; backend={keras.backend.backend()!r}"
        if call.training or call.masked:
            return "the converter loop runs inference without a mask"
        if not layer.use_fused:
            return "use_fused=False"
        from keras_lstm_cell.loops import _converter_tensorflow

        if _converter_tensorflow.export_format() is None:
            return "the converter loop runs only while model.export traces the model"
        return None

    def run(self, layer, sequences, initial_state, mask, training: bool) -> tuple:
        del mask, training  # inference without a mask (`reason`)
        from keras_lstm_cell.loops import _converter_tensorflow

        return _converter_tensorflow.converter_loop(layer, sequences, initial_state)
