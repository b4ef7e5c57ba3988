"""Reading CSV files: CryptoDataDownload variants, columns by name, data faults."""

import hashlib
import os

import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.timeseries import default_dataset_path
from keras_lstm_cell.forecast.timeseries import parse_dates

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
        ("20.05.2019", "2019-05-20 00:00"),
        ("20.05.2019 23:00", "2019-05-20 23:00"),
    ],
)
def test_parse_dates_formats(text, expected):
    parsed = parse_dates(pd.Series([text]), "date", "test")
    assert parsed[0] == pd.Timestamp(expected)


def test_unparsable_date_names_the_value():
    with pytest.raises(
        ValueError, match=r"column 'date' .* Received: 'soon' in data row 2 \(1 unparsable"
    ):
        parse_dates(pd.Series(["2019-05-20", "soon"]), "date", "x.csv")


def test_dates_in_two_formats_are_named():
    with pytest.raises(
        ValueError,
        match=r"column 'date' of x.csv to hold dates in one format, .* Received: "
        r"'2019-05-20' \(data row 1\) and '21.05.2019' \(data row 2\) in different formats",
    ):
        parse_dates(pd.Series(["2019-05-20", "21.05.2019", "2019-05-22"]), "date", "x.csv")


def test_mixed_time_zones_are_named():
    dates = pd.Series(["2019-05-20 00:00:00+00:00", "2019-05-21 00:00:00+02:00"])
    with pytest.raises(
        ValueError,
        match=r"column 'date' of x.csv to hold dates of one time zone. Received: different "
        r"UTC offsets, e.g. '2019-05-20 00:00:00\+00:00' and '2019-05-21 00:00:00\+02:00'",
    ):
        parse_dates(dates, "date", "x.csv")


def test_one_time_zone_is_read_as_local_dates():
    notes = []
    dates = pd.Series(["2019-05-20 00:00:00+02:00", "2019-05-21 00:00:00+02:00"])
    parsed = parse_dates(dates, "date", "x.csv", notes)
    assert list(parsed) == [pd.Timestamp("2019-05-20"), pd.Timestamp("2019-05-21")]
    assert notes == ["dates of column 'date' carry the time zone UTC+02:00; used as local"]


def test_missing_file():
    with pytest.raises(ValueError, match=r"existing CSV file. Received: csv='nope.csv'"):
        TimeSeries.from_csv("nope.csv")


def test_a_directory_is_not_a_csv(tmp_path):
    with pytest.raises(ValueError, match=r"existing CSV file. Received: csv=.* \(a directory\)"):
        TimeSeries.from_csv(tmp_path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("inf", r"Received: 'inf' in data row 2 \(1 such rows\)"),
        ("-inf", r"Received: '-inf' in data row 2"),
        ("1e308", r"Received: '1e308' in data row 2"),
        ("1e400", r"Received: '1e400' in data row 2"),
    ],
)
def test_values_that_are_not_finite_or_too_large(tmp_path, text, match):
    path = tmp_path / "big.csv"
    path.write_text(f"date,value\n2020-01-01,1\n2020-01-02,{text}\n2020-01-03,3\n")
    with pytest.raises(
        ValueError,
        match=r"finite values of at most 1e\+30 in magnitude in column 'value' .*" + match,
    ):
        TimeSeries.from_csv(path)


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
    assert len(series.notes) == 1 and "2020-01-03 .. 2020-01-04" in series.notes[0]
    filled = () if policy == "keep" else (("2020-01-03", "2020-01-04"),)
    assert series.filled == filled
    np.testing.assert_array_equal(
        series.filled_mask, [0, 0, 1, 1, 0, 0][: len(series)] if filled else 0
    )


def test_short_gaps_are_interpolated_by_default():
    series = TimeSeries.from_csv(fixture("faults_gaps.csv"))
    np.testing.assert_allclose(series.target_values, [1, 2, 3, 4, 5, 6])
    assert series.notes == (
        "filled 2 missing dates in 1 gaps (2020-01-03 .. 2020-01-04) by linear "
        "interpolation in time",
    )


def test_gaps_error_refuses_and_names_the_missing_dates():
    with pytest.raises(
        ValueError,
        match=r"1 gaps, 2 missing dates \(2020-01-03 \.\. 2020-01-04\)\. Choose gaps=",
    ):
        TimeSeries.from_csv(fixture("faults_gaps.csv"), gaps="error")


def test_a_gap_longer_than_max_gap_is_refused():
    with pytest.raises(
        ValueError,
        match=r"at most max_gap=1 missing rows .* Received: 2 missing dates "
        r"2020-01-03 \.\. 2020-01-04; raise --max-gap",
    ):
        TimeSeries.from_csv(fixture("faults_gaps.csv"), max_gap=1)
    assert len(TimeSeries.from_csv(fixture("faults_gaps.csv"), max_gap=2)) == 6


def test_a_real_download_with_a_twelve_day_gap():
    """CryptoDataDownload's daily file as downloaded: banner, newest first, 12 days missing."""
    series = TimeSeries.from_csv(fixture("cdd_bitstamp_daily.csv"))
    assert series.target == "Close" and series.date_column == "Date"
    assert series.dates[0] == pd.Timestamp("2018-11-01")
    assert series.dates[-1] == pd.Timestamp("2019-05-20")
    assert len(series) == 201 and (np.diff(series.dates) == pd.Timedelta(days=1)).all()
    assert series.filled == (("2019-03-20", "2019-03-31"),)
    assert series.filled_mask.sum() == 12
    filled = series.frame.loc["2019-03-19":"2019-04-01", "Close"].to_numpy()
    np.testing.assert_allclose(filled, np.linspace(filled[0], filled[-1], 14))
    assert series.notes == (
        "skipped the banner line 'Created on 05-20-2019,https://www.CryptoDataDownload.com'",
        "sorted 189 rows by date (the file was newest first)",
        "filled 12 missing dates in 1 gaps (2019-03-20 .. 2019-03-31) by linear "
        "interpolation in time",
    )


def test_date_column_cannot_be_a_feature():
    with pytest.raises(ValueError, match="not the date column"):
        TimeSeries.from_csv(fixture("faults_gaps.csv"), features=["DATE"], gaps="keep")
