"""Data given in memory: recorded by its values, never as the embedded file."""

import dataclasses
import json
import os

import pytest
from _runs import first_days
from _runs import tiny

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.backtest import backtest
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.record import TRAINED
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import data_fingerprint
from keras_lstm_cell.forecast.record import read_run_record
from keras_lstm_cell.forecast.record import series_sha256
from keras_lstm_cell.forecast.resume import check_resumable
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.timeseries import default_dataset_path

CONFIG = tiny(epochs=1, units=2)


def _changed(series: TimeSeries, row: int = 10, by: float = 1.0) -> TimeSeries:
    """`series` with one value of its target changed."""
    frame = series.frame.copy()
    frame.iloc[row, 0] += by
    return dataclasses.replace(series, frame=frame)


@pytest.fixture(scope="module")
def series() -> TimeSeries:
    """The first days of the embedded data, one value changed: no file holds them."""
    return _changed(first_days())


def test_the_hash_is_that_of_the_values(series):
    copy = dataclasses.replace(series, frame=series.frame.copy(), source="elsewhere")
    assert series_sha256(copy) == series_sha256(series)
    assert series_sha256(_changed(series, row=100, by=0.5)) != series_sha256(series)
    shifted = series.frame.copy()
    shifted.index = shifted.index + (shifted.index[1] - shifted.index[0])
    assert series_sha256(dataclasses.replace(series, frame=shifted)) != series_sha256(series)
    renamed = series.frame.rename(columns={series.target: "temp"})
    assert series_sha256(dataclasses.replace(series, frame=renamed)) != series_sha256(series)


def test_the_embedded_series_as_read_is_the_embedded_file():
    fingerprint = data_fingerprint(CONFIG, prepare_data(CONFIG, TimeSeries.default()))
    assert fingerprint["path"] == default_dataset_path() and fingerprint["embedded"] is True
    assert "in_memory" not in fingerprint


@pytest.fixture(scope="module")
def trained(series, tmp_path_factory):
    """A run and its export (without runtime files) on the data of `series`."""
    root = tmp_path_factory.mktemp("in-memory")
    run = training.train(
        CONFIG,
        logdir=root / "run",
        export_dir=root / "export",
        data=prepare_data(CONFIG, series),
        verbose=0,
        runtime_exports=(),
    )
    return root, run


def test_train_records_data_given_in_memory(series, trained):
    root, run = trained
    expected = {
        "path": None,
        "embedded": False,
        "in_memory": True,
        "sha256": series_sha256(series),
        "rows": len(series),
    }
    assert run.record.training_data == expected
    assert json.loads((root / "run" / "run.json").read_text())["training_data"] == expected
    assert read_run_record(root / "run").training_data == expected
    forecast = json.loads((root / "export" / "forecast.json").read_text())
    assert forecast["training_data"] == expected


def test_evaluate_without_csv_asks_for_it(series, trained, tmp_path, monkeypatch, capsys):
    root, _ = trained
    monkeypatch.chdir(tmp_path)
    model = str(root / "export")
    assert cli.main(["evaluate", "--model", model]) == cli.EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        "keras-lstm-cell evaluate: error: Expected `csv` for a model trained on data given "
        "in memory (forecast.json names no file to read it from). Received: csv=None; pass "
        "the data with --csv"
    ]
    # The data itself, as a file, and the last window in forecast.json still serve.
    series.frame.reset_index().to_csv("days.csv", index=False)
    assert cli.main(["evaluate", "--model", model, "--csv", "days.csv"]) == 0
    assert cli.main(["predict", "--model", model]) == 0


def test_run_records_of_data_given_in_memory_are_checked():
    fingerprint = {"path": None, "embedded": False, "in_memory": True, "sha256": "0" * 64}
    record = RunRecord.new({}, {**fingerprint, "rows": 3}).to_json()
    assert RunRecord.from_json(record).training_data["in_memory"] is True
    with pytest.raises(ValueError, match="no valid 'training_data'"):
        RunRecord.from_json({**record, "training_data": {**fingerprint, "in_memory": False}})


def _interrupted_after_training(logdir) -> None:
    # As if stopped before the export: `--resume` goes on from "trained".
    record = read_run_record(logdir)
    record.mark(TRAINED)
    record.save(logdir)


def test_resume_compares_the_values(series, tmp_path):
    logdir = tmp_path / "run"
    training.train(CONFIG, logdir=logdir, data=prepare_data(CONFIG, series), verbose=0)
    _interrupted_after_training(logdir)
    other = prepare_data(CONFIG, _changed(series, row=20))
    with pytest.raises(ValueError, match="Received: data given in memory with other values"):
        training.train(CONFIG, logdir=logdir, data=other, verbose=0, resume=True)
    embedded = prepare_data(CONFIG, TimeSeries.default())
    with pytest.raises(ValueError, match="Received: the data of '.*seattle_weather.csv'"):
        training.train(CONFIG, logdir=logdir, data=embedded, verbose=0, resume=True)
    with pytest.raises(ValueError, match="Received: no data given in memory; resume it from"):
        training.train(CONFIG, logdir=logdir, verbose=0, resume=True)
    # Nor can the command line, which reads files only.
    with pytest.raises(ValueError, match="Received: no data given in memory; resume it from"):
        check_resumable(os.fspath(logdir), CONFIG)
    run = training.train(
        CONFIG, logdir=logdir, data=prepare_data(CONFIG, series), verbose=0, resume=True
    )
    assert run.record.status == "finished"


def test_backtest_records_data_given_in_memory(series, tmp_path):
    result = backtest(
        CONFIG, logdir=tmp_path / "b", folds=2, data=prepare_data(CONFIG, series), verbose=0
    )
    fingerprint = result.record.training_data
    assert fingerprint["in_memory"] is True and fingerprint["sha256"] == series_sha256(series)
    for fold in ("fold-1", "fold-2"):
        assert read_run_record(tmp_path / "b" / "folds" / fold).training_data == fingerprint
