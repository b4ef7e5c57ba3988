"""The network of `LSTMForecaster`: raw windows of any series in, forecasts in their units out.

Every window is standardised inside the graph by its own statistics
(`window_stats`), so that series of any size share one set of weights: the
network sees the window minus its mean, over its mean absolute deviation,
and forecasts a correction to the window's own seasonal-naive forecast in
units of that deviation. A series times `c > 0` therefore gets its forecast
times `c`, and one exported file serves every series, new ones included,
from raw values.

    center = mean_t x_t,  dev = max(mean_t |x_t - center|, SPREAD_FLOOR · mean_t |x_t|, TINY)
    base_k = x_{W - m + (k mod m)}                          seasonal naive, step k
    ŷ_k    = base_k + dev · Dense(LSTM((x - center) / dev))_k

The Dense head starts at zero, so an untrained network is seasonal naive.

`ConformalBounds` adds prediction intervals: offsets per horizon step in
units of the window's spread (`seasonal_spread`, the mean absolute seasonal
change within it), calibrated by `LSTMForecaster` on windows it was not
trained or stopped on.
"""

from __future__ import annotations

import keras
from keras import ops
from keras.saving import register_keras_serializable

from keras_lstm_cell.forecast.model import window_spread
from keras_lstm_cell.forecast.model import with_bounds
from keras_lstm_cell.simple_lstm import SimpleLSTM

TINY = 1e-12  # the level of a window of zeros, which then forecasts zeros
SPREAD_FLOOR = 0.01  # a window's spread is at least this share of its level


def window_level(windows):
    """`(B, W, 1)` raw windows -> `(B, 1)`: the mean absolute value, at least `TINY`."""
    return ops.maximum(ops.mean(ops.abs(windows[:, :, 0]), axis=1, keepdims=True), TINY)


def window_stats(windows):
    """`(B, W, 1)` raw windows -> `(center, dev)`, each `(B, 1)`: the mean and
    the mean absolute deviation from it, the latter at least `SPREAD_FLOOR`
    times the window's level (`window_level`), so a flat window keeps a unit."""
    values = windows[:, :, 0]
    center = ops.mean(values, axis=1, keepdims=True)
    dev = ops.mean(ops.abs(values - center), axis=1, keepdims=True)
    return center, ops.maximum(dev, SPREAD_FLOOR * window_level(windows))


def seasonal_spread(windows, season: int):
    """`(B, W, 1)` raw windows -> `(B, 1)`: `model.window_spread` over a season
    (`season` rows; one row when the window is not longer than a season), at
    least `SPREAD_FLOOR` times the window's level."""
    lag = season if season < windows.shape[1] else 1
    return window_spread(windows, 0, SPREAD_FLOOR * window_level(windows), lag)


def seasonal_steps(window: int, horizon: int, season: int) -> list[int]:
    """The window rows that seasonal naive repeats for each horizon step."""
    if season > window:
        return [window - 1] * horizon  # no whole season in the window: the last value
    return [window - season + (k % season) for k in range(horizon)]


@register_keras_serializable(package="keras_lstm_cell")
class WindowScaling(keras.layers.Layer):
    """Raw windows `(B, W, 1)` -> `[(windows - center) / dev, dev (B, 1)]` (`window_stats`)."""

    def call(self, windows):
        center, dev = window_stats(windows)
        return [(windows - center[:, :, None]) / dev[:, :, None], dev]


@register_keras_serializable(package="keras_lstm_cell")
class SeasonalNaive(keras.layers.Layer):
    """Windows `(B, W, 1)` -> `(B, horizon)`: the value one season before each step.

    Args:
        horizon: Steps forecast.
        season: Period in rows; 1 repeats the last value.
    """

    def __init__(self, horizon: int, season: int, **kwargs):
        super().__init__(**kwargs)
        self.horizon = horizon
        self.season = season

    def call(self, windows):
        steps = seasonal_steps(windows.shape[1], self.horizon, self.season)
        return ops.take(windows[:, :, 0], steps, axis=1)

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon, "season": self.season}


@register_keras_serializable(package="keras_lstm_cell")
class Correction(keras.layers.Layer):
    """`[base (B, H), correction (B, H), dev (B, 1)]` -> `base + dev * correction`."""

    def call(self, inputs):
        base, correction, dev = inputs
        return base + dev * correction


@register_keras_serializable(package="keras_lstm_cell")
class ConformalBounds(keras.layers.Layer):
    """`[forecasts (B, H), raw windows (B, W, 1)]` -> `(B, H, 1 + 2K)`: the
    forecast, then each interval's lower and upper bound, its offsets times
    the window's spread (`seasonal_spread`) added.

    Args:
        offsets: K pairs `(lower, upper)`, each a list of `H` numbers.
        season: The spread's lag, in rows.
    """

    def __init__(self, offsets, season: int, **kwargs):
        super().__init__(**kwargs)
        self.offsets = [[list(map(float, o)) for o in pair] for pair in offsets]
        self.season = season

    def call(self, inputs):
        forecast, windows = inputs
        return with_bounds(forecast, self.offsets, seasonal_spread(windows, self.season))

    def get_config(self):
        return {**super().get_config(), "offsets": self.offsets, "season": self.season}


def build_global_network(
    window: int, horizon: int, season: int, units: int = 64, layers: int = 1
) -> keras.Model:
    """Raw windows `(B, window, 1)` -> forecasts `(B, horizon)`, both in the
    series' own units (see the module docstring)."""
    windows = keras.Input((window, 1), name="windows")
    scaled, dev = WindowScaling(name="scaling")(windows)
    base = SeasonalNaive(horizon, season, name="seasonal_naive")(windows)  # (B, H)
    hidden = scaled
    for i in range(layers):
        hidden = SimpleLSTM(units, return_sequences=i < layers - 1, name=f"lstm_{i + 1}")(hidden)
    correction = keras.layers.Dense(
        horizon, kernel_initializer="zeros", bias_initializer="zeros", name="correction"
    )(hidden)
    forecast = Correction(name="forecast")([base, correction, dev])
    return keras.Model(windows, forecast, name="global_lstm")


def with_intervals(network: keras.Model, offsets, season: int) -> keras.Model:
    """`network` with `ConformalBounds` on its forecasts, over the same weights."""
    windows = keras.Input(network.input_shape[1:], name="windows")
    forecast = network(windows)
    bounds = ConformalBounds(offsets, season, name="bounds")([forecast, windows])
    return keras.Model(windows, bounds, name="global_lstm_intervals")
