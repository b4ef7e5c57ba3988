"""Reading CSV files: CryptoDataDownload variants, columns by name, data faults."""

import hashlib
import os

import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell.timeseries import TimeSeries
from keras_lstm_cell.timeseries import default_dataset_path
from keras_lstm_cell.timeseries import parse_dates

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
# The fixtures' closes for 2019-05-01 .. 2019-05-12, ascending (files are newest first).
CLOSES = [
    5320.5,
    5383.2,
    5492.9,
    5772.7,
    5829.4,
    5725.1,
    5941.3,
    6150.0,
    6348.1,
    7250.6,
    6966.2,
    7810.9,
]


def fixture(name):
    return os.path.join(FIXTURES, name)


@pytest.mark.parametrize(
    "name, banner",
    [
        ("cdd_2019_volume_from.csv", True),  # Date,...,Volume From,Volume To; YYYY-MM-DD
        ("cdd_volume_btc_mdy.csv", False),  # Date,...,Volume BTC,Volume USD; M/D/YYYY
        ("cdd_unix_timestamp.csv", True),  # Unix Timestamp,Date,...; ms; with time
        ("cdd_unix_lowercase.csv", True),  # unix,date,...; seconds; with time
    ],
)
def test_cryptodatadownload_variants_read_ascending(name, banner):
    series = TimeSeries.from_csv(fixture(name), target="close", features=["open"])
    assert series.target.lower() == "close"
    assert [c.lower() for c in series.columns] == ["close", "open"]
    assert list(series.dates) == list(pd.date_range("2019-05-01", periods=12, freq="D"))
    np.testing.assert_array_equal(series.target_values, CLOSES)
    np.testing.assert_array_equal(series.values[1:, 1], CLOSES[:-1])  # open = previous close
    assert series.step == pd.Timedelta(days=1)
    assert any("newest first" in note for note in series.notes)
    assert any("banner" in note for note in series.notes) == banner


def test_default_target_is_close_and_date_detected():
    series = TimeSeries.from_csv(fixture("cdd_volume_btc_mdy.csv"))
    assert series.target == "Close" and series.date_column == "Date"
    assert series.columns == ["Close"]


def test_columns_are_case_insensitive():
    series = TimeSeries.from_csv(
        fixture("cdd_2019_volume_from.csv"),
        date_column="DATE",
        target="CLOSE",
        features="volume from, HIGH",
    )
    assert series.columns == ["Close", "Volume From", "High"]
    assert series.frame["High"].iloc[-1] == 7889.01


def test_embedded_dataset_is_the_documented_file():
    path = default_dataset_path()
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    with open(os.path.join(os.path.dirname(path), "seattle_weather.md"), encoding="utf-8") as f:
        assert digest in f.read()
    series = TimeSeries.default(features=["temp_min", "precipitation", "wind"])
    assert len(series) == 1461 and series.notes == ()
    assert series.dates[0] == pd.Timestamp("2012-01-01")
    assert series.dates[-1] == pd.Timestamp("2015-12-31")
    np.testing.assert_array_equal(series.values[0], [12.8, 5.0, 0.0, 4.7])
    np.testing.assert_array_equal(series.values[-1], [5.6, -2.1, 0.0, 3.5])


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2019-05-20", "2019-05-20 00:00"),
        ("5/20/2019", "2019-05-20 00:00"),
        ("2019-05-20 23:00:00", "2019-05-20 23:00"),
        ("2019/05/20", "2019-05-20 00:00"),
        ("2019-05-20 11-PM", "2019-05-20 23:00"),
        ("1558396800", "2019-05-21 00:00"),
        ("1558396800000", "2019-05-21 00:00"),
    ],
)
def test_parse_dates_formats(text, expected):
    parsed = parse_dates(pd.Series([text]), "date", "test")
    assert parsed[0] == pd.Timestamp(expected)


def test_unparsable_date_names_the_value():
    with pytest.raises(ValueError, match=r"column 'date' .* Received: 'soon'"):
        parse_dates(pd.Series(["2019-05-20", "soon"]), "date", "x.csv")


def test_missing_file():
    with pytest.raises(ValueError, match=r"existing CSV file. Received: csv='nope.csv'"):
        TimeSeries.from_csv("nope.csv")


def test_unknown_column_lists_the_columns():
    with pytest.raises(
        ValueError, match=r"`target` to name a column of .*'Close'.* Received: target='closee'"
    ):
        TimeSeries.from_csv(fixture("cdd_volume_btc_mdy.csv"), target="closee")


def test_non_numeric_target():
    with pytest.raises(
        ValueError, match=r"column 'Symbol' .* numeric. Received: 'BTCUSD' in data row 1"
    ):
        TimeSeries.from_csv(fixture("cdd_volume_btc_mdy.csv"), target="symbol")


def test_unknown_policy():
    with pytest.raises(ValueError, match=r"`gaps` to be one of .* Received: gaps='skip'"):
        TimeSeries.from_csv(fixture("faults_gaps.csv"), gaps="skip")


@pytest.mark.parametrize(
    "policy, values",
    [("first", [1, 2, 3, 4]), ("last", [1, 4, 3, 4]), ("mean", [1, 3, 3, 4])],
)
def test_duplicates_policy(policy, values):
    series = TimeSeries.from_csv(fixture("faults_duplicates.csv"), duplicates=policy)
    np.testing.assert_array_equal(series.target_values, values)
    assert series.notes == (f"merged 1 repeated dates (first 2020-01-02) with {policy!r}",)


def test_duplicates_refused_by_default():
    with pytest.raises(ValueError, match=r"1 repeated dates, first 2020-01-02.*--duplicates"):
        TimeSeries.from_csv(fixture("faults_duplicates.csv"))


@pytest.mark.parametrize(
    "policy, first_date, values",
    [
        ("drop", "2020-01-02", [2, 6, 8]),
        ("ffill", "2020-01-02", [2, 2, 6, 8]),
        ("interpolate", "2020-01-02", [2, 4, 6, 8]),
    ],
)
def test_missing_policy(policy, first_date, values):
    series = TimeSeries.from_csv(fixture("faults_missing.csv"), missing=policy, gaps="keep")
    np.testing.assert_array_equal(series.target_values, values)
    assert series.dates[0] == pd.Timestamp(first_date)
    assert series.notes[0].startswith("2 missing values (value: 2)")


def test_missing_refused_by_default():
    with pytest.raises(ValueError, match=r"2 missing \(value: 2\), first on 2020-01-01.*--missing"):
        TimeSeries.from_csv(fixture("faults_missing.csv"))


@pytest.mark.parametrize(
    "policy, values",
    [
        ("keep", [1, 2, 5, 6]),
        ("ffill", [1, 2, 2, 2, 5, 6]),
        ("interpolate", [1, 2, 3, 4, 5, 6]),
    ],
)
def test_gaps_policy(policy, values):
    series = TimeSeries.from_csv(fixture("faults_gaps.csv"), gaps=policy)
    np.testing.assert_allclose(series.target_values, values)
    assert len(series.notes) == 1 and "gap" in series.notes[0]


def test_gaps_refused_by_default():
    with pytest.raises(ValueError, match=r"1 gaps, about 2 missing dates, first after 2020-01-02"):
        TimeSeries.from_csv(fixture("faults_gaps.csv"))


def test_date_column_cannot_be_a_feature():
    with pytest.raises(ValueError, match="not the date column"):
        TimeSeries.from_csv(fixture("faults_gaps.csv"), features=["DATE"], gaps="keep")
