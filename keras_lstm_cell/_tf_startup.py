"""Imports TensorFlow and Keras without TensorFlow's C++ start-up chatter.

TensorFlow's native library writes INFO lines (oneDNN, CUDA drivers, CPU
features) straight to file descriptor 2 while it loads, before its logging is
configured, so `TF_CPP_MIN_LOG_LEVEL` cannot hide them. They would sit above
every one-line error of the command-line tool. This module loads the library
with descriptor 2 pointed at /dev/null, unless TensorFlow is already loaded or
the user asked for its logs with `TF_CPP_MIN_LOG_LEVEL=0`. Python exceptions
are unaffected: they propagate after the descriptor is restored.

The first look for devices writes more (on a machine with CUDA libraries but
no GPU, an `E0000 ... failed call to cuInit` line), which
`discover_devices_quietly` silences the same way for the command-line tool.
"""

import contextlib
import os
import sys

# Whether the user chose TensorFlow's C++ log level; then nothing is hidden.
_USER_LOG_LEVEL = os.environ.get("TF_CPP_MIN_LOG_LEVEL")


@contextlib.contextmanager
def _stderr_silenced():
    """Points file descriptor 2 at /dev/null for the block, if it can."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (embedded interpreters)
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _import_quietly() -> None:
    if "tensorflow" in sys.modules or _USER_LOG_LEVEL == "0":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with _stderr_silenced():
        try:
            import tensorflow  # noqa: F401
        except ImportError:  # the JAX and torch backends can run without it
            pass
        import keras  # noqa: F401


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


_import_quietly()
