"""Calendars and spreadsheet files through the command line, as a user runs it."""

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
TINY = "--epochs 1 --units 2 --verbose 0".split()
# A file of the user's beside the data, which the tool must leave alone.
BYSTANDER = "notes.txt"


def _run(args, cwd):
    done = subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


@pytest.fixture
def workdir(tmp_path):
    (tmp_path / BYSTANDER).write_text("mine\n")
    yield tmp_path
    assert (tmp_path / BYSTANDER).read_text() == "mine\n"


# fixture, flags, data line's calendar, note on filled dates, predict's dates
CALENDARS = [
    (
        "yahoo_business_days.csv",  # NYSE days 2022-10-03 .. Friday 2023-02-10, 4 holidays
        ["--horizon", "2"],
        "frequency B (business days), season 5",
        "filled 4 missing dates in 4 gaps (2022-11-24, 2022-12-26, 2023-01-02 and 1 more)",
        ["2023-02-13", "2023-02-14"],  # the Monday and Tuesday after
    ),
    (
        "airline_passengers_monthly.csv",  # "Month","Passengers" 1949-01 .. 1960-12
        ["--horizon", "3"],
        "frequency MS (month starts), season 12",
        None,
        ["1961-01-01", "1961-02-01", "1961-03-01"],
    ),
    (
        "hourly_load_utc.csv",  # 2021-03-01 00:00+00:00 .. 2021-03-08 23:00, 2 hours missing
        ["--horizon", "2"],
        "frequency h (hours), season 24",
        "filled 2 missing dates in 1 gaps (2021-03-03 02:00:00 .. 2021-03-03 03:00:00)",
        ["2021-03-09 00:00:00", "2021-03-09 01:00:00"],
    ),
]


@pytest.mark.parametrize("name, flags, calendar, filled, next_dates", CALENDARS)
def test_train_and_predict_follow_the_calendar(workdir, name, flags, calendar, filled, next_dates):
    shutil.copy(os.path.join(FIXTURES, name), workdir / name)
    out = _run(["train", "--csv", name, "--name", "run", *flags, *TINY], workdir)
    data_line = next(line for line in out if line.startswith("Data: "))
    assert data_line.endswith(calendar)
    notes = [line.strip() for line in out if line.startswith("  note: filled")]
    assert notes == ([] if filled is None else [f"note: {filled} by linear interpolation in time"])
    season = int(calendar.rsplit(" ", 1)[1])
    assert any(line.split()[:1] == [f"seasonal_naive_{season}"] for line in out)

    record = json.loads((workdir / "runs" / "run" / "run.json").read_text())
    freq = calendar.split()[1]
    assert record["data"]["freq"] == record["config"]["freq"] == freq
    assert record["data"]["season"] == record["config"]["season"] == season
    # MASE is scaled by seasonal naive on the training rows, with the same season.
    frame = pd.read_csv(workdir / name)
    values = frame[record["data"]["target"]].to_numpy(dtype=float)
    dates = pd.to_datetime(frame.iloc[:, 0], utc=name.startswith("hourly")).dt.tz_localize(None)
    train_end = pd.Timestamp(record["data"]["parts"]["train"]["last_target_date"])
    if filled is None:  # no dates filled: the file's own rows
        train = values[(dates <= train_end).to_numpy()]
        expected = np.mean(np.abs(train[season:] - train[:-season]))
        assert record["data"]["mase_scale"] == pytest.approx(expected, rel=1e-12)
    # One row per date of the calendar, the file's and the filled ones: no weekend invented.
    calendar_dates = pd.date_range(dates.min(), dates.max(), freq=freq)
    filled_count = int(filled.split()[1]) if filled else 0
    assert record["data"]["rows"] == len(calendar_dates) == len(frame) + filled_count

    out = _run(["predict", "--model", "saved_models/run"], workdir)
    assert [line.split("  ")[0].strip() for line in out[2:]] == next_dates


@pytest.mark.parametrize(
    "name, flags, data_line",
    [
        (
            "semicolon_decimal_comma.csv",
            ["--target", "Temp"],
            "Data: semicolon_decimal_comma.csv: 60 rows, 2020-01-01 .. 2020-02-29, target "
            "'Temp', inputs ['Temp'], frequency D (calendar days), season 7",
        ),
        (
            "coinmarketcap_quoted_thousands.csv",
            [],
            "Data: coinmarketcap_quoted_thousands.csv: 60 rows, 2019-10-06 .. 2019-12-04, "
            "target 'Close**', inputs ['Close**'], frequency D (calendar days), season 7",
        ),
    ],
)
def test_spreadsheet_files_train(workdir, name, flags, data_line):
    shutil.copy(os.path.join(FIXTURES, name), workdir / name)
    out = _run(["train", "--csv", name, "--no-export", *flags, *TINY], workdir)
    assert data_line in out
