"""What `import keras_lstm_cell` costs a user's process, and how the commands start.

The import, on each backend, loads nothing beyond what `import keras` loads but
the package's own modules and the standard library, sets no environment
variable and leaves file descriptor 2 alone. The commands hide TensorFlow's
start-up chatter and end with one line and exit code 130 on Ctrl-C while
TensorFlow loads.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import pytest

# Run in a fresh interpreter; prints what `import keras_lstm_cell` added to
# `import keras`. A finder first in `sys.meta_path` writes to descriptor 2 as
# each of the package's modules is looked up, and notes which file it is.
IMPORT_PROBE = r"""
import json, os, sys

def stderr_file():
    status = os.fstat(2)
    return [status.st_dev, status.st_ino]

import keras

modules, environment, at_start = set(sys.modules), dict(os.environ), stderr_file()
seen = []

class Probe:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("keras_lstm_cell"):
            seen.append(stderr_file())
            os.write(2, f"probe: {name}\n".encode())
        return None

sys.meta_path.insert(0, Probe())
import keras_lstm_cell

print(json.dumps({
    "backend": keras.backend.backend(),
    "new_modules": sorted(set(sys.modules) - modules),
    "environment_changes": sorted(
        k for k in set(os.environ) | set(environment) if os.environ.get(k) != environment.get(k)
    ),
    "stderr_at_start": at_start,
    "stderr_during_import": seen,
}))
"""

# Lines TensorFlow's native library writes while it loads (oneDNN, CUDA).
TF_LOG_PREFIXES = ("WARNING: All log messages", "I0000", "W0000", "E0000", "To enable the")

CONSOLE_SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")


def _environment(**changes):
    """This process's environment without a TensorFlow log level, as a user's shell."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env.update(changes)
    return env


@pytest.mark.parametrize("backend", ["jax", "torch", "tensorflow"])
def test_import_adds_only_the_package_to_keras(backend, tmp_path):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")  # CI installs torch for its torch leg
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_environment(KERAS_BACKEND=backend),
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["backend"] == backend
    foreign = [
        name
        for name in found["new_modules"]
        if name.split(".")[0] not in {"keras_lstm_cell", *sys.stdlib_module_names}
    ]
    assert foreign == []
    assert "keras_lstm_cell.simple_lstm_cell" in found["new_modules"]
    assert found["environment_changes"] == []
    assert found["stderr_during_import"]
    assert all(seen == found["stderr_at_start"] for seen in found["stderr_during_import"])
    assert "probe: keras_lstm_cell.simple_lstm\n" in done.stderr


def _tensorflow_loading(pid: int) -> bool:
    """Whether the process has mapped TensorFlow's native library yet."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            return "libtensorflow" in f.read()
    except OSError:
        return False


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="watches /proc/PID/maps")
@pytest.mark.parametrize(
    "command", [[CONSOLE_SCRIPT], [sys.executable, "-m", "keras_lstm_cell"]], ids=["script", "-m"]
)
def test_ctrl_c_while_tensorflow_loads_ends_with_one_line(command, tmp_path):
    process = subprocess.Popen(
        [*command, "predict", "--model", "nowhere"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=_environment(KERAS_BACKEND="tensorflow"),
        # As a shell starts a command in the foreground: SIGINT not ignored,
        # even where this test runs in a background job that ignores it.
        preexec_fn=_default_sigint,
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and not _tensorflow_loading(process.pid):
        assert time.monotonic() < deadline, "TensorFlow never loaded"
        time.sleep(0.005)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert (process.returncode, err, out) == (130, "keras-lstm-cell: interrupted\n", "")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize(
    "command, expected",
    [
        (
            [CONSOLE_SCRIPT, "predict", "--model", "nowhere"],
            [
                "keras-lstm-cell predict: error: Expected `model` to be a directory written by "
                "`keras-lstm-cell train --export` (a SavedModel with forecast.json). Received: "
                "model='nowhere' (no such directory)"
            ],
        ),
        (
            [sys.executable, "-m", "keras_lstm_cell.verify", "--no-such-flag"],
            [
                "usage: python -m keras_lstm_cell.verify [-h] [--json JSON]",
                "python -m keras_lstm_cell.verify: error: unrecognized arguments: --no-such-flag",
            ],
        ),
    ],
    ids=["keras-lstm-cell", "verify"],
)
def test_commands_start_without_tensorflow_chatter(command, expected, tmp_path):
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=_environment(KERAS_BACKEND="tensorflow"),
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == expected
