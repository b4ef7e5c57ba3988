"""Writing outputs so that a crash never leaves a half-written file in place."""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import tempfile
import threading


def check_writable_directory(path, argument: str) -> str:
    """Raises `ValueError` unless directory `path` exists or can be created.

    Tries for real, with a temporary directory in the nearest existing
    ancestor (permission bits alone say nothing for root), and removes it.
    Returns the absolute path. Nothing is left behind.
    """
    path = os.path.abspath(os.fspath(path))
    ancestor = path
    while not os.path.exists(ancestor):
        parent = os.path.dirname(ancestor)
        if parent == ancestor:
            break
        ancestor = parent
    if not os.path.isdir(ancestor):
        raise ValueError(
            f"Expected `{argument}` to be a directory path that can be created. "
            f"Received: {argument}={path!r}, but {ancestor!r} is a file"
        )
    try:
        probe = tempfile.mkdtemp(dir=ancestor, prefix=".write-test-")
    except OSError as e:
        raise ValueError(
            f"Expected `{argument}` to be a writable directory path. Received: "
            f"{argument}={path!r} ({e.strerror}: {ancestor!r})"
        ) from e
    os.rmdir(probe)
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path, data: bytes) -> None:
    """Writes `data` to a temporary file beside `path`, then moves it into place."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
        # mkstemp makes the file private (0600); give it the usual permissions.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def _plain(value):
    # NaN and infinity are not JSON; null says "undefined".
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _plain(value.item())
    return value


def write_json_atomic(path, record: dict) -> None:
    """Writes `record` as indented JSON, atomically; NaN becomes null."""
    text = json.dumps(_plain(record), indent=2, allow_nan=False) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def replace_directory(source, destination) -> None:
    """Moves a finished directory `source` to `destination`, replacing it.

    The old `destination`, if any, is moved aside first and deleted only once
    the new one is in place, so a failure leaves the old one intact.
    """
    source = os.fspath(source)
    destination = os.fspath(destination)
    old = None
    if os.path.exists(destination):
        old = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(destination)), prefix=".old-")
        os.rmdir(old)
        os.replace(destination, old)
    try:
        os.replace(source, destination)
    except BaseException:
        if old is not None:
            os.replace(old, destination)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def interrupts_deferred(signals=(signal.SIGINT, signal.SIGTERM)):
    """Holds Ctrl-C and `kill` back until the block has finished.

    A file that several writes make up (Keras's weights file, a backup's
    weights and metadata) is never left half-written by an interrupt: a signal
    that arrives inside the block is recorded and raised again, with the
    handler that was in place before, once the block ends. Python runs signal
    handlers in the main thread only, so elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {}
    for signum in signals:
        handler = signal.getsignal(signum)
        # None: installed outside Python; SIG_IGN: nothing would happen anyway.
        if handler is None or handler == signal.SIG_IGN:
            continue
        previous[signum] = handler
        signal.signal(signum, lambda received, frame: caught.append(received))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(caught):
            signal.raise_signal(signum)
