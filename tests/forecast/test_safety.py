"""The tool never deletes, overwrites or corrupts what it did not write.

Each case runs `keras-lstm-cell` as a user does: a subprocess, in a working
directory that also holds the user's own files, with TensorFlow's C++ log
level left unset (so a machine whose CUDA libraries find no GPU would print
its `cuInit` line if the tool let it). Each asserts the exit code, the one
line on stderr, and that every file the tool did not write survives.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.record import read_history
from keras_lstm_cell.forecast.timeseries import TimeSeries

SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMITTED = os.path.join(REPO, "saved_models", "seattle_weather")
TINY = ["--csv", "weather.csv", "--target", "temp_max", "--epochs", "1", "--units", "4"]
ENV = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
# The user's files, which every case must leave as they are.
BYSTANDERS = {
    "notes.txt": "my notes",
    "thesis/chapter1.tex": "years of work",
    "victim/data.txt": "keep me",
    "runs/mine/notes.md": "my own run notes",
}


def _digest(root):
    found = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return found


@pytest.fixture
def workdir(tmp_path):
    frame = TimeSeries.default().frame.iloc[:150]
    frame.reset_index().to_csv(tmp_path / "weather.csv", index=False)
    for name, text in BYSTANDERS.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def run(workdir, *args, timeout=240):
    return subprocess.run(
        [SCRIPT, *args], cwd=workdir, env=ENV, capture_output=True, text=True, timeout=timeout
    )


def assert_refused(done, message):
    """Exit code 2 and exactly one line on stderr, matching `message`."""
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert message in lines[0], lines[0]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--name", ".."], "Expected `name` to be a plain name"),
        (["--name", "."], "Received: name='.'"),
        (["--name", "../../somewhere"], "Received: name='../../somewhere'"),
        (["--name", "/tmp/absolute"], "Received: name='/tmp/absolute'"),
        (
            ["--name", "v", "--export", "victim"],
            "holds files it did not write (e.g. 'data.txt'); choose another directory",
        ),
        (
            ["--logdir", "runs/mine"],
            "holds files it did not write (e.g. 'notes.md')",
        ),
        (
            ["--logdir", "same", "--export", "same"],
            "Expected `logdir` and `export` to be separate directories. Received: "
            "logdir='same' and export='same' (the same directory)",
        ),
        (
            ["--logdir", "out", "--export", "out/model"],
            "(nested)",
        ),
        (["--export", "."], "to be separate directories"),
        (["--learning-rate", "inf"], "finite positive number. Received: learning_rate=inf"),
        (["--global-clipnorm", "nan"], "Received: global_clipnorm=nan"),
        (["--seed", "-1"], "`seed` to be an integer in [0, 4294967295]. Received: seed=-1"),
        (["--resume", "--overwrite"], "argument --overwrite: not allowed with argument --resume"),
        (["--units", "100000000000"], "Expected a model and data that fit in memory"),
    ],
)
def test_refused_before_anything_is_written(workdir, args, message):
    before = _digest(workdir)
    assert_refused(run(workdir, "train", *TINY, *args), message)
    assert _digest(workdir) == before  # nothing written, nothing lost
    assert sorted(os.listdir(workdir / "runs")) == ["mine"]
    assert not (workdir / "saved_models").exists()


@pytest.mark.parametrize(
    "value, message",
    [
        ("inf", "Received: 'inf' in data row 3"),
        ("-inf", "Received: '-inf' in data row 3"),
        ("1e308", "Received: '1e308' in data row 3"),
    ],
)
def test_values_that_would_overflow_are_refused(workdir, value, message):
    lines = (workdir / "weather.csv").read_text().splitlines()
    cells = lines[3].split(",")
    cells[1] = value  # temp_max of the third data row
    lines[3] = ",".join(cells)
    (workdir / "weather.csv").write_text("\n".join(lines) + "\n")
    before = _digest(workdir)
    done = run(workdir, "train", *TINY)
    assert_refused(done, "finite values of at most 1e+30 in magnitude in column 'temp_max'")
    assert message in done.stderr
    assert _digest(workdir) == before


def test_a_diverging_run_is_marked_failed_and_exports_nothing(workdir):
    args = ["--learning-rate", "1e30", "--no-clip", "--epochs", "3", "--name", "nan"]
    done = run(workdir, "train", *TINY, *args)
    assert_refused(done, "Expected a finite training loss. Received: loss=")
    record = json.loads((workdir / "runs" / "nan" / "run.json").read_text())
    assert record["status"] == "failed"
    assert not (workdir / "saved_models").exists()
    # A bare --resume does not pick it; by name it says what to do.
    assert_refused(run(workdir, "train", "--resume"), "Expected an interrupted run under runs/")
    assert_refused(
        run(workdir, "train", "--resume", "--name", "nan"), "which failed; train it again"
    )


def test_an_export_of_the_same_name_is_replaced_only_with_overwrite(workdir):
    shutil.copytree(COMMITTED, workdir / "saved_models" / "seattle_weather")
    committed = _digest(workdir / "saved_models" / "seattle_weather")
    done = run(workdir, "train", *TINY, "--name", "seattle_weather")
    assert_refused(done, "which holds another keras-lstm-cell export; choose another --name")
    assert _digest(workdir / "saved_models" / "seattle_weather") == committed
    assert not (workdir / "runs" / "seattle_weather").exists()

    # The SavedModel alone: the runtime files' conversion is not what is tested here.
    alone = "--no-runtime-exports"
    done = run(workdir, "train", *TINY, "--name", "seattle_weather", "--overwrite", alone)
    assert done.returncode == 0, done.stderr
    metadata = json.loads((workdir / "saved_models/seattle_weather/forecast.json").read_text())
    assert metadata["data"]["rows"] == 150  # the new run's export
    assert [p for p in os.listdir(workdir / "saved_models") if p.startswith(".")] == []
    # --overwrite replaces the tool's run too, and nothing of the user's.
    first = json.loads((workdir / "runs/seattle_weather/run.json").read_text())["run_id"]
    done = run(workdir, "train", *TINY, "--name", "seattle_weather", "--overwrite", alone)
    assert done.returncode == 0, done.stderr
    second = json.loads((workdir / "runs/seattle_weather/run.json").read_text())["run_id"]
    assert second != first
    assert read_history(workdir / "runs" / "seattle_weather")["epoch"] == [0]
    for name, text in BYSTANDERS.items():
        assert (workdir / name).read_text() == text


def test_a_validation_loss_that_overflows_fails_the_run(workdir):
    # Within the accepted range, but 1e28 training standard deviations away:
    # its squared error overflows float32.
    lines = (workdir / "weather.csv").read_text().splitlines()
    cells = lines[115].split(",")
    cells[1] = "1e29"  # temp_max, a validation target
    lines[115] = ",".join(cells)
    (workdir / "weather.csv").write_text("\n".join(lines) + "\n")
    done = run(workdir, "train", *TINY, "--name", "spike")
    assert_refused(done, "Expected a finite validation loss. Received: val_loss=inf at epoch 1")
    record = json.loads((workdir / "runs" / "spike" / "run.json").read_text())
    assert record["status"] == "failed"
    assert not (workdir / "saved_models").exists()


def test_a_second_run_of_the_same_name_waits_for_none(workdir):
    first = subprocess.Popen(
        [SCRIPT, "train", *TINY, "--name", "r", "--epochs", "500", "--patience", "500"],
        cwd=workdir,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        history = workdir / "runs" / "r" / "history.csv"
        deadline = time.monotonic() + 120
        while not history.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert history.is_file()
        done = run(workdir, "train", *TINY, "--name", "r")
        assert_refused(done, "Received: it is locked by a running process")
        done = run(workdir, "train", "--resume", "--name", "r")
        assert_refused(done, "Received: it is locked by a running process")
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 130
    record = json.loads((workdir / "runs" / "r" / "run.json").read_text())
    epochs = read_history(workdir / "runs" / "r")["epoch"]
    assert epochs == list(range(len(epochs)))  # one writer: no interleaved rows
    assert record["status"] == "training"


def test_a_crashed_export_is_cleaned_up_by_the_next_run(workdir):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = workdir / "saved_models" / f".m.tmp-{dead.pid}-x1y2z3"
    (stale / "model" / "variables").mkdir(parents=True)
    done = run(workdir, "train", *TINY, "--name", "m")
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(workdir / "saved_models")) == ["m"]


def test_damaged_records_are_one_line_errors(workdir):
    done = run(workdir, "train", *TINY, "--name", "d")
    assert done.returncode == 0, done.stderr
    metadata_path = workdir / "saved_models" / "d" / "forecast.json"
    metadata = json.loads(metadata_path.read_text())
    del metadata["horizon"]
    metadata_path.write_text(json.dumps(metadata))
    for command in ("predict", "evaluate"):
        assert_refused(
            run(workdir, command, "--model", "saved_models/d"),
            "forecast.json is damaged: no 'horizon'",
        )
    (workdir / "runs" / "d" / "run.json").write_text("{")
    assert_refused(
        run(workdir, "train", "--resume", "--name", "d"),
        f"Expected {os.path.join('runs', 'd', 'run.json')!r} to be a keras-lstm-cell run record",
    )


def test_predict_refuses_a_window_that_is_not_finite(workdir):
    done = run(workdir, "train", *TINY, "--name", "p")
    assert done.returncode == 0, done.stderr
    lines = (workdir / "weather.csv").read_text().splitlines()
    cells = lines[-2].split(",")
    cells[1] = "1e300"
    lines[-2] = ",".join(cells)
    (workdir / "new.csv").write_text("\n".join(lines) + "\n")
    done = run(workdir, "predict", "--model", "saved_models/p", "--csv", "new.csv")
    assert_refused(done, "Received: '1e300' in data row 149")
    (workdir / "dir.csv").mkdir()
    done = run(workdir, "predict", "--model", "saved_models/p", "--csv", "dir.csv")
    assert_refused(done, "Received: csv='dir.csv' (a directory)")


# --- Stopped at any stage, resumed from that stage (in process) ---------------


@pytest.fixture
def inprocess(workdir, monkeypatch):
    monkeypatch.chdir(workdir)
    return workdir


def test_interrupted_export_resumes_without_training_again(inprocess, capsys, monkeypatch):
    exported = training.export_forecaster

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "export_forecaster", interrupted)
    argv = ["train", *TINY, "--epochs", "3", "--name", "e", "--verbose", "0"]
    assert cli.main(argv) == 130
    assert capsys.readouterr().err.splitlines() == [
        "keras-lstm-cell: interrupted after training (3 epochs), before the export; "
        f"continue with: keras-lstm-cell train --resume --logdir {os.path.join('runs', 'e')}"
    ]
    record = json.loads((inprocess / "runs" / "e" / "run.json").read_text())
    assert record["status"] == "trained" and not (inprocess / "runs" / "e" / "backup").exists()
    best = (inprocess / "runs" / "e" / "checkpoints" / "best.weights.h5").read_bytes()

    monkeypatch.setattr(training, "export_forecaster", exported)
    assert cli.main(["train", "--resume", "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "Epoch" not in out and "Trained 3 epochs" in out
    assert read_history(inprocess / "runs" / "e")["epoch"] == [0, 1, 2]
    assert (inprocess / "runs" / "e" / "checkpoints" / "best.weights.h5").read_bytes() == best
    record = json.loads((inprocess / "runs" / "e" / "run.json").read_text())
    assert record["status"] == "finished"
    metadata = json.loads((inprocess / "saved_models" / "e" / "forecast.json").read_text())
    assert metadata["run_id"] == record["run_id"]
    assert metadata["format"] == "keras-lstm-cell forecast"  # not the run record's tag
    assert cli.main(["predict", "--model", os.path.join("saved_models", "e")]) == 0
    assert "Forecast of 'temp_max'" in capsys.readouterr().out
    for name, text in BYSTANDERS.items():
        assert (inprocess / name).read_text() == text


def _interrupt_export(monkeypatch, *args):
    """Runs `train TINY --epochs 3 *args` with its export interrupted: the
    run is left "trained". Returns the exit code."""
    exported = training.export_forecaster

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "export_forecaster", interrupted)
    try:
        return cli.main(["train", *TINY, "--epochs", "3", "--verbose", "0", *args])
    finally:
        monkeypatch.setattr(training, "export_forecaster", exported)


def _refused_in_process(capsys, argv, *fragments):
    capsys.readouterr()
    assert cli.main(argv) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_a_resumed_run_refuses_data_changed_since_it_started(inprocess, capsys, monkeypatch):
    assert _interrupt_export(monkeypatch, "--name", "c") == 130
    text = (inprocess / "weather.csv").read_text()
    (inprocess / "weather.csv").write_text(text.replace(",", ",1", 1))  # a header edit
    _refused_in_process(
        capsys,
        ["train", "--resume", "--name", "c"],
        f"Expected the training data at {str(inprocess / 'weather.csv')!r} unchanged since "
        "the run started (its SHA-256 is in run.json). Received: a different file",
    )
    assert not (inprocess / "saved_models" / "c").exists()
    (inprocess / "weather.csv").write_text(text)  # the same bytes again: it goes on
    assert cli.main(["train", "--resume", "--name", "c", "--verbose", "0"]) == 0


def test_a_run_resumed_from_another_directory_writes_where_it_started(
    inprocess, capsys, monkeypatch, tmp_path_factory
):
    assert _interrupt_export(monkeypatch, "--name", "w") == 130
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    argv = ["train", "--resume", "--logdir", str(inprocess / "runs" / "w"), "--verbose", "0"]
    assert cli.main(argv) == 0
    assert os.listdir(elsewhere) == []
    metadata = json.loads((inprocess / "saved_models" / "w" / "forecast.json").read_text())
    assert metadata["training_data"]["path"] == str(inprocess / "weather.csv")


def test_an_interrupted_overwrite_run_resumes_and_replaces_its_export(
    inprocess, capsys, monkeypatch
):
    assert cli.main(["train", *TINY, "--name", "o", "--verbose", "0"]) == 0
    assert _interrupt_export(monkeypatch, "--name", "o", "--overwrite") == 130
    assert cli.main(["train", "--resume", "--name", "o", "--verbose", "0"]) == 0
    record = json.loads((inprocess / "runs" / "o" / "run.json").read_text())
    metadata = json.loads((inprocess / "saved_models" / "o" / "forecast.json").read_text())
    assert metadata["run_id"] == record["run_id"]
    assert read_history(inprocess / "runs" / "o")["epoch"] == [0, 1, 2]


def test_damaged_resume_states_are_one_line_errors(inprocess, capsys, monkeypatch):
    assert _interrupt_export(monkeypatch, "--name", "s") == 130
    run_json = inprocess / "runs" / "s" / "run.json"
    history = inprocess / "runs" / "s" / "history.csv"
    trained, rows = json.loads(run_json.read_text()), history.read_text()
    argv = ["train", "--resume", "--name", "s"]
    record_path = os.path.join("runs", "s", "run.json")
    history_path = os.path.join("runs", "s", "history.csv")

    run_json.write_text(json.dumps({k: v for k, v in trained.items() if k != "training"}))
    _refused_in_process(
        capsys,
        argv,
        f"Expected {record_path!r} to be a keras-lstm-cell run record",
        "Received: status 'trained' without a valid 'training' entry",
    )
    run_json.write_text(json.dumps({**trained, "status": "training"}))
    for damaged, why in [
        ("a,b\n1,2\n", "Received: columns ['a', 'b'], no 'epoch'"),
        ("epoch,loss,val_loss\nx,1,2\n", "values that are not numbers in column 'epoch'"),
        ('epoch,loss\n"0,1\n', "Received: unreadable CSV"),
        ("epoch,loss\n0,1\n2,1\n", "epochs that are not 0, 1, 2, ... in order"),
    ]:
        history.write_text(damaged)
        _refused_in_process(capsys, argv, f"Expected {history_path!r} to be the run's history", why)
    history.write_text(rows)
    _refused_in_process(
        capsys,
        [*argv, "--epochs", "2"],
        "Expected `epochs` of at least the 3 epochs the run has finished. Received: epochs=2",
    )


def test_a_long_file_name_gives_a_default_name_that_can_be_exported(inprocess, capsys):
    long_csv = "d" * 240 + ".csv"
    shutil.copy(inprocess / "weather.csv", inprocess / long_csv)
    argv = ["train", "--csv", long_csv, "--target", "temp_max", "--epochs", "1", "--units", "4"]
    assert cli.main([*argv, "--verbose", "0"]) == 0
    (name,) = os.listdir(inprocess / "saved_models")
    assert name.startswith("d" * 100 + "-") and not name.startswith("d" * 101)
    assert sorted(os.listdir(inprocess / "runs")) == sorted(["mine", name])
