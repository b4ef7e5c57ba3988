"""Scores of a model and its baselines on the same forecasts."""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from keras_lstm_cell.forecast import metrics as forecast_metrics

MODEL_NAME = "lstm"  # the model's row in every table and record
METRICS = ("mae", "rmse", "mape", "smape", "mase", "skill")
# Scores of each of the model's prediction intervals, when it has them, as
# `coverage_80`, `mean_width_80`, ... for the 80% interval (`interval_keys`).
INTERVAL_METRICS = ("coverage", "mean_width", "pinball", "msis")
# Their headers in tables, before the level: "cover80%", "width80", ...
_INTERVAL_HEADERS = {"coverage": "cover{}%", "mean_width": "width{}", "pinball": "pinball{}",
                     "msis": "MSIS{}"}  # fmt: skip
REFERENCE = "persistence"
MARGINAL_SKILL = 0.01  # below this, "beats persistence" is worth a caveat


@dataclasses.dataclass(frozen=True)
class ForecastEvaluation:
    """MAE, RMSE, MAPE, sMAPE, MASE and skill of several forecasts of one truth.

    Skill is `1 - MAE / MAE_persistence`: positive when a forecast beats the
    last-value forecast, 0 for persistence itself. All values are in the
    data's original units (MAPE and sMAPE in percent, MASE and skill
    unitless).

    With prediction intervals (`interval_levels`), the model's row also
    holds, for each level (e.g. `_80` for 0.8), its `coverage` (the share of
    truths inside the interval), `mean_width`, `pinball` (the mean pinball
    loss of its two bounds as the quantiles `(1 - level) / 2` and
    `(1 + level) / 2`) and `msis` (M4's mean scaled interval score, scaled
    like MASE).

    Args:
        scores: `{forecast name: {metric: value}}`, the model first.
        count: Number of forecast values scored (windows × horizon).
        model: Name of the model's row.
        interval_levels: Nominal coverages of the model's intervals, ascending,
            or `()`.

    Example:

    >>> evaluation = ForecastEvaluation.compute(
    ...     np.array([1.0, 2.0, 3.0]),
    ...     {"lstm": np.array([1.0, 2.0, 2.0]), "persistence": np.array([0.0, 1.0, 2.0])},
    ...     mase_scale=1.0,
    ... )
    >>> round(evaluation.skill, 3), evaluation.beats_persistence
    (0.667, True)
    """

    scores: dict
    count: int
    model: str = MODEL_NAME
    interval_levels: tuple = ()

    @classmethod
    def compute(
        cls,
        y_true,
        forecasts: dict,
        mase_scale: float,
        model: str = MODEL_NAME,
        intervals: dict | None = None,
    ) -> ForecastEvaluation:
        """Scores each array of `forecasts` (same shape as `y_true`).

        A forecast with NaN entries (a seasonal-naive forecast that reaches
        before the series) is scored on its finite entries only.
        `intervals`: `{level: (lower, upper)}` of the model's forecasts, if any.
        """
        if REFERENCE not in forecasts or model not in forecasts:
            raise ValueError(
                f"Expected `forecasts` to include {model!r} and {REFERENCE!r}. "
                f"Received: {sorted(forecasts)}"
            )
        y_true = np.asarray(y_true, dtype="float64")
        scores = {}
        for name, y_pred in forecasts.items():
            y_pred = np.asarray(y_pred, dtype="float64")
            finite = np.isfinite(y_pred)
            if not finite.any():
                scores[name] = {metric: float("nan") for metric in METRICS}
                continue
            truth, pred = y_true[finite], y_pred[finite]
            scores[name] = {
                "mae": forecast_metrics.mae(truth, pred),
                "rmse": forecast_metrics.rmse(truth, pred),
                "mape": forecast_metrics.mape(truth, pred),
                "smape": forecast_metrics.smape(truth, pred),
                "mase": forecast_metrics.mase(truth, pred, mase_scale),
            }
        reference_mae = scores[REFERENCE]["mae"]
        for row in scores.values():
            row["skill"] = forecast_metrics.skill(row["mae"], reference_mae)
        levels = tuple(sorted(intervals or {}))
        for level in levels:
            lower, upper = intervals[level]
            values = {
                "coverage": forecast_metrics.coverage(y_true, lower, upper),
                "mean_width": forecast_metrics.mean_width(lower, upper),
                "pinball": forecast_metrics.interval_pinball(y_true, lower, upper, level),
                "msis": forecast_metrics.msis(y_true, lower, upper, level, mase_scale),
            }
            keys = interval_keys(level)
            scores[model].update({keys[m]: values[m] for m in INTERVAL_METRICS})
        ordered = {model: scores.pop(model), **scores}
        return cls(scores=ordered, count=int(y_true.size), model=model, interval_levels=levels)

    @property
    def skill(self) -> float:
        return self.scores[self.model]["skill"]

    @property
    def beats_persistence(self) -> bool:
        return self.scores[self.model]["mae"] < self.scores[REFERENCE]["mae"]

    def verdict(self) -> str:
        """One sentence: does the model beat persistence (MAE)?

        Skill is undefined where persistence is exact (its MAE is 0); the
        sentence says so in words rather than print a NaN.
        """
        ours = self.scores[self.model]["mae"]
        theirs = self.scores[REFERENCE]["mae"]
        if not (math.isfinite(ours) and math.isfinite(theirs)):
            unscored = self.model if not math.isfinite(ours) else REFERENCE
            return (
                f"The {self.model} model cannot be compared with persistence: "
                f"{unscored} has no finite forecasts to score (MAE n/a)."
            )
        if theirs == 0:
            outcome = (
                f"the {self.model} model ties it (MAE 0 too)"
                if ours == 0
                else f"the {self.model} model, with MAE {ours:.4g}, does NOT beat it"
            )
            return f"Persistence is exact on this data (MAE 0), so skill is undefined; {outcome}."
        if ours == theirs:
            return (
                f"The {self.model} model ties persistence: MAE {ours:.4g} for both "
                f"(skill 0); it is as good as repeating the last value."
            )
        if self.beats_persistence and self.skill < MARGINAL_SKILL:
            return (
                f"The {self.model} model beats persistence only marginally: MAE "
                f"{ours:.4g} vs {theirs:.4g} (skill {self.skill:+.4f}, under "
                f"{MARGINAL_SKILL:.0%}); it is about as good as repeating the last value."
            )
        if self.beats_persistence:
            return (
                f"The {self.model} model beats persistence: MAE {ours:.4g} vs "
                f"{theirs:.4g} (skill {self.skill:+.3f})."
            )
        return (
            f"The {self.model} model does NOT beat persistence: MAE {ours:.4g} vs "
            f"{theirs:.4g} (skill {self.skill:+.3f}); repeating the last value "
            "forecasts better."
        )

    def table(self) -> str:
        """Plain-text table, one row per forecast."""
        headers = ("forecast", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE", "skill")
        metrics = METRICS
        for level in self.interval_levels:
            label = forecast_metrics.level_label(level)
            headers += tuple(_INTERVAL_HEADERS[m].format(label) for m in INTERVAL_METRICS)
            metrics += tuple(interval_keys(level).values())
        rows = [
            (name, *(_format(row.get(metric)) for metric in metrics))
            for name, row in self.scores.items()
        ]
        widths = [max(len(str(r[i])) for r in (headers, *rows)) for i in range(len(headers))]
        lines = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths))
            )
            for line in (headers, *rows)
        ]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        interval = {"interval_levels": list(self.interval_levels)} if self.interval_levels else {}
        return {
            "count": self.count,
            "model": self.model,
            **interval,
            "beats_persistence": self.beats_persistence,
            "scores": {
                name: {m: _json_float(v) for m, v in row.items()}
                for name, row in self.scores.items()
            },
        }


def interval_keys(level: float) -> dict:
    """`{"coverage": "coverage_80", ...}`: the score names of the `level` interval."""
    label = forecast_metrics.level_label(level)
    return {metric: f"{metric}_{label}" for metric in INTERVAL_METRICS}


def split_bounds(predicted: np.ndarray, levels) -> tuple[np.ndarray, dict]:
    """`(N, H)` forecasts and `{level: (lower, upper)}` from a forecaster's
    `(N, H, 1 + 2K)` output (forecast, then each level's lower and upper bound)."""
    predicted = np.asarray(predicted)
    if predicted.ndim == 2:
        return predicted, {}
    levels = tuple(levels)
    if predicted.shape[-1] != 1 + 2 * len(levels):
        raise ValueError(
            f"Expected forecasts with bounds for the levels {list(levels)}, shape "
            f"(N, H, {1 + 2 * len(levels)}). Received: shape {predicted.shape}"
        )
    bounds = {
        level: (predicted[..., 1 + 2 * k], predicted[..., 2 + 2 * k])
        for k, level in enumerate(levels)
    }
    return predicted[..., 0], bounds


def _format(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    return f"{value:.4g}" if abs(value) >= 1e-3 or value == 0 else f"{value:.2e}"


def _json_float(value):
    return None if value is None or not math.isfinite(value) else float(value)


def evaluate_part(predict, data, part: str, interval_levels=()) -> ForecastEvaluation:
    """Scores a model and the baselines on the observed targets of one part.

    Args:
        predict: `callable(x) -> forecasts`: raw windows `(N, window, F)`,
            float32, to forecasts `(N, horizon)` in original units (a
            `Forecaster`'s `predict`, or an export's `serve`), or to
            `(N, horizon, 1 + 2K)`: the forecast, then the lower and upper
            bound of each of the K intervals.
        data: The `ForecastData`.
        part: `"train"`, `"val"`, `"cal"`, `"test"`, or `"all"` for
            `for_scoring` data.
        interval_levels: The nominal coverages of the K intervals, ascending.
    """
    x, y = data.raw(part, observed_only=True)
    if len(y) == 0:
        raise ValueError(
            f"Expected observed targets to score in the {part} part of "
            f"{data.series.source}. Received: only filled-in dates"
        )
    predicted, intervals = split_bounds(predict(x), interval_levels or ())
    forecasts = {
        MODEL_NAME: predicted,
        REFERENCE: data.persistence(part, observed_only=True),
        f"seasonal_naive_{data.season}": data.seasonal_naive(part, observed_only=True),
    }
    return ForecastEvaluation.compute(y, forecasts, data.mase_scale, intervals=intervals)
