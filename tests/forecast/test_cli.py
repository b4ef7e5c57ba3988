"""The `keras-lstm-cell` command: outputs, one-line errors, interruption and resume."""

import json
import os
import re
import subprocess
import sys

import keras
import pytest
import tensorflow as tf
from _runs import terminate_after_two_epochs

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.record import read_history
from keras_lstm_cell.forecast.timeseries import TimeSeries

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
CDD = os.path.join(FIXTURES, "cdd_volume_btc_mdy.csv")  # 12 rows
HAS_GPU = bool(tf.config.list_physical_devices("GPU"))
WEATHER = ["--csv", "weather.csv", "--target", "temp_max"]  # written by `workdir`
# Lines TensorFlow's C++ runtime writes to stderr by itself, before any of our code runs.
TF_LOG_PREFIXES = ("WARNING: All log messages", "I0000", "W0000", "E0000", "To enable the")


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    frame = TimeSeries.default(features=["wind"]).frame.iloc[:150]
    frame.reset_index().to_csv(tmp_path / "weather.csv", index=False)
    return tmp_path


def test_train_predict_evaluate(workdir, capsys):
    argv = ["train", *WEATHER, *"--name demo --units 4 --epochs 2 --features wind".split()]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out  # Keras's progress bar
    assert "Data: weather.csv: 150 rows, 2012-01-01 .. 2012-05-29, target 'temp_max'" in out
    lines = out.splitlines()
    header = lines.index(next(line for line in lines if line.startswith("forecast ")))
    assert lines[header].split() == ["forecast", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE", "skill"]
    assert [line.split()[0] for line in lines[header + 1 : header + 4]] == [
        "lstm",
        "persistence",
        "seasonal_naive_7",
    ]
    assert lines[header + 4].startswith("The lstm model ")
    assert "persistence: MAE" in lines[header + 4]
    record = json.loads((workdir / "runs" / "demo" / "run.json").read_text())
    assert record["config"]["features"] == ["wind"] and record["status"] == "finished"
    assert record["paths"] == {
        "logdir": os.path.join("runs", "demo"),
        "export": os.path.join("saved_models", "demo"),
        "plot": os.path.join("runs", "demo", "forecast.png"),
    }
    lstm_mae = record["metrics"]["test"]["scores"]["lstm"]["mae"]
    assert f"{lstm_mae:.4g}" == lines[header + 1].split()[1]
    assert (workdir / "runs" / "demo" / "forecast.png").is_file()
    assert (workdir / "saved_models" / "demo" / "saved_model.pb").is_file()

    assert cli.main(["predict", "--model", "saved_models/demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(
        "Forecast of 'temp_max' by saved_models/demo from the last 7 rows of weather.csv "
        "(its training data), 2012-05-23 .. 2012-05-29:"
    )
    assert out[1].split() == ["date", "temp_max"]
    assert out[2].split()[0] == "2012-05-30"

    assert cli.main(["evaluate", "--model", "saved_models/demo"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "29 windows" in out[0]
    assert out[2].split()[1] == lines[header + 1].split()[1]  # same test MAE as training


def test_train_without_csv_uses_the_embedded_data(workdir, capsys):
    argv = "train --epochs 1 --units 2 --no-export --verbose 0 --name embedded".split()
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "Data: embedded seattle_weather.csv (NOAA Seattle 2012-2015): 1461 rows" in out
    assert "test 291 (2015-03-16 .. 2015-12-31)" in out
    assert not (workdir / "saved_models").exists()


def _errors(workdir):
    (workdir / "afile").write_text("")
    foreign = workdir / "foreign"
    module = tf.Module()
    module.f = tf.function(lambda: tf.constant(1.0), input_signature=[])
    tf.saved_model.save(module, str(foreign))
    return foreign


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--csv", "nope.csv"], "existing CSV file. Received: csv='nope.csv'"),
        (["train", "--csv", CDD, "--target", "price"], "Received: target='price'"),
        (["train", "--csv", CDD, "--target", "symbol"], "'Symbol' of .* to be numeric"),
        (["train", "--csv", CDD, "--window", "10"], "at least 13 rows .* Received: 12 rows"),
        (["train", "--window", "0"], "`window` to be a positive integer. Received: window=0"),
        (["train", "--epochs", "0"], "`epochs` to be a positive integer. Received: epochs=0"),
        (["train", "--epochs", "-5"], "Received: epochs=-5"),
        (["train", "--window", "seven"], "argument --window: invalid int value: 'seven'"),
        (
            ["train", "--clipnorm", "1", "--clipvalue", "2"],
            "argument --clipvalue: not allowed with argument --clipnorm",
        ),
        (
            ["train", *WEATHER, "--export", "afile/model"],
            "`export` to be a directory path .* is a file",
        ),
        (["train", *WEATHER, "--logdir", "afile/run"], "`logdir` to be a directory"),
        (["train", "--resume"], "an interrupted run under runs/ for --resume"),
        (["predict", "--model", "foreign"], "written by `keras-lstm-cell train --export`"),
        (["evaluate", "--model", "nowhere"], r"model='nowhere' \(no such directory\)"),
        pytest.param(
            ["train", "--device", "gpu"],
            "Expected a GPU for device='gpu', but TensorFlow sees",
            marks=pytest.mark.skipif(HAS_GPU, reason="the no-GPU message path"),
        ),
    ],
)
def test_user_errors_are_one_line_exit_2_and_write_nothing(workdir, capsys, argv, message):
    _errors(workdir)
    before = sorted(os.listdir(workdir))
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("keras-lstm-cell")
    assert "Traceback" not in captured.err
    assert re.search(message, lines[0]), lines[0]
    assert sorted(os.listdir(workdir)) == before  # nothing half-written


class _InterruptAfter(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_ctrl_c_then_resume(workdir, capsys, monkeypatch):
    train = training.train
    monkeypatch.setattr(
        training, "train", lambda *a, **k: train(*a, callbacks=[_InterruptAfter(1)], **k)
    )
    argv = ["train", *WEATHER, "--name", "r", "--units", "4", "--epochs", "4", "--verbose", "0"]
    assert cli.main(argv) == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "keras-lstm-cell: interrupted after 2 finished epochs; continue with: "
        f"keras-lstm-cell train --resume --logdir {os.path.join('runs', 'r')}"
    ]
    monkeypatch.setattr(training, "train", train)

    assert cli.main(["train", "--resume", "--verbose", "0"]) == 0
    assert "Resuming runs/r" in capsys.readouterr().out
    record = json.loads((workdir / "runs" / "r" / "run.json").read_text())
    assert record["training"]["resumed_from_epoch"] == 2
    assert record["training"]["epochs_run"] == 4
    assert read_history(workdir / "runs" / "r")["epoch"] == [0, 1, 2, 3]
    assert (workdir / "saved_models" / "r" / "saved_model.pb").is_file()


def _run(args, cwd):
    return subprocess.run(
        args,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def test_console_script_and_module_entry_points(tmp_path):
    script = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
    done = _run([script, "predict", "--model", "nowhere"], tmp_path)
    assert done.returncode == 2
    ours = [line for line in done.stderr.splitlines() if not line.startswith(TF_LOG_PREFIXES)]
    assert ours == [
        "keras-lstm-cell predict: error: Expected `model` to be a directory written by "
        "`keras-lstm-cell train --export` (a SavedModel with forecast.json). Received: "
        "model='nowhere' (no such directory)"
    ]
    done = _run([sys.executable, "-m", "keras_lstm_cell", "train", "--help"], tmp_path)
    assert done.returncode == 0
    assert "--global-clipnorm" in done.stdout and "--resume" in done.stdout


def test_kill_then_resume(workdir, capsys):
    """A real SIGTERM to a training process; the next run resumes its epochs."""
    script = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
    argv = [*WEATHER, *"--name k --units 4 --epochs 500 --patience 500 --verbose 0".split()]
    process = subprocess.Popen(
        [script, "train", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    history = workdir / "runs" / "k" / "history.csv"
    err = terminate_after_two_epochs(process, history, 120)
    assert process.returncode == 130
    assert "keras-lstm-cell: interrupted after " in err and "train --resume" in err
    done = len(read_history(workdir / "runs" / "k")["epoch"])
    assert 2 <= done < 500

    assert cli.main(["train", "--resume", "--name", "k", "--epochs", str(done + 2)]) == 0
    record = json.loads((workdir / "runs" / "k" / "run.json").read_text())
    resumed = record["training"]["resumed_from_epoch"]
    assert resumed in (done - 1, done)  # the epoch being written when killed may be redone
    assert read_history(workdir / "runs" / "k")["epoch"] == list(range(done + 2))
    assert "Resuming runs/k" in capsys.readouterr().out
