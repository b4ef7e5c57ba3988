"""A disk that fills up: the message names the file and how to go on."""

import errno
import json
import os

import pytest
import tensorflow as tf
from _runs import FullDisk

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import files
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.timeseries import TimeSeries

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_failed_write_names_its_file(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "fdopen", lambda handle, mode: FullDisk(handle))
    with pytest.raises(OSError, match="No space left on device") as caught:
        files.write_json_atomic(tmp_path / "run.json", {"status": "training"})
    assert caught.value.errno == errno.ENOSPC
    assert caught.value.filename == os.fspath(tmp_path / "run.json")
    assert os.listdir(tmp_path) == []  # the temporary is gone


@pytest.mark.parametrize(
    "error, started, expected",
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "runs/d/history.csv"),
            True,
            "write runs/d/history.csv. Received: No space left on device; free some space, "
            "then continue with: keras-lstm-cell train --resume --logdir runs/d",
        ),
        (  # TensorFlow's error for ENOSPC, with the file in its text
            tf.errors.ResourceExhaustedError(
                None, None, "runs/d/events.out.tfevents.17.host; No space left on device"
            ),
            True,
            "write runs/d/events.out.tfevents.17.host. Received",
        ),
        (  # h5py's, naming no file; before run.json there is nothing to resume
            OSError("Unable to synchronously write data (errno = 28, 'No space left on device')"),
            False,
            "write the files of runs/d or saved_models/d. Received: No space left on device; "
            "free some space, then run the command again",
        ),
    ],
)
def test_disk_full_message(tmp_path, monkeypatch, error, started, expected):
    monkeypatch.chdir(tmp_path)
    os.makedirs("runs/d")
    if started:
        (tmp_path / "runs" / "d" / "run.json").write_text("{}")
    message = cli.disk_full_message(error, "runs/d", "saved_models/d")
    assert message.startswith("Expected free space on the disk to ") and expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied", "x"),
        tf.errors.ResourceExhaustedError(None, None, "OOM"),
    ],
)
def test_other_errors_are_not_a_full_disk(error):
    assert cli.disk_full_message(error, "runs/d", None) is None


def test_train_on_a_full_disk_then_resume(tmp_path, monkeypatch, capsys):
    """The plot finds the disk full; `--resume`, as the message says, finishes the run."""
    monkeypatch.chdir(tmp_path)
    TimeSeries.default().frame.iloc[:120].reset_index().to_csv("weather.csv", index=False)
    write = training.write_bytes_atomic

    def plot_on_a_full_disk(path, data):
        if not str(path).endswith(".png"):
            return write(path, data)
        with monkeypatch.context() as full:
            full.setattr(files.os, "fdopen", lambda handle, mode: FullDisk(handle))
            return write(path, data)

    monkeypatch.setattr(training, "write_bytes_atomic", plot_on_a_full_disk)
    argv = "train --csv weather.csv --name d --units 2 --epochs 1 --verbose 0 --no-export"
    assert cli.main(argv.split()) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "keras-lstm-cell train: error: Expected free space on the disk to write "
        f"{os.path.join('runs', 'd', 'forecast.png')}. Received: No space left on device; "
        "free some space, then continue with: keras-lstm-cell train --resume --logdir "
        f"{os.path.join('runs', 'd')}"
    ]
    assert json.loads((tmp_path / "runs" / "d" / "run.json").read_text())["status"] == "trained"

    monkeypatch.setattr(training, "write_bytes_atomic", write)
    assert cli.main(["train", "--resume", "--logdir", os.path.join("runs", "d")]) == 0
    assert json.loads((tmp_path / "runs" / "d" / "run.json").read_text())["status"] == "finished"
    assert (tmp_path / "runs" / "d" / "forecast.png").is_file()
