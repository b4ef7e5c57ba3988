"""Windowing, splits, scaling, baselines and metrics: pure functions on exact numbers."""

import dataclasses

import numpy as np
import pandas as pd
import pytest
from keras import ops

from keras_lstm_cell.forecast import baselines
from keras_lstm_cell.forecast import metrics as forecast_metrics
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.windows import make_windows
from keras_lstm_cell.forecast.windows import split_counts
from keras_lstm_cell.forecast.windows import split_slices
from keras_lstm_cell.forecast.windows import window_count


@pytest.mark.parametrize("window, horizon", [(1, 1), (3, 1), (3, 2), (7, 4), (10, 10)])
def test_make_windows_alignment(window, horizon):
    length = 20
    x, y = make_windows(np.arange(length), np.arange(length) * 10, window, horizon)
    count = length - window - horizon + 1
    assert x.shape == (count, window, 1) and y.shape == (count, horizon)
    for n in range(count):
        np.testing.assert_array_equal(x[n, :, 0], np.arange(n, n + window))
        np.testing.assert_array_equal(y[n], 10 * np.arange(n + window, n + window + horizon))


def test_make_windows_multivariate():
    inputs = np.stack([np.arange(6), 100 + np.arange(6)], axis=1)  # (6, 2)
    x, y = make_windows(inputs, np.arange(6), window=3, horizon=2)
    assert x.tolist() == [
        [[0, 100], [1, 101], [2, 102]],
        [[1, 101], [2, 102], [3, 103]],
    ]
    assert y.tolist() == [[3, 4], [4, 5]]


@pytest.mark.parametrize(
    "window, horizon, match",
    [
        (0, 1, r"`window` to be a positive integer. Received: window=0"),
        (-2, 1, r"Received: window=-2"),
        (3, 0, r"`horizon` to be a positive integer. Received: horizon=0"),
        (5, 2, r"at least window \+ horizon = 7 rows .* Received: 6 rows"),
    ],
)
def test_make_windows_rejects(window, horizon, match):
    with pytest.raises(ValueError, match=match):
        make_windows(np.arange(6), np.arange(6), window, horizon)


def test_window_count():
    assert window_count(20, 7, 1) == 13
    assert window_count(5, 7, 1) == 0


def test_split_is_chronological_and_complete():
    train, val, test = split_slices(100, 0.1, 0.2)
    assert (train, val, test) == (slice(0, 70), slice(70, 80), slice(80, 100))
    assert split_counts(10, 0.01, 0.01) == (8, 1, 1)  # at least one each


@pytest.mark.parametrize(
    "count, val, test, match",
    [
        (100, 0.0, 0.2, r"`val_fraction` to be in \(0, 1\). Received: val_fraction=0.0"),
        (100, 0.5, 0.5, r"val_fraction \+ test_fraction < 1"),
        (2, 0.1, 0.1, r"at least 3 windows .* Received: 2 windows"),
    ],
)
def test_split_rejects(count, val, test, match):
    with pytest.raises(ValueError, match=match):
        split_counts(count, val, test)


def _numpy(tensor):
    return np.asarray(ops.convert_to_numpy(tensor))


@pytest.mark.parametrize("transform", ["level", "diff", "log_return"])
def test_scaler_round_trip(transform):
    rng = np.random.default_rng(0)
    series = 100 + np.cumsum(rng.normal(size=(60, 2)), axis=0)
    x, y = make_windows(series, series[:, 0], window=5, horizon=3)
    scaler = WindowScaler.fit(x[:30], y[:30], transform)
    scaled = _numpy(scaler.scale_targets(y, x))
    np.testing.assert_allclose(_numpy(scaler.unscale_targets(scaled, x)), y, rtol=1e-12)
    # Standardised on the training windows: unit scale there.
    train_scaled = scaled[:30]
    if transform == "level":
        np.testing.assert_allclose(train_scaled.mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(train_scaled.std(axis=0), 1, rtol=1e-12)
    else:
        np.testing.assert_allclose(np.sqrt(np.mean(train_scaled**2, axis=0)), 1, rtol=1e-12)


def test_scaler_relative_transforms_by_hand():
    x = np.array([[[1.0], [2.0], [4.0]]])  # (1, 3, 1)
    y = np.array([[5.0, 8.0]])
    diff = WindowScaler("diff", 0, (0.0,), (2.0,), (0.0, 0.0), (1.0, 4.0))
    np.testing.assert_allclose(_numpy(diff.scale_inputs(x))[0, :, 0], [-1.5, -1.0, 0.0])
    np.testing.assert_allclose(_numpy(diff.scale_targets(y, x)), [[1.0, 1.0]])
    np.testing.assert_allclose(_numpy(diff.unscale_targets(np.zeros((1, 2)), x)), [[4.0, 4.0]])
    log = WindowScaler("log_return", 0, (0.0,), (1.0,), (0.0, 0.0), (1.0, 1.0))
    np.testing.assert_allclose(_numpy(log.scale_targets(y, x)), np.log([[5 / 4, 8 / 4]]))
    np.testing.assert_allclose(_numpy(log.unscale_targets(np.zeros((1, 2)), x)), [[4.0, 4.0]])


def test_relative_scaling_ignores_the_level():
    """A window 4x above the training range maps to the same model inputs."""
    rng = np.random.default_rng(1)
    prices = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 80)))
    x, y = make_windows(prices, prices, window=7)
    scaler = WindowScaler.fit(x[:50], y[:50], "log_return")
    np.testing.assert_allclose(
        _numpy(scaler.scale_inputs(4 * x[60:])), _numpy(scaler.scale_inputs(x[60:])), atol=1e-12
    )


def test_scaler_rejects():
    x = np.ones((4, 3, 1))
    with pytest.raises(ValueError, match=r"`transform` to be one of .* Received: transform='z'"):
        WindowScaler.fit(x, np.ones((4, 1)), "z")
    with pytest.raises(ValueError, match=r"strictly positive .* Received: a minimum of -1.0"):
        WindowScaler.fit(x, -np.ones((4, 1)), "log_return")
    with pytest.raises(ValueError, match=r"window` >= 2 .* Received: window=1"):
        WindowScaler.fit(np.ones((4, 1, 1)), np.ones((4, 1)), "diff")


def test_scaler_config_round_trip():
    scaler = WindowScaler.fit(np.arange(24.0).reshape(4, 3, 2), np.ones((4, 1)), "diff")
    assert WindowScaler.from_config(scaler.get_config()) == scaler


def test_persistence_and_seasonal_naive_on_arange():
    target = np.arange(20.0)
    x, _ = make_windows(target, target, window=4, horizon=3)
    np.testing.assert_array_equal(baselines.persistence(x, 0, 3)[:2], [[3, 3, 3], [4, 4, 4]])
    seasonal = baselines.seasonal_naive(target, window=4, horizon=3, season=2)
    # Window 0 sees rows 0..3 and forecasts rows 4, 5, 6 from rows 2, 3, 4 - 2 = ...
    # row p comes from p - 2 * ceil(k / 2): 4 -> 2, 5 -> 3, 6 -> 2.
    np.testing.assert_array_equal(seasonal[0], [2, 3, 2])
    np.testing.assert_array_equal(seasonal[5], [7, 8, 7])
    early = baselines.seasonal_naive(target, window=2, horizon=1, season=7)
    assert np.isnan(early[:5]).all() and early[5] == 0.0  # row 7 from row 0


def test_metrics_by_hand():
    y = np.array([2.0, 4.0, 0.0, -5.0])
    p = np.array([1.0, 5.0, 0.0, -3.0])
    assert forecast_metrics.mae(y, p) == pytest.approx(1.0)
    assert forecast_metrics.rmse(y, p) == pytest.approx(np.sqrt((1 + 1 + 0 + 4) / 4))
    assert forecast_metrics.mape(y, p) == pytest.approx(100 * (0.5 + 0.25 + 0.4) / 3)
    assert forecast_metrics.smape(y, p) == pytest.approx(100 * (2 / 3 + 2 / 9 + 0 + 4 / 8) / 4)
    assert forecast_metrics.naive_scale([1.0, 3.0, 2.0, 6.0]) == pytest.approx(7 / 3)
    assert forecast_metrics.mase(y, p, 0.5) == pytest.approx(2.0)
    assert forecast_metrics.skill(1.0, 4.0) == pytest.approx(0.75)
    with pytest.raises(ValueError, match=r"same shape. Received: y_true.shape=\(4,\)"):
        forecast_metrics.mae(y, p[:2])


def _evaluation(model_error):
    truth = np.array([10.0, 12.0, 11.0, 13.0])
    persistence = np.array([9.0, 10.0, 12.0, 11.0])  # MAE 1.5
    return ForecastEvaluation.compute(
        truth,
        {"lstm": truth + model_error, "persistence": persistence, "seasonal": np.full(4, np.nan)},
        mase_scale=2.0,
    )


def test_evaluation_says_when_the_model_wins():
    evaluation = _evaluation(0.5)
    assert evaluation.scores["lstm"]["mae"] == pytest.approx(0.5)
    assert evaluation.scores["lstm"]["mase"] == pytest.approx(0.25)
    assert evaluation.skill == pytest.approx(1 - 0.5 / 1.5)
    assert evaluation.scores["persistence"]["skill"] == 0.0
    assert evaluation.verdict() == (
        "The lstm model beats persistence: MAE 0.5 vs 1.5 (skill +0.667)."
    )
    lines = evaluation.table().splitlines()
    assert lines[0].split() == ["forecast", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE", "skill"]
    assert lines[1].split()[:2] == ["lstm", "0.5"]
    assert lines[3].split()[1:] == ["n/a"] * 6


def test_evaluation_says_when_the_win_is_marginal():
    evaluation = _evaluation(1.49)
    assert evaluation.beats_persistence
    assert evaluation.verdict().startswith(
        "The lstm model beats persistence only marginally: MAE 1.49 vs 1.5 (skill +0.0067"
    )


def test_evaluation_says_when_the_model_loses():
    evaluation = _evaluation(2.0)
    assert not evaluation.beats_persistence
    assert evaluation.verdict().startswith("The lstm model does NOT beat persistence: MAE 2 vs 1.5")
    assert evaluation.to_dict()["scores"]["seasonal"]["mae"] is None


def test_forecast_data_fits_on_training_windows_only():
    frame = pd.DataFrame(
        {"v": np.arange(1.0, 41.0)}, index=pd.date_range("2020-01-01", periods=40, name="date")
    )
    series = TimeSeries(frame=frame, target="v", source="test", step=pd.Timedelta(days=1))
    data = ForecastData.from_series(series, window=3, val_fraction=0.2, test_fraction=0.2)
    train = data.slices["train"]
    assert (train, data.slices["val"], data.slices["test"]) == (
        slice(0, 23),
        slice(23, 30),
        slice(30, 37),
    )
    assert data.scaler == WindowScaler.fit(data.x[train], data.y[train], "diff")
    assert str(data.target_dates[0, 0])[:10] == "2020-01-04"  # rows 0..2 -> row 3
    # Changing the test part's values leaves the scaling untouched.
    spiked = dataclasses.replace(
        series, frame=frame.assign(v=np.r_[frame.v[:30], 1e6 * np.ones(10)])
    )
    spiked_data = ForecastData.from_series(spiked, window=3, val_fraction=0.2, test_fraction=0.2)
    assert spiked_data.scaler == data.scaler
    # MASE's scale is seasonal naive's in-sample MAE, with the daily season of 7 rows.
    assert data.season == 7
    assert spiked_data.mase_scale == data.mase_scale == 7.0
    assert ForecastData.from_series(series, window=3, season=1).mase_scale == 1.0
    xs, ys = data.scaled("train")
    assert xs.dtype == np.float32 and ys.tolist()[0] == [
        pytest.approx(1 / data.scaler.target_scale[0])
    ]


def test_forecast_data_needs_enough_rows():
    frame = pd.DataFrame({"v": np.arange(8.0)}, index=pd.date_range("2020-01-01", periods=8))
    series = TimeSeries(frame=frame, target="v", source="tiny.csv", step=pd.Timedelta(days=1))
    with pytest.raises(ValueError, match=r"at least 10 rows in tiny.csv .* Received: 8 rows"):
        ForecastData.from_series(series, window=7, horizon=1)
