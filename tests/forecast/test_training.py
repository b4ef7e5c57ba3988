"""A whole training run: seeding, the run record, best weights, the plot, the device."""

import io
import json
import os

import matplotlib.image
import numpy as np
import pytest
import tensorflow as tf
from _runs import first_days
from _runs import tiny
from _runs import train

from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.distribute import resolve_device


@pytest.fixture(scope="module")
def small_series():
    return first_days(150)


HAS_GPU = bool(tf.config.list_physical_devices("GPU"))


@pytest.fixture(scope="module")
def seeded_runs(small_series, tmp_path_factory):
    root = tmp_path_factory.mktemp("seeded")
    config = tiny(global_clipnorm=None, clipvalue=0.7)
    first = train(config, root / "a", small_series)
    second = train(config, root / "b", small_series)
    other = train(config.replace(seed=4), root / "c", small_series)
    return first, second, other


def test_same_seed_same_metrics(seeded_runs):
    first, second, other = seeded_runs
    assert first.evaluation.to_dict() == second.evaluation.to_dict()
    assert first.history == second.history
    assert first.evaluation.scores["lstm"] != other.evaluation.scores["lstm"]


def test_run_record_has_clipping_and_metrics(seeded_runs):
    run = seeded_runs[0]
    with open(os.path.join(run.logdir, "run.json"), encoding="utf-8") as f:
        record = json.load(f)
    assert record["status"] == "finished"
    assert record["config"]["clipvalue"] == 0.7
    assert record["config"]["global_clipnorm"] is None
    assert record["optimizer"]["clipvalue"] == pytest.approx(0.7)
    assert record["optimizer"]["global_clipnorm"] is None
    assert record["data"]["parts"]["test"]["windows"] == 29  # 143 windows * 0.2
    test = record["metrics"]["test"]["scores"]
    assert test["lstm"]["mae"] == pytest.approx(run.evaluation.scores["lstm"]["mae"])
    assert set(test) == {"lstm", "persistence", "seasonal_naive_7"}
    assert record["training"]["epochs_run"] == 3


def test_best_weights_are_restored(seeded_runs):
    run = seeded_runs[0]
    x_val, y_val = run.data.scaled("val")
    val_loss = run.network.evaluate(x_val, y_val, verbose=0)
    assert val_loss == pytest.approx(min(run.history["val_loss"]), rel=1e-5)
    assert run.record.training["best_epoch"] == int(np.argmin(run.history["val_loss"]))


def test_plot_is_written(seeded_runs):
    run = seeded_runs[0]
    with open(run.plot_path, "rb") as f:
        png = f.read()
    assert png.startswith(b"\x89PNG")
    assert matplotlib.image.imread(io.BytesIO(png)).shape == (900, 1000, 4)


@pytest.mark.skipif(HAS_GPU, reason="checks the message shown when no GPU is present")
def test_gpu_request_without_gpu_says_so():
    with pytest.raises(ValueError, match=r"Expected a GPU for device='gpu', but TensorFlow sees"):
        resolve_device("gpu")
    assert resolve_device("auto") == "/CPU:0"


def test_cpu_is_the_default_device():
    assert ForecastConfig().device == "cpu"
    assert resolve_device("cpu") == "/CPU:0"
    with pytest.raises(ValueError, match=r"Received: device='tpu'"):
        resolve_device("tpu")
