"""Reference forecasts that a learned model has to beat."""

from __future__ import annotations

import numpy as np

from keras_lstm_cell.forecast.windows import window_count


def persistence(x: np.ndarray, target_index: int, horizon: int) -> np.ndarray:
    """Last-value forecast: every step of the horizon repeats the window's last target.

    Args:
        x: Raw windows `(N, window, F)`.
        target_index: Position of the target among the `F` columns.
        horizon: Number of steps forecast.

    Returns:
        `(N, horizon)` forecasts.
    """
    last = np.asarray(x)[:, -1, target_index]
    return np.repeat(last[:, None], horizon, axis=1)


def seasonal_naive(target: np.ndarray, window: int, horizon: int, season: int) -> np.ndarray:
    """Seasonal-naive forecast: the value one season before, from the full series.

    For window `n` (inputs rows `n .. n + window - 1`) and step `k = 1 ..
    horizon`, the forecast of row `p = n + window - 1 + k` is
    `target[p - season * ceil(k / season)]`, the latest observed value in the
    same phase of the season. It may reach before the window, which is fine:
    those rows are in the past too. NaN where it reaches before the series.

    Returns:
        `(N, horizon)` forecasts, `N = len(target) - window - horizon + 1`.
    """
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season <= 0:
        raise ValueError(f"Expected `season` to be a positive integer. Received: season={season!r}")
    target = np.asarray(target, dtype="float64")
    count = window_count(len(target), window, horizon)
    n = np.arange(count)[:, None]
    k = np.arange(1, horizon + 1)[None, :]
    source = n + window - 1 + k - season * -(-k // season)  # (N, horizon)
    forecasts = np.full(source.shape, np.nan)
    valid = source >= 0
    forecasts[valid] = target[source[valid]]
    return forecasts
