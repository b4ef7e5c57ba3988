"""The forecasting model: stacked LSTM layers, the optimizer, and the wrapper in original units.

`build_model` stacks `RNN(SimpleLSTMCell)` or `SimpleLSTM` layers under a
Dense head; `MonitoredAdam` is Adam that also measures the raw gradient norm;
`Forecaster` wraps the trained network with the scaling, so that it takes and
returns values in the data's own units and exports as one graph.
"""

from __future__ import annotations

import keras
from keras import ops
from keras.saving import register_keras_serializable

from keras_lstm_cell._checks import check_choice
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell.forecast.config import LAYERS
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.metrics import level_label
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell


def bound_names(levels) -> tuple[str, ...]:
    """The last axis of a `Forecaster`'s output with intervals at `levels`:
    `("forecast", "lower_80", "upper_80", "lower_95", "upper_95")`."""
    names = ["forecast"]
    for level in levels:
        label = level_label(level)
        names += [f"lower_{label}", f"upper_{label}"]
    return tuple(names)


def _rnn(units: int, return_sequences: bool, cell_kwargs: dict, name: str) -> keras.layers.Layer:
    return keras.layers.RNN(
        SimpleLSTMCell(units, **cell_kwargs), return_sequences=return_sequences, name=name
    )


def _simple_lstm(
    units: int, return_sequences: bool, cell_kwargs: dict, name: str
) -> keras.layers.Layer:
    return SimpleLSTM(units, return_sequences=return_sequences, name=name, **cell_kwargs)


PREDICT_BATCH = 1024  # windows per call when a forecaster runs on many

# `layer` choice -> factory `(units, return_sequences, cell_kwargs, name) -> layer`.
# Both hold the same SimpleLSTMCell weights; "rnn" stays the default because
# SimpleLSTM's fused CPU loop is not reliably faster (benchmarks/README.md).
RECURRENT_LAYERS = {"rnn": _rnn, "simple_lstm": _simple_lstm}  # keys: config.LAYERS


def build_model(
    window: int,
    n_features: int,
    horizon: int = 1,
    units: int = 32,
    layers: int = 1,
    layer: str = "rnn",
    cell_kwargs: dict | None = None,
) -> keras.Model:
    """Stacked LSTM layers and a Dense head: `(B, window, F)` → `(B, horizon)`.

    Args:
        window: Time steps per input window.
        n_features: Input columns per step.
        horizon: Outputs, one per future step.
        units: LSTM units per layer.
        layers: Number of LSTM layers; all but the last return sequences.
        layer: `"rnn"` for `keras.layers.RNN(SimpleLSTMCell(units,
            **cell_kwargs))`, `"simple_lstm"` for `SimpleLSTM`.
        cell_kwargs: Extra `SimpleLSTMCell` arguments, e.g. `{"dropout": 0.1}`.

    Example:

    >>> model = build_model(window=7, n_features=1, units=8)
    >>> model.output_shape
    (None, 1)
    """
    check_choice("layer", layer, LAYERS)
    layers = check_positive_int("layers", layers)
    inputs = keras.Input(shape=(window, n_features), name="windows")
    hidden = inputs  # (B, window, F), then (B, window, units) between layers
    for i in range(layers):
        hidden = RECURRENT_LAYERS[layer](
            units, i < layers - 1, dict(cell_kwargs or {}), f"lstm_{i + 1}"
        )(hidden)
    outputs = keras.layers.Dense(horizon, name="forecast")(hidden)  # (B, horizon)
    return keras.Model(inputs, outputs, name="lstm_forecaster")


def build_network(config: ForecastConfig, n_features: int) -> keras.Model:
    """`build_model` with the run's settings, compiled with `make_optimizer`."""
    network = build_model(
        config.window,
        n_features,
        config.horizon,
        config.units,
        config.layers,
        config.layer,
        config.cell_kwargs,
    )
    network.compile(optimizer=make_optimizer(config), loss="mse")
    return network


def make_optimizer(config: ForecastConfig) -> MonitoredAdam:
    """Adam with the run's learning rate and its one clip setting, if any."""
    return MonitoredAdam(learning_rate=config.learning_rate, **config.clipping)


@register_keras_serializable(package="keras_lstm_cell")
class MonitoredAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` that keeps statistics of the raw gradient norm.

    Each step computes the global norm `sqrt(sum_k ||g_k||^2)` of the
    gradients as they arrive, before `clipnorm`, `global_clipnorm` or
    `clipvalue` act, and accumulates its sum, its maximum and the number of
    steps in three optimizer variables. A callback reads them (see
    `gradient_norm_stats`) and starts a new period with
    `reset_gradient_norm_stats`. The update itself is Adam's, unchanged:
    `global_clipnorm=c` rescales the gradients by `min(1, c / norm)`, exactly
    as `tf.clip_by_global_norm`.

    Args:
        **kwargs: Arguments of `keras.optimizers.Adam` (`learning_rate`,
            `global_clipnorm`, `clipnorm`, `clipvalue`, ...).

    Example:

    >>> optimizer = MonitoredAdam(learning_rate=1e-3, global_clipnorm=1.0)
    >>> w = keras.Variable([0.0, 0.0])
    >>> optimizer.apply([ops.convert_to_tensor([3.0, 4.0])], [w])
    >>> optimizer.gradient_norm_stats()
    {'mean': 5.0, 'max': 5.0, 'steps': 1}
    """

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._norm_sum = self.add_variable((), name="gradient_norm_sum")
        self._norm_max = self.add_variable((), name="gradient_norm_max")
        self._norm_steps = self.add_variable((), name="gradient_norm_steps")

    def apply(self, grads, trainable_variables=None):
        present = [g for g in grads if g is not None]
        super().apply(grads, trainable_variables)
        if not present:
            return
        norm = ops.sqrt(
            ops.sum(ops.stack([ops.sum(ops.square(ops.cast(g, "float32"))) for g in present]))
        )
        self._norm_sum.assign_add(norm)
        self._norm_max.assign(ops.maximum(self._norm_max, norm))
        self._norm_steps.assign_add(1.0)

    def gradient_norm_stats(self) -> dict:
        """Mean and maximum raw gradient norm since the last reset."""
        if not self.built:
            return {"mean": float("nan"), "max": float("nan"), "steps": 0}
        steps = int(ops.convert_to_numpy(self._norm_steps))
        total = float(ops.convert_to_numpy(self._norm_sum))
        return {
            "mean": total / steps if steps else float("nan"),
            "max": float(ops.convert_to_numpy(self._norm_max)) if steps else float("nan"),
            "steps": steps,
        }

    def reset_gradient_norm_stats(self):
        if self.built:
            for variable in (self._norm_sum, self._norm_max, self._norm_steps):
                variable.assign(ops.zeros((), dtype=variable.dtype))


class Forecaster(keras.Model):
    """Raw windows in, forecasts in original units out.

    Wraps a network trained on standardised windows (see `WindowScaler`) with
    the scaling on both sides, so that the exported graph needs nothing but
    TensorFlow: `serve(x)` takes the last `window` rows of the input columns,
    exactly as read from the CSV, and returns the next `horizon` target
    values. The network's weights are shared, not copied.

    With `interval`, the offsets of K prediction intervals per horizon step
    (`metrics.conformal_offsets`), each forecast comes with their bounds:
    the output is `(batch, horizon, 1 + 2K)`, the forecast, then each
    interval's lower and upper bound on the last axis (`bound_names`). The
    offsets are in units of each window's spread (`window_spread` with
    `spread_floor`): a window that moves more gets a wider interval. With
    `spread_floor=None` they are in the target's units.

    Args:
        network: Keras model mapping `(batch, window, features)` standardised
            windows to `(batch, horizon)` standardised targets.
        scaler: The `WindowScaler` fitted on the training windows.
        interval: A sequence of `(lower, upper)` offsets, one pair per
            interval, each offset of length `horizon`, multiplied by the
            window's spread and added to the forecast; `None` for point
            forecasts.
        spread_floor: The least spread of a window, in the target's units;
            `None` to add the offsets as they are.
        **kwargs: Base `Model` arguments (`name`, ...).

    Call arguments:
        windows: Raw windows `(batch, window, features)`, target column at
            `scaler.target_index`.

    Example:

    >>> network = build_model(window=7, n_features=1, units=4)
    >>> scaler = WindowScaler("diff", 0, (1.0,), (2.0,), (0.0,), (2.0,))
    >>> Forecaster(network, scaler)(np.ones((3, 7, 1), "float32")).shape
    (3, 1)
    """

    def __init__(
        self,
        network: keras.Model,
        scaler: WindowScaler,
        interval=None,
        spread_floor: float | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.network = network
        self.scaler = scaler
        self.interval = (
            None
            if interval is None
            else tuple(tuple(tuple(map(float, o)) for o in pair) for pair in interval)
        )
        self.spread_floor = None if spread_floor is None else float(spread_floor)

    def call(self, windows):
        scaled = self.scaler.scale_inputs(windows)
        forecast = self.scaler.unscale_targets(self.network(scaled, training=False), windows)
        if self.interval is None:
            return forecast  # (B, H)
        spread = None
        if self.spread_floor is not None:
            spread = window_spread(windows, self.scaler.target_index, self.spread_floor)
        return with_bounds(forecast, self.interval, spread)  # (B, H, 1 + 2K)

    def as_functional(self, window: int, features: int) -> keras.Model:
        """The same forecaster as a functional model, over the same weights.

        Raw windows `(batch, window, features)` -> scaling -> `network` ->
        unscaling, each side of the scaler a layer: an exporter that clones
        functional models (`keras_lstm_cell.export_model`) reaches the
        network's LSTM layers through it, which a subclassed model hides.
        """
        windows = keras.Input((window, features), name="windows")
        scaled = _ScalerSide(self.scaler, "inputs", name="scale_inputs")(windows)
        outputs = self.network(scaled, training=False)
        forecasts = _ScalerSide(self.scaler, "targets", name="unscale_targets")([outputs, windows])
        if self.interval is not None:
            bounds = _IntervalBounds(
                self.interval, self.scaler.target_index, self.spread_floor, name="interval_bounds"
            )
            forecasts = bounds([forecasts, windows])
        return keras.Model(windows, forecasts, name=self.name)


class _ScalerSide(keras.layers.Layer):
    # One side of a `WindowScaler`: "inputs" scales raw windows; "targets"
    # takes `[scaled forecasts, raw windows]` back to original units.
    def __init__(self, scaler: WindowScaler, side: str, **kwargs):
        super().__init__(**kwargs)
        self.scaler = scaler
        self.side = side

    def call(self, inputs):
        if self.side == "inputs":
            return self.scaler.scale_inputs(inputs)
        scaled, windows = inputs
        return self.scaler.unscale_targets(scaled, windows)


class _IntervalBounds(keras.layers.Layer):
    # [(B, H) forecasts, raw windows] -> (B, H, 1 + 2K): the forecast, then each
    # interval's lower and upper bound: its offsets `(lower, upper)`, each (H,),
    # times the window's spread, added.
    def __init__(self, offsets, target_index: int, spread_floor, **kwargs):
        super().__init__(**kwargs)
        self.offsets = offsets
        self.target_index = target_index
        self.spread_floor = spread_floor

    def call(self, inputs):
        forecast, windows = inputs
        spread = None
        if self.spread_floor is not None:
            spread = window_spread(windows, self.target_index, self.spread_floor)
        return with_bounds(forecast, self.offsets, spread)


def window_spread(windows, target_index: int, floor, lag: int = 1):
    """`(B, W, F)` raw windows -> `(B, 1)`: the mean absolute change of the
    target over `lag` rows within each window, at least `floor` (a number, or
    `(B, 1)` per window).

    The unit of a window's interval offsets: conformal residuals divided by it
    are comparable between quiet and busy windows (normalised split conformal,
    Lei et al., JASA 2018, §5.2), so an interval widens where the data moves
    more, as it does when the season or the market changes. A window of at
    most `lag` rows has no change: its spread is `floor`.
    """
    target = windows[:, :, target_index]  # (B, W)
    if windows.shape[1] is not None and windows.shape[1] <= lag:
        changes = ops.zeros_like(target[:, :1])
    else:
        changes = ops.mean(ops.abs(target[:, lag:] - target[:, :-lag]), axis=1, keepdims=True)
    return ops.maximum(changes, ops.cast(floor, changes.dtype))


def with_bounds(forecast, offsets, spread=None):
    """`(B, H)` forecasts -> `(B, H, 1 + 2K)`: with `forecast + lower * spread`
    and `forecast + upper * spread` for each of the K `(lower, upper)` pairs of
    `offsets`; `spread`, `(B, 1)`, is 1 when `None`."""
    columns = [forecast]
    for pair in offsets:
        lower, upper = (ops.convert_to_tensor(o, dtype=forecast.dtype) for o in pair)
        if spread is not None:
            lower, upper = lower * spread, upper * spread  # (B, H)
        columns += [forecast + lower, forecast + upper]
    return ops.stack(columns, axis=-1)
