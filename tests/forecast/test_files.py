"""Safe writes: plain names, separate directories, ownership, the run lock, stale temporaries."""

import os
import subprocess
import sys

import pytest

from keras_lstm_cell.forecast.files import RunLock
from keras_lstm_cell.forecast.files import check_owned_directory
from keras_lstm_cell.forecast.files import check_plain_name
from keras_lstm_cell.forecast.files import check_separate
from keras_lstm_cell.forecast.files import clear_directory
from keras_lstm_cell.forecast.files import make_temporary_directory
from keras_lstm_cell.forecast.files import remove_stale_temporaries
from keras_lstm_cell.forecast.files import replace_directory
from keras_lstm_cell.forecast.files import write_json_atomic


@pytest.mark.parametrize("name", ["run", "btc-2019_v2", "a.b", "été", "x+y", "9"])
def test_plain_names(name):
    assert check_plain_name(name) == name


@pytest.mark.parametrize(
    "name", ["", ".", "..", ".hidden", "-flag", "a/b", "../x", "/abs", "a\\b", "a b", "a\udcff"]
)
def test_names_that_are_paths_are_refused(name):
    with pytest.raises(ValueError, match=r"`name` to be a plain name: .* Received: name="):
        check_plain_name(name)


# 230 bytes: 255, a file name's limit, less `.NAME.tmp-PID-XXXXXXXX`'s 25 around NAME.
@pytest.mark.parametrize(
    "longest, too_long", [("x" * 230, "x" * 231), ("é" * 115, "é" * 115 + "x")]
)
def test_names_are_limited_in_bytes_with_room_for_the_temporaries(tmp_path, longest, too_long):
    with pytest.raises(
        ValueError, match=r"at most 230 bytes in UTF-8\). Received: .* \(231 bytes\)"
    ):
        check_plain_name(too_long)
    # The longest name still leaves room for the export's temporary and backup.
    destination = tmp_path / check_plain_name(longest)
    destination.mkdir()
    replacement = make_temporary_directory(destination)
    assert os.path.basename(replacement).startswith(f".{longest}.tmp-{os.getpid()}-")
    replace_directory(replacement, destination)  # moves the old one to `.NAME.old-PID-*`
    assert os.listdir(tmp_path) == [longest]


@pytest.mark.parametrize(
    "logdir, export, relation",
    [("same", "same", "the same directory"), ("a", "a/b", "nested"), ("a/b/c", "a", "nested")],
)
def test_output_directories_must_be_separate(tmp_path, logdir, export, relation):
    with pytest.raises(ValueError, match=rf"separate directories. .*\({relation}\)"):
        check_separate({"logdir": tmp_path / logdir, "export": tmp_path / export})
    check_separate({"logdir": tmp_path / "a", "export": tmp_path / "ab"})  # a prefix only
    check_separate({"logdir": tmp_path / "a", "export": None})


def _ours(path):
    return os.path.isfile(os.path.join(path, "marker.json"))


def test_owned_directory_states(tmp_path):
    patterns = ("marker.json", "history.csv", "train")
    assert check_owned_directory(tmp_path / "none", "logdir", _ours, patterns) == "absent"
    (tmp_path / "empty").mkdir()
    assert check_owned_directory(tmp_path / "empty", "logdir", _ours, patterns) == "empty"
    ours = tmp_path / "ours"
    (ours / "train").mkdir(parents=True)
    write_json_atomic(ours / "marker.json", {})
    assert check_owned_directory(ours, "logdir", _ours, patterns) == "ours"

    (ours / "thesis.tex").write_text("")
    with pytest.raises(ValueError, match=r"logdir=.* holds files it did not write \(e.g. 'thesis"):
        check_owned_directory(ours, "logdir", _ours, patterns)
    unmarked = tmp_path / "unmarked"
    unmarked.mkdir()
    (unmarked / "history.csv").write_text("")
    with pytest.raises(ValueError, match=r"e.g. 'history.csv'"):
        check_owned_directory(unmarked, "logdir", _ours, patterns)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"export=.* exists and is not a directory"):
        check_owned_directory(tmp_path / "file", "export", _ours, patterns)

    clear_directory(ours, patterns)
    assert os.listdir(ours) == ["thesis.tex"]  # only what matches the tool's names goes


def test_a_locked_run_directory_is_refused_at_once(tmp_path):
    with RunLock(tmp_path):
        with pytest.raises(ValueError, match=r"Received: it is locked by a running process"):
            with RunLock(tmp_path):
                pass
    with RunLock(tmp_path):  # released
        pass


def test_a_killed_writer_leaves_no_lock(tmp_path):
    holder = (
        "import os, sys\n"
        "from keras_lstm_cell.forecast.files import RunLock\n"
        "RunLock(sys.argv[1]).__enter__()\n"
        "os._exit(0)  # no release: as if killed\n"
    )
    subprocess.run([sys.executable, "-c", holder, str(tmp_path)], check=True, timeout=120)
    with RunLock(tmp_path):
        pass


def test_stale_temporaries_of_dead_writers_only(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / f".model.tmp-{dead.pid}-abc").mkdir()
    (tmp_path / f".model.old-{dead.pid}-def").mkdir()
    (tmp_path / f".model.tmp-{os.getpid()}-ghi").mkdir()  # this process: alive
    (tmp_path / f".other.tmp-{dead.pid}-jkl").mkdir()  # another export's
    (tmp_path / ".model.tmp-notes").mkdir()  # not the tool's pattern
    removed = remove_stale_temporaries(tmp_path / "model")
    assert sorted(os.path.basename(p) for p in removed) == [
        f".model.old-{dead.pid}-def",
        f".model.tmp-{dead.pid}-abc",
    ]
    assert sorted(os.listdir(tmp_path)) == sorted(
        [f".model.tmp-{os.getpid()}-ghi", f".other.tmp-{dead.pid}-jkl", ".model.tmp-notes"]
    )
