from __future__ import annotations

from typing import Any
from typing import Protocol

from keras_lstm_cell.loops.loop_call import LoopCall

Tensor = Any


class Loop(Protocol):
    """One way to run `SimpleLSTM`'s time loop.

    As each `keras/src/backend/<name>/rnn.py` offers `lstm(...)` or declines,
    a loop says whether it can run a layer's configuration for one call
    (`reason`, `None` when it can) and runs it (`run`), or declines at run
    time with `NotImplementedError` (Keras's cuDNN functions do, where the
    device turns out not to take them); the layer then tries the next loop
    of `AUTO_LOOPS`. A loop imports its framework inside `run` only.

    `run` returns what `keras.layers.RNN.inner_loop` returns:
    `(last_output (B, H), outputs (B, T, H) or (B, 1, H), [h (B, H), c (B, H)])`.
    """

    name: str  # the layer's `last_loop` after the loop ran

    def reason(self, layer, call: LoopCall) -> str | None: ...

    def run(self, layer, sequences, initial_state, mask, training: bool) -> tuple: ...
