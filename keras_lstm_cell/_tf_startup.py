"""Imports TensorFlow and Keras without TensorFlow's C++ start-up chatter.

TensorFlow's native library writes INFO lines (oneDNN, CUDA drivers, CPU
features) straight to file descriptor 2 while it loads, before its logging is
configured, so `TF_CPP_MIN_LOG_LEVEL` cannot hide them. They would sit above
every one-line error of the command-line tool. This module loads the library
with descriptor 2 pointed at /dev/null, unless TensorFlow is already loaded or
the user asked for its logs with `TF_CPP_MIN_LOG_LEVEL=0`. Python exceptions
are unaffected: they propagate after the descriptor is restored.
"""

import os
import sys


def _import_quietly() -> None:
    if "tensorflow" in sys.modules or os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no usable descriptor 2 (embedded interpreters)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        try:
            import tensorflow  # noqa: F401
        except ImportError:  # the JAX backend can run without it
            pass
        import keras  # noqa: F401
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


_import_quietly()
