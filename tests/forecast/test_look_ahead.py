"""No window holds a value computed from its own targets or from anything after them.

A gap filled by interpolation takes the next observed value into account: the
holiday before a trading day, interpolated, holds half of that day's close. A
window whose last input row is such a holiday would see its own target. These
tests build series where a look-ahead would show and check that it does not:
a probe that changes one value and watches the windows before it, and scores
recomputed by hand from the file.
"""

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.data import model_inputs
from keras_lstm_cell.forecast.timeseries import TimeSeries

SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
WINDOW = 5
BYSTANDER = "notes.txt"


def _trading_days(count: int, seed: int = 0) -> pd.DataFrame:
    """A random walk of closes on business days, every 4th one a holiday (no row)."""
    days = pd.bdate_range("2015-01-05", periods=count)
    close = 100 + np.cumsum(np.random.default_rng(seed).normal(0, 1, count))
    frame = pd.DataFrame({"Date": days, "Close": close})
    return frame[np.arange(count) % 4 != 3].reset_index(drop=True)


def _series(frame: pd.DataFrame) -> TimeSeries:
    text = frame.assign(Date=frame["Date"].dt.strftime("%Y-%m-%d"), Close=frame["Close"])
    return TimeSeries.from_frame(text, target="Close")


@pytest.mark.parametrize("horizon", [1, 3])
def test_changing_a_value_changes_no_earlier_window(horizon):
    """Each observed value right after a filled holiday is changed in turn: no
    window whose targets start at or before it sees a difference in its inputs
    or its seasonal-naive forecast."""
    frame = _trading_days(120)
    series = _series(frame)
    assert series.filled_mask.sum() == 29  # the holidays, interpolated
    base = ForecastData.from_series(series, window=WINDOW, horizon=horizon)
    after_holiday = np.flatnonzero(series.filled_mask[:-1]) + 1
    for row in after_holiday[after_holiday >= WINDOW][:8]:
        # The value changes in the data as read, before its gaps are filled.
        changed = frame.copy()
        changed.loc[changed["Date"] == series.dates[row], "Close"] += 1000.0
        probe = ForecastData.from_series(_series(changed), window=WINDOW, horizon=horizon)
        # Window n's targets start at row n + WINDOW: those up to `row` must not see it.
        before = slice(0, row - WINDOW + 1)
        np.testing.assert_array_equal(probe.x[before], base.x[before])
        np.testing.assert_array_equal(probe.seasonal[before], base.seasonal[before])
        # The probe is not blind: the window whose target it is learns its target.
        assert probe.y[row - WINDOW, 0] == base.y[row - WINDOW, 0] + 1000.0


def test_filled_rows_enter_inputs_as_the_last_observed_value():
    frame = _trading_days(40)
    series = _series(frame)
    inputs = model_inputs(series)[:, 0]
    # pandas' own forward fill over the business-day calendar, from the file.
    expected = frame.set_index("Date")["Close"].reindex(series.dates).ffill().to_numpy()
    np.testing.assert_array_equal(inputs, expected)
    # The targets keep the values interpolated in time, for training; never scored.
    interpolated = frame.set_index("Date")["Close"].reindex(series.dates).interpolate("time")
    np.testing.assert_allclose(series.target_values, interpolated.to_numpy())


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / BYSTANDER).write_text("mine\n")
    yield tmp_path
    assert (tmp_path / BYSTANDER).read_text() == "mine\n"


def test_scores_do_not_see_the_target_through_a_filled_holiday(workdir):
    """`train` on a random walk of trading days with a holiday every fourth
    day, written as Yahoo Finance writes prices: persistence's and seasonal
    naive's test MAE are those of the last observed closes, computed here
    from the file. Through an interpolated holiday, persistence would repeat
    half of the day's own close and score far better."""
    frame = _trading_days(600, seed=1)
    yahoo = pd.DataFrame(
        {
            "Date": frame["Date"].dt.strftime("%Y-%m-%d"),
            "Open": frame["Close"].round(4),
            "High": frame["Close"].round(4) + 1,
            "Low": frame["Close"].round(4) - 1,
            "Close": frame["Close"].round(4),
            "Adj Close": frame["Close"].round(4),
            "Volume": 1000,
        }
    )
    yahoo.to_csv(workdir / "prices.csv", index=False)
    done = subprocess.run(
        [SCRIPT, "train", "--csv", "prices.csv", "--target", "Close", "--window", str(WINDOW),
         "--units", "2", "--epochs", "1", "--verbose", "0", "--name", "walk", "--no-export"],
        cwd=workdir, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads((workdir / "runs" / "walk" / "run.json").read_text())
    assert record["data"]["freq"] == "B"
    test = record["data"]["parts"]["test"]
    scores = record["metrics"]["test"]["scores"]

    closes = yahoo.set_index(pd.DatetimeIndex(yahoo["Date"]))["Close"]
    calendar = pd.bdate_range(closes.index[0], closes.index[-1])
    last_seen = closes.reindex(calendar).ffill()  # the last observed close on each day
    tested = closes[test["first_target_date"] : test["last_target_date"]]  # observed days
    position = calendar.get_indexer(tested.index)
    persistence = last_seen.to_numpy()[position - 1]
    seasonal = last_seen.to_numpy()[position - 5]  # a week of business days before
    assert scores["persistence"]["mae"] == pytest.approx(
        np.mean(np.abs(tested.to_numpy() - persistence)), rel=1e-9
    )
    assert scores["seasonal_naive_5"]["mae"] == pytest.approx(
        np.mean(np.abs(tested.to_numpy() - seasonal)), rel=1e-9
    )
    assert record["metrics"]["test"]["count"] == len(tested)


@pytest.mark.parametrize("missing", ["interpolate", "ffill"])
def test_filled_missing_values_are_not_observations(missing):
    """Values filled by `--missing` are filled rows too: never scored, and seen
    by windows as the last observed value, not as an interpolation that
    reaches into the next real one."""
    days = pd.date_range("2021-01-01", periods=30, freq="D")
    close = np.arange(30, dtype="float64") ** 2
    text = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "value": close.astype(str)})
    text.loc[[10, 11, 20], "value"] = ""
    series = TimeSeries.from_frame(text, target="value", missing=missing)
    np.testing.assert_array_equal(np.flatnonzero(series.filled_mask), [10, 11, 20])
    assert series.filled == (("2021-01-11", "2021-01-12"), ("2021-01-21", "2021-01-21"))
    inputs = model_inputs(series)[:, 0]
    np.testing.assert_array_equal(inputs[[10, 11, 20]], close[[9, 9, 19]])
    data = ForecastData.from_series(series, window=3, horizon=1)
    # Windows whose target is a filled row are not scored.
    assert not data.observed[[10 - 3, 11 - 3, 20 - 3]].any() and data.observed.sum() == 24
