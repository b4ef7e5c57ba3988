"""Point-forecast error measures, in the units of the data.

All functions take arrays of equal shape (any shape; every element is one
forecast) and return a Python float. Definitions follow Hyndman &
Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.8:
https://otexts.com/fpp3/accuracy.html
"""

from __future__ import annotations

import numpy as np


def _pair(y_true, y_pred):
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "Expected `y_true` and `y_pred` of the same shape. Received: "
            f"y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    if y_true.size == 0:
        raise ValueError("Expected at least one forecast. Received: empty arrays")
    return y_true, y_pred


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mape(y_true, y_pred) -> float:
    """Mean absolute percentage error, in percent, over the nonzero truths.

    Undefined where the truth is 0, so those points are left out; NaN if all
    truths are 0.
    """
    y_true, y_pred = _pair(y_true, y_pred)
    nonzero = y_true != 0
    if not nonzero.any():
        return float("nan")
    return float(100.0 * np.mean(np.abs((y_true - y_pred)[nonzero] / y_true[nonzero])))


def smape(y_true, y_pred) -> float:
    """Symmetric MAPE in percent: mean of 200 |e| / (|y| + |ŷ|), 0 where both are 0."""
    y_true, y_pred = _pair(y_true, y_pred)
    denominator = np.abs(y_true) + np.abs(y_pred)
    ratio = np.divide(
        2.0 * np.abs(y_true - y_pred),
        denominator,
        out=np.zeros_like(denominator),
        where=denominator > 0,
    )
    return float(100.0 * np.mean(ratio))


def naive_scale(train_target, season: int = 1) -> float:
    """MASE denominator: in-sample MAE of the seasonal-naive forecast.

    `mean |y_t - y_{t-season}|` over the training series (`season=1`: the
    one-step persistence forecast).
    """
    train_target = np.asarray(train_target, dtype="float64")
    if len(train_target) <= season:
        raise ValueError(
            f"Expected more than season={season} training values. Received: {len(train_target)}"
        )
    return float(np.mean(np.abs(train_target[season:] - train_target[:-season])))


def mase(y_true, y_pred, scale: float) -> float:
    """Mean absolute scaled error: MAE divided by `naive_scale` of the training data."""
    if not scale > 0:
        return float("nan")
    return mae(y_true, y_pred) / scale


def skill(model_mae: float, reference_mae: float) -> float:
    """Skill score `1 - MAE_model / MAE_reference`: > 0 means better than the reference."""
    if not reference_mae > 0:
        return float("nan")
    return 1.0 - model_mae / reference_mae


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"Expected `level` to be a number in (0, 1). Received: level={level!r}")
    return float(level)


def conformal_offsets(residuals, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Split-conformal offsets of a central `level` interval, per horizon step.

    From the residuals `y - ŷ` of a calibration set the model was not fitted
    on (the validation part), `(N, H)`: with `n = N` residuals per step, the
    lower offset is the `floor((n + 1)(1 - level) / 2)`-th smallest residual,
    the upper one the `ceil((n + 1)(1 + level) / 2)`-th smallest. These are
    the quantiles `(1 - level) / 2` and `(1 + level) / 2` with the
    finite-sample correction of split conformal prediction (Vovk et al.,
    *Algorithmic Learning in a Random World*, 2005; Lei et al., JASA 2018):
    if the future residuals are exchangeable with the calibration ones, each
    bound is crossed with probability at most `(1 - level) / 2`, so
    `[ŷ + lower, ŷ + upper]` covers the truth with probability at least
    `level`, whatever the model.

    Args:
        residuals: `(N,)` or `(N, H)` calibration residuals, truth minus forecast.
        level: Nominal coverage, in (0, 1), e.g. 0.8.

    Returns:
        `(lower, upper)`, each `(H,)` (a float for 1-D residuals): offsets
        to add to a forecast.

    Raises `ValueError` when there are too few residuals for the bounds to be
    finite: at least `ceil(2 / (1 - level)) - 1` are needed.

    Example:

    >>> lower, upper = conformal_offsets(np.arange(-9.0, 10.0), 0.8)
    >>> float(lower), float(upper)
    (-8.0, 8.0)
    """
    level = _check_level(level)
    residuals = np.asarray(residuals, dtype="float64")
    flat = residuals.ndim == 1
    residuals = residuals[:, None] if flat else residuals
    if residuals.ndim != 2 or not np.isfinite(residuals).all():
        raise ValueError(
            "Expected `residuals` of finite values, shape (N,) or (N, H). Received: "
            f"shape {residuals.shape}"
        )
    n = len(residuals)
    # 1-based ranks; the tolerance keeps 20 * 0.2 / 2 at 2, not 1.9999999999999996.
    low = int(np.floor((n + 1) * (1 - level) / 2 + 1e-9))
    high = int(np.ceil((n + 1) * (1 + level) / 2 - 1e-9))
    if low < 1 or high > n:
        needed = int(np.ceil(2 / (1 - level) - 1e-9)) - 1
        raise ValueError(
            f"Expected at least {needed} calibration forecasts for a {level:.0%} "
            f"interval. Received: {n}; lower the interval or use more validation data"
        )
    ordered = np.sort(residuals, axis=0)
    lower, upper = ordered[low - 1], ordered[high - 1]
    return (float(lower[0]), float(upper[0])) if flat else (lower, upper)


def coverage(y_true, lower, upper) -> float:
    """Share of the truths inside their interval `[lower, upper]`."""
    y_true, lower = _pair(y_true, lower)
    _, upper = _pair(y_true, upper)
    return float(np.mean((lower <= y_true) & (y_true <= upper)))


def mean_width(lower, upper) -> float:
    """Mean width `upper - lower` of the intervals."""
    lower, upper = _pair(lower, upper)
    return float(np.mean(upper - lower))


def pinball(y_true, quantile, tau: float) -> float:
    """Pinball (quantile) loss of forecasts of the `tau` quantile:
    mean of `max(tau (y - q), (tau - 1) (y - q))`."""
    y_true, quantile = _pair(y_true, quantile)
    error = y_true - quantile
    return float(np.mean(np.maximum(tau * error, (tau - 1) * error)))


def interval_pinball(y_true, lower, upper, level: float) -> float:
    """Mean pinball loss of a central `level` interval's two bounds, taken as
    the `(1 - level) / 2` and `(1 + level) / 2` quantiles."""
    level = _check_level(level)
    return 0.5 * (pinball(y_true, lower, (1 - level) / 2) + pinball(y_true, upper, (1 + level) / 2))


def msis(y_true, lower, upper, level: float, scale: float) -> float:
    """Mean scaled interval score of a central `level` interval (M4 competition).

    With `a = 1 - level`, each forecast scores its width plus `2 / a` times
    the distance by which the truth falls outside, `(U - L) + 2/a (L - y)
    1{y < L} + 2/a (y - U) 1{y > U}`; the mean is divided by `scale`, the
    in-sample MAE of seasonal naive (`naive_scale`, the MASE denominator).
    Lower is better: narrow intervals that still cover. Makridakis et al.,
    "The M4 Competition: 100,000 time series and 61 forecasting methods",
    IJF 36(1), 2020, eq. (3).
    """
    level = _check_level(level)
    y_true, lower = _pair(y_true, lower)
    _, upper = _pair(y_true, upper)
    if not scale > 0:
        return float("nan")
    alpha = 1.0 - level
    below = np.maximum(lower - y_true, 0.0)
    above = np.maximum(y_true - upper, 0.0)
    score = (upper - lower) + (2.0 / alpha) * (below + above)
    return float(np.mean(score) / scale)


def level_label(level: float) -> str:
    """A level as the percentage names use it: 0.8 -> "80", 0.975 -> "97.5"."""
    return f"{100 * _check_level(level):.10g}"
