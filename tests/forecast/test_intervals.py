"""Prediction intervals: split-conformal offsets, their scores, and `train --interval`."""

import json
import os
import statistics
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_lstm_cell.forecast import metrics
from keras_lstm_cell.forecast.model import Forecaster
from keras_lstm_cell.forecast.model import build_model
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.windows import make_windows

SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
NOISE = 1.0  # standard deviation of the synthetic series' noise


def _synthetic(rows: int, seed: int = 0) -> np.ndarray:
    """A weekly cycle plus Gaussian noise of known standard deviation."""
    t = np.arange(rows)
    return 10 + 5 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(seed).normal(0, NOISE, rows)


@pytest.mark.parametrize("level", [0.5, 0.8, 0.95])
@pytest.mark.parametrize("model", ["exact", "biased", "overconfident"])
def test_conformal_coverage_is_nominal_whatever_the_model(level, model):
    """Calibrated on 2,000 residuals, the interval covers 20,000 new values at
    its nominal level (within 0.05), for a right and two wrong models."""
    rng = np.random.default_rng(1)
    signal = rng.uniform(-5, 5, (22_000, 3))  # 3 horizon steps
    truth = signal + rng.normal(0, NOISE, signal.shape) * np.array([1.0, 1.5, 2.0])
    forecast = {"exact": signal, "biased": signal + 0.7, "overconfident": 0.5 * signal}[model]
    lower, upper = metrics.conformal_offsets(truth[:2000] - forecast[:2000], level)
    assert lower.shape == upper.shape == (3,)
    test_truth, test_forecast = truth[2000:], forecast[2000:]
    for step in range(3):
        covered = metrics.coverage(
            test_truth[:, step],
            test_forecast[:, step] + lower[step],
            test_forecast[:, step] + upper[step],
        )
        assert covered == pytest.approx(level, abs=0.05)
    if model == "exact":  # the Gaussian interval, per step: ±z σ_step
        z = statistics.NormalDist().inv_cdf((1 + level) / 2)
        np.testing.assert_allclose(
            upper - lower, 2 * z * NOISE * np.array([1.0, 1.5, 2.0]), rtol=0.1
        )


def test_conformal_ranks_with_the_finite_sample_correction():
    # n = 19, level 0.8: ranks floor(20 * 0.1) = 2 and ceil(20 * 0.9) = 18.
    residuals = np.random.default_rng(0).permutation(np.arange(19.0))
    assert metrics.conformal_offsets(residuals, 0.8) == (1.0, 17.0)
    # n = 9: ranks 1 and 9, the extremes; n = 8 is too few for 80%.
    assert metrics.conformal_offsets(np.arange(9.0), 0.8) == (0.0, 8.0)
    with pytest.raises(ValueError, match="Expected at least 9 calibration forecasts for a 80%"):
        metrics.conformal_offsets(np.arange(8.0), 0.8)
    with pytest.raises(
        ValueError, match="Expected `level` to be a number in \\(0, 1\\). Received: level=1.2"
    ):
        metrics.conformal_offsets(np.arange(8.0), 1.2)


def test_interval_scores_against_hand_computed_values():
    y = np.array([0.0, 1.0, 2.0, 10.0])
    lower, upper = np.array([-1.0, 1.5, 1.0, 0.0]), np.array([1.0, 2.5, 3.0, 4.0])
    assert metrics.coverage(y, lower, upper) == 0.5
    assert metrics.mean_width(lower, upper) == (2 + 1 + 2 + 4) / 4
    # tau 0.1 for the lower bound, 0.9 for the upper one.
    lower_loss = np.mean([0.1 * 1, 0.9 * 0.5, 0.1 * 1, 0.1 * 10])
    upper_loss = np.mean([0.1 * 1, 0.1 * 1.5, 0.1 * 1, 0.9 * 6])
    assert metrics.interval_pinball(y, lower, upper, 0.8) == pytest.approx(
        (lower_loss + upper_loss) / 2
    )


def _spread_changes(rows: int, at: float, seed: int = 0) -> np.ndarray:
    """A weekly cycle whose Gaussian noise doubles, from `NOISE` to `2 * NOISE`,
    at the share `at` of the rows."""
    t = np.arange(rows)
    noise = np.where(t < at * rows, NOISE, 2 * NOISE)
    return 10 + 5 * np.sin(2 * np.pi * t / 7) + np.random.default_rng(seed).normal(0, noise)


def test_train_intervals_cover_where_validation_and_test_differ(tmp_path):
    """`train --interval 0.8,0.95` on 8,000 days of a weekly cycle whose noise
    doubles after the validation part: calibrated on a part of their own,
    between validation and test, both intervals cover within 0.05 of their
    level on the test part (calibrated on the validation part, the 80% one
    would cover about 48%). The SavedModel and `predict` give the same bounds."""
    dates = pd.date_range("1990-01-01", periods=8000, freq="D")
    # Training 60%, validation 10%, calibration 10%, test 20% of the windows.
    values = _spread_changes(len(dates), at=0.7)
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": values}).to_csv(
        tmp_path / "synthetic.csv", index=False
    )
    argv = "--csv synthetic.csv --target value --units 8 --epochs 3 --batch-size 64"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def run(*args):
        return subprocess.run(
            [SCRIPT, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    done = run("train", *argv.split(), "--interval", "0.8,0.95", "--name", "s", "--verbose", "0")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "runs" / "s" / "run.json").read_text())
    parts = record["data"]["parts"]
    change = str(dates[int(0.7 * len(dates))].date())  # the noise doubles from here on
    assert parts["val"]["first_target_date"] < change <= parts["cal"]["first_target_date"]
    scores = record["metrics"]["test"]["scores"]["lstm"]
    for level, label in ((0.8, "80"), (0.95, "95")):
        assert scores[f"coverage_{label}"] == pytest.approx(level, abs=0.05)
        z = statistics.NormalDist().inv_cdf((1 + level) / 2)
        # The test part's noise is 2 * NOISE, which no model forecasts.
        assert scores[f"mean_width_{label}"] > 2 * z * 2 * NOISE * 0.95
        assert scores[f"mean_width_{label}"] == pytest.approx(2 * z * scores["rmse"], rel=0.15)
        assert scores[f"pinball_{label}"] > 0
    assert scores["mean_width_95"] > scores["mean_width_80"]
    interval = record["interval"]
    assert interval["levels"] == [0.8, 0.95]
    assert interval["calibration_windows"] == parts["cal"]["windows"] > 700
    header = next(line for line in done.stdout.splitlines() if line.startswith("forecast "))
    assert header.split()[-8:] == [
        "cover80%", "width80", "pinball80", "MSIS80", "cover95%", "width95", "pinball95", "MSIS95"
    ]  # fmt: skip
    row = next(line for line in done.stdout.splitlines() if line.startswith("lstm "))
    assert row.split()[-8] == f"{scores['coverage_80']:.4g}"

    # The SavedModel's bounds, on the test windows, give the recorded scores.
    model = tf.saved_model.load(str(tmp_path / "saved_models" / "s"))
    x, y = make_windows(values[:, None], values, window=7, horizon=1)
    n_test = parts["test"]["windows"]
    served = model.serve(x[-n_test:].astype("float32")).numpy()  # (N, 1, 5)
    assert served.shape == (n_test, 1, 5)
    truth = y[-n_test:]
    for k, (level, label) in enumerate(((0.8, "80"), (0.95, "95"))):
        lower, upper = served[..., 1 + 2 * k], served[..., 2 + 2 * k]
        inside = (lower <= truth) & (truth <= upper)
        assert inside.mean() == pytest.approx(scores[f"coverage_{label}"], abs=1e-3)
        # M4's MSIS, by hand: width plus 2/alpha times the miss, over the MASE scale.
        alpha = 1 - level
        miss = np.maximum(lower - truth, 0) + np.maximum(truth - upper, 0)
        msis = np.mean(upper - lower + 2 / alpha * miss) / record["data"]["mase_scale"]
        assert scores[f"msis_{label}"] == pytest.approx(msis, rel=1e-4)

    shown = run("predict", "--model", os.path.join("saved_models", "s"))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].split() == ["date", "value", "lower_80", "upper_80", "lower_95", "upper_95"]
    date, point, lower80, upper80, lower95, upper95 = lines[2].split()
    assert date == "2011-11-27"
    assert float(lower95) < float(lower80) < float(point) < float(upper80) < float(upper95)
    last = model.serve(values[-7:, None][None].astype("float32"))  # the last window
    np.testing.assert_allclose(
        [float(v) for v in lines[2].split()[1:]], last.numpy()[0, 0], rtol=1e-5
    )


def test_msis_against_hand_computed_values():
    y = np.array([1.0, 5.0, 3.0, -2.0])
    lower = np.array([0.0, 1.0, 3.5, -1.0])
    upper = np.array([2.0, 4.0, 4.0, 1.0])
    # widths 2, 3, 0.5, 2; misses 0, 1 (above), 0.5 (below), 1 (below); 2 / 0.2 = 10.
    expected = (2 + 3 + 0.5 + 2 + 10 * (0 + 1 + 0.5 + 1)) / 4 / 2.0
    assert metrics.msis(y, lower, upper, 0.8, scale=2.0) == pytest.approx(expected)
    assert metrics.level_label(0.8) == "80" and metrics.level_label(0.975) == "97.5"


def test_bounds_are_offsets_times_the_window_spread():
    """The forecaster's bounds, against NumPy: each offset times the window's
    mean absolute change of the target (at least the floor), added to the
    forecast; its functional form (what the runtime files are made of) agrees."""
    rng = np.random.default_rng(0)
    windows = np.cumsum(rng.normal(0, 1, (5, 6, 2)), axis=1).astype("float32")
    windows[0, :, 1] = 3.0  # a flat target: its spread is the floor
    network = build_model(window=6, n_features=2, horizon=2, units=3)
    scaler = WindowScaler("diff", 1, (0.0, 0.0), (1.0, 1.0), (0.0,), (1.0,))
    offsets = [(np.array([-1.0, -2.0]), np.array([1.5, 2.5]))]
    forecaster = Forecaster(network, scaler, offsets, spread_floor=0.25)
    out = np.asarray(forecaster(windows))  # (5, 2, 3)
    spread = np.maximum(np.abs(np.diff(windows[:, :, 1], axis=1)).mean(axis=1), 0.25)[:, None]
    assert spread[0, 0] == 0.25
    np.testing.assert_allclose(out[..., 1], out[..., 0] + spread * [-1.0, -2.0], rtol=1e-5)
    np.testing.assert_allclose(out[..., 2], out[..., 0] + spread * [1.5, 2.5], rtol=1e-5)
    functional = forecaster.as_functional(6, 2)
    np.testing.assert_allclose(np.asarray(functional(windows)), out, rtol=1e-6)
