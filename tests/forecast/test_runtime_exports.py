"""forecaster.tflite and forecaster.onnx: written by `train`, run by `predict` in each runtime."""

import hashlib
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import pytest
import tensorflow as tf
from ai_edge_litert.interpreter import Interpreter

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import export
from keras_lstm_cell.forecast import serving
from keras_lstm_cell.forecast.timeseries import TimeSeries

ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
RUNTIMES = ("tensorflow", "litert", "onnx")
HORIZON = 2


def _cli(args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "keras_lstm_cell", *args],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": os.pathsep.join(sys.path)},
        cwd=cwd,
        timeout=600,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A directory where `train` exported `saved_models/m`, beside a file of the user's."""
    root = tmp_path_factory.mktemp("runtimes")
    series = TimeSeries.default(features=["temp_min"])
    series.frame.iloc[:150].reset_index().to_csv(root / "weather.csv", index=False)
    (root / "notes.txt").write_text("mine")
    done = _cli(
        ["train", "--csv", "weather.csv", "--target", "temp_max", "--features", "temp_min"]
        + ["--horizon", str(HORIZON), "--units", "4", "--epochs", "2", "--name", "m"],
        root,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "LiteRT:" in done.stdout and "ONNX Runtime:" in done.stdout
    return root


def _forecasts(stdout: str) -> np.ndarray:
    # The lines after the header: "date  value".
    lines = stdout.strip().splitlines()
    start = next(k for k, line in enumerate(lines) if line.startswith("date")) + 1
    return np.array([float(line.split()[-1]) for line in lines[start:]])


def test_predict_prints_the_same_forecast_in_every_runtime(workdir):
    printed = {}
    for runtime in RUNTIMES:
        done = _cli(["predict", "--model", "saved_models/m", "--runtime", runtime], workdir)
        assert done.returncode == 0, done.stderr
        printed[runtime] = _forecasts(done.stdout)
    metadata = export.load_metadata(workdir / "saved_models" / "m")
    # Six significant digits printed: equal up to the last one.
    for runtime in RUNTIMES:
        assert printed[runtime].shape == (HORIZON,)
        np.testing.assert_allclose(printed[runtime], printed["tensorflow"], rtol=2e-6)
    np.testing.assert_allclose(
        printed["tensorflow"], metadata["last_window"]["forecast"], rtol=1e-5
    )


def test_forecast_json_records_each_file_and_its_difference(workdir):
    path = workdir / "saved_models" / "m"
    metadata = export.load_metadata(path)
    assert metadata["format_version"] == 4
    assert sorted(metadata["runtimes"]) == ["litert", "onnx"]
    x = serving.read_series(metadata).values  # the training data, read again
    windows = np.stack([x[k : k + 7] for k in range(len(x) - 7)]).astype("float32")
    saved_model = tf.saved_model.load(str(path))
    expected = saved_model.serve(windows).numpy()
    for runtime, written in metadata["runtimes"].items():
        content = (path / written["file"]).read_bytes()
        assert written["sha256"] == hashlib.sha256(content).hexdigest()
        assert 0 <= written["max_abs_diff"] <= written["tolerance"] < 1e-3
        model, _ = serving.load_export(path, runtime)
        np.testing.assert_allclose(serving.serve(model, windows), expected, atol=1e-4)
    # Each LSTM is the runtime's own op, run by the plain runtimes.
    interpreter = Interpreter(str(path / "forecaster.tflite"))
    ops = {op["op_name"] for op in interpreter._get_ops_details()}
    assert "UNIDIRECTIONAL_SEQUENCE_LSTM" in ops and "WHILE" not in ops
    nodes = {node.op_type for node in onnx.load(str(path / "forecaster.onnx")).graph.node}
    assert "LSTM" in nodes and not nodes & {"Loop", "Scan"}


def _snapshot(root):
    return {
        os.path.relpath(os.path.join(d, f), root): os.stat(os.path.join(d, f)).st_mtime_ns
        for d, _, files in os.walk(root)
        for f in files
    }


@pytest.mark.parametrize("runtime", ["litert", "onnx"])
def test_a_file_changed_since_export_is_refused(workdir, tmp_path, runtime):
    copy = tmp_path / "m"
    shutil.copytree(workdir / "saved_models" / "m", copy)
    name = export.RUNTIME_FILES[runtime]
    content = bytearray((copy / name).read_bytes())
    content[len(content) // 2] ^= 0xFF
    (copy / name).write_bytes(bytes(content))
    (tmp_path / "notes.txt").write_text("mine")
    before = _snapshot(tmp_path)
    for command in ("predict", "evaluate"):
        done = _cli([command, "--model", "m", "--runtime", runtime], tmp_path)
        assert done.returncode == cli.EXIT_USAGE
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1
        assert f"Expected {name} unchanged since export" in done.stderr
    assert _snapshot(tmp_path) == before


def _older_format(path, tmp_path, version):
    copy = tmp_path / f"format{version}"
    shutil.copytree(path, copy)
    metadata = json.loads((copy / "forecast.json").read_text())
    for written in metadata.pop("runtimes").values():
        os.remove(copy / written["file"])
    metadata["format_version"] = version
    if version == 1:
        metadata.pop("training_data")
    (copy / "forecast.json").write_text(json.dumps(metadata))
    return copy


@pytest.mark.parametrize("version", [1, 2])
def test_older_formats_still_read(workdir, tmp_path, capsys, version):
    path = workdir / "saved_models" / "m"
    older = _older_format(path, tmp_path, version)
    frame, _ = serving.next_forecast(older)
    np.testing.assert_allclose(frame.iloc[:, 0], serving.next_forecast(path)[0].iloc[:, 0])
    assert cli.main(["predict", "--model", str(older), "--runtime", "litert"]) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert f"has none (format {version}, from before runtime files)" in error
    assert error.count("\n") == 1
