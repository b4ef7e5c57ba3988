"""Fixtures shared by the forecasting tool's tests."""

import dataclasses

import pytest

from keras_lstm_cell.forecast.timeseries import TimeSeries


@pytest.fixture(scope="module")
def small_series():
    """The first 150 days of the embedded data: 4 training steps per epoch."""
    series = TimeSeries.default()
    return dataclasses.replace(series, frame=series.frame.iloc[:150])
