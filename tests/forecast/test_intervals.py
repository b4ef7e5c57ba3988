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


def test_train_interval_covers_a_long_synthetic_series(tmp_path):
    """`train --interval 0.8` on 8,000 days of a weekly cycle with Gaussian
    noise: the test coverage is within 0.05 of 80%, the width near the
    Gaussian one, and the SavedModel and `predict` give the same bounds."""
    dates = pd.date_range("1990-01-01", periods=8000, freq="D")
    values = _synthetic(len(dates))
    pd.DataFrame({"date": dates.strftime("%Y-%m-%d"), "value": values}).to_csv(
        tmp_path / "synthetic.csv", index=False
    )
    argv = "--csv synthetic.csv --target value --units 8 --epochs 3 --batch-size 64 --interval 0.8"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}

    def run(*args):
        return subprocess.run(
            [SCRIPT, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )

    done = run("train", *argv.split(), "--name", "s", "--verbose", "0")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "runs" / "s" / "run.json").read_text())
    scores = record["metrics"]["test"]["scores"]["lstm"]
    assert scores["coverage"] == pytest.approx(0.8, abs=0.05)
    z = statistics.NormalDist().inv_cdf(0.9)
    assert scores["mean_width"] > 2 * z * NOISE * 0.95  # no model forecasts the noise
    # The model's errors are near Gaussian: the width is that of its RMSE.
    assert scores["mean_width"] == pytest.approx(2 * z * scores["rmse"], rel=0.15)
    assert scores["pinball"] > 0
    assert record["interval"]["level"] == 0.8 and record["interval"]["calibration_windows"] > 700
    header = next(line for line in done.stdout.splitlines() if line.startswith("forecast "))
    assert header.split()[-3:] == ["cover80%", "width", "pinball"]
    row = next(line for line in done.stdout.splitlines() if line.startswith("lstm "))
    assert row.split()[-3] == f"{scores['coverage']:.4g}"

    # The SavedModel's bounds, on the test windows, give the recorded coverage.
    model = tf.saved_model.load(str(tmp_path / "saved_models" / "s"))
    x, y = make_windows(values[:, None], values, window=7, horizon=1)
    n_test = record["data"]["parts"]["test"]["windows"]
    served = model.serve(x[-n_test:].astype("float32")).numpy()  # (N, 1, 3)
    assert served.shape == (n_test, 1, 3)
    inside = (served[..., 1] <= y[-n_test:]) & (y[-n_test:] <= served[..., 2])
    assert inside.mean() == pytest.approx(scores["coverage"], abs=1e-3)

    shown = run("predict", "--model", os.path.join("saved_models", "s"))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[1].split() == ["date", "value", "lower", "upper"]
    date, point, lower, upper = lines[2].split()
    assert date == "2011-11-27" and float(lower) < float(point) < float(upper)
    last = model.serve(values[-7:, None][None].astype("float32"))  # the last window
    np.testing.assert_allclose(
        [float(point), float(lower), float(upper)], last.numpy()[0, 0], rtol=1e-5
    )
