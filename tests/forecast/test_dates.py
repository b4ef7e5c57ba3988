"""Dates as people write them: day first, a time column apart, codes for "missing"."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.serving import read_series
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.timeseries import parse_dates

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
TINY = "--epochs 1 --units 2 --verbose 0".split()
# A file of the user's beside the data, which the tool must leave alone.
BYSTANDER = "notes.txt"
# The UCI air quality file as commonly shared: Date,Time with 18:00:00, -200
# for a failed sensor, two empty unnamed columns and empty rows at the end.
UCI = "air_quality_uci_dayfirst.csv"
UCI_ROWS = 21 * 24  # hourly from 10/03/2004 18:00:00
UCI_EMPTY_ROWS = 4
FIRST_OF_MONTH = "dayfirst_first_of_month.csv"  # 01/01/2019 .. 01/12/2021
AMBIGUOUS = "dayfirst_ambiguous.csv"  # 01/02/2020 .. 01/12/2020: both readings regular


def fixture(name):
    return os.path.join(FIXTURES, name)


def _run(args, cwd, returncode=0):
    done = subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == returncode, done.stderr
    return done


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / BYSTANDER).write_text("mine\n")
    yield tmp_path
    assert (tmp_path / BYSTANDER).read_text() == "mine\n"


def _uci_text():
    """The UCI fixture as pandas reads it, without its empty rows, with the dates joined."""
    frame = pd.read_csv(fixture(UCI)).dropna(how="all")
    frame.index = pd.to_datetime(frame["Date"] + " " + frame["Time"], format="%d/%m/%Y %H:%M:%S")
    return frame


# --- Day first -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["10/03/2004", "13/03/2004"], ["2004-03-10", "2004-03-13"]),
        (["4/04/2005", "14/04/2005"], ["2005-04-04", "2005-04-14"]),  # unpadded
        (["10-03-2004", "13-03-2004"], ["2004-03-10", "2004-03-13"]),
        (["10/03/2004 18:00", "13/03/2004 07:30"], ["2004-03-10 18:00", "2004-03-13 07:30"]),
        (
            ["10-03-2004 18:00:00", "13-03-2004 18:00:05"],
            ["2004-03-10 18:00", "2004-03-13 18:00:05"],
        ),
        (["03/10/2004", "03/13/2004"], ["2004-03-10", "2004-03-13"]),  # month first, as before
    ],
)
def test_a_day_above_12_shows_the_order(texts, expected):
    notes = []
    parsed = parse_dates(pd.Series(texts), "Date", "x.csv", notes)
    assert list(parsed) == [pd.Timestamp(t) for t in expected]
    assert notes == []


def test_an_ambiguous_order_takes_the_regular_calendar():
    series = TimeSeries.from_csv(fixture(FIRST_OF_MONTH))
    assert series.freq == "MS" and len(series) == 36
    assert series.dates[0] == pd.Timestamp("2019-01-01")
    assert series.dates[-1] == pd.Timestamp("2021-12-01")
    assert series.notes == (
        "read dates 01/01/2019 .. as day first (%d/%m/%Y): month first they follow no "
        "regular calendar",
    )


def test_month_first_stays_when_day_first_is_irregular():
    # 5/1/2019 .. 5/12/2019: day first, the 5th of each month fits no calendar.
    series = TimeSeries.from_csv(fixture("cdd_volume_btc_mdy.csv"))
    assert list(series.dates) == list(pd.date_range("2019-05-01", periods=12, freq="D"))
    assert series.notes[0] == (
        "read dates 5/12/2019 .. as month first (%m/%d/%Y): day first they follow no "
        "regular calendar"
    )


def test_two_regular_readings_are_refused():
    with pytest.raises(
        ValueError,
        match=r"^Expected dates whose day and month order is clear in column 'Date' of .*"
        r"Received: '01/02/2020' \.\. reads as month first \(calendar D\) and day first "
        r"\(calendar MS\); give the format with --date-format, e.g. --date-format %d/%m/%Y$",
    ):
        TimeSeries.from_csv(fixture(AMBIGUOUS))


def test_a_date_format_settles_the_order():
    series = TimeSeries.from_csv(fixture(AMBIGUOUS), date_format="%d/%m/%Y")
    assert series.freq == "MS" and series.notes == ()
    assert list(series.dates) == list(pd.date_range("2020-02-01", periods=11, freq="MS"))
    daily = TimeSeries.from_csv(fixture(AMBIGUOUS), date_format="%m/%d/%Y")
    assert daily.freq == "D" and daily.dates[0] == pd.Timestamp("2020-01-02")


@pytest.mark.parametrize(
    "date_format, match",
    [
        (
            "%Y-%m-%d",
            r"^Expected the dates of column 'Date' of .*dayfirst_ambiguous.csv in "
            r"date_format='%Y-%m-%d' \(--date-format\). Received: '01/02/2020' in data row 1 "
            r"\(11 rows that do not match it\)$",
        ),
        ("%Q/%m/%Y", r"^Expected `date_format` to be a strftime format .*'Q' is a bad directive"),
        ("dd/mm/yyyy", r"^Expected `date_format` to be a strftime format .*'dd/mm/yyyy'$"),
    ],
)
def test_a_wrong_date_format_is_refused(date_format, match):
    with pytest.raises(ValueError, match=match):
        TimeSeries.from_csv(fixture(AMBIGUOUS), date_format=date_format)


def test_a_row_off_the_date_format_is_named():
    frame = pd.DataFrame({"date": ["01/02/2020", "2020-02-02", "03/02/2020"], "v": [1, 2, 3]})
    with pytest.raises(
        ValueError, match=r"Received: '2020-02-02' in data row 2 \(1 rows that do not match it\)"
    ):
        TimeSeries.from_frame(frame, date_format="%d/%m/%Y")


@pytest.mark.parametrize(
    "texts, match",
    [
        (
            ["2019-05-20", "21.05.2019", "2019-05-22"],
            r"Received: '2019-05-20' \(data row 1\) and '21.05.2019' \(data row 2\) in "
            r"different formats$",
        ),
        (
            # Either order reads some rows, no one order all of them.
            ["01/02/2020", "13/02/2020", "02/13/2020"],
            r"Received: '13/02/2020' \(data row 2\) and '02/13/2020' \(data row 3\) in "
            r"different formats$",
        ),
        (
            # One layout, none of those read without a format.
            ["20 May 2019", "21 May 2019"],
            r"Received: '20 May 2019' in data row 1 \(2 rows in other formats\); give their "
            r"format with --date-format",
        ),
    ],
)
def test_dates_no_one_format_reads(texts, match):
    with pytest.raises(ValueError, match=match):
        parse_dates(pd.Series(texts), "date", "x.csv")


# --- A time column ---------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Time", "time", "Hour", "hour"])
@pytest.mark.parametrize(
    "times",
    [
        ["18:00:00", "19:00:00", "20:00:00"],
        ["18:00", "19:00", "20:00"],
        ["18.00.00", "19.00.00", "20.00.00"],  # the original UCI file
        ["18", "19", "20"],
        [18, 19, 20],  # a numeric column
    ],
)
def test_a_time_column_beside_the_date_is_joined(name, times):
    frame = pd.DataFrame({"Date": ["13/03/2004"] * 3, name: times, "T": [13.6, 13.3, 11.9]})
    series = TimeSeries.from_frame(frame)
    assert list(series.dates) == list(pd.date_range("2004-03-13 18:00", periods=3, freq="h"))
    assert series.columns == ["T"] and series.freq == "h"  # the time is not a value
    assert series.notes == (
        f"joined the times of column {name!r} to the dates of column 'Date' "
        "(first 2004-03-13 18:00:00)",
    )


def test_an_integer_hour_column_across_midnight():
    series = TimeSeries.from_csv(fixture("hourly_hour_column.csv"))
    assert series.target == "Load_MW" and series.freq == "h" and len(series) == 72
    assert list(series.dates) == list(pd.date_range("2021-03-01", periods=72, freq="h"))


def test_a_time_column_named_anywhere():
    series = TimeSeries.from_csv(
        fixture("hourly_time_apart.csv"), date_column="day", time_column="START"
    )
    assert series.columns == ["Load_MW"] and series.freq == "h"
    hours = TimeSeries.from_csv(fixture("hourly_hour_column.csv"))
    np.testing.assert_array_equal(series.values, hours.values)
    assert list(series.dates) == list(hours.dates)


@pytest.mark.parametrize(
    "frame, note",
    [
        # The dates have times of their own: a Time column is a value.
        (
            {"Date": ["2020-01-01 10:00", "2020-01-01 11:00"], "Time": [5, 6], "v": [1, 2]},
            None,
        ),
        # Not beside the date column.
        ({"Date": ["2020-01-01", "2020-01-02"], "v": [1, 2], "Time": ["10:00", "10:00"]}, None),
        # Beside, but not times of day.
        (
            {"Date": ["2020-01-01", "2020-01-02"], "Time": ["12.5", "13.25"], "v": [1, 2]},
            "did not join column 'Time' to the dates: '12.5' in data row 1 is not a time of day",
        ),
    ],
)
def test_a_time_column_is_joined_only_when_it_is_one(frame, note):
    series = TimeSeries.from_frame(pd.DataFrame(frame), target="v")
    assert series.notes == (() if note is None else (note,))
    assert series.dates[1] - series.dates[0] in (pd.Timedelta(hours=1), pd.Timedelta(days=1))


@pytest.mark.parametrize(
    "frame, kwargs, match",
    [
        (
            {"Date": ["13/03/2004", "13/03/2004"], "Time": ["18:00", "24:00"], "v": [1, 2]},
            {"time_column": "time"},
            r"^Expected times of day such as 18:00:00, 18:00, 18.00.00 or 18 in column 'Time' "
            r"of the data. Received: '24:00' in data row 2 \(1 such rows\)$",
        ),
        (
            {"Date": ["2020-01-01 10:00", "2020-01-01 11:00"], "Time": ["10:00", "11:00"]},
            {"time_column": "Time"},
            r"^Expected dates without a time of day in column 'Date' of the data to join the "
            r"times of column 'Time'. Received: '2020-01-01 10:00' in data row 1$",
        ),
        (
            {"Date": ["2020-01-01", "2020-01-02"], "v": [1, 2]},
            {"time_column": "date"},
            r"^Expected `time_column` to name a column other than the date column 'Date'",
        ),
        (
            {"Date": ["2020-01-01", "2020-01-01"], "Time": [10, 11], "v": [1, 2]},
            {"target": "time"},
            r"^Expected `target` to name a value column, not the time column 'Time'",
        ),
        (
            {"Date": ["2020-01-01", "2020-01-01"], "Time": [10, 11], "v": [1, 2]},
            {"features": ["TIME"]},
            r"^Expected `features` to name value columns, not the time column 'Time'",
        ),
    ],
)
def test_time_column_errors(frame, kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeSeries.from_frame(pd.DataFrame(frame), **kwargs)


# --- Codes for "missing", empty rows and columns ------------------------------------------


@pytest.mark.parametrize(
    "codes, values, shown",
    [
        ("-200", ["1.5", "-200", "-200.0", "3.5"], "-200"),  # numerically equal
        (("NA", "n/a", "?"), ["1.5", "na", "N/A", "?", "3.5"], "NA, n/a, ?"),
        ("-200,NA", ["1.5", "NA", "-200", "3.5"], "-200, NA"),
        ((-200,), [1.5, -200.0, -200.0, 3.5], "-200"),  # a float column
    ],
)
def test_na_values_become_missing(codes, values, shown):
    dates = pd.date_range("2020-01-01", periods=len(values), freq="D").strftime("%Y-%m-%d")
    frame = pd.DataFrame({"date": dates, "v": values, "other": ["-200"] * len(values)})
    series = TimeSeries.from_frame(frame, target="v", na_values=codes, missing="interpolate")
    missing = len(values) - 2  # all but the first and the last
    np.testing.assert_allclose(series.target_values, np.linspace(1.5, 3.5, len(values)))
    assert series.notes == (
        f"read {missing} values coded {shown} as missing (v: {missing})",
        f"{missing} missing values (v: {missing}): interpolated them in time",
    )


def test_na_values_refused_by_default_missing_policy():
    with pytest.raises(
        ValueError,
        match=r"Expected no missing values in the used columns of .*Received: 7 missing "
        r"\(T: 7\), first on 2004-03-12 10:00:00. Choose missing=",
    ):
        TimeSeries.from_csv(fixture(UCI), target="T", na_values="-200")


def test_na_values_not_found_are_noted():
    series = TimeSeries.from_csv(fixture("faults_gaps.csv"), na_values=["-999"])
    assert series.notes[0] == "found no values coded -999 (na_values) in the used columns"


def test_the_uci_file_as_shared():
    series = TimeSeries.from_csv(
        fixture(UCI), target="T", features=["RH"], na_values="-200", missing="interpolate"
    )
    assert len(series) == UCI_ROWS and series.freq == "h"
    assert series.dates[0] == pd.Timestamp("2004-03-10 18:00:00")
    assert series.notes == (
        "dropped 2 empty columns without a name (Unnamed: 15, Unnamed: 16)",
        "dropped 4 empty rows (data rows 505, 506, 507 and 1 more)",
        "joined the times of column 'Time' to the dates of column 'Date' "
        "(first 2004-03-10 18:00:00)",
        "read 14 values coded -200 as missing (T: 7, RH: 7)",
        "14 missing values (T: 7, RH: 7): interpolated them in time",
    )
    text = _uci_text()
    observed = text["T"] != -200
    np.testing.assert_array_equal(series.frame["T"][observed.to_numpy()], text["T"][observed])
    assert (series.values != -200).all()


def test_the_original_uci_file_semicolons_and_decimal_commas(tmp_path):
    # As published by UCI: `;`, decimal commas, 18.00.00, `;;` ends and `;;;;` rows.
    text = _uci_text().iloc[:48]
    lines = ["Date;Time;CO(GT);T;RH;;"]
    for date, row in text.iterrows():
        values = ";".join(f"{row[c]:g}".replace(".", ",") for c in ("CO(GT)", "T", "RH"))
        lines.append(f"{date:%d/%m/%Y};{date:%H.%M.%S};{values};;")
    path = tmp_path / "AirQualityUCI.csv"
    path.write_text("\n".join([*lines, ";;;;;;", ";;;;;;"]) + "\n")
    series = TimeSeries.from_csv(path, target="t", na_values="-200", missing="interpolate")
    assert len(series) == 48 and series.freq == "h"
    assert series.dates[-1] == pd.Timestamp("2004-03-12 17:00:00")
    observed = (text["T"] != -200).to_numpy()
    np.testing.assert_array_equal(series.target_values[observed], text["T"][observed])
    assert "read numbers written as 12345,6 (decimal ',')" in series.notes
    assert "read 2 values coded -200 as missing (T: 2)" in series.notes


def test_a_decimal_comma_code_matches():
    frame = pd.DataFrame(
        {"date": ["2020-01-01", "2020-01-02", "2020-01-03"], "v": ["1,5", "-200,0", "2,5"]}
    )
    frame.attrs["sep"] = ";"
    series = TimeSeries.from_frame(frame, na_values="-200", missing="interpolate")
    assert series.target_values.tolist() == [1.5, 2.0, 2.5]


def test_empty_rows_keep_the_row_numbers_of_the_file():
    frame = pd.DataFrame(
        {
            "date": ["2020-01-01", None, "2020-01-02", "2020-01-03"],
            "v": ["1", None, "x", "3"],
            "Unnamed: 2": [None, None, " ", None],
        }
    )
    with pytest.raises(ValueError, match=r"Received: 'x' in data row 3 \(1 non-numeric rows\)"):
        TimeSeries.from_frame(frame, target="v")


def test_a_named_empty_column_stays():
    frame = pd.DataFrame({"date": ["2020-01-01", "2020-01-02"], "v": [1, 2], "note": [None, None]})
    series = TimeSeries.from_frame(frame, target="v")
    assert series.notes == ()


# --- Settings --------------------------------------------------------------------------


def test_config_fields_and_an_older_run_without_them():
    config = ForecastConfig(na_values="-200, NA", date_format="%d/%m/%Y", time_column="Time")
    assert config.na_values == ("-200", "NA")
    assert ForecastConfig(na_values=[-200]).na_values == ("-200",)
    assert ForecastConfig.from_dict(config.to_dict()) == config
    assert config.to_dict()["na_values"] == ["-200", "NA"]
    old = ForecastConfig().to_dict()
    for key in ("date_format", "time_column", "na_values"):
        del old[key]
    restored = ForecastConfig.from_dict(old)
    assert (restored.date_format, restored.time_column, restored.na_values) == (None, None, ())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"date_format": "dd/mm/yyyy"}, r"Received: date_format='dd/mm/yyyy'"),
        ({"time_column": 3}, r"Received: time_column=3"),
        ({"na_values": ["-200", ""]}, r"Received: na_values=\['-200', ''\]"),
    ],
)
def test_config_refuses(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ForecastConfig(**kwargs)


def test_an_export_reads_its_csv_with_the_recorded_settings():
    metadata = {
        "config": {"na_values": ["-200"], "missing": "interpolate", "gaps": "interpolate"},
        "date_column": "Date",
        "target": "T",
        "columns": ["T"],
        "freq": "h",
    }
    series = read_series(metadata, fixture(UCI))
    assert len(series) == UCI_ROWS and (series.values != -200).all()
    # An export of an older version records none of them.
    metadata["config"] = {"missing": "interpolate"}
    assert (read_series(metadata, fixture(UCI)).values == -200).sum() == 7


# --- Through the command line ----------------------------------------------------------


def test_train_and_predict_the_uci_file(workdir):
    shutil.copy(fixture(UCI), workdir / UCI)
    flags = ["--target", "T", "--na-values", "-200", "--missing", "interpolate"]
    run = ["--name", "uci", "--horizon", "2", "--no-runtime-exports", *TINY]
    out = _run(["train", "--csv", UCI, *flags, *run], workdir).stdout.splitlines()
    assert "  note: read 7 values coded -200 as missing (T: 7)" in out

    record = json.loads((workdir / "runs" / "uci" / "run.json").read_text())
    assert record["config"]["na_values"] == ["-200"]
    assert record["data"]["first_date"] == "2004-03-10 18:00:00"
    assert record["data"]["last_date"] == "2004-03-31 17:00:00"
    assert record["data"]["freq"] == "h" and record["data"]["rows"] == UCI_ROWS
    series = TimeSeries.from_csv(
        workdir / UCI, target="T", na_values=["-200"], missing="interpolate"
    )
    assert list(series.notes) == record["data"]["notes"]
    text = _uci_text()
    observed = text["T"] != -200
    np.testing.assert_array_equal(series.frame["T"][observed.to_numpy()], text["T"][observed])
    assert (series.target_values != -200).all()

    out = _run(["predict", "--model", "saved_models/uci"], workdir).stdout.splitlines()
    assert [line.split("  ")[0].strip() for line in out[2:]] == [
        "2004-03-31 18:00:00",
        "2004-03-31 19:00:00",
    ]


@pytest.mark.parametrize(
    "name, flags, message",
    [
        (
            AMBIGUOUS,
            [],
            "Expected dates whose day and month order is clear in column 'Date' of "
            f"{AMBIGUOUS}. Received: '01/02/2020' .. reads as month first (calendar D) and "
            "day first (calendar MS); give the format with --date-format, e.g. "
            "--date-format %d/%m/%Y",
        ),
        (
            AMBIGUOUS,
            ["--date-format", "%Y.%m.%d"],
            f"Expected the dates of column 'Date' of {AMBIGUOUS} in date_format='%Y.%m.%d' "
            "(--date-format). Received: '01/02/2020' in data row 1 (11 rows that do not "
            "match it)",
        ),
        (
            UCI,
            ["--target", "T", "--na-values=-200,NA", "--missing", "error"],
            f"Expected no missing values in the used columns of {UCI}. Received: 7 missing "
            "(T: 7), first on 2004-03-12 10:00:00. Choose missing='drop', 'ffill' or "
            "'interpolate' (--missing)",
        ),
    ],
)
def test_refusals_are_one_line_and_write_nothing(workdir, name, flags, message):
    shutil.copy(fixture(name), workdir / name)
    done = _run(["train", "--csv", name, *flags, *TINY], workdir, returncode=2)
    assert done.stderr.splitlines()[-1] == f"keras-lstm-cell train: error: {message}"
    assert sorted(os.listdir(workdir)) == sorted([name, BYSTANDER])


def test_a_date_format_trains_the_refused_file(workdir):
    shutil.copy(fixture(AMBIGUOUS), workdir / AMBIGUOUS)
    flags = ["--date-format", "%d/%m/%Y", "--window", "2", "--season", "1", "--no-export"]
    out = _run(["train", "--csv", AMBIGUOUS, *flags, *TINY], workdir).stdout.splitlines()
    assert (
        f"Data: {AMBIGUOUS}: 11 rows, 2020-02-01 .. 2020-12-01, target 'Sales', inputs "
        "['Sales'], frequency MS (month starts), season 1"
    ) in out


@pytest.mark.parametrize(
    "name, flags",
    [
        ("hourly_hour_column.csv", []),
        ("hourly_time_apart.csv", ["--date-column", "Day", "--time-column", "start"]),
    ],
)
def test_time_columns_train(workdir, name, flags):
    shutil.copy(fixture(name), workdir / name)
    out = _run(["train", "--csv", name, "--no-export", *flags, *TINY], workdir).stdout
    assert (
        f"Data: {name}: 72 rows, 2021-03-01 00:00:00 .. 2021-03-03 23:00:00, target "
        "'Load_MW', inputs ['Load_MW'], frequency h (hours), season 24"
    ) in out.splitlines()
