"""Files as spreadsheets and sites export them: separators, decimal commas, thousands."""

import os

import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell.forecast import csv_format
from keras_lstm_cell.forecast.timeseries import TimeSeries

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SEMICOLON = os.path.join(FIXTURES, "semicolon_decimal_comma.csv")  # Date;Temp;Humidity, 5,0
COINMARKETCAP = os.path.join(FIXTURES, "coinmarketcap_quoted_thousands.csv")  # "7,168.81"


@pytest.mark.parametrize(
    "lines, separator",
    [
        (["Date;Temp", "01.01.2020;12,5", "02.01.2020;13"], ";"),
        (["Date\tTemp", "2020-01-01\t12,5"], "\t"),
        (["Date|Temp", "2020-01-01|12.5"], "|"),
        (['"Date","Close"', '"Dec 04, 2019","7,320.13"'], ","),  # commas inside quotes
        (["Date,Temp", "2020-01-01,12.5", ""], ","),
        (["date", "2020-01-01"], ","),  # one column: nothing to detect
    ],
)
def test_detect_separator(lines, separator):
    assert csv_format.detect_separator([line + "\n" for line in lines]) == separator


@pytest.mark.parametrize(
    "values, sep, expected",
    [
        (["12.5", "1e3", "-3"], ",", (".", None)),
        (["8,077.20", "950.10", "1,234,567"], ",", (".", ",")),
        (["12,5", "3,25", "-0,5"], ";", (",", None)),
        (["8.077,20", "950,10"], ";", (",", ".")),
        (["1,234", "2,345"], ",", (".", ",")),  # a thousand in a comma-separated file
        (["1,234", "2,345"], ";", (",", None)),  # a decimal comma in a ;-separated one
        (["0,125", "12,5"], ",", (",", None)),  # not groups of three: decimal commas
        (["1 234,5", "12,5"], ";", (",", " ")),
    ],
)
def test_number_format(values, sep, expected):
    assert csv_format.number_format([pd.Series(values)], sep) == expected


def test_a_semicolon_file_with_decimal_commas():
    series = TimeSeries.from_csv(SEMICOLON, target="temp", features=["humidity"])
    assert series.columns == ["Temp", "Humidity"] and series.freq == "D"
    assert series.notes == (
        "read as a semicolon-separated file",
        "read numbers written as 12345,6 (decimal ',')",
    )
    text = pd.read_csv(SEMICOLON, sep=";", dtype=str)
    expected = text["Temp"].str.replace(",", ".").astype(float).to_numpy()
    np.testing.assert_array_equal(series.target_values, expected)
    assert series.target_values[:3].tolist() == [5.0, 6.7, 6.9]
    assert series.dates[0] == pd.Timestamp("2020-01-01")  # 01.01.2020, day first


def test_a_tab_separated_copy_reads_the_same(tmp_path):
    path = tmp_path / "tab.tsv"
    with open(SEMICOLON) as f:
        path.write_text(f.read().replace(";", "\t"))
    tab = TimeSeries.from_csv(path, target="temp")
    semicolon = TimeSeries.from_csv(SEMICOLON, target="temp")
    assert tab.notes[0] == "read as a tab-separated file"
    np.testing.assert_array_equal(tab.target_values, semicolon.target_values)


def test_coinmarketcap_quoted_thousands_newest_first():
    series = TimeSeries.from_csv(COINMARKETCAP, features=["volume", "market cap"])
    assert series.target == "Close**"  # `close`, with the site's footnote marks
    assert series.dates[0] == pd.Timestamp("2019-10-06")  # "Oct 06, 2019"
    assert series.dates[-1] == pd.Timestamp("2019-12-04")
    assert series.frame.loc["2019-12-04"].tolist() == [7168.81, 21881860837.0, 129540316554.0]
    assert series.notes == (
        "read numbers written as 12,345.6 (decimal '.')",
        "sorted 60 rows by date (the file was newest first)",
    )


@pytest.mark.parametrize(
    "path, kwargs, match",
    [
        (
            SEMICOLON,
            {"sep": ","},
            r"one of \['Date;Temp;Humidity'\].*; the file looks semicolon-separated: "
            r"pass --sep ';'$",
        ),
        (
            SEMICOLON,
            {"target": "temp", "decimal": "."},
            r"column 'Temp' .* numeric. Received: '5,0' in data row 1 \(60 non-numeric rows\); "
            "if it is a number, give its format with --decimal and --thousands$",
        ),
        (
            COINMARKETCAP,
            {"thousands": "."},
            r"'7,168.81' in data row 1 .* give its format with --decimal and --thousands$",
        ),
        (COINMARKETCAP, {"sep": "ab"}, r"`sep` to be one character .* Received: sep='ab'"),
        (COINMARKETCAP, {"decimal": ";"}, r"`decimal` to be one of \['.', ','\]"),
        (COINMARKETCAP, {"decimal": ",", "thousands": ","}, "different `decimal` and `thousands`"),
    ],
)
def test_forced_formats_that_do_not_fit_name_the_likely_cause(path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeSeries.from_csv(path, **kwargs)


def test_forced_formats_read_the_file():
    forced = TimeSeries.from_csv(SEMICOLON, target="temp", sep=";", decimal=",")
    detected = TimeSeries.from_csv(SEMICOLON, target="temp")
    np.testing.assert_array_equal(forced.target_values, detected.target_values)
    with pytest.raises(ValueError, match="the file looks semicolon-separated: pass --sep ';'"):
        TimeSeries.from_csv(SEMICOLON, target="temp", sep="tab")
