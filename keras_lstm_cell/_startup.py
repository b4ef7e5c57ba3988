"""The start of the package's own commands: quiet, and ended cleanly by Ctrl-C.

`import keras_lstm_cell` in a user's program imports Keras and nothing else:
no framework Keras did not load, no environment variable, file descriptor 2
untouched. Only when the process was started as one of the package's commands
(`keras-lstm-cell`, `python -m keras_lstm_cell`, `python -m
keras_lstm_cell.verify`) does the package's first import, this module, prepare
the start, before Keras loads, since Python runs the package's `__init__`
before any command module:

- TensorFlow's native library writes INFO lines (oneDNN, CUDA drivers, CPU
  features) straight to file descriptor 2 while it loads, before its logging
  is configured, so `TF_CPP_MIN_LOG_LEVEL` cannot hide them. They would sit
  above every one-line error of the tool. The command imports TensorFlow and
  Keras with descriptor 2 pointed at /dev/null, unless the user asked for
  TensorFlow's logs with `TF_CPP_MIN_LOG_LEVEL=0`. Python exceptions are
  unaffected: they propagate after the descriptor is restored.
- Ctrl-C while the libraries load (seconds) ends the forecasting tool with one
  line on stderr and exit code 130, as it does once the command runs;
  `command_started()` hands SIGINT back to Python when the command begins.

The first look for devices writes more (on a machine with CUDA libraries but
no GPU, an `E0000 ... failed call to cuInit` line), which
`discover_devices_quietly` silences the same way for the forecasting tool.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from typing import NamedTuple

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C


class _Command(NamedTuple):
    name: str  # in the one line Ctrl-C prints
    imports: tuple[str, ...]  # loaded quietly, in this order
    stops_on_interrupt: bool  # Ctrl-C during the start: one line and EXIT_INTERRUPTED


_FORECAST = _Command("keras-lstm-cell", ("tensorflow", "keras"), True)

# How a process names the command it runs: the console script's file name,
# or the module after `python -m`.
_COMMANDS = {
    "keras-lstm-cell": _FORECAST,
    "keras_lstm_cell": _FORECAST,
    "keras_lstm_cell.forecast.cli": _FORECAST,
    "keras_lstm_cell.verify": _Command("keras_lstm_cell.verify", ("keras",), False),
}

# Whether the user chose TensorFlow's C++ log level; then nothing is hidden.
_USER_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")

# Where the one-line message goes while descriptor 2 points at /dev/null.
_stderr_fd = 2


def _started_as() -> str | None:
    """The console script's file name, or the module `python -m` runs."""
    if not sys.argv:
        return None
    if sys.argv[0] == "-m":  # how `python -m` sets it while the package imports
        argv = getattr(sys, "orig_argv", [])
        return argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None
    name = os.path.basename(sys.argv[0])
    return name.removesuffix(".exe") if name.startswith("keras-lstm-cell") else None


# The package's command this process was started as, if any; read before
# `python -m` replaces `sys.argv[0]`.
RUNNING_COMMAND = _COMMANDS.get(_started_as())


@contextlib.contextmanager
def _stderr_silenced():
    """Points file descriptor 2 at /dev/null for the block, if it can."""
    global _stderr_fd
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable descriptor 2 (embedded)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        _stderr_fd = saved
        yield
    finally:
        _stderr_fd = 2
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _stop_starting(signum, frame):
    # Raised wherever the import is; SystemExit passes `except Exception` and
    # ends the process without a traceback, the descriptor restored on the way.
    os.write(_stderr_fd, f"{RUNNING_COMMAND.name}: interrupted\n".encode())
    raise SystemExit(EXIT_INTERRUPTED)


def _start(command: _Command) -> None:
    if command.stops_on_interrupt and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _stop_starting)
    if _USER_LOG_LEVEL == "0":
        silenced = contextlib.nullcontext()
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        silenced = _stderr_silenced()
    with silenced:
        for module in command.imports:
            try:
                __import__(module)
            except ImportError:  # a command that can run without TensorFlow
                if module != "tensorflow":
                    raise


def command_started() -> None:
    """Gives Ctrl-C back to Python, now that the command handles it itself."""
    if signal.getsignal(signal.SIGINT) is _stop_starting:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def discover_devices_quietly() -> None:
    """Lets TensorFlow find its devices now, with its C++ messages silenced.

    Unless the user set `TF_CPP_MIN_LOG_LEVEL`. Listing the physical devices
    initialises the device platforms (where CUDA complains when there is no
    GPU) without starting the runtime, so a multi-worker strategy can still
    be made afterwards.
    """
    if _USER_LOG_LEVEL is not None or "tensorflow" not in sys.modules:
        return
    import tensorflow as tf

    with _stderr_silenced():
        tf.config.list_physical_devices()


if RUNNING_COMMAND is not None:
    _start(RUNNING_COMMAND)
