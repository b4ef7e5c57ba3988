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
