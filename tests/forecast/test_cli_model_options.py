"""The CLI's model options reach the model: --layer, --cell-variant, --gate-monitor."""

import json

import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    TimeSeries.default().frame.iloc[:120].reset_index().to_csv("w.csv", index=False)
    return tmp_path


@pytest.mark.parametrize("variant", ["peephole", "layer_norm"])
def test_cell_variant_and_gate_monitor(workdir, variant, capsys):
    argv = ["train", "--csv", "w.csv", "--target", "temp_max", "--units", "3", "--epochs", "2"]
    argv += ["--name", "v", "--cell-variant", variant, "--gate-monitor", "--verbose", "0"]
    argv += ["--no-export"]
    assert cli.main(argv) == 0
    record = json.loads((workdir / "runs" / "v" / "run.json").read_text())
    assert record["config"]["cell_kwargs"] == {"variant": variant}
    assert record["config"]["gate_monitor"] is True
    accumulator = EventAccumulator(str(workdir / "runs" / "v" / "gates"))
    accumulator.Reload()
    tags = set(accumulator.Tags()["tensors"])
    assert "lstm_1/f/mean" in tags and "lstm_1/forget_gate" in tags
    steps = [e.step for e in accumulator.Tensors("lstm_1/f/mean")]
    assert steps == [0, 1]  # one probe per epoch
    assert f"'variant': '{variant}'" in capsys.readouterr().out


def test_unknown_variant_is_a_usage_error(workdir, capsys):
    assert cli.main(["train", "--cell-variant", "nope"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--cell-variant" in err[0] and "'nope'" in err[0]


def test_layer_choices_include_the_generic_rnn():
    from keras_lstm_cell.forecast.model import RECURRENT_LAYERS

    layer = RECURRENT_LAYERS["rnn"](3, False, {"variant": "coupled"}, "x")
    assert isinstance(layer.cell, SimpleLSTMCell) and layer.cell.variant == "coupled"


def test_simple_lstm_layer_gives_the_rnn_layers_forecasts(workdir):
    """--layer simple_lstm trains the same model as the generic loop."""
    base = ["train", "--csv", "w.csv", "--target", "temp_max", "--units", "3"]
    base += ["--epochs", "2", "--verbose", "0", "--no-export"]
    assert cli.main([*base, "--name", "rnn"]) == 0
    assert cli.main([*base, "--name", "fast", "--layer", "simple_lstm"]) == 0
    scores = {}
    for name in ("rnn", "fast"):
        record = json.loads((workdir / "runs" / name / "run.json").read_text())
        scores[name] = record["metrics"]["test"]["scores"]["lstm"]["mae"]
    assert record["config"]["layer"] == "simple_lstm"
    assert scores["fast"] == pytest.approx(scores["rnn"], rel=1e-4)
