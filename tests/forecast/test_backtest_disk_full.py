"""A disk that fills up during a backtest: the message names `backtest --resume`."""

import contextlib
import errno
import importlib
import json
import os
import subprocess
import sys

import pytest
from _runs import FullDisk

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import files

ARGV = "backtest --name b --epochs 1 --units 2 --folds 2 --verbose 0".split()
LOGDIR = os.path.join("runs", "b")
RESUME = f"keras-lstm-cell backtest --resume --logdir {LOGDIR}"
# A file system too small for one fold's run (its plot alone is larger), room
# enough for run.json: the backtest has started when the disk fills up.
SMALL, LARGE = "128k", "64m"
# The module: the package exports its function `backtest` under the same name.
backtest = importlib.import_module("keras_lstm_cell.forecast.backtest")


def test_the_message_names_the_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.makedirs(LOGDIR)
    (tmp_path / LOGDIR / "run.json").write_text("{}")
    error = OSError(errno.ENOSPC, "No space left on device", "runs/b/backtest.csv")
    message = cli.disk_full_message(error, LOGDIR, None, command="backtest")
    assert message.endswith(f"then continue with: {RESUME}")
    # The default, as before: `train`.
    assert "keras-lstm-cell train --resume" in cli.disk_full_message(error, LOGDIR, None)


def _finished(root) -> bool:
    record = json.loads((root / LOGDIR / "run.json").read_text())
    return record["status"] == "finished" and (root / LOGDIR / "backtest.csv").is_file()


@contextlib.contextmanager
def _small_disk(path):
    """A tmpfs of `SMALL` bytes mounted at `path`; skips the test where none can be."""
    path.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(path)],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        mounted = None
    if mounted is None or mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (needs root); the stand-in test covers it")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=30)


def _cli(args, cwd):
    # TensorFlow's C++ lines off: the test is about the tool's one line.
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "keras_lstm_cell", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=600,
    )


def test_a_backtest_on_a_full_tmpfs_then_resume(tmp_path):
    with _small_disk(tmp_path / "disk") as disk:
        done = _cli(ARGV, disk)
        assert done.returncode == cli.EXIT_USAGE, done.stderr[-2000:]
        lines = done.stderr.splitlines()
        assert len(lines) == 1, done.stderr
        assert lines[0].startswith(
            "keras-lstm-cell backtest: error: Expected free space on the disk to write "
            f"{LOGDIR}{os.sep}"
        )
        assert lines[0].endswith(
            f". Received: No space left on device; free some space, then continue with: {RESUME}"
        )
        # Room again: the command of the message finishes the backtest.
        subprocess.run(["mount", "-o", f"remount,size={LARGE}", str(disk)], check=True, timeout=30)
        done = _cli(RESUME.split()[1:], disk)
        assert done.returncode == 0, done.stderr[-2000:]
        assert _finished(disk)


def test_a_backtest_on_a_full_disk_then_resume(tmp_path, monkeypatch, capsys):
    """The stand-in where no tmpfs can be mounted: backtest.csv finds the disk full."""
    monkeypatch.chdir(tmp_path)
    write = backtest.write_bytes_atomic

    def rows_on_a_full_disk(path, data):
        if not str(path).endswith(backtest.BACKTEST_CSV):
            return write(path, data)
        with monkeypatch.context() as full:
            full.setattr(files.os, "fdopen", lambda handle, mode: FullDisk(handle))
            return write(path, data)

    monkeypatch.setattr(backtest, "write_bytes_atomic", rows_on_a_full_disk)
    assert cli.main(ARGV) == cli.EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        "keras-lstm-cell backtest: error: Expected free space on the disk to write "
        f"{os.path.join(LOGDIR, 'backtest.csv')}. Received: No space left on device; free "
        f"some space, then continue with: {RESUME}"
    ]
    monkeypatch.setattr(backtest, "write_bytes_atomic", write)
    assert cli.main(RESUME.split()[1:]) == 0
    assert _finished(tmp_path)
