"""The example scripts and the CLI on a file as CryptoDataDownload serves it.

`fixtures/cdd_bitstamp_daily.csv` has the real format: a banner line, the
header `Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USD`, newest rows
first, and 12 days the exchange published nothing for (2019-03-20 ..
2019-03-31).
"""

import json
import os
import re
import shutil
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DOWNLOAD = os.path.join(HERE, "fixtures", "cdd_bitstamp_daily.csv")
SCRIPT = os.path.join(os.path.dirname(sys.executable), "keras-lstm-cell")
TINY = ["--epochs", "2", "--units", "4"]
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run(cwd, *args):
    # stdout is a pipe, not a terminal: as in a log file or CI.
    return subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


# TensorFlow's native library logs while it loads, before its log level
# applies; the examples are plain scripts, which import it as `import keras`
# does (the `keras-lstm-cell` command starts quietly: test_startup.py).
_TENSORFLOW_START = re.compile(r"^(WARNING: All log messages before absl|[IWEF]\d{4} )")


def _own_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not _TENSORFLOW_START.match(line)]


def _assert_plain_progress(out: str, epochs: int):
    assert "\x1b[" not in out and "\r" not in out and "━" not in out  # no progress bar
    assert sum(line.startswith("Epoch ") for line in out.splitlines()) == epochs
    assert sum(" - loss: " in line for line in out.splitlines()) == epochs


def test_bitcoin_example_runs_twice_in_one_folder(tmp_path):
    csv = tmp_path / "Bitstamp_BTCUSD_d.csv"
    shutil.copyfile(DOWNLOAD, csv)
    example = os.path.join(REPO, "examples", "bitcoin_forecast.py")
    first = run(tmp_path, sys.executable, example, csv.name, *TINY)
    assert first.returncode == 0, first.stderr
    second = run(tmp_path, sys.executable, example, csv.name, *TINY)
    assert second.returncode == 0, second.stderr
    runs = sorted(os.listdir(tmp_path / "runs"))
    assert len(runs) == 2 and all(r.startswith("bitcoin_example-") for r in runs)
    assert sorted(os.listdir(tmp_path / "saved_models")) == runs
    out = first.stdout
    assert "note: skipped the banner line 'Created on 05-20-2019" in out
    assert "note: sorted 189 rows by date (the file was newest first)" in out
    assert (
        "note: filled 12 missing dates in 1 gaps (2019-03-20 .. 2019-03-31) by linear "
        "interpolation in time" in out
    )
    assert "note: 12 windows whose targets were filled in are not scored" in out
    assert "Model: 1 x rnn(units=4, standard cell) + Dense, transform 'log_return', " in out
    _assert_plain_progress(out, epochs=2)
    record = json.loads((tmp_path / "runs" / runs[0] / "run.json").read_text())
    assert record["data"]["filled"] == [["2019-03-20", "2019-03-31"]]
    assert record["config"]["window"] == 7 and record["config"]["batch_size"] == 7
    assert record["config"]["global_clipnorm"] == 4.0 and record["config"]["unit"] == "USD"

    refused = run(tmp_path, sys.executable, example, csv.name, *TINY, "--gaps", "error")
    assert refused.returncode == 2
    assert _own_lines(refused.stderr) == [
        "bitcoin_forecast.py train: error: Expected a row for every date of frequency D "
        f"(calendar days) in {csv.name}. Received: 1 gaps, 12 missing dates "
        "(2019-03-20 .. 2019-03-31). Choose gaps='interpolate', 'ffill' or 'keep' (--gaps)"
    ]


def test_the_cli_trains_and_predicts_on_the_download(tmp_path):
    done = run(tmp_path, SCRIPT, "train", "--csv", DOWNLOAD, *TINY, "--name", "btc")
    assert done.returncode == 0, done.stderr
    _assert_plain_progress(done.stdout, epochs=2)
    done = run(tmp_path, SCRIPT, "predict", "--model", os.path.join("saved_models", "btc"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == (
        f"Forecast of 'Close' by saved_models/btc from the last 7 rows of {DOWNLOAD} "
        "(its training data), 2019-05-14 .. 2019-05-20:"
    )
    assert done.stdout.splitlines()[2].split()[0] == "2019-05-21"
    done = run(tmp_path, SCRIPT, "evaluate", "--model", os.path.join("saved_models", "btc"))
    assert done.returncode == 0, done.stderr
    assert "the test part of the training data" in done.stdout.splitlines()[0]


@pytest.mark.parametrize("script", ["weather_forecast.py"])
def test_weather_example_takes_flags(tmp_path, script):
    example = os.path.join(REPO, "examples", script)
    done = run(tmp_path, sys.executable, example, "--epochs", "1", "--units", "4", "--name", "w")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "runs" / "w" / "run.json").read_text())
    assert record["config"]["features"] == ["temp_min", "precipitation", "wind"]
    assert record["config"]["window"] == 14 and record["config"]["epochs"] == 1
