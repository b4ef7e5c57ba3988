"""Written is durable: each file is flushed to the disk before it counts as done.

`os.fsync` and `os.replace` are watched during a run: a file must be flushed
before the rename that puts it in place (under its temporary name), and the
folder it was renamed in after, or a power cut could leave a record that
names a file the disk never received.
"""

import os
import sys

import pytest
from _runs import first_days
from _runs import tiny

from keras_lstm_cell.forecast import files
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.data import prepare_data

pytestmark = pytest.mark.skipif(
    not os.path.isdir("/proc/self/fd"), reason="names a descriptor's file through /proc"
)


@pytest.fixture
def events(monkeypatch):
    """What `os.fsync` flushed and `os.replace` renamed, in order:
    `("fsync", path)` and `("replace", source, destination)`, real paths."""
    seen = []
    fsync, replace = os.fsync, os.replace

    def watched_fsync(fd):
        seen.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return fsync(fd)

    def watched_replace(source, destination, **kwargs):
        seen.append(("replace", _real(source), _real(destination)))
        return replace(source, destination, **kwargs)

    monkeypatch.setattr(os, "fsync", watched_fsync)
    monkeypatch.setattr(os, "replace", watched_replace)
    return seen


def _real(path) -> str:
    return os.path.realpath(os.fspath(path))


def _synced(events, path, before=None, after=-1) -> bool:
    return any(
        event == ("fsync", path)
        for k, event in enumerate(events)
        if after < k < (len(events) if before is None else before)
    )


def _last_rename(events, destination) -> tuple[int, str]:
    """The index and source of the last rename to `destination`."""
    for k in range(len(events) - 1, -1, -1):
        if events[k][0] == "replace" and events[k][2] == destination:
            return k, events[k][1]
    raise AssertionError(f"{destination} was never renamed into place")


def _check_renamed_file(events, path) -> None:
    """`path` flushed under its temporary name before its last rename, its folder after."""
    path = _real(path)
    k, source = _last_rename(events, path)
    assert _synced(events, source, before=k), f"{path} not flushed before its rename"
    assert _synced(events, os.path.dirname(path), after=k), f"{path}'s folder not flushed"


def test_write_bytes_atomic_flushes_the_file_then_its_folder(tmp_path, events):
    files.write_bytes_atomic(tmp_path / "a.txt", b"x")
    [(_, temporary), rename, folder] = events
    assert rename == ("replace", temporary, _real(tmp_path / "a.txt"))
    assert folder == ("fsync", _real(tmp_path))


def test_directory_sync_is_skipped_where_the_platform_has_none(tmp_path, monkeypatch, events):
    monkeypatch.delattr(os, "O_DIRECTORY")  # as on Windows
    files.sync_directory(tmp_path)
    assert events == []


def test_replace_directory_flushes_the_tree_first(tmp_path, events):
    source = tmp_path / "new"
    (source / "variables").mkdir(parents=True)
    (source / "saved_model.pb").write_bytes(b"pb")
    (source / "variables" / "v.data").write_bytes(b"v")
    files.replace_directory(source, tmp_path / "export")
    k, _ = _last_rename(events, _real(tmp_path / "export"))
    for flushed in ("saved_model.pb", "variables/v.data", "variables", ""):
        assert _synced(events, _real(source / flushed), before=k), flushed
    assert _synced(events, _real(tmp_path), after=k)


def test_a_run_and_its_export_are_flushed(tmp_path, events):
    config = tiny(epochs=1, units=2)
    logdir, export_dir = tmp_path / "runs" / "d", tmp_path / "saved_models" / "d"
    run = training.train(
        config,
        logdir=logdir,
        export_dir=export_dir,
        data=prepare_data(config, first_days()),
        verbose=0,
    )
    assert run.record.status == "finished"
    for path in (logdir / "run.json", logdir / "forecast.png"):
        _check_renamed_file(events, path)
    # What Keras wrote, once training ended: before run.json said "trained".
    last_record, _ = _last_rename(events, _real(logdir / "run.json"))
    for written in ("checkpoints/best.weights.h5", "history.csv", "checkpoints"):
        assert _synced(events, _real(logdir / written), before=last_record), written

    # The export: every file of the SavedModel, forecast.json and the runtime
    # files flushed in the temporary folder before it was renamed into place.
    k, temporary = _last_rename(events, _real(export_dir))
    exported = sorted(
        os.path.relpath(os.path.join(folder, name), export_dir)
        for folder, _, names in os.walk(export_dir)
        for name in names
    )
    assert {"forecast.json", "forecaster.tflite", "forecaster.onnx", "saved_model.pb"} <= set(
        exported
    )
    for name in exported:
        assert _synced(events, os.path.join(temporary, name), before=k), name
        assert _synced(events, os.path.dirname(os.path.join(temporary, name)), before=k)
    assert _synced(events, os.path.dirname(_real(export_dir)), after=k)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX directory descriptors")
def test_a_file_system_that_cannot_sync_a_folder_is_passed_quietly(tmp_path, monkeypatch):
    def refuse(fd):
        raise OSError(22, "Invalid argument")

    monkeypatch.setattr(os, "fsync", refuse)
    files.sync_directory(tmp_path)  # no error
