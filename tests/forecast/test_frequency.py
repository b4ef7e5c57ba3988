"""Calendars: the frequency of a series' dates, its season and its next dates."""

import pandas as pd
import pytest

from keras_lstm_cell.forecast import frequency

# (alias of the dates, first date, alias inferred): every kind pandas knows.
GRID = [
    ("D", "2020-01-01", "D"),
    ("B", "2022-10-03", "B"),
    ("W-SUN", "2020-01-05", "W-SUN"),
    ("W-FRI", "2020-01-03", "W-FRI"),
    ("MS", "1949-01-01", "MS"),
    ("ME", "1949-01-31", "ME"),
    ("BMS", "2020-01-01", "BMS"),
    ("BME", "2020-01-31", "BME"),
    ("QS-JAN", "2000-04-01", "QS-JAN"),
    ("QS-FEB", "2000-02-01", "QS-FEB"),
    ("QE-DEC", "2000-06-30", "QE-DEC"),
    ("YS-JAN", "1990-01-01", "YS-JAN"),
    ("YS-JUL", "1990-07-01", "YS-JUL"),
    ("YE-DEC", "1990-12-31", "YE-DEC"),
    ("h", "2021-03-01 00:30", "h"),
    ("15min", "2021-03-01", "15min"),
    ("min", "2021-03-01 09:00", "min"),
    ("2D", "2021-03-01", "2D"),
]


@pytest.mark.parametrize("freq, start, expected", GRID)
@pytest.mark.parametrize("holes", [(), (3,), (3, 4, 10)])
def test_infer_frequency_with_and_without_gaps(freq, start, expected, holes):
    """pd.infer_freq gives up on any gap; the grid search does not."""
    dates = pd.date_range(start, periods=40, freq=freq).delete(list(holes))
    alias, why = frequency.infer_frequency(dates)
    assert alias == expected
    assert why.startswith(f"{len(holes)} of 40 dates missing")


def test_business_days_with_holidays_are_not_calendar_days():
    trading = pd.bdate_range("2022-11-01", "2023-01-31").difference(
        pd.DatetimeIndex(["2022-11-24", "2022-12-26", "2023-01-02", "2023-01-16"])
    )
    assert frequency.infer_frequency(trading)[0] == "B"
    # One weekend row and the weekends are part of the calendar again.
    assert frequency.infer_frequency(trading.append(pd.DatetimeIndex(["2023-02-04"])))[0] == "D"


@pytest.mark.parametrize(
    "dates, why",
    [
        (["2020-01-01", "2020-01-03", "2020-01-04 10:00"], "no regular calendar holds every date"),
        (  # monthly on the 15th: on the daily grid only, which misses most days
            list(pd.date_range("2020-01-01", periods=12, freq="MS") + pd.Timedelta(days=14)),
            "no regular calendar",
        ),
        (  # trading hours: 7 of every 24 hours
            [
                d + pd.Timedelta(hours=h)
                for d in pd.bdate_range("2020-01-06", periods=10)
                for h in range(10, 17)
            ],  # fmt: skip
            "the closest calendar, h, would miss 201 of its 271 dates; pass --freq h",
        ),
    ],
)
def test_dates_that_fit_no_frequency(dates, why):
    alias, reason = frequency.infer_frequency(pd.DatetimeIndex(dates))
    assert alias is None
    assert reason.startswith(why)


@pytest.mark.parametrize(
    "freq, season",
    [
        ("D", 7),
        ("B", 5),
        ("W-SUN", 52),
        ("2W-SUN", 26),
        ("MS", 12),
        ("ME", 12),
        ("BMS", 12),
        ("QS-JAN", 4),
        ("QE-DEC", 4),
        ("YS-JAN", 1),
        ("h", 24),
        ("2h", 12),
        ("5h", 1),
        ("min", 60),
        ("15min", 4),
        ("s", 60),
        ("7D", 1),
    ],
)
def test_default_season_follows_the_frequency(freq, season):
    assert frequency.default_season(freq) == season


@pytest.mark.parametrize(
    "last, freq, expected",
    [
        ("2023-02-10", "B", ["2023-02-13", "2023-02-14", "2023-02-15"]),  # Friday -> Monday
        ("1960-12-01", "MS", ["1961-01-01", "1961-02-01", "1961-03-01"]),
        ("2020-01-31", "ME", ["2020-02-29", "2020-03-31", "2020-04-30"]),
        ("2021-03-08 23:00", "h", ["2021-03-09 00:00", "2021-03-09 01:00", "2021-03-09 02:00"]),
        ("2020-01-05", "W-SUN", ["2020-01-12", "2020-01-19", "2020-01-26"]),
    ],
)
def test_next_dates_step_along_the_calendar(last, freq, expected):
    dates = frequency.next_dates(pd.Timestamp(last), freq, 3)
    assert list(dates) == [pd.Timestamp(d) for d in expected]


@pytest.mark.parametrize(
    "freq, match",
    [
        ("M", r"freq='M' \(use 'ME' instead\)"),  # pandas < 2.2's month end
        ("H", r"freq='H' \(Did you mean h\?\)"),
        ("weekly", r"alias such as D, B, W-SUN, MS, QS, YS, h or 15min. Received: freq='weekly'$"),
        ("-1D", r"forward frequency .* Received: freq='-1D'"),
    ],
)
def test_invalid_aliases_are_named(freq, match):
    with pytest.raises(ValueError, match=match):
        frequency.to_frequency(freq)


def test_describe_names_the_calendar():
    assert frequency.describe("B") == "B (business days)"
    assert frequency.describe("MS") == "MS (month starts)"
    assert frequency.describe("15min") == "15min (every 15 minutes)"
