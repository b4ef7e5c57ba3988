"""The recurrent layers `build_model` can stack, by name."""

from __future__ import annotations

import keras

from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell


def _rnn(units: int, return_sequences: bool, cell_kwargs: dict, name: str) -> keras.layers.Layer:
    return keras.layers.RNN(
        SimpleLSTMCell(units, **cell_kwargs), return_sequences=return_sequences, name=name
    )


# `layer` choice -> factory `(units, return_sequences, cell_kwargs, name) -> layer`.
# The fast `SimpleLSTM` layer is one more entry here.
RECURRENT_LAYERS = {"rnn": _rnn}
