"""Forecast-versus-truth plots, drawn with Matplotlib's Agg canvas (no display).

At the scale of a whole test period the model's line hides the persistence
line it is compared with, so the figure has three panels: the whole period;
its last `ZOOM_STEPS` steps, where the lines come apart; and the absolute
error of each forecast (a rolling mean), where the comparison the run's
verdict makes, MAE against MAE, can be seen. Dates filled into gaps are
shaded; they are not scored.
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from keras_lstm_cell.forecast.evaluation import MODEL_NAME
from keras_lstm_cell.forecast.evaluation import split_bounds
from keras_lstm_cell.forecast.metrics import level_label

ZOOM_STEPS = 28  # the last four weeks of a daily series
ERROR_WINDOW = 7  # steps in the rolling mean of the absolute errors
_COLORS = {"truth": "black", "persistence": "tab:gray", "model": "tab:blue"}


def _shade(axes, dates: pd.DatetimeIndex, filled: np.ndarray) -> None:
    """Shades the dates filled into gaps, half a step either side."""
    half = (dates[1:] - dates[:-1]).min() / 2 if len(dates) > 1 else pd.Timedelta(hours=12)
    for k, date in enumerate(dates[filled]):
        axes.axvspan(date - half, date + half, color="tab:orange", alpha=0.3, lw=0,
                     label="filled gap (not scored)" if k == 0 else None)  # fmt: skip


def forecast_figure(
    dates,
    truth,
    forecast,
    persistence,
    *,
    title: str = "",
    ylabel: str = "",
    model: str = MODEL_NAME,
    filled=None,
    bounds=None,
) -> Figure:
    """Truth, model forecast and persistence over `dates`, zoomed, and their errors.

    Uses `matplotlib.figure.Figure` directly, so no pyplot state or display
    backend is touched.

    Args:
        dates: Dates of the forecast values, shape `(N,)`.
        truth: True values `(N,)`.
        forecast: Model forecasts `(N,)`.
        persistence: Last-value forecasts `(N,)`.
        title: Figure title.
        ylabel: Label of the value axis: the target column and its unit.
        model: Legend name of the model.
        filled: `(N,)` bool, dates filled into gaps (shaded, not scored).
        bounds: `{label: (lower, upper)}`, each bound `(N,)`: the model's
            prediction intervals (shaded, the widest palest), or `None`.
    """
    dates = pd.DatetimeIndex(dates)
    truth, forecast, persistence = (
        np.asarray(a, "float64") for a in (truth, forecast, persistence)
    )
    filled = np.zeros(len(dates), bool) if filled is None else np.asarray(filled, bool)
    figure = Figure(figsize=(10, 9), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    whole, zoom, errors = figure.subplots(3, 1, height_ratios=(3, 2, 2))
    zoomed = slice(max(0, len(dates) - ZOOM_STEPS), len(dates))
    for axes, part, marker in ((whole, slice(None), None), (zoom, zoomed, "o")):
        axes.plot(dates[part], truth[part], color=_COLORS["truth"], lw=1.2, label="truth",
                  marker=marker, ms=3)  # fmt: skip
        axes.plot(dates[part], persistence[part], color=_COLORS["persistence"], lw=0.9, ls="--",
                  label="persistence (last value)", marker=marker, ms=3)  # fmt: skip
        axes.plot(dates[part], forecast[part], color=_COLORS["model"], lw=1.2, label=model,
                  marker=marker, ms=3)  # fmt: skip
        for label, pair in (bounds or {}).items():
            lower, upper = (np.asarray(b, "float64")[part] for b in pair)
            axes.fill_between(dates[part], lower, upper, color=_COLORS["model"], alpha=0.15,
                              lw=0, label=f"{model} {label} interval")  # fmt: skip
        _shade(axes, dates[part], filled[part])
        axes.set_ylabel(ylabel)
        axes.grid(alpha=0.3)
    whole.set_title(title)
    whole.legend(loc="best")
    zoom.set_title(f"last {zoomed.stop - zoomed.start} steps", fontsize="medium")
    scored = ~filled
    for name, values, style in (
        (model, forecast, dict(color=_COLORS["model"], lw=1.2)),
        ("persistence", persistence, dict(color=_COLORS["persistence"], lw=0.9, ls="--")),
    ):
        error = pd.Series(np.where(scored, np.abs(values - truth), np.nan), index=dates)
        rolling = error.rolling(ERROR_WINDOW, min_periods=1).mean()
        errors.plot(dates, rolling, label=f"{name}: MAE {np.nanmean(error):.4g}", **style)
    errors.set_title(f"absolute error, rolling mean of {ERROR_WINDOW} steps", fontsize="medium")
    errors.set_ylabel(f"|error| {_unit_of(ylabel)}".rstrip())
    errors.grid(alpha=0.3)
    errors.legend(loc="best")
    for axes in (whole, zoom, errors):
        locator = mdates.AutoDateLocator()
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return figure


def _unit_of(ylabel: str) -> str:
    return ylabel[ylabel.rfind("(") :] if ylabel.endswith(")") else ""


def forecast_png(data, part: str, forecast, *, unit: str | None = None, levels=()) -> bytes:
    """PNG of a part's one-step-ahead forecasts (the first of the horizon).

    Args:
        data: The run's `ForecastData`.
        part: `"test"`, say.
        forecast: The model's forecasts `(N, horizon)` of the part's windows,
            or `(N, horizon, 1 + 2K)` with the bounds of its K intervals
            (shaded) at `levels`.
        unit: The target's unit, for the value axis.
        levels: The intervals' levels, ascending.
    """
    series = data.series
    windows = data.slices[part]
    x, y = data.raw(part)
    point, intervals = split_bounds(np.asarray(forecast)[:, :1], levels)  # the first step
    bounds = {
        f"{level_label(level)}%": (lower[:, 0], upper[:, 0])
        for level, (lower, upper) in intervals.items()
    }
    figure = forecast_figure(
        data.target_dates[windows, 0],
        y[:, 0],
        point[:, 0],
        data.persistence(part)[:, 0],
        bounds=bounds,
        title=f"{series.target}: {part} part, one step ahead ({series.source})",
        ylabel=f"{series.target} ({unit})" if unit else series.target,
        filled=~data.observed[windows],
    )
    return figure_png(figure)


def figure_png(figure: Figure) -> bytes:
    """The figure encoded as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def skill_png(folds: pd.DataFrame, *, title: str = "") -> bytes:
    """PNG of a backtest's skill per fold (bars), with their mean (a line).

    Args:
        folds: backtest.csv as a `DataFrame`: `fold`, `test_start`,
            `test_end` and `skill` columns, a row per fold.
        title: Figure title.
    """
    figure = Figure(figsize=(8, 4.5), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    skill = folds["skill"].astype("float64").to_numpy()
    shown = np.nan_to_num(skill, nan=0.0)
    colors = [_COLORS["model"] if s > 0 else "tab:red" for s in shown]
    axes.bar(folds["fold"], shown, color=colors)
    if np.isfinite(skill).any():
        axes.axhline(np.nanmean(skill), color="black", lw=1, ls="--",
                     label=f"mean {np.nanmean(skill):+.3f}")  # fmt: skip
        axes.legend(loc="best")
    axes.axhline(0.0, color=_COLORS["persistence"], lw=0.8)
    axes.set_xticks(
        folds["fold"],
        [
            f"{f}\n{a} ..\n{b}"
            for f, a, b in zip(folds["fold"], folds["test_start"], folds["test_end"])
        ],
        fontsize="small",
    )
    axes.set_xlabel("fold (test part)")
    axes.set_ylabel("skill: 1 - MAE / MAE persistence")
    axes.set_title(title, fontsize="medium")
    axes.grid(alpha=0.3, axis="y")
    return figure_png(figure)
