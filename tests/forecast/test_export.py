"""SavedModel export: original units in and out, TensorFlow alone, and the committed model."""

import dataclasses
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import export
from keras_lstm_cell.forecast import serving
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.model import Forecaster
from keras_lstm_cell.forecast.model import build_model
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMITTED = os.path.join(REPO, "saved_models", "seattle_weather")
# What the committed model forecasts for 2016-01-01 from 2015-12-25 .. 2015-12-31.
COMMITTED_FORECAST = 5.5817
TF_ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
LONGEST_STEP = "106751 days 23:47:16.854775807"  # pd.Timedelta.max: twice is too long


@pytest.fixture(scope="module")
def series():
    full = TimeSeries.default(features=["temp_min"])
    return dataclasses.replace(full, frame=full.frame.iloc[:150])


@pytest.fixture(scope="module")
def exported(series, tmp_path_factory):
    root = tmp_path_factory.mktemp("export")
    csv = root / "weather.csv"
    series.frame.reset_index().to_csv(csv, index=False)
    config = ForecastConfig(
        csv=str(csv),
        target="temp_max",
        features=("temp_min",),
        horizon=2,
        units=4,
        epochs=2,
        seed=5,
    )
    run = training.train(config, logdir=root / "run", export_dir=root / "model", verbose=0)
    return run, str(root / "model")


def test_serve_equals_the_model_in_original_units(exported):
    run, path = exported
    x, _ = run.data.raw("test")
    loaded = tf.saved_model.load(path)  # keep a reference: it owns the variables
    served = loaded.serve(x).numpy()
    np.testing.assert_allclose(served, run.forecaster.predict(x, verbose=0), rtol=1e-5)
    # The same numbers from the network in model units, unscaled outside the graph.
    xs, _ = run.data.scaled("test")
    by_hand = run.data.scaler.unscale_targets(run.network.predict(xs, verbose=0), x)
    np.testing.assert_allclose(served, np.asarray(by_hand), rtol=1e-5)
    assert served.shape == (len(x), 2)
    # Original units: near the temperatures, not near 0.
    assert abs(served.mean() - run.data.raw("test")[1].mean()) < 5


def test_forecast_json_records_the_run(exported, series):
    run, path = exported
    with open(os.path.join(path, "forecast.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    assert metadata["format"] == export.FORMAT and metadata["format_version"] == 4
    assert metadata["columns"] == ["temp_max", "temp_min"]
    assert (metadata["target"], metadata["window"], metadata["horizon"]) == ("temp_max", 7, 2)
    assert metadata["step"] == "1 days 00:00:00"
    assert metadata["config"]["seed"] == 5
    assert metadata["data"]["last_date"] == "2012-05-29 00:00:00"
    assert metadata["last_window"]["dates"][-1] == "2012-05-29 00:00:00"
    assert metadata["last_window"]["forecast_dates"] == [
        "2012-05-30 00:00:00",
        "2012-05-31 00:00:00",
    ]
    np.testing.assert_array_equal(metadata["last_window"]["values"], series.values[-7:])
    assert metadata["metrics"]["test"] == json.loads(json.dumps(run.evaluation.to_dict()))
    assert WindowScaler.from_config(metadata["scaler"]) == run.data.scaler


def test_saved_model_cli_lists_the_signature(exported):
    _, path = exported
    tool = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    shown = subprocess.run(
        [tool, "show", "--dir", path, "--all"],
        capture_output=True,
        text=True,
        env=TF_ENV,
        timeout=120,
        check=True,
    ).stdout
    serving = shown[shown.index("signature_def['serving_default']") :]
    assert "inputs['windows'] tensor_info:" in serving
    assert "shape: (-1, 7, 2)" in serving
    assert "shape: (-1, 2)" in serving
    assert "signature_def['serve']" in shown


def test_tensorflow_alone_runs_the_export(exported):
    run, path = exported
    x = run.data.raw("test")[0][:3]
    script = (
        "import json, sys, numpy as np, tensorflow as tf\n"
        f"model = tf.saved_model.load({path!r})\n"
        f"out = model.serve(np.array({x.tolist()!r}, 'float32')).numpy()\n"
        "assert not any(m.startswith('keras_lstm_cell') for m in sys.modules)\n"
        "print(json.dumps(out.tolist()))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=TF_ENV,
        timeout=120,
        check=True,
        cwd="/",
    )
    served = np.array(json.loads(done.stdout.strip().splitlines()[-1]))
    np.testing.assert_allclose(served, run.forecaster.predict(x, verbose=0), rtol=1e-5)


def test_next_forecast_and_evaluate(exported, series, tmp_path):
    run, path = exported
    frame, metadata = serving.next_forecast(path)
    assert list(frame.index) == [pd.Timestamp("2012-05-30"), pd.Timestamp("2012-05-31")]
    np.testing.assert_allclose(frame["temp_max"], metadata["last_window"]["forecast"], rtol=1e-6)
    # The same rows from a CSV give the same forecast.
    csv = tmp_path / "tail.csv"
    series.frame.iloc[-20:].reset_index().to_csv(csv, index=False)
    from_csv, _ = serving.next_forecast(path, csv)
    pd.testing.assert_frame_equal(from_csv, frame)

    evaluation, described = serving.evaluate_export(path)
    assert described["windows"] == run.evaluation.count // 2
    for name, row in run.evaluation.scores.items():
        assert evaluation.scores[name] == pytest.approx(row, rel=1e-5, nan_ok=True)


def test_a_savedmodel_that_is_not_ours(tmp_path):
    foreign = tmp_path / "foreign"
    module = tf.Module()
    module.serve = tf.function(lambda x: x * 2, input_signature=[tf.TensorSpec([None], tf.float32)])
    tf.saved_model.save(module, str(foreign))
    with pytest.raises(
        ValueError, match=r"written by `keras-lstm-cell train --export`.*no forecast"
    ):
        serving.load_export(foreign)
    (foreign / "forecast.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match=r"is not a 'keras-lstm-cell forecast' record"):
        serving.load_export(foreign)
    with pytest.raises(ValueError, match=r"Received: model='.*missing' \(no such directory\)"):
        serving.load_export(tmp_path / "missing")


def test_export_is_all_or_nothing(exported, tmp_path, monkeypatch):
    run, path = exported
    with open(os.path.join(path, "forecast.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    metadata = {k: v for k, v in metadata.items() if k not in ("format", "format_version")}
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match=r"`export` to be a directory path .* is a file"):
        export.export_forecaster(run.forecaster, tmp_path / "file" / "model", metadata)

    target = tmp_path / "model"
    shutil.copytree(path, target)  # an earlier export of the tool
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Forecaster, "export", broken)
    with pytest.raises(OSError, match="disk full"):
        export.export_forecaster(run.forecaster, target, metadata, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["file", "model"]  # no temporary left
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before  # untouched
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"holds another keras-lstm-cell export; .* --overwrite"):
        export.export_forecaster(run.forecaster, target, {**metadata, "run_id": "another run"})
    export.export_forecaster(run.forecaster, target, metadata, overwrite=True)
    assert (target / "forecast.json").stat().st_mtime_ns > before["forecast.json"]
    assert sorted(os.listdir(tmp_path)) == ["file", "model"]


def test_a_runtime_file_beyond_tolerance_fails_the_export(exported, tmp_path, monkeypatch):
    run, path = exported
    with open(os.path.join(path, "forecast.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    target = tmp_path / "model"
    shutil.copytree(path, target)  # an earlier export of the tool
    before = {p.name: p.stat().st_mtime_ns for p in target.iterdir()}
    # A file of another forecaster: the same shapes, fresh weights.
    other = Forecaster(keras.models.clone_model(run.network), run.data.scaler)
    other(run.data.raw("test")[0][:1])
    write = export.write_runtime_file
    monkeypatch.setattr(export, "write_runtime_file", lambda _, *args: write(other, *args))
    with pytest.raises(ValueError, match=r"Expected forecaster.onnx to forecast as the Keras"):
        export.export_forecaster(
            run.forecaster,
            target,
            metadata,
            overwrite=True,
            runtimes=["onnx"],
            windows=run.data.raw("test")[0],
        )
    assert sorted(os.listdir(tmp_path)) == ["model"]  # no temporary left
    assert {p.name: p.stat().st_mtime_ns for p in target.iterdir()} == before


def test_export_never_replaces_what_the_tool_did_not_write(exported, tmp_path):
    run, path = exported
    with open(os.path.join(path, "forecast.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "thesis.tex").write_text("years of work")
    for overwrite in (False, True):
        with pytest.raises(ValueError, match=r"holds files it did not write \(e.g. 'thesis.tex'\)"):
            export.export_forecaster(run.forecaster, victim, metadata, overwrite=overwrite)
    assert os.listdir(victim) == ["thesis.tex"]
    # An export with a file of the user's added is not the tool's alone any more.
    mixed = tmp_path / "mixed"
    shutil.copytree(path, mixed)
    (mixed / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"e.g. 'notes.txt'"):
        export.export_forecaster(run.forecaster, mixed, metadata, overwrite=True)
    assert (mixed / "notes.txt").read_text() == "mine"


def test_a_crashed_export_leaves_no_temporary_for_good(exported, tmp_path):
    run, path = exported
    with open(os.path.join(path, "forecast.json"), encoding="utf-8") as f:
        metadata = json.load(f)
    # What a `kill -9` during an export leaves: a temporary named after a dead process.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".model.tmp-{dead.pid}-abc123"
    (stale / "model").mkdir(parents=True)
    alive = tmp_path / f".model.tmp-{os.getpid()}-def456"  # a running export's
    alive.mkdir()
    export.export_forecaster(run.forecaster, tmp_path / "model", metadata)
    assert sorted(os.listdir(tmp_path)) == [alive.name, "model"]


def _damaged_copy(path, tmp_path, change):
    copy = tmp_path / "damaged"
    shutil.copytree(path, copy)
    with open(copy / "forecast.json", encoding="utf-8") as f:
        metadata = json.load(f)
    change(metadata)
    (copy / "forecast.json").write_text(json.dumps(metadata))
    return copy


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.pop("window"), r"forecast.json is damaged: no 'window'"),
        (lambda m: m.update(window="7"), r"forecast.json is damaged: 'window' is '7'"),
        (lambda m: m.update(columns=[]), r"forecast.json is damaged: 'columns' is \[\]"),
        (lambda m: m.update(target="close"), r"target 'close' is not among the columns"),
        (
            lambda m: m["last_window"].update(values=[[1.0, 2.0]]),
            r"'last_window' holds \(1, 2\) values for window and columns \(7, 2\)",
        ),
        (
            lambda m: m["last_window"]["values"][0].__setitem__(0, None),
            r"'last_window' holds values that are not finite",
        ),
        (lambda m: m.update(format_version=99), r"format_version 99 is not one of 1 .. 4"),
        (lambda m: m.update(format_version=0), r"format_version 0 is not one of 1 .. 4"),
        # Every entry `predict` and `evaluate` read, with its type and shape.
        (lambda m: m.pop("data"), r"forecast.json is damaged: no 'data'\)$"),
        (lambda m: m.update(data=[1]), r"'data' is \[1\], not an object\)$"),
        (lambda m: m["data"].update(parts=[1]), r"'data.parts' is \[1\], not an object"),
        (lambda m: m["data"].update(parts=3), r"'data.parts' is 3, not an object"),
        (lambda m: m["data"]["parts"].pop("test"), r"no 'data.parts.test'"),
        (lambda m: m["data"].update(source=None), r"'data.source' is None, not a string"),
        (lambda m: m["data"].update(rows="150"), r"'data.rows' is '150', not a positive integer"),
        (
            lambda m: m["data"]["parts"]["test"].update(last_target_date=[]),
            r"'data.parts.test.last_target_date' is \[\], not a date",
        ),
        (lambda m: m.update(mase_scale=float("nan")), r"'mase_scale' is nan, not a finite number"),
        (
            lambda m: m.update(columns=["temp_max", "TEMP_MAX"]),
            r"'columns' is \['temp_max', 'TEMP_MAX'\], not a list of distinct column names",
        ),
        (
            lambda m: m.update(columns=["temp_min", "temp_max"]),
            r"target 'temp_max' is not the first of the columns \['temp_min', 'temp_max'\]",
        ),
        (lambda m: m.update(config=[]), r"'config' is \[\], not an object"),
        (lambda m: m["config"].update(window="7"), r"'config' is invalid \(Expected `window`"),
        (lambda m: m["config"].update(features=[1]), r"'config.features' is \[1\], not a list"),
        (lambda m: m.update(scaler=None), r"'scaler' is None, not an object"),
        (lambda m: m["scaler"].pop("input_scale"), r"no 'scaler.input_scale'"),
        (
            lambda m: m["scaler"].update(input_center="ab"),
            r"'scaler.input_center' is 'ab', not a list of finite numbers",
        ),
        (
            lambda m: m["scaler"].update(transform="log"),
            r"'scaler.transform' is 'log', not one of level, diff, log_return",
        ),
        (lambda m: m["scaler"].update(target_index=1), r"'scaler.target_index' is 1, but the"),
        (
            lambda m: m["scaler"].update(input_scale=[1.0]),
            r"'scaler.input_scale' holds 1 values for 2 columns",
        ),
        (
            lambda m: m["scaler"].update(target_center=[0.0, 0.0, 0.0]),
            r"'scaler.target_center' holds 3 values for 2 steps",
        ),
        (
            lambda m: m["scaler"].update(target_scale=[1.0, 0.0]),
            r"'scaler.target_scale' holds a scale that is not positive",
        ),
        (lambda m: m.update(last_window=[]), r"'last_window' is \[\], not an object"),
        (
            lambda m: m["last_window"].update(values=[["1.0", "2.0"]] * 7),
            r"'last_window.values' is \[\['1.0', '2.0'\], .*not a list of rows of numbers",
        ),
        (
            lambda m: m["last_window"].update(values=[[1.0, 2.0]] * 6 + [[1.0]]),
            r"'last_window' holds \(7, 0\) values for window and columns \(7, 2\)",
        ),
        (
            lambda m: m["last_window"].update(dates=[1] * 7),
            r"'last_window.dates' is \[1, 1, 1, 1, 1, 1, \.\.\.\], not a list of dates",
        ),
        (
            lambda m: m["last_window"].update(dates=["someday"] * 7),
            r"'last_window.dates' cannot be read as dates",
        ),
        (
            lambda m: m["last_window"].update(dates=m["last_window"]["dates"][::-1]),
            r"'last_window.dates' are not increasing dates",
        ),
        (
            lambda m: m["last_window"]["dates"].__setitem__(-1, "NaT"),
            r"'last_window.dates' are not increasing dates",
        ),
        (lambda m: m.update(training_data="x"), r"'training_data' is 'x', not an object"),
        (lambda m: m.pop("runtimes"), r"forecast.json is damaged: no 'runtimes'"),
        (
            lambda m: m["runtimes"]["onnx"].update(sha256="x"),
            r"'runtimes.onnx.sha256' is 'x', not a SHA-256 in hex",
        ),
        (
            lambda m: m["runtimes"]["litert"].update(file="../x.tflite"),
            r"'runtimes.litert.file' is '../x.tflite', not 'forecaster.tflite'",
        ),
        (
            lambda m: m["training_data"].update(sha256=None),
            r"'training_data.sha256' is None, not a string",
        ),
        # A forecast must come after the window it is made from.
        (lambda m: m.update(step="0 days"), r"'step' is '0 days', not a positive time step"),
        (lambda m: m.update(step="-1 days"), r"'step' is '-1 days', not a positive time step"),
        (lambda m: m.update(step="NaT"), r"'step' is 'NaT', not a positive time step"),
        (lambda m: m.update(step="weekly"), r"'step' is 'weekly', not a positive time step"),
        (
            lambda m: m.update(step=LONGEST_STEP, data={**m["data"], "step": LONGEST_STEP}),
            rf"2 steps of '{LONGEST_STEP}' after 2012-05-29 00:00:00 are past the last date",
        ),
        # Entries recorded twice must agree.
        (lambda m: m["config"].update(window=8), r"'config.window' is 8 but 'window' is 7"),
        (lambda m: m["config"].update(horizon=1), r"'config.horizon' is 1 but 'horizon' is 2"),
        (
            lambda m: m["config"].update(transform="level"),
            r"'config.transform' is 'level' but 'scaler.transform' is 'diff'",
        ),
        (lambda m: m["config"].update(season=3), r"'config.season' is 3 but 'data.season' is 7"),
        (lambda m: m["data"].update(window=8), r"'data.window' is 8 but 'window' is 7"),
        (
            lambda m: m["data"].update(step="2 days 00:00:00"),
            r"'data.step' is '2 days 00:00:00' but 'step' is '1 days 00:00:00'",
        ),
        (
            lambda m: m["data"].update(columns=["temp_max"]),
            r"'data.columns' is \['temp_max'\] but 'columns' is \['temp_max', 'temp_min'\]",
        ),
        (
            lambda m: m["config"].update(features=["temp_min", "precipitation"]),
            r"'config.target' 'temp_max' and 'config.features' \['temp_min', 'precipitation'\] "
            r"name other columns than 'columns' \['temp_max', 'temp_min'\]",
        ),
        (
            lambda m: m["config"].update(date_column="day"),
            r"'config.date_column' is 'day' but 'date_column' is 'date'",
        ),
        (
            lambda m: m.update(
                window=6,
                config={**m["config"], "window": 6},
                data={**m["data"], "window": 6},
                last_window={
                    **m["last_window"],
                    "dates": m["last_window"]["dates"][1:],
                    "values": m["last_window"]["values"][1:],
                },
            ),
            r"forecast.json says windows \(None, 6, 2\) -> \(None, 2\), but the "
            r"SavedModel's signature is \(None, 7, 2\) -> \(None, 2\)",
        ),
    ],
)
def test_a_damaged_forecast_json_is_one_clear_error(exported, tmp_path, change, message):
    _, path = exported
    damaged = _damaged_copy(path, tmp_path, change)
    for command in (serving.next_forecast, serving.evaluate_export):
        with pytest.raises(ValueError, match=message):
            command(damaged)


def test_entries_recorded_twice_may_differ_as_the_tool_reads_them(exported, tmp_path):
    _, path = exported
    # Column names are matched ignoring case; a feature naming the target is the target.
    renamed = _damaged_copy(
        path,
        tmp_path,
        lambda m: m["config"].update(
            target="TEMP_MAX", features=["temp_max", " Temp_Min", "temp_min"], date_column="DATE"
        ),
    )
    assert export.load_metadata(renamed)["config"]["target"] == "TEMP_MAX"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[" * 100_000, r"unreadable forecast.json: maximum recursion depth exceeded"),
        ('{"window": ' + "1" * 5000 + "}", r"unreadable forecast.json: Exceeds the limit"),
        ("[]", r"forecast.json is not a 'keras-lstm-cell forecast' record"),
        ("\xff", r"unreadable forecast.json: 'utf-8' codec can't decode"),
    ],
)
def test_hostile_forecast_json_is_one_clear_error(exported, tmp_path, text, message):
    run, path = exported
    hostile = tmp_path / "hostile"
    shutil.copytree(path, hostile)
    (hostile / "forecast.json").write_bytes(text.encode("latin-1"))
    for command in (serving.next_forecast, serving.evaluate_export):
        with pytest.raises(ValueError, match=message):
            command(hostile)
    # Not the tool's export any more: never replaced, whatever the flags.
    for overwrite in (False, True):
        with pytest.raises(ValueError, match=r"holds files it did not write"):
            export.check_export_target(hostile, None, overwrite)


@pytest.mark.parametrize("command", ["predict", "evaluate"])
@pytest.mark.parametrize(
    "change",
    [
        lambda m: m.pop("data"),
        lambda m: m.update(data=[1]),
        lambda m: m["data"].update(parts={"test": 3}),
        lambda m: m.update(step="0 days"),
    ],
)
def test_the_cli_reports_a_damaged_forecast_json_in_one_line(
    exported, tmp_path, capsys, command, change
):
    _, path = exported
    damaged = _damaged_copy(path, tmp_path, change)
    assert cli.main([command, "--model", str(damaged)]) == cli.EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"keras-lstm-cell {command}: error: Expected `model`")
    assert "forecast.json is damaged" in captured.err and captured.err.count("\n") == 1


def test_evaluate_reads_only_the_recorded_training_file(exported, tmp_path):
    run, path = exported
    secret = tmp_path / "secret.csv"
    secret.write_text("date,temp_max,temp_min\n2020-01-01,top secret,1\n")
    pointed = _damaged_copy(path, tmp_path, lambda m: m["training_data"].update(path=str(secret)))
    with pytest.raises(
        ValueError,
        match=r"unchanged since training .* Received: a different file; pass the data with --csv",
    ) as caught:
        serving.evaluate_export(pointed)
    assert "top secret" not in str(caught.value)
    # The file it was trained on, changed since: refused too.
    with open(os.path.join(path, "forecast.json"), encoding="utf-8") as f:
        training_csv = json.load(f)["training_data"]["path"]
    changed = tmp_path / "changed"
    shutil.copytree(path, changed)
    with open(training_csv, "rb") as f:
        original = f.read()
    try:
        with open(training_csv, "ab") as f:
            f.write(b"2012-05-30,20.0,10.0\n")
        with pytest.raises(ValueError, match=r"unchanged since training"):
            serving.evaluate_export(changed)
    finally:
        with open(training_csv, "wb") as f:
            f.write(original)
    # From another working directory, the absolute path still finds it.
    cwd = os.getcwd()
    try:
        os.chdir(tmp_path)
        evaluation, _ = serving.evaluate_export(path)
    finally:
        os.chdir(cwd)
    assert evaluation.scores["lstm"]["mae"] == pytest.approx(
        run.evaluation.scores["lstm"]["mae"], rel=1e-5
    )


def test_non_finite_windows_and_forecasts_are_errors(exported, tmp_path):
    _, path = exported
    model, _ = serving.load_export(path)
    for bad in (np.inf, np.nan, 1e300):
        windows = np.ones((1, 7, 2))
        windows[0, 3, 0] = bad
        with pytest.raises(ValueError, match=r"Expected windows of finite float32 values"):
            serving.serve(model, windows)

    class Broken:
        def serve(self, x):
            return tf.fill([len(x), 2], np.nan)

    with pytest.raises(
        ValueError, match=r"Expected finite forecasts from the model. Received: 2 values"
    ):
        serving.serve(Broken(), np.ones((1, 7, 2)))


def test_committed_model_still_loads_and_predicts(capsys):
    model, metadata = serving.load_export(COMMITTED)
    last = metadata["last_window"]
    window = np.array(last["values"], "float32")[None]
    served = float(model.serve(window).numpy()[0, 0])
    assert served == pytest.approx(COMMITTED_FORECAST, abs=1e-4)
    assert served == pytest.approx(last["forecast"][0], rel=1e-6)
    # The embedded data's last week is that window: the export matches the data.
    series = TimeSeries.default()
    np.testing.assert_array_equal(series.values[-7:], last["values"])

    # Today's SimpleLSTMCell, given the exported weights, computes the same forecast.
    config = ForecastConfig.from_dict(metadata["config"])
    network = build_model(
        config.window, len(metadata["columns"]), config.horizon, config.units, config.layers
    )
    exported_weights = {v.name.rsplit(":", 1)[0]: v.numpy() for v in model.variables}
    network.set_weights([exported_weights[w.path] for w in network.weights])
    forecaster = Forecaster(network, WindowScaler.from_config(metadata["scaler"]))
    assert float(forecaster(window)[0, 0]) == pytest.approx(served, rel=1e-5)

    assert cli.main(["predict", "--model", COMMITTED]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[-1].split() == ["2016-01-01", f"{served:.6g}"]
