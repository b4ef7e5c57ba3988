"""A command that succeeds leaves stderr empty: the runtimes' notes are dropped."""

import os
import subprocess
import sys

import pytest

from keras_lstm_cell.forecast.runtimes import native_notes_dropped

# What native code writes straight to file descriptor 2, each kind once.
XNNPACK = b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
TF_INFO = b"I0000 00:00:1712345678.123456    4242 reader.cc:83] Reading SavedModel from: /tmp\n"
TF_WARNING = b"W0000 00:00:1712345678.123456    4242 tf_tfl_flatbuffer_helpers.cc:364] Ignored\n"
OTHER = b"something the user should see\n"


@pytest.fixture
def log_level(monkeypatch):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)


def test_notes_are_dropped_after_a_success(capfd, log_level):
    with native_notes_dropped():
        os.write(2, XNNPACK + TF_INFO + TF_WARNING + OTHER)
    assert capfd.readouterr().err == OTHER.decode()


def test_warnings_are_kept_after_a_failure(capfd, log_level):
    with pytest.raises(RuntimeError, match="converter"):
        with native_notes_dropped():
            os.write(2, XNNPACK + TF_INFO + TF_WARNING + OTHER)
            raise RuntimeError("converter")
    assert capfd.readouterr().err == (TF_WARNING + OTHER).decode()


def test_every_line_when_the_user_asks_for_them(capfd, monkeypatch):
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    with native_notes_dropped():
        os.write(2, XNNPACK + TF_INFO)
    assert capfd.readouterr().err == (XNNPACK + TF_INFO).decode()


def test_a_successful_train_leaves_stderr_empty(tmp_path):
    """With the LiteRT and ONNX files, whose checks start LiteRT's XNNPACK delegate.

    `TF_CPP_MIN_LOG_LEVEL` is unset, as in a user's shell: TensorFlow's lines
    (its start-up INFO lines, the converter's I/W lines) must not show
    either. Nothing at all is expected on stderr.
    """
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = os.pathsep.join(sys.path)
    done = subprocess.run(
        [sys.executable, "-m", "keras_lstm_cell", "train"]
        + "--name q --epochs 1 --units 2 --verbose 0".split(),
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LiteRT:" in done.stdout and "ONNX Runtime:" in done.stdout
    assert "INFO:" not in done.stderr and "XNNPACK" not in done.stderr
    assert done.stderr == ""
