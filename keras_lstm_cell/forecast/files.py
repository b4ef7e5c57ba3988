"""Writing outputs safely: only into directories the tool owns, whole or not at all.

The forecasting tool writes two directories per run, the run directory
(`runs/NAME`) and the export (`saved_models/NAME`). It deletes or replaces
only what it wrote itself, as `git` refuses to overwrite untracked files:

- a directory is *ours* when it holds the tool's marker file with its format
  tag (`run.json`, `forecast.json`) and nothing but the entries the tool
  writes there; anything else is refused, whatever the flags;
- a finished file or directory is written beside its place and moved in with
  one rename, so a crash leaves the old one or the new one, never a mix;
- what is written is on the disk before it counts as done: each file is
  flushed (`fsync`) before its rename and the folder it was renamed in
  after, so a power cut cannot leave a record that names a file the disk
  never received;
- temporary directories carry the writing process's id in their name, so a
  later run can tell those of a crashed run from those of a running one and
  remove them;
- one process writes a run at a time: it holds `RunLock` for the whole run.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import hashlib
import json
import math
import os
import re
import shutil
import signal
import tempfile
import threading

import filelock

LOCK_FILE = ".lock"  # inside the run directory, held while a run writes it
_TEMPORARY_FILES = ".tmp-*.part"  # write_bytes_atomic's, beside their target
# A run name becomes a directory name under runs/ and saved_models/.
_PLAIN_NAME = re.compile(r"[^\W][\w.+-]*")
_NAME_MAX = 255  # bytes in one file name (NAME_MAX of ext4, XFS, Btrfs, APFS)
_PID_DIGITS = 10  # a process id up to 2**31 - 1
_RANDOM_CHARACTERS = 8  # the random part tempfile.mkdtemp appends
# Room for `_temporary_name`'s `.NAME.tmp-PID-XXXXXXXX` (and `.old-`) around NAME.
_MAX_NAME_BYTES = _NAME_MAX - len("..tmp--") - _PID_DIGITS - _RANDOM_CHARACTERS


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


def file_sha256(path) -> str:
    """The SHA-256 of the file at `path`, as hex, read in blocks of 1 MiB."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_change(path, sha256: str | None) -> str | None:
    """How the file at `path` differs from the one with SHA-256 `sha256`, or `None`."""
    if not os.path.isfile(path):
        return "no such file"
    if file_sha256(path) != sha256:
        return "a different file"
    return None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sync_file(path) -> None:
    """Flushes the file at `path` from the operating system's cache to the disk."""
    # Windows flushes only a file opened for writing; elsewhere reading will do.
    handle = os.open(os.fspath(path), os.O_RDWR | os.O_BINARY if os.name == "nt" else os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def sync_directory(path) -> None:
    """Flushes directory `path`'s entries to the disk: a rename into it is then durable.

    Where a directory cannot be opened (Windows, which has no `O_DIRECTORY`
    and makes a rename durable by itself) or its file system cannot flush
    one, nothing is done.
    """
    if not hasattr(os, "O_DIRECTORY"):
        return
    handle = os.open(os.fspath(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(handle)
    except OSError as e:
        # Some network and FUSE file systems refuse fsync on a directory.
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(handle)


def sync_tree(path) -> None:
    """Flushes every file and directory under `path`, and `path` itself, to the disk.

    Each directory comes after its entries, so that once it is flushed all
    it names is there. Symbolic links are not followed.
    """
    path = os.fspath(path)
    for directory, _, names in os.walk(path, topdown=False):
        for name in names:
            entry = os.path.join(directory, name)
            if not os.path.islink(entry):
                sync_file(entry)
        sync_directory(directory)


def write_bytes_atomic(path, data: bytes) -> None:
    """Writes `data` to a temporary file beside `path`, then moves it into place.

    The file is on the disk before the rename, and the rename once this returns.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(data)
            f.flush()
            # Before the rename: otherwise a power cut can leave `path` empty.
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the usual permissions.
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
        sync_directory(directory)
    except BaseException as e:
        if os.path.exists(temporary):
            os.remove(temporary)
        if isinstance(e, OSError) and e.filename is None:
            # A failed write names no file; a full disk should say which.
            raise OSError(e.errno, e.strerror, path) from e
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


def _temporary_name(destination: str, kind: str) -> str:
    """A fresh path beside `destination` that names this process: `.NAME.KIND-PID-XXXX`."""
    parent = os.path.dirname(os.path.abspath(destination))
    prefix = f".{os.path.basename(os.path.abspath(destination))}.{kind}-{os.getpid()}-"
    path = tempfile.mkdtemp(dir=parent, prefix=prefix)
    return path


def make_temporary_directory(destination) -> str:
    """An empty directory beside `destination` to build its replacement in."""
    destination = os.fspath(destination)
    os.makedirs(os.path.dirname(os.path.abspath(destination)), exist_ok=True)
    return _temporary_name(destination, "tmp")


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def remove_stale_temporaries(destination) -> list[str]:
    """Removes the temporary directories of crashed writers of `destination`.

    Those are `.NAME.tmp-PID-*` and `.NAME.old-PID-*` beside it whose process
    is gone (a `kill -9` during an export leaves one). Returns their paths.
    """
    destination = os.path.abspath(os.fspath(destination))
    parent, name = os.path.split(destination)
    if not os.path.isdir(parent):
        return []
    removed = []
    pattern = re.compile(rf"\.{re.escape(name)}\.(tmp|old)-(\d+)-\w+")
    for entry in os.scandir(parent):
        match = pattern.fullmatch(entry.name)
        if match and entry.is_dir(follow_symlinks=False):
            if not _process_alive(int(match.group(2))):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
    return removed


def replace_directory(source, destination) -> None:
    """Moves a finished directory `source` to `destination`, replacing it.

    The old `destination`, if any, is moved aside first and deleted only once
    the new one is in place, so a failure leaves the old one intact. Check
    that the old one may be replaced (`check_owned_directory`) before.
    Everything in `source` is flushed to the disk before the rename, and the
    rename after it.
    """
    source = os.fspath(source)
    destination = os.fspath(destination)
    # Files written by others (TensorFlow's SavedModel, the converters) too.
    sync_tree(source)
    old = None
    if os.path.lexists(destination):
        old = _temporary_name(destination, "old")
        os.rmdir(old)
        os.replace(destination, old)
    try:
        os.replace(source, destination)
    except BaseException:
        if old is not None:
            os.replace(old, destination)
        raise
    sync_directory(os.path.dirname(os.path.abspath(destination)))
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def check_plain_name(name: str, argument: str = "name") -> str:
    """A run name: one directory name, with no path separators, not `.` or `..`.

    At most `_MAX_NAME_BYTES` bytes in UTF-8, so that the temporary
    directories named after it beside the export still fit in a file name.
    """
    # The pattern first: it refuses the surrogates that UTF-8 cannot encode.
    plain = isinstance(name, str) and _PLAIN_NAME.fullmatch(name)
    size = len(name.encode("utf-8")) if plain else 0
    if not plain or size > _MAX_NAME_BYTES:
        raise ValueError(
            f"Expected `{argument}` to be a plain name: letters, digits, '_', '-', "
            "'+' and '.', not starting with '.' or '-', with no path separators "
            f"(at most {_MAX_NAME_BYTES} bytes in UTF-8). Received: {argument}={name!r}"
            + (f" ({size} bytes)" if plain else "")
        )
    return name


def check_separate(paths: dict) -> None:
    """Refuses two output directories that are the same or one inside the other.

    Args:
        paths: `{argument: path or None}`, e.g. `{"logdir": ..., "export": ...}`.
    """
    given = {k: os.path.realpath(os.fspath(v)) for k, v in paths.items() if v is not None}
    names = list(given)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            common = os.path.commonpath([given[a], given[b]])
            if common in (given[a], given[b]):
                relation = "the same directory" if given[a] == given[b] else "nested"
                raise ValueError(
                    f"Expected `{a}` and `{b}` to be separate directories. Received: "
                    f"{a}={paths[a]!r} and {b}={paths[b]!r} ({relation}); the "
                    f"{b} would replace or hide the {a}'s files"
                )


def foreign_entries(path, patterns) -> list[str]:
    """Entries of directory `path` that match none of the glob `patterns`."""
    return sorted(
        entry
        for entry in os.listdir(path)
        if not any(fnmatch.fnmatchcase(entry, pattern) for pattern in patterns)
    )


def check_owned_directory(path, argument: str, marker_format, patterns) -> str:
    """What directory `path` is, refusing one the tool may not write into.

    Returns `"absent"` (nothing there), `"empty"` (nothing but a `RunLock`'s
    file) or `"ours"` (its marker is the tool's and every entry matches
    `patterns`). Raises `ValueError`
    naming the path for a file, or for a directory holding anything else.

    Args:
        path: The directory.
        argument: The option that named it, for messages.
        marker_format: `callable(path) -> bool`: whether the directory's
            marker file carries the tool's format tag.
        patterns: Glob patterns of the entries the tool writes there.
    """
    path = os.fspath(path)
    if not os.path.lexists(path):
        return "absent"
    if os.path.islink(path) or not os.path.isdir(path):
        raise ValueError(
            f"Expected `{argument}` to be a directory the tool can create. Received: "
            f"{argument}={path!r}, which exists and is not a directory"
        )
    entries = [entry for entry in os.listdir(path) if entry != LOCK_FILE]
    if not entries:
        return "empty"
    foreign = foreign_entries(path, patterns)
    if not marker_format(path) or foreign:
        example = foreign[0] if foreign else sorted(entries)[0]
        raise ValueError(
            f"Expected `{argument}` to be a new directory or one written by "
            f"keras-lstm-cell. Received: {argument}={path!r}, which holds files it "
            f"did not write (e.g. {example!r}); choose another directory"
        )
    return "ours"


def clear_directory(path, patterns, keep=()) -> None:
    """Deletes the entries of `path` that match `patterns`, except `keep`."""
    path = os.fspath(path)
    for entry in os.scandir(path):
        if entry.name in keep:
            continue
        if any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in patterns):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.remove(entry.path)


def remove_stale_files(directory) -> None:
    """Removes the temporary files that crashed atomic writes left in `directory`."""
    for entry in os.scandir(os.fspath(directory)):
        if fnmatch.fnmatchcase(entry.name, _TEMPORARY_FILES) and entry.is_file():
            os.remove(entry.path)


def prepare_run_directory(logdir, marker_format, patterns, resume: bool, overwrite: bool):
    """Readies `logdir` for a run that holds its `RunLock`: refuses a run of the
    tool that appeared since the first check (unless resuming or told to
    overwrite), clears the tool's own `patterns` with `overwrite`, and removes
    temporary files an earlier run left."""
    state = check_owned_directory(logdir, "logdir", marker_format, patterns)
    if state == "ours" and not resume and not overwrite:
        raise ValueError(
            f"Expected `logdir` to be a new directory. Received: logdir={logdir!r}, "
            "which another run has just written"
        )
    if overwrite:
        clear_directory(logdir, patterns, keep=(LOCK_FILE,))
    remove_stale_files(logdir)


class RunLock:
    """Holds a run directory for one writer: a second one is refused at once.

    An OS file lock (`filelock`, `flock` on Unix) on `LOCK_FILE` inside the
    directory; the operating system releases it when the process ends, even
    by `kill -9`, so a crashed run never blocks the next one.
    """

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self._lock = filelock.FileLock(os.path.join(self.directory, LOCK_FILE), timeout=0)

    def __enter__(self) -> RunLock:
        try:
            self._lock.acquire()
        except filelock.Timeout:
            raise ValueError(
                f"Expected no other keras-lstm-cell run writing {self.directory!r}. "
                "Received: it is locked by a running process; wait for it to end or "
                "choose another --name"
            ) from None
        except OSError as e:
            if e.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise ValueError(
                    f"Expected a writable run directory. Received: {self.directory!r} "
                    f"({e.strerror})"
                ) from e
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self._lock.release()


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
