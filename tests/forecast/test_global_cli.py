"""The commands on a long CSV (`--id-column`): one LSTM across many series, as a user runs it."""

import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from _panels import SEASON
from _panels import hourly_panel

from keras_lstm_cell.forecast import cli
from keras_lstm_cell.forecast.global_runs import ReadSettings
from keras_lstm_cell.forecast.global_runs import read_long_csv
from keras_lstm_cell.forecast.lstm_forecaster import LSTMForecaster

HORIZON = 12
TF_LOG_PREFIXES = ("WARNING: All log messages", "I0000", "W0000", "E0000", "To enable")
SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
TRAIN = [
    "--horizon", str(HORIZON), "--epochs", "20", "--units", "16", "--batch-size", "32",
    "--seed", "1",
]  # fmt: skip


def _run(args, cwd):
    done = subprocess.run(
        [SCRIPT, *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    stderr = [line for line in done.stderr.splitlines() if not line.startswith(TF_LOG_PREFIXES)]
    return done.returncode, done.stdout, stderr


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _seasonal_naive_mase(history: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Seasonal naive's MAE on `truth` from `history`, and its MASE (M4's scale)."""
    forecast = history[-SEASON:][np.arange(len(truth)) % SEASON]
    error = float(np.mean(np.abs(truth - forecast)))
    scale = float(np.mean(np.abs(history[SEASON:] - history[:-SEASON])))
    return error, error / scale


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A long CSV in Nixtla's format, trained on by the CLI with intervals and exports,
    beside a file of the user's that the tool must leave alone."""
    folder = tmp_path_factory.mktemp("global")
    panel = hourly_panel()
    panel.to_csv(folder / "panel.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
    (folder / "notes.csv").write_text("unique_id,comment\ns00,keep me\n")
    code, out, err = _run(
        ["train", "--csv", "panel.csv", "--id-column", "unique_id", "--interval", "0.8",
         "--name", "p", *TRAIN],
        folder,
    )  # fmt: skip
    assert (code, err) == (0, []), out
    return folder, panel, out


def test_train_scores_every_series_against_the_baselines(trained):
    folder, panel, out = trained
    assert "Data: panel.csv: 12 series by 'unique_id', 2460 rows, 150 .. 260 values" in out
    scores = pd.read_csv(folder / "runs" / "p" / "scores.csv")
    assert sorted(scores["unique_id"]) == [f"s{k:02d}" for k in range(12)]
    for _, row in scores.iterrows():
        values = panel.loc[panel["unique_id"] == row["unique_id"], "y"].to_numpy()
        error, scaled = _seasonal_naive_mase(values[:-HORIZON], values[-HORIZON:])
        assert row["seasonal_naive_mae"] == pytest.approx(error, rel=1e-5)
        assert row["seasonal_naive_mase"] == pytest.approx(scaled, rel=1e-5)
        assert row["persistence_mae"] == pytest.approx(
            np.mean(np.abs(values[-HORIZON:] - values[-HORIZON - 1])), rel=1e-5
        )
    # The trends that seasonal naive lags behind: one model follows them at every scale.
    assert scores["lstm_mase"].mean() < 0.7 * scores["seasonal_naive_mase"].mean()
    record = json.loads((folder / "runs" / "p" / "run.json").read_text())
    assert record["status"] == "finished" and record["command"] == "train"
    assert record["metrics"]["test"]["lstm_mase"] == pytest.approx(scores["lstm_mase"].mean())
    assert record["training_data"]["sha256"] == _sha256(folder / "panel.csv")
    assert f"MASE {scores['lstm_mase'].mean():.3f} vs" in out
    assert 0.5 <= record["metrics"]["test"]["coverage_80"] <= 1.0
    assert sorted(os.listdir(folder / "saved_models" / "p")) == [
        "arrays.npz", "forecaster.json", "forecaster.onnx", "forecaster.tflite",
        "long_csv.json", "model.keras",
    ]  # fmt: skip
    assert (folder / "notes.csv").read_text() == "unique_id,comment\ns00,keep me\n"


def test_predict_one_series_after_its_end_in_every_runtime(trained):
    folder, panel, _ = trained
    model = LSTMForecaster.load(folder / "saved_models" / "p")
    expected = model.predict()
    expected = expected[expected["unique_id"] == "s03"].reset_index(drop=True)
    last = pd.Timestamp(panel.loc[panel["unique_id"] == "s03", "ds"].max())
    printed = {}
    for runtime in ("tensorflow", "litert", "onnx"):
        code, out, err = _run(
            ["predict", "--model", "saved_models/p", "--id", "s03", "--runtime", runtime], folder
        )
        assert (code, err) == (0, [])
        rows = [line.split() for line in out.splitlines()[2:]]
        assert [r[0] for r in rows] == ["s03"] * HORIZON
        dates = pd.to_datetime([f"{r[1]} {r[2]}" for r in rows])
        assert list(dates) == list(pd.date_range(last, periods=HORIZON + 1, freq="h")[1:])
        printed[runtime] = np.array([[float(v) for v in r[3:]] for r in rows])
    want = expected[["lstm", "lstm-lo-80", "lstm-hi-80"]].to_numpy()
    for runtime, values in printed.items():
        np.testing.assert_allclose(values, want, rtol=2e-5, err_msg=runtime)
    assert "lstm-lo-80" in out.splitlines()[1]


def test_predict_every_series_of_a_new_csv(trained, tmp_path):
    folder, panel, _ = trained
    newer = panel[panel["unique_id"].isin(["s01", "s02"])].copy()
    newer["unique_id"] = newer["unique_id"].map({"s01": "new-a", "s02": "new-b"})
    newer["y"] *= 1000.0  # a series never seen, at another scale
    newer.to_csv(tmp_path / "new.csv", index=False, date_format="%Y-%m-%d %H:%M:%S")
    code, out, err = _run(
        ["predict", "--model", str(folder / "saved_models" / "p"), "--csv", "new.csv"], tmp_path
    )
    assert (code, err) == (0, [])
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["new-a"] * HORIZON + ["new-b"] * HORIZON
    model = LSTMForecaster.load(folder / "saved_models" / "p")
    seen = model.predict(panel[panel["unique_id"] == "s01"])
    np.testing.assert_allclose(
        [float(r[3]) for r in rows[:HORIZON]], 1000.0 * seen["lstm"], rtol=1e-4
    )
    assert os.listdir(tmp_path) == ["new.csv"]


def test_evaluate_repeats_the_test_scores(trained):
    folder, _, _ = trained
    code, out, err = _run(["evaluate", "--model", "saved_models/p"], folder)
    assert (code, err) == (0, [])
    scores = pd.read_csv(folder / "runs" / "p" / "scores.csv").set_index("unique_id")
    lines = {
        line.split()[0]: line.split() for line in out.splitlines() if re.match(r"s\d\d ", line)
    }
    assert sorted(lines) == sorted(scores.index)
    for uid, fields in lines.items():
        assert float(fields[2]) == pytest.approx(scores.loc[uid, "lstm_mase"], abs=1e-3)
        assert float(fields[4]) == pytest.approx(scores.loc[uid, "seasonal_naive_mase"], abs=1e-3)
    assert "80% interval: coverage" in out


def test_backtest_scores_each_fold_from_its_cutoff(trained):
    folder, panel, _ = trained
    code, out, err = _run(
        ["backtest", "--csv", "panel.csv", "--id-column", "unique_id", "--folds", "2",
         "--no-refit", "--name", "b", *TRAIN],
        folder,
    )  # fmt: skip
    assert (code, err) == (0, []), out
    rows = pd.read_csv(folder / "runs" / "b" / "backtest.csv")
    assert len(rows) == 2 * 12 and sorted(rows["fold"].unique()) == [1, 2]
    for _, row in rows.iterrows():
        series = panel[panel["unique_id"] == row["unique_id"]]
        back = (3 - row["fold"]) * HORIZON  # values after the cutoff
        assert pd.Timestamp(row["cutoff"]) == series["ds"].iloc[-back - 1]
        values = series["y"].to_numpy()
        error, scaled = _seasonal_naive_mase(values[:-back], values[-back:][:HORIZON])
        assert row["seasonal_naive_mae"] == pytest.approx(error, rel=1e-5)
        assert row["seasonal_naive_mase"] == pytest.approx(scaled, rel=1e-5)
    assert "Fold 2/2" in out and "s11" in out
    record = json.loads((folder / "runs" / "b" / "run.json").read_text())
    assert record["backtest"] == {"folds": 2, "refit": False}
    assert record["metrics"]["backtest"]["lstm_mase"] == pytest.approx(rows["lstm_mase"].mean())


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    panel = hourly_panel(count=3)
    panel.to_csv("panel.csv", index=False)
    return tmp_path


def _bad(rows: pd.DataFrame, path="bad.csv") -> str:
    rows.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    "args, message",
    [
        (["train", "--csv", "panel.csv", "--id-column", "unique_id", "--features", "x"],
         "Received: --features, which only a run of one series takes"),
        (["train", "--csv", "panel.csv", "--id-column", "unique_id", "--resume"],
         "Received: --resume, which only a run of one series takes"),
        (["train", "--id-column", "unique_id"], "Expected --csv with --id-column"),
        (["train", "--csv", "panel.csv", "--id-column", "store"],
         "Expected `id_column` to name a column of panel.csv"),
        (["train", "--csv", "panel.csv", "--id-column", "unique_id", "--target", "sales"],
         "Received: target='sales'"),
        (["train", "--csv", "panel.csv", "--id-column", "unique_id", "--horizon", "200"],
         "Expected every series to have more than 201 values: the last 200 of each are its test"),
        (["train", "--csv", "panel.csv", "--id-column", "unique_id", "--interval", "0.95"],
         "Expected at least 39 series"),
    ],
)  # fmt: skip
def test_bad_flags_end_in_one_line_and_write_nothing(workdir, capsys, args, message):
    assert cli.main([*args, "--epochs", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and message in err[0], err
    assert sorted(os.listdir(workdir)) == ["panel.csv"]


def test_bad_rows_name_the_series(workdir, capsys):
    panel = pd.read_csv("panel.csv")
    missing = panel.copy()
    missing.loc[5, "y"] = np.nan
    repeated = pd.concat([panel, panel.iloc[[200]]])
    for rows, message in (
        (missing, "Expected a value in every row of column 'y' of bad.csv. Received: 1 "
         "missing values in series ['s00']"),
        (repeated, "Expected one row per (unique_id, ds). Received: 1 repeated dates in "
         "series ['s01']"),
    ):  # fmt: skip
        _bad(rows)
        assert cli.main(["train", "--csv", "bad.csv", "--id-column", "unique_id"]) == 2
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and message in err[0], err
    assert sorted(os.listdir(workdir)) == ["bad.csv", "panel.csv"]


def test_predict_names_unknown_ids(trained, capsys, monkeypatch):
    folder, _, _ = trained
    monkeypatch.chdir(folder)
    assert cli.main(["predict", "--model", "saved_models/p", "--id", "s99"]) == 2
    err = capsys.readouterr().err
    assert "Expected --id to name series of the training data" in err and "['s99']" in err


def test_an_earlier_run_is_replaced_only_when_asked(trained, capsys, monkeypatch):
    folder, _, _ = trained
    monkeypatch.chdir(folder)
    before = _sha256(folder / "saved_models" / "p" / "model.keras")
    args = ["train", "--csv", "panel.csv", "--id-column", "unique_id", "--name", "p"]
    assert cli.main([*args, "--epochs", "1"]) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err
    assert _sha256(folder / "saved_models" / "p" / "model.keras") == before


def test_long_csv_formats(tmp_path):
    """A semicolon file with decimal commas and day-first dates, and integer positions."""
    (tmp_path / "eu.csv").write_text(
        "Store;Datum;Umsatz\nNA;13/01/2024;1,125\nA;13/01/2024;2,25\nA;14/01/2024;3,0\n"
        "NA;14/01/2024;4,75\n;;\n"
    )  # "NA": Namibia's stores, not a missing id
    frame, notes = read_long_csv(
        tmp_path / "eu.csv", ReadSettings("store", date_column="datum", target="umsatz")
    )
    assert frame["unique_id"].tolist() == ["A", "A", "NA", "NA"]
    assert frame["ds"].tolist() == [pd.Timestamp("2024-01-13"), pd.Timestamp("2024-01-14")] * 2
    assert frame["y"].tolist() == [2.25, 3.0, 1.125, 4.75]
    assert "read the numbers of 'Umsatz' with decimal ','" in notes
    assert frame.attrs["names"] == {"id": "Store", "ds": "Datum", "y": "Umsatz"}
    (tmp_path / "m4.csv").write_text("unique_id,ds,y\nH1,1,605\nH1,2,586\nH2,1,3124\n")
    frame, _ = read_long_csv(tmp_path / "m4.csv", ReadSettings("unique_id"))
    assert frame["ds"].tolist() == [1, 2, 1] and frame["y"].tolist() == [605, 586, 3124]


def test_a_file_with_its_own_names_end_to_end(workdir, capsys):
    """A semicolon file with decimal commas, day-first dates and columns of its own
    names: trained, predicted under those names, evaluated."""
    panel = hourly_panel(count=10)
    panel["ds"] = panel["ds"].dt.strftime("%d/%m/%Y %H:%M")
    panel["y"] = panel["y"].map(lambda v: f"{v:.4f}".replace(".", ","))
    panel.rename(columns={"unique_id": "Sensor", "ds": "Zeit", "y": "Wert"}).to_csv(
        "sensors.csv", sep=";", index=False
    )
    args = ["--id-column", "sensor", "--date-column", "zeit", "--target", "wert"]
    tiny = ["--horizon", "6", "--epochs", "1", "--units", "4", "--verbose", "0"]
    assert cli.main(["train", "--csv", "sensors.csv", *args, *tiny, "--name", "s",
                     "--no-runtime-exports"]) == 0  # fmt: skip
    capsys.readouterr()
    assert cli.main(["predict", "--model", "saved_models/s", "--id", "s04"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split() == ["Sensor", "Zeit", "lstm"]
    last = pd.to_datetime(panel.loc[panel["unique_id"] == "s04", "ds"], dayfirst=True).max()
    assert lines[2].split()[:3] == ["s04", *str(last + pd.Timedelta(hours=1)).split()]
    model = LSTMForecaster.load("saved_models/s")
    expected = model.predict()
    expected = expected.loc[expected["unique_id"] == "s04", "lstm"].to_numpy()
    np.testing.assert_allclose([float(line.split()[3]) for line in lines[2:]], expected, 1e-5)
    assert cli.main(["evaluate", "--model", "saved_models/s", "--csv", "sensors.csv"]) == 0
    assert "the last 6 values of each of 10 series" in capsys.readouterr().out
    assert cli.main(["predict", "--model", "saved_models/s", "--runtime", "onnx"]) == 2
    assert "Received: the model was saved without it" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["train", "backtest"])
def test_bad_rows_anywhere_are_refused_before_anything_is_written(workdir, capsys, command):
    panel = pd.read_csv("panel.csv")
    last = panel.groupby("unique_id").tail(1).index[1]  # a test value of series s01
    _bad(pd.concat([panel, panel.loc[[last]]]))
    args = [command, "--csv", "bad.csv", "--id-column", "unique_id", "--horizon", "6"]
    assert cli.main([*args, "--epochs", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "1 repeated dates in series ['s01']" in err[0], err
    assert sorted(os.listdir(workdir)) == ["bad.csv", "panel.csv"]


def test_a_backtest_longer_than_the_series_writes_nothing(workdir, capsys):
    args = ["backtest", "--csv", "panel.csv", "--id-column", "unique_id", "--horizon", "48"]
    assert cli.main([*args, "--folds", "4", "--epochs", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "more than 193 values: the last 192 of each are the 4 folds'" in err[0]
    assert sorted(os.listdir(workdir)) == ["panel.csv"]
