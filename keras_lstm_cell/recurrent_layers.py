"""The recurrent layers `build_model` can stack, by name."""

from __future__ import annotations

import keras

from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell


def _rnn(units: int, return_sequences: bool, cell_kwargs: dict, name: str) -> keras.layers.Layer:
    return keras.layers.RNN(
        SimpleLSTMCell(units, **cell_kwargs), return_sequences=return_sequences, name=name
    )


def _simple_lstm(
    units: int, return_sequences: bool, cell_kwargs: dict, name: str
) -> keras.layers.Layer:
    return SimpleLSTM(units, return_sequences=return_sequences, name=name, **cell_kwargs)


# `layer` choice -> factory `(units, return_sequences, cell_kwargs, name) -> layer`.
# Both hold the same SimpleLSTMCell weights; "rnn" stays the default because
# SimpleLSTM's fused CPU loop is not reliably faster (benchmarks/README.md).
RECURRENT_LAYERS = {"rnn": _rnn, "simple_lstm": _simple_lstm}
