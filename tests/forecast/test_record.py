"""`RunRecord`: run.json written and read back, and the files of earlier versions."""

import dataclasses
import json
import os

import pytest

from keras_lstm_cell.forecast.record import FINISHED
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.record import read_run_record

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
# run.json as version 0.x wrote it (format_version 1): a finished one-epoch run.
FORMAT_1 = os.path.join(FIXTURES, "run_format1.json")


def _format_1() -> dict:
    with open(FORMAT_1, encoding="utf-8") as f:
        return json.load(f)


def test_reads_a_format_1_run_record():
    content = _format_1()
    record = RunRecord.from_json(content)
    assert record.status == FINISHED and record.command == "train"
    assert record.run_id == content["run_id"]
    assert record.config["units"] == 4 and record.training["epochs_run"] == 1
    assert record.metrics["test"]["scores"]["lstm"]["mae"] == pytest.approx(
        content["metrics"]["test"]["scores"]["lstm"]["mae"]
    )
    assert record.freq is None  # format 1 did not know the frequency
    assert record.details["device"] == "/CPU:0"
    # Written again, every key of the old file keeps its value; two are added.
    written = record.to_json()
    assert {k: v for k, v in written.items() if k != "command"} | {"data": content["data"]} == (
        content
    )
    assert written["data"] == {**content["data"], "freq": None}
    assert written["command"] == "train"


def test_round_trip(tmp_path):
    record = RunRecord.from_json(_format_1())
    record = dataclasses.replace(record, freq="B", command="backtest")
    record.mark("training", metrics={"backtest": {"folds": 3}})
    record.save(tmp_path)
    again = read_run_record(tmp_path)
    assert again == record
    on_disk = json.loads((tmp_path / "run.json").read_text())
    assert on_disk["data"]["freq"] == "B" and on_disk["status"] == "training"
    assert on_disk["format"] == "keras-lstm-cell run" and on_disk["format_version"] == 1


def test_new_record_plans_a_training_run():
    fingerprint = {"path": "/data/a.csv", "embedded": False, "sha256": "0" * 64}
    record = RunRecord.new({"units": 4}, fingerprint, command="backtest", replaces_export=True)
    assert record.status == "training" and record.resumable and len(record.run_id) == 32
    assert record.to_json()["training_data"] == fingerprint
    assert RunRecord.new({}, fingerprint).run_id != record.run_id


@pytest.mark.parametrize(
    "change, why",
    [
        ({"format": "something else"}, "no keras-lstm-cell format tag"),
        ({"format_version": 99}, "format_version 99; upgrade"),
        ({"status": 3}, "no valid 'status'"),
        ({"paths": None}, "no valid 'paths'"),
        ({"command": "fit"}, "no valid 'command'"),
        ({"training_data": {"path": "a.csv"}}, "no valid 'training_data'"),
        ({"training": {"epochs_run": -1}}, "status 'finished' without a valid 'training' entry"),
    ],
)
def test_refuses_damaged_records(tmp_path, change, why):
    (tmp_path / "run.json").write_text(json.dumps({**_format_1(), **change}))
    with pytest.raises(ValueError, match=f"run.json.*Received: {why}"):
        read_run_record(tmp_path)


def test_refuses_unreadable_json(tmp_path):
    (tmp_path / "run.json").write_text("{")
    with pytest.raises(ValueError, match="Received: unreadable JSON"):
        read_run_record(tmp_path)
    assert read_run_record(tmp_path / "absent") is None
