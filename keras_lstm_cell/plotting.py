"""Forecast-versus-truth plots, drawn with Matplotlib's Agg canvas (no display)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def forecast_figure(
    dates,
    truth,
    forecast,
    persistence,
    *,
    title: str = "",
    ylabel: str = "",
    model: str = "lstm",
) -> Figure:
    """Line plot of truth, model forecast and persistence over `dates`.

    Uses `matplotlib.figure.Figure` directly, so no pyplot state or display
    backend is touched.

    Args:
        dates: Dates of the forecast values, shape `(N,)`.
        truth: True values `(N,)`.
        forecast: Model forecasts `(N,)`.
        persistence: Last-value forecasts `(N,)`.
        title: Figure title.
        ylabel: Label of the value axis (the target column).
        model: Legend name of the model.
    """
    figure = Figure(figsize=(10, 4), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    axes.plot(dates, np.asarray(truth), color="black", linewidth=1.2, label="truth")
    axes.plot(
        dates,
        np.asarray(persistence),
        color="tab:gray",
        linewidth=0.9,
        linestyle="--",
        label="persistence (last value)",
    )
    axes.plot(dates, np.asarray(forecast), color="tab:blue", linewidth=1.2, label=model)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    axes.legend(loc="best")
    figure.autofmt_xdate()
    return figure


def figure_png(figure: Figure) -> bytes:
    """The figure encoded as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
