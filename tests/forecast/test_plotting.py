"""The forecast plot: the whole part, a zoom on its end, and each forecast's error."""

import matplotlib.patches
import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell.forecast import metrics
from keras_lstm_cell.forecast.plotting import ERROR_WINDOW
from keras_lstm_cell.forecast.plotting import ZOOM_STEPS
from keras_lstm_cell.forecast.plotting import forecast_figure


@pytest.fixture
def figure():
    dates = pd.date_range("2019-03-01", periods=60, freq="D")
    truth = 8000 + 50 * np.sin(np.arange(60) / 3)
    persistence = np.r_[truth[0], truth[:-1]]
    forecast = truth + 5.0  # a forecast 5 USD off, always: MAE 5
    filled = np.zeros(60, bool)
    filled[10:13] = True
    return forecast_figure(
        dates, truth, forecast, persistence, ylabel="Close (USD)", filled=filled
    ), (dates, truth, persistence, filled)


def test_three_panels_with_units(figure):
    figure, _ = figure
    whole, zoom, errors = figure.axes
    assert whole.get_ylabel() == zoom.get_ylabel() == "Close (USD)"
    assert errors.get_ylabel() == "|error| (USD)"
    assert [line.get_label() for line in whole.get_lines()] == [
        "truth",
        "persistence (last value)",
        "lstm",
    ]
    assert errors.get_title() == f"absolute error, rolling mean of {ERROR_WINDOW} steps"


def test_the_zoom_shows_the_last_steps(figure):
    figure, (dates, truth, _, _) = figure
    zoom = figure.axes[1]
    shown = zoom.get_lines()[0].get_ydata()
    np.testing.assert_array_equal(shown, truth[-ZOOM_STEPS:])


def test_the_error_panel_states_each_mae_on_observed_dates(figure):
    figure, (_, truth, persistence, filled) = figure
    errors = figure.axes[2]
    expected = metrics.mae(truth[~filled], persistence[~filled])
    assert [line.get_label() for line in errors.get_lines()] == [
        "lstm: MAE 5",
        f"persistence: MAE {expected:.4g}",
    ]


def test_filled_dates_are_shaded(figure):
    figure, _ = figure
    spans = [p for p in figure.axes[0].patches if isinstance(p, matplotlib.patches.Polygon)]
    spans += [p for p in figure.axes[0].patches if isinstance(p, matplotlib.patches.Rectangle)]
    assert len(spans) == 3
    assert figure.axes[0].get_legend_handles_labels()[1][-1] == "filled gap (not scored)"
