from __future__ import annotations

import keras

from keras_lstm_cell.loops.loop_call import LoopCall


class GenericLoop:
    """`keras.layers.RNN`'s loop over the cell: runs every configuration
    (what `keras.layers.LSTM` runs where its backend function declines)."""

    name = "generic"

    def reason(self, layer, call: LoopCall) -> str | None:
        return None

    def run(self, layer, sequences, initial_state, mask, training: bool) -> tuple:
        return keras.layers.RNN.inner_loop(layer, sequences, initial_state, mask, training=training)
