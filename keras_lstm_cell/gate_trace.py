"""See inside the LSTM: every gate of every step of a `SimpleLSTMCell`.

`trace` runs sequences through a cell, step by step, with the cell's own
`gates()` (the equations of `keras_lstm_cell.equations`, not a copy of them),
and returns f, i, o, c̃, c and h for every step as NumPy arrays and as a tidy
`pandas.DataFrame`.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
from keras import ops

from keras_lstm_cell.equations import GateValues
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

# Every quantity a trace holds, in Wikipedia's order.
TRACED: tuple[str, ...] = GateValues._fields  # ("f", "i", "o", "c_tilde", "c", "h")


@dataclass(frozen=True, eq=False)
class GateTrace:
    """f, i, o, c̃, c and h of every step, each a `(batch, time, units)` array.

    Index `t` of the time axis holds step t + 1: the first step reads
    `x_1` and the initial state `(h_0, c_0)`. For a layer with
    `go_backwards=True` the steps are in the order the layer takes them, so
    step 1 reads the last input, and `h` is in the order of the layer's
    `return_sequences` output.
    """

    f: np.ndarray  # forget gate
    i: np.ndarray  # input gate
    o: np.ndarray  # output gate
    c_tilde: np.ndarray  # cell input (candidate)
    c: np.ndarray  # cell state
    h: np.ndarray  # hidden state, the layer's output

    def as_dict(self) -> dict[str, np.ndarray]:
        """`{"f": f, "i": i, "o": o, "c_tilde": c_tilde, "c": c, "h": h}`."""
        return {name: getattr(self, name) for name in TRACED}

    def to_frame(self) -> pd.DataFrame:
        """One row per value: columns `sample`, `step` (from 1), `unit`, `gate`
        (one of f, i, o, c_tilde, c, h; an ordered categorical) and `value`.

        >>> table = trace(cell, x).to_frame()
        >>> table[table.unit == 0].pivot(index="step", columns="gate", values="value")
        """
        values = np.stack([getattr(self, name) for name in TRACED], axis=2)  # (B, T, 6, H)
        sample, step, gate, unit = np.indices(values.shape).reshape(4, -1)
        return pd.DataFrame(
            {
                "sample": sample,
                "step": step + 1,
                "unit": unit,
                "gate": pd.Categorical.from_codes(gate, categories=TRACED, ordered=True),
                "value": values.reshape(-1),
            }
        )


def find_lstm_layers(
    model: keras.Model,
) -> dict[str, tuple[keras.layers.RNN, keras.layers.Layer]]:
    """The layers of `model` that run a `SimpleLSTMCell`, by name.

    Returns `{name: (rnn_layer, outer_layer)}`: an `RNN` (or `SimpleLSTM`)
    whose cell is a `SimpleLSTMCell` is listed under its own name; the two
    halves of a `Bidirectional` of one as `"<name>/forward"` and
    `"<name>/backward"`, with the `Bidirectional` as the outer layer, whose
    input they read. Only the model's own layers are searched, not nested
    models.
    """
    found = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.Bidirectional):
            halves = {"forward": layer.forward_layer, "backward": layer.backward_layer}
            for direction, half in halves.items():
                if isinstance(getattr(half, "cell", None), SimpleLSTMCell):
                    found[f"{layer.name}/{direction}"] = (half, layer)
        elif isinstance(layer, keras.layers.RNN) and isinstance(layer.cell, SimpleLSTMCell):
            found[layer.name] = (layer, layer)
    return found


def layer_inputs(
    model: keras.Model, outer_layers: list, inputs
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """What each of `outer_layers` (layers of `model`) receives when `model`
    is called on `inputs`, with `training=False`: `(sequences, mask)`, where
    `mask` is the boolean `(batch, time)` mask the layer is called with (from
    a `Masking` or `Embedding(mask_zero=True)` layer before it), or None."""
    try:
        model_inputs = model.input
    except (AttributeError, ValueError):
        model_inputs = getattr(model, "inputs", None)
        if model_inputs and len(model_inputs) == 1:
            model_inputs = model_inputs[0]
    if model_inputs is None or (isinstance(model_inputs, (list, tuple, dict)) and not model_inputs):
        raise ValueError(
            "Expected a model that has been built, so that its layers' inputs "
            "are known: start it with `keras.Input` or call it on data first. "
            f"Received: an unbuilt model {model.name!r}"
        )
    sources = []  # per layer: the sequence tensor, then its mask tensor if any
    has_mask = []
    for layer in outer_layers:
        # A layer called with a mask (or initial states) lists them after the
        # sequence; the mask is the boolean one.
        sequence, *others = keras.tree.flatten(layer.input)
        masks = [t for t in others if keras.backend.standardize_dtype(t.dtype) == "bool"]
        sources += [sequence, *masks[:1]]
        has_mask.append(bool(masks))
    sub_model = keras.Model(model_inputs, sources)
    outputs = keras.tree.flatten(sub_model(inputs, training=False))  # one output comes bare
    outputs = iter(ops.convert_to_numpy(x) for x in outputs)
    return [(next(outputs), next(outputs) if masked else None) for masked in has_mask]


class _GateCell(keras.layers.Layer):
    """Wraps a `SimpleLSTMCell` so that `keras.layers.RNN` returns every gate:
    the same step (`cell.gates`) and states, and as output all six values of
    `GateValues` side by side, `(batch, 6 * units)`. Running the trace through
    `keras.layers.RNN` keeps the layer's own loop, casting and step order.

    With `masked=True` the last input feature is the mask, and a masked step
    holds h and c and repeats the previous output, as `keras.layers.RNN` does
    with a mask. (Keras's JAX loop cannot mask an output wider than h, so the
    trace masks here on every backend.)"""

    def __init__(self, cell: SimpleLSTMCell, masked: bool = False, **kwargs):
        super().__init__(dtype=cell.dtype_policy, **kwargs)
        self.cell = cell
        self.masked = masked
        self.output_size = len(TRACED) * cell.units
        # h, c, and when masked the previous output.
        self.state_size = [cell.units, cell.units] + [self.output_size] * masked

    def build(self, input_shape):
        if not self.cell.built:
            features = input_shape[-1] - int(self.masked)
            self.cell.build((input_shape[0], features))

    def call(self, inputs, states, training=False):
        if not self.masked:
            gates = self.cell.gates(inputs, states, training=False)
            return ops.concatenate(list(gates), axis=-1), [gates.h, gates.c]
        x, keep = inputs[:, :-1], inputs[:, -1:] > 0.5  # (B, D), (B, 1)
        gates = self.cell.gates(x, states[:2], training=False)
        h = ops.where(keep, gates.h, states[0])
        c = ops.where(keep, gates.c, states[1])
        out = ops.where(keep, ops.concatenate(list(gates), axis=-1), states[2])
        return out, [h, c, out]


def _describe(value) -> str:
    name = getattr(value, "name", None)
    kind = type(value).__name__
    return f"{kind} {name!r}" if isinstance(name, str) else kind


def _resolve(layer_or_cell, layer_name):
    """-> (cell, go_backwards, zero_output_for_mask, default initial state,
    model, outer layer)."""
    if isinstance(layer_or_cell, keras.Model):
        model = layer_or_cell
        found = find_lstm_layers(model)
        if not found:
            raise ValueError(
                "Expected a model with an RNN or SimpleLSTM layer whose cell is a "
                f"SimpleLSTMCell. Received: model {model.name!r} with layers "
                f"{[layer.name for layer in model.layers]}"
            )
        if layer_name is None:
            if len(found) > 1:
                raise ValueError(
                    f"Expected `layer_name`, one of {sorted(found)}, to choose among "
                    "the model's LSTM layers. Received: layer_name=None"
                )
            layer_name = next(iter(found))
        if layer_name not in found:
            raise ValueError(
                f"Expected `layer_name` to be one of {sorted(found)}, the layers of "
                f"model {model.name!r} that run a SimpleLSTMCell. "
                f"Received: layer_name={layer_name!r}"
            )
        layer, outer = found[layer_name]
        cell, go_backwards, zero_masked, state = _resolve(layer, None)[:4]
        return cell, go_backwards, zero_masked, state, model, outer
    if layer_name is not None:
        raise ValueError(
            "`layer_name` picks a layer of a model; expected a keras.Model with "
            f"it. Received: layer_name={layer_name!r} with "
            f"{_describe(layer_or_cell)}"
        )
    if isinstance(layer_or_cell, SimpleLSTMCell):
        return layer_or_cell, False, False, None, None, None
    if isinstance(layer_or_cell, keras.layers.Bidirectional):
        raise ValueError(
            "Expected one direction of a Bidirectional layer: pass "
            "`layer.forward_layer` or `layer.backward_layer`, or the model with "
            f"layer_name='{layer_or_cell.name}/forward'. Received: "
            f"{_describe(layer_or_cell)}"
        )
    if isinstance(layer_or_cell, keras.layers.RNN):
        layer = layer_or_cell
        if not isinstance(layer.cell, SimpleLSTMCell):
            raise ValueError(
                "Expected an RNN layer whose cell is a SimpleLSTMCell (trace the "
                "layers of a stack one by one). Received: layer "
                f"{layer.name!r} with cell {_describe(layer.cell)}"
            )
        state = None
        if layer.stateful and getattr(layer, "states", None) is not None:
            # What the layer's next call would start from.
            state = [ops.convert_to_numpy(s) for s in layer.states]
        zero_masked = bool(getattr(layer, "zero_output_for_mask", False))
        return layer.cell, layer.go_backwards, zero_masked, state, None, None
    raise ValueError(
        "Expected `layer_or_cell` to be a SimpleLSTMCell, a keras.layers.RNN or "
        "SimpleLSTM holding one, or a keras.Model (with `layer_name`). "
        f"Received: {_describe(layer_or_cell)}"
    )


def _as_sequences(inputs, dtype: str) -> np.ndarray:
    try:
        x = np.asarray(ops.convert_to_numpy(inputs))
    except (TypeError, ValueError) as e:
        raise ValueError(
            "Expected `inputs` to be an array of shape (batch, time, features), "
            f"or (time, features) for one sequence. Received: {_describe(inputs)}"
        ) from e
    if x.ndim == 2:
        x = x[None]  # one sequence
    if x.ndim != 3 or x.shape[1] == 0:
        raise ValueError(
            "Expected `inputs` of shape (batch, time, features), or (time, "
            f"features) for one sequence, with time >= 1. Received: "
            f"inputs.shape={np.shape(inputs)}"
        )
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ValueError(f"Expected numeric `inputs`. Received: inputs.dtype={x.dtype}")
    return x.astype(dtype)


def _check_state(initial_state, batch: int, units: int, dtype: str) -> list[np.ndarray]:
    if isinstance(initial_state, (list, tuple)) and len(initial_state) == 2:
        state = [np.asarray(ops.convert_to_numpy(s)) for s in initial_state]
        if all(s.shape == (batch, units) for s in state):
            return [s.astype(dtype) for s in state]
        received = [s.shape for s in state]
    else:
        received = _describe(initial_state)
    raise ValueError(
        f"Expected `initial_state` to be [h_0, c_0], each of shape ({batch}, "
        f"{units}) (batch, units). Received: {received}"
    )


def trace(
    layer_or_cell,
    inputs,
    *,
    layer_name: str | None = None,
    initial_state=None,
    mask=None,
) -> GateTrace:
    """Every gate of every step of a `SimpleLSTMCell`, for `inputs`.

    Runs the sequences through `keras.layers.RNN` with the cell's own step,
    `cell.gates()`, with no dropout (`training=False`), and keeps f, i, o, c̃,
    c and h of each step. `h` equals the output of the layer that holds the
    cell (`return_sequences=True`) for the same inputs and mask; with a mask
    and a layer's `zero_output_for_mask=True`, `h` is zero at the masked
    steps, as the layer's output is, while f, i, o, c̃ and c are reported as
    computed there (the held step's values).

    Args:
        layer_or_cell: A `SimpleLSTMCell` (built on first use if needed); a
            `keras.layers.RNN` or `SimpleLSTM` whose cell is one, including
            `Bidirectional.forward_layer` / `.backward_layer`; or a built
            `keras.Model`, whose layer `layer_name` is traced on what it
            receives when the model is called on `inputs`: its sequences and
            its mask, if any.
        inputs: `(batch, time, features)`, or `(time, features)` for one
            sequence; the model's inputs when `layer_or_cell` is a model.
        layer_name: With a model: the name of the layer to trace, as listed
            by `find_lstm_layers(model)` (`"<name>/forward"` for a half of a
            `Bidirectional`). Optional when the model has one such layer.
        initial_state: `[h_0, c_0]`, each `(batch, units)`. Default: zeros,
            or a stateful layer's current states (which are not changed).
        mask: Optional boolean `(batch, time)`, as `keras.layers.RNN` takes
            it: at a masked step the states are held and the step repeats
            the previous step's values. With a model, the default is the
            mask its layer receives (from a `Masking` or
            `Embedding(mask_zero=True)` layer before it); a mask given here
            replaces it.

    Returns:
        A `GateTrace`: arrays `f, i, o, c_tilde, c, h`, each `(batch, time,
        units)`, and `to_frame()` for the tidy DataFrame.

    Example:

    >>> cell = SimpleLSTMCell(1)
    >>> x = np.array([[1.0], [2.0], [3.0]])  # one sequence, 3 steps
    >>> gates = trace(cell, x)
    >>> gates.f.shape
    (1, 3, 1)
    """
    cell, go_backwards, zero_masked, state, model, outer = _resolve(layer_or_cell, layer_name)
    if model is not None:
        ((inputs, layer_mask),) = layer_inputs(model, [outer], inputs)
        mask = layer_mask if mask is None else mask
    x = _as_sequences(inputs, cell.compute_dtype)  # (B, T, D)
    batch = x.shape[0]
    if initial_state is not None:
        state = _check_state(initial_state, batch, cell.units, cell.compute_dtype)
    elif state is not None:
        if state[0].shape[0] != batch:
            raise ValueError(
                f"Expected `inputs` with the batch size of the stateful layer, "
                f"{state[0].shape[0]}, whose states the trace starts from. "
                f"Received: inputs with batch size {batch}"
            )
        state = _check_state(state, batch, cell.units, cell.compute_dtype)
    if mask is not None:
        mask = np.asarray(ops.convert_to_numpy(mask))
        if mask.shape != x.shape[:2]:
            raise ValueError(
                f"Expected `mask` of shape (batch, time) = {x.shape[:2]}. "
                f"Received: mask.shape={mask.shape}"
            )
        mask = mask.astype(bool)
        x = np.concatenate([x, mask[..., None].astype(x.dtype)], axis=-1)
        if state is None:
            state = [np.zeros((batch, cell.units), cell.compute_dtype)] * 2
        state = [*state, np.zeros((batch, len(TRACED) * cell.units), x.dtype)]
    rnn = keras.layers.RNN(
        _GateCell(cell, masked=mask is not None),
        return_sequences=True,
        go_backwards=go_backwards,
        dtype=cell.dtype_policy,
    )
    values = rnn(x, initial_state=state, training=False)
    values = ops.convert_to_numpy(values)  # (B, T, 6H)
    gates = dict(zip(TRACED, np.split(values, len(TRACED), axis=-1), strict=True))
    if zero_masked and mask is not None:
        # The layer outputs zeros at masked steps; the other values stay as
        # the held step left them. Steps are in the layer's order.
        kept = mask[:, ::-1] if go_backwards else mask  # (B, T)
        gates["h"] = np.where(kept[..., None], gates["h"], np.zeros((), gates["h"].dtype))
    return GateTrace(**gates)
