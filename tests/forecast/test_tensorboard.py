"""TensorBoard logs of a run: read back from the event files and from a live server."""

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
from tensorboard.plugins.hparams import plugin_data_pb2

from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.timeseries import TimeSeries

EPOCHS = 3
OUR_SCALARS = [
    "val/mae",
    "val/rmse",
    "val/mape",
    "val/smape",
    "val/mase",
    "val/skill",
    "val/persistence_mae",
    "optimizer/learning_rate",
    "optimizer/gradient_norm",
    "optimizer/gradient_norm_max",
]


class _WorseLastEpoch(keras.callbacks.Callback):
    """Spoils the weights before the last epoch, so the best epoch is an earlier one."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == EPOCHS - 1:
            for weight in self.model.trainable_weights:
                weight.assign(weight + 2.0)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    series = TimeSeries.default()
    series = dataclasses.replace(series, frame=series.frame.iloc[:150])
    config = ForecastConfig(units=4, epochs=EPOCHS, patience=10, learning_rate=2e-3, seed=1)
    logdir = tmp_path_factory.mktemp("tb") / "run"
    data = prepare_data(config, series)
    return training.train(
        config, logdir=logdir, data=data, callbacks=[_WorseLastEpoch()], verbose=0
    )


def _events(run, name):
    accumulator = EventAccumulator(os.path.join(run.logdir, name), size_guidance={"tensors": 0})
    accumulator.Reload()
    return accumulator


def _scalars(accumulator, tag):
    return [(e.step, float(tf.make_ndarray(e.tensor_proto))) for e in accumulator.Tensors(tag)]


def test_our_scalars_per_epoch(run):
    events = _events(run, "forecast")
    tags = events.Tags()["tensors"]
    for tag in OUR_SCALARS:
        assert tag in tags
        assert [step for step, _ in _scalars(events, tag)] == list(range(EPOCHS))
    learning_rates = [value for _, value in _scalars(events, "optimizer/learning_rate")]
    np.testing.assert_allclose(learning_rates, [2e-3] * EPOCHS, rtol=1e-6)
    means = [value for _, value in _scalars(events, "optimizer/gradient_norm")]
    maxima = [value for _, value in _scalars(events, "optimizer/gradient_norm_max")]
    assert all(0 < m <= top for m, top in zip(means, maxima))
    # Persistence does not depend on the weights: the same value every epoch.
    persistence = {value for _, value in _scalars(events, "val/persistence_mae")}
    assert len(persistence) == 1


def test_validation_mae_matches_the_restored_model(run):
    """val/mae of the best epoch is the restored model's validation MAE."""
    events = _events(run, "forecast")
    best = run.record.training["best_epoch"]
    logged = dict(_scalars(events, "val/mae"))[best]
    x, y = run.data.raw("val")
    mae = float(np.mean(np.abs(run.forecaster.predict(x, verbose=0) - y)))
    assert logged == pytest.approx(mae, rel=1e-5)


def test_test_metrics_and_plot(run):
    events = _events(run, "forecast")
    last = EPOCHS - 1
    scores = run.evaluation.scores
    for metric in ("mae", "rmse", "mase", "skill"):
        assert _scalars(events, f"test/{metric}") == [
            (last, pytest.approx(scores["lstm"][metric], rel=1e-6))
        ]
    assert _scalars(events, "test/persistence_mae") == [
        (last, pytest.approx(scores["persistence"]["mae"], rel=1e-6))
    ]
    image = events.Tensors("test/forecast")
    assert [e.step for e in image] == [last]
    width, height, png = tf.make_ndarray(image[0].tensor_proto)
    assert (int(width), int(height)) == (1000, 900) and png.startswith(b"\x89PNG")


def test_keras_scalars_and_weight_histograms(run):
    train = _events(run, "train")
    validation = _events(run, "validation")
    losses = _scalars(validation, "epoch_loss")
    assert [s for s, _ in losses] == list(range(EPOCHS))
    np.testing.assert_allclose([v for _, v in losses], run.history["val_loss"], rtol=1e-6)
    histograms = [t for t in train.Tags()["tensors"] if t.endswith("/histogram")]
    assert any("lstm_1" in t and "kernel" in t for t in histograms)
    assert any(t.startswith("forecast/") for t in histograms)  # the Dense head


def test_hparams_are_logged(run):
    root = _events(run, ".")
    content = root.PluginTagToContent("hparams")
    assert set(content) == {"_hparams_/experiment", "_hparams_/session_start_info"}
    data = plugin_data_pb2.HParamsPluginData.FromString(content["_hparams_/session_start_info"])
    hparams = data.session_start_info.hparams
    assert hparams["units"].number_value == 4
    assert hparams["learning_rate"].number_value == pytest.approx(2e-3)
    assert hparams["transform"].string_value == "diff"
    assert hparams["global_clipnorm"].number_value == 1.0
    assert hparams["clipnorm"].string_value == "none"


def test_hparams_table_shows_the_best_epoch_not_the_last(run):
    """The HParams dashboard's metrics are the best epoch's, whose weights the run keeps."""
    content = _events(run, ".").PluginTagToContent("hparams")
    experiment = plugin_data_pb2.HParamsPluginData.FromString(
        content["_hparams_/experiment"]
    ).experiment
    assert [m.name.tag for m in experiment.metric_infos] == [
        "best/val_mae",
        "best/val_loss",
        "best/epoch",
        "test/mae",
        "test/skill",
    ]
    best = run.record.training["best_epoch"]
    assert best < EPOCHS - 1  # the spoiled last epoch is not the best
    events = _events(run, "forecast")
    val_mae = dict(_scalars(events, "val/mae"))
    assert val_mae[EPOCHS - 1] > val_mae[best]
    assert _scalars(events, "best/val_mae") == [(best, pytest.approx(val_mae[best], rel=1e-5))]
    assert _scalars(events, "best/val_loss") == [
        (best, pytest.approx(min(run.history["val_loss"]), rel=1e-6))
    ]
    assert _scalars(events, "best/epoch") == [(best, best + 1)]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_live_tensorboard_serves_our_tags(run):
    port = _free_port()
    tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
    server = subprocess.Popen(
        [tensorboard, "--logdir", run.logdir, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    url = f"http://127.0.0.1:{port}/data/plugin/scalars/tags"
    tags = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert server.poll() is None, "tensorboard exited early"
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    tags = json.load(response)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if "val/mae" in tags.get("forecast", {}):
                break
            time.sleep(1)
    finally:
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.kill(server.pid, signal.SIGKILL)
            server.wait()
    assert set(OUR_SCALARS) <= set(tags["forecast"])
    assert "test/mae" in tags["forecast"]
    assert "epoch_loss" in tags["train"] and "epoch_loss" in tags["validation"]
