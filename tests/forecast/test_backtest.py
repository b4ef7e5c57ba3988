"""`keras-lstm-cell backtest`: folds in time order without look-ahead, their scores, resume."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from _runs import terminate_after_two_epochs
from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator

from keras_lstm_cell.forecast.backtest import plan_folds
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.windows import make_windows

SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
ROWS = 150  # of the embedded data: 143 windows of 7 -> 1, 29 of them tested
TINY = "--csv weather.csv --units 4 --epochs 2 --verbose 0".split()
SUMMARY = re.compile(
    r"^(\d+) folds: skill ([+-]\d\.\d{3}) ± (\d\.\d{3}), beats persistence in (\d+) of (\d+)"
    r"(?:; .*)?$"  # the interval's coverage, with --interval
)
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


@pytest.fixture
def workdir(tmp_path):
    frame = TimeSeries.default().frame.iloc[:ROWS]
    frame.reset_index().to_csv(tmp_path / "weather.csv", index=False)
    (tmp_path / "notes.txt").write_text("mine")  # the tool must leave it alone
    return tmp_path


def _backtest(cwd, *argv):
    return subprocess.run(
        [SCRIPT, "backtest", *argv], capture_output=True, text=True, timeout=600, cwd=cwd, env=ENV
    )


def _summary(stdout: str) -> re.Match:
    (line,) = [m for m in map(SUMMARY.match, stdout.splitlines()) if m]
    return line


@pytest.mark.parametrize(
    "count, folds, horizon", [(143, 3, 1), (143, 4, 3), (50, 5, 2), (20, 1, 1)]
)
def test_plan_folds_in_order_without_look_ahead(count, folds, horizon):
    planned = plan_folds(count, folds, horizon, val_fraction=0.1, test_fraction=0.2)
    tests = [fold["test"] for fold in planned]
    assert len(planned) == folds
    assert tests[-1].stop == count  # the folds end with the series
    assert all(a.stop == b.start for a, b in zip(tests, tests[1:]))  # consecutive, no overlap
    assert sum(t.stop - t.start for t in tests) == max(folds, round(0.2 * count))
    assert max(t.stop - t.start for t in tests) - min(t.stop - t.start for t in tests) <= 1
    for fold in planned:
        train, val, test = fold["train"], fold["val"], fold["test"]
        assert train.start == 0 and train.stop == val.start and val.stop > val.start
        # Window n's targets are rows n + window .. n + window + horizon - 1: the
        # last fitted window's last target comes before the first test target.
        assert (val.stop - 1) + horizon - 1 < test.start
        assert val.stop == test.start - (horizon - 1)  # and nothing more is left out
        assert val.stop - val.start == max(1, round(0.125 * val.stop))


@pytest.mark.parametrize("count, folds, horizon", [(143, 3, 1), (300, 4, 3), (80, 2, 2)])
def test_plan_folds_calibrate_between_validation_and_test(count, folds, horizon):
    """With intervals, each fold's calibration part comes after its validation
    part, with no target in common, and before its test part: its residuals
    played no part in fitting the model or choosing its epoch."""
    planned = plan_folds(count, folds, horizon, 0.1, 0.2, calibration_fraction=0.1)
    plain = plan_folds(count, folds, horizon, 0.1, 0.2)
    for fold, without in zip(planned, plain):
        train, val, cal, test = fold["train"], fold["val"], fold["cal"], fold["test"]
        assert test == without["test"] and val.stop - val.start >= 1
        assert train.start == 0 and train.stop == val.start
        # The last validation window's last target precedes the first calibration target.
        assert (val.stop - 1) + horizon - 1 < cal.start
        assert cal.start == val.stop + horizon - 1
        assert (cal.stop - 1) + horizon - 1 < test.start and cal.stop == test.start - (horizon - 1)
        assert cal.stop - cal.start == max(1, round(0.125 * without["val"].stop))


def test_plan_folds_refuses_too_many_folds():
    with pytest.raises(ValueError, match="Expected enough windows for 29 folds.*lower --folds"):
        plan_folds(30, 29, 1, val_fraction=0.1, test_fraction=0.5)
    with pytest.raises(ValueError, match="Expected `folds` to be a positive integer"):
        plan_folds(30, 0, 1, val_fraction=0.1, test_fraction=0.2)


def test_backtest_folds_scores_and_summary(workdir):
    done = _backtest(workdir, *TINY, "--horizon", "2", "--folds", "3", "--name", "bt")
    assert done.returncode == 0, done.stderr
    run = workdir / "runs" / "bt"
    folds = pd.read_csv(run / "backtest.csv")
    assert list(folds.columns) == [
        "fold", "train_end", "test_start", "test_end", "forecasts",
        "lstm_mae", "persistence_mae", "seasonal_mae", "skill",
    ]  # fmt: skip
    assert folds["fold"].tolist() == [1, 2, 3]
    dates = {c: pd.to_datetime(folds[c]) for c in ("train_end", "test_start", "test_end")}
    assert (dates["train_end"] < dates["test_start"]).all()  # no look-ahead
    # The folds' forecast origins follow one another: with a horizon of 2 days,
    # a fold's last target date is the next one's first.
    step = dates["test_start"].iloc[1:].to_numpy() - dates["test_end"].iloc[:-1].to_numpy()
    assert (step == np.timedelta64(0)).all()
    assert folds["test_end"].iloc[-1] == "2012-05-29"  # the last date of the data
    assert folds["forecasts"].sum() == 2 * 28  # every test window of 142 (7 -> 2), both steps
    np.testing.assert_allclose(folds["skill"], 1 - folds["lstm_mae"] / folds["persistence_mae"])

    count, mean, spread, wins, of = _summary(done.stdout).groups()
    assert (int(count), int(of)) == (3, 3)
    assert float(mean) == pytest.approx(folds["skill"].mean(), abs=5e-4)
    assert float(spread) == pytest.approx(folds["skill"].std(ddof=1), abs=5e-4)
    assert int(wins) == (folds["lstm_mae"] < folds["persistence_mae"]).sum()

    record = json.loads((run / "run.json").read_text())
    assert record["command"] == "backtest" and record["status"] == "finished"
    assert record["metrics"]["backtest"]["summary"] == _summary(done.stdout).group(0)
    assert (run / "backtest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _check_folds_fitted_on_their_past(workdir, run, folds)
    _check_scalars(run, folds)
    assert (workdir / "notes.txt").read_text() == "mine"
    assert sorted(os.listdir(workdir)) == ["notes.txt", "runs", "weather.csv"]  # no export


def _check_folds_fitted_on_their_past(workdir, run, folds):
    """Each fold's scaler is fitted on its training windows alone, which end
    (with its validation windows) before its test part."""
    series = TimeSeries.from_csv(workdir / "weather.csv")
    x, y = make_windows(series.values, series.target_values, window=7, horizon=2)
    for fold in folds.itertuples():
        record = json.loads((run / "folds" / f"fold-{fold.fold}" / "run.json").read_text())
        parts = record["data"]["parts"]
        n_train = parts["train"]["windows"]
        expected = WindowScaler.fit(x[:n_train], y[:n_train], "diff").get_config()
        for key, values in expected.items():
            assert record["scaler"][key] == pytest.approx(values), key
        assert parts["val"]["last_target_date"] == fold.train_end
        assert parts["test"]["first_target_date"] == fold.test_start
        assert record["metrics"]["test"]["scores"]["lstm"]["mae"] == pytest.approx(fold.lstm_mae)


def _check_scalars(run, folds):
    events = EventAccumulator(str(run / "backtest"), size_guidance={"tensors": 0})
    events.Reload()
    for tag, column in (("backtest/skill", "skill"), ("backtest/lstm_mae", "lstm_mae")):
        logged = [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in events.Tensors(tag)]
        assert [step for step, _ in logged] == folds["fold"].tolist()
        np.testing.assert_allclose([v for _, v in logged], folds[column], rtol=1e-6)


def test_backtest_without_refit_trains_one_model(workdir):
    argv = ["--folds", "2", "--no-refit", "--interval", "0.8", "--name", "one"]
    done = _backtest(workdir, *TINY, *argv)
    assert done.returncode == 0, done.stderr
    run = workdir / "runs" / "one"
    folds = pd.read_csv(run / "backtest.csv")
    assert os.listdir(run / "folds") == ["model"]
    # The interval's scores follow; fold 1's are those of the model's own run.
    model = json.loads((run / "folds" / "model" / "run.json").read_text())
    model_scores = model["metrics"]["test"]["scores"]["lstm"]
    for column in ("coverage_80", "mean_width_80", "pinball_80", "msis_80"):
        assert folds[column][0] == pytest.approx(model_scores[column])
    # Calibrated on its own part, between validation and the first test part.
    parts = model["data"]["parts"]
    assert parts["val"]["last_target_date"] < parts["cal"]["first_target_date"]
    assert parts["cal"]["last_target_date"] < folds["test_start"][0]
    assert model["interval"]["calibration_windows"] == parts["cal"]["scored_windows"]
    # One model, one set of offsets, times each window's spread: widths follow the data.
    assert (folds["mean_width_80"] > 0).all() and folds["mean_width_80"].nunique() == 2
    assert "; 80% intervals cover " in done.stdout
    assert folds["train_end"].nunique() == 1 and folds["train_end"][0] < folds["test_start"][0]
    np.testing.assert_allclose(folds["skill"], 1 - folds["lstm_mae"] / folds["persistence_mae"])
    assert _summary(done.stdout).group(1) == "2"


def test_backtest_resumes_by_fold(workdir):
    """A real SIGTERM during fold 2; the resumed backtest keeps fold 1 and goes on."""
    argv = [*TINY, "--epochs", "40", "--patience", "40", "--folds", "3", "--name", "r"]
    process = subprocess.Popen(
        [SCRIPT, "backtest", *argv], cwd=workdir, env=ENV, text=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    history = workdir / "runs" / "r" / "folds" / "fold-2" / "history.csv"
    err = terminate_after_two_epochs(process, history, 300)
    assert process.returncode == 130, err
    assert "interrupted after 1 finished folds" in err and "backtest --resume" in err
    first = json.loads((workdir / "runs" / "r" / "folds" / "fold-1" / "run.json").read_text())
    before = pd.read_csv(workdir / "runs" / "r" / "backtest.csv")
    assert before["fold"].tolist() == [1]
    assert json.loads((workdir / "runs" / "r" / "run.json").read_text())["status"] == "training"

    # Fewer epochs from here on (a resume may change them): folds 2 and 3 finish sooner.
    again = _backtest(workdir, "--resume", "--name", "r", "--verbose", "0", "--epochs", "6")
    assert again.returncode == 0, again.stderr
    assert "Resuming runs/r" in again.stdout
    after = pd.read_csv(workdir / "runs" / "r" / "backtest.csv")
    assert after["fold"].tolist() == [1, 2, 3]
    # With a horizon of 1 the test parts share no date.
    assert (
        pd.to_datetime(after["test_start"][1:]).to_numpy()
        > pd.to_datetime(after["test_end"][:-1]).to_numpy()
    ).all()
    pd.testing.assert_frame_equal(after.iloc[:1], before)  # fold 1 is not trained again
    fold_1 = json.loads((workdir / "runs" / "r" / "folds" / "fold-1" / "run.json").read_text())
    assert fold_1 == first
    fold_2 = json.loads((workdir / "runs" / "r" / "folds" / "fold-2" / "run.json").read_text())
    assert fold_2["training"]["resumed_from_epoch"] >= 1
    assert _summary(again.stdout).group(1) == "3"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--folds", "0"], "Expected `folds` to be a positive integer. Received: folds=0"),
        (["--folds", "200"], "Expected enough windows for 200 folds"),
        (["--csv", "absent.csv"], "absent.csv"),
    ],
)
def test_backtest_usage_errors_write_nothing(workdir, argv, message):
    done = _backtest(workdir, *TINY, *argv, "--name", "x")
    assert done.returncode == 2
    ours = [line for line in done.stderr.splitlines() if line.startswith("keras-lstm-cell")]
    assert len(ours) == 1 and message in ours[0], done.stderr
    assert sorted(os.listdir(workdir)) == ["notes.txt", "weather.csv"]
