"""`benchmarks/competitions.py`: its readers, M4's Naive2 and M4's scoring, on
small hand-made data (neither the competition files nor the peers are needed)."""

import dataclasses
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "competitions.py"


@pytest.fixture(scope="module")
def comp():
    spec = importlib.util.spec_from_file_location("competitions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


# ---------------------------------------------------------------- readers

M4_TRAIN = """\
"V1","V2","V3","V4","V5","V6"
"H1","10","11","12","13","14"
"H2","7.5","8","9","",""
"""
M4_TEST = """\
"V1","V2","V3"
"H1","15","16"
"H2","10","11"
"""
# Columns of unequal length, as the tourism files are: the length, start
# year and start quarter rows, then the values, then empty fields.
QUARTERLY_IN = """\
q1,q2
5,3
1990,2001
3,4
1,10
2,20
3,30
4,
5,
"""
QUARTERLY_OOS = """\
q1,q2
2,2
1991,2002
4,3
6,40
7,50
"""
# The yearly files have no start-period row; yearly_in.csv has stray numbers
# below some series, and Y18's test part states the year its training ends.
YEARLY_IN = """\
Y1,Y18
3,2
1995,2002
1,5
2,6
3,
,
,900
"""
YEARLY_OOS = """\
Y1,Y18
2,2
1998,2003
4,7
5,8
"""


def _write(folder: Path, files: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def test_read_m4_ragged_rows(comp, tmp_path):
    _write(tmp_path / "m4", {"Hourly-train.csv": M4_TRAIN, "Hourly-test.csv": M4_TEST})
    spec = dataclasses.replace(comp.SETS["m4-hourly"], horizon=2)
    competition = comp.read_set(spec, tmp_path)
    train, test = competition.train, competition.test
    assert competition.ids == ["H1", "H2"]
    assert list(train.columns) == ["unique_id", "ds", "y"]
    assert train[train.unique_id == "H1"].ds.tolist() == [1, 2, 3, 4, 5]
    assert train[train.unique_id == "H2"].y.tolist() == [7.5, 8.0, 9.0]
    assert test[test.unique_id == "H1"].ds.tolist() == [6, 7]
    assert test[test.unique_id == "H2"].ds.tolist() == [4, 5]
    assert test.y.tolist() == [15.0, 16.0, 10.0, 11.0]
    # The set's own folder works as well as the one above it.
    assert comp.read_set(spec, tmp_path / "m4").train.equals(train)


def test_read_tourism_quarterly_dates(comp, tmp_path):
    files = {"quarterly_in.csv": QUARTERLY_IN, "quarterly_oos.csv": QUARTERLY_OOS}
    _write(tmp_path / "tourism", files)
    spec = dataclasses.replace(comp.SETS["tourism-quarterly"], horizon=2)
    competition = comp.read_set(spec, tmp_path)
    train, test = competition.train, competition.test
    q1 = train[train.unique_id == "q1"]
    quarter_starts = ["1990-07-01", "1990-10-01", "1991-01-01", "1991-04-01", "1991-07-01"]
    assert q1.y.tolist() == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert q1.ds.tolist() == list(pd.to_datetime(quarter_starts))
    assert test[test.unique_id == "q1"].ds.tolist() == list(
        pd.to_datetime(["1991-10-01", "1992-01-01"])
    )
    assert train[train.unique_id == "q2"].ds.iloc[0] == pd.Timestamp("2001-10-01")
    assert test[test.unique_id == "q2"].y.tolist() == [40.0, 50.0]
    assert competition.notes == ()


def test_read_tourism_yearly_stray_values_and_start(comp, tmp_path):
    _write(tmp_path, {"yearly_in.csv": YEARLY_IN, "yearly_oos.csv": YEARLY_OOS})
    spec = dataclasses.replace(comp.SETS["tourism-yearly"], horizon=2)
    competition = comp.read_set(spec, tmp_path)
    train, test = competition.train, competition.test
    assert train[train.unique_id == "Y18"].y.tolist() == [5.0, 6.0]  # not the stray 900
    assert test[test.unique_id == "Y1"].ds.tolist() == list(pd.to_datetime(["1998", "1999"]))
    # Y18's test part starts after its training part, not where its row says.
    assert test[test.unique_id == "Y18"].ds.tolist() == list(pd.to_datetime(["2004", "2005"]))
    assert len(competition.notes) == 1 and competition.notes[0].startswith("Y18")


def test_read_errors(comp, tmp_path):
    bad = M4_TRAIN.replace('"8","9"', '"","9"')  # a gap inside a series
    _write(tmp_path, {"Hourly-train.csv": bad, "Hourly-test.csv": M4_TEST})
    spec = dataclasses.replace(comp.SETS["m4-hourly"], horizon=2)
    with pytest.raises(ValueError, match="H2 has a gap"):
        comp.read_set(spec, tmp_path)
    with pytest.raises(FileNotFoundError, match="Weekly-train.csv"):
        comp.read_set(comp.SETS["m4-weekly"], tmp_path)


def test_sample_is_seeded_and_keeps_order(comp, tmp_path):
    ids = [f"H{i}" for i in range(1, 21)]
    train = pd.DataFrame({"unique_id": np.repeat(ids, 3), "ds": np.tile([1, 2, 3], 20), "y": 1.0})
    test = pd.DataFrame({"unique_id": ids, "ds": 4, "y": 1.0})
    competition = comp.Competition(comp.SETS["m4-hourly"], train, test)
    first, again = competition.sample(5, seed=3), competition.sample(5, seed=3)
    assert first.ids == again.ids and len(first.ids) == 5
    assert first.ids == [key for key in ids if key in first.ids]
    assert set(first.test.unique_id) == set(first.ids)
    assert competition.sample(None, seed=3) is competition


# ---------------------------------------------------------------- Naive2


def _acf(x, lag):
    # r_k = Σ_t (x_t − x̄)(x_{t+k} − x̄) / Σ_t (x_t − x̄)², written out term by term.
    mean = sum(x) / len(x)
    numerator = sum((x[t] - mean) * (x[t + lag] - mean) for t in range(len(x) - lag))
    return numerator / sum((v - mean) ** 2 for v in x)


def _seasonal(n, season, noise, seed=0, trend=0.0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    level = 100.0 + trend * t
    return level * (1 + 0.3 * np.sin(2 * np.pi * t / season)) + noise * rng.normal(size=n)


def test_autocorrelations_match_the_definition(comp):
    x = _seasonal(60, 12, noise=5.0)
    ours = comp.autocorrelations(x, 13)
    assert ours == pytest.approx([_acf(list(x), k) for k in range(14)], abs=1e-12)


@pytest.mark.parametrize(
    "n, season, noise, expected",
    [
        (120, 12, 5.0, True),  # a clear yearly cycle
        (120, 12, 300.0, False),  # noise drowns it
        (35, 12, 5.0, False),  # fewer than 3 seasons
        (120, 1, 5.0, False),  # no season to test
        (200, 24, 5.0, False),  # R's acf stops at lag 10 log10(200) = 23
        (252, 24, 5.0, True),  # ... and reaches lag 24 from n = 252
    ],
)
def test_is_seasonal(comp, n, season, noise, expected):
    assert comp.is_seasonal(_seasonal(n, season, noise), season) is expected


@pytest.mark.parametrize("seed", range(6))
def test_is_seasonal_threshold(comp, seed):
    # Noise near the test's limit: some seeds fall on either side of it.
    x = _seasonal(96, 12, noise=60.0, seed=seed)
    r = [_acf(list(x), k) for k in range(13)]
    limit = 1.645 * np.sqrt((1 + 2 * sum(v**2 for v in r[1:12])) / len(x))
    assert comp.is_seasonal(x, 12) is bool(abs(r[12]) > limit)


def test_known_indices_give_level_times_index(comp):
    season, horizon = 4, 6
    indices = np.array([0.8, 1.1, 1.3, 0.8])
    x = 50.0 * np.tile(indices, 7)[:27]  # ends part-way through a cycle
    assert comp.is_seasonal(x, season)
    np.testing.assert_allclose(comp.seasonal_indices(x, season), indices, rtol=1e-12)
    expected = 50.0 * indices[(27 + np.arange(horizon)) % season]
    np.testing.assert_allclose(comp.naive2(x, season, horizon), expected, rtol=1e-12)


@pytest.mark.parametrize("season", [12, 7])
def test_indices_match_a_pandas_decomposition(comp, season):
    x = _seasonal(10 * season + 5, season, noise=3.0, seed=1, trend=0.5)
    series = pd.Series(x)
    if season % 2 == 0:  # 2×m moving average, centred
        trend = series.rolling(season).mean().rolling(2).mean().shift(-(season // 2))
    else:
        trend = series.rolling(season, center=True).mean()
    ratio = series / trend
    figure = ratio.groupby(np.arange(len(x)) % season).mean().to_numpy()
    figure = figure / figure.mean()
    np.testing.assert_allclose(comp.seasonal_indices(x, season), figure, rtol=1e-12)

    horizon = 2 * season + 3
    adjusted_last = x[-1] / figure[(len(x) - 1) % season]
    expected = adjusted_last * figure[(len(x) + np.arange(horizon)) % season]
    np.testing.assert_allclose(comp.naive2(x, season, horizon), expected, rtol=1e-12)


def test_naive2_without_seasonality_is_naive(comp):
    x = 100.0 + np.random.default_rng(2).normal(size=80).cumsum()
    assert not comp.is_seasonal(x, 12)
    np.testing.assert_array_equal(comp.naive2(x, 12, 5), np.full(5, x[-1]))
    np.testing.assert_array_equal(comp.naive2(x, 1, 3), np.full(3, x[-1]))


def test_seasonal_naive(comp):
    x = np.arange(1.0, 9.0)
    np.testing.assert_array_equal(comp.seasonal_naive(x, 3, 5), [6, 7, 8, 6, 7])
    np.testing.assert_array_equal(comp.seasonal_naive(x, 1, 2), [8, 8])


# ---------------------------------------------------------------- scoring


@pytest.fixture
def tiny(comp):
    """Two series, m = 1, h = 2, scored by hand below."""
    spec = dataclasses.replace(comp.SETS["m4-weekly"], horizon=2)
    train = pd.DataFrame(
        {
            "unique_id": ["A"] * 4 + ["B"] * 3,
            "ds": [1, 2, 3, 4, 1, 2, 3],
            "y": [10.0, 12.0, 11.0, 13.0, 4.0, 6.0, 5.0],
        }
    )
    test = pd.DataFrame(
        {"unique_id": ["A", "A", "B", "B"], "ds": [5, 6, 4, 5], "y": [14.0, 12.0, 5.0, 8.0]}
    )
    return comp.Competition(spec, train, test)


def test_score_by_hand(comp, tiny):
    forecast = pd.DataFrame(
        {
            "unique_id": ["B", "B", "A", "A"],  # any order
            "ds": [4, 5, 5, 6],
            "point": [5.0, 5.0, 13.0, 13.0],
            "lo": [4.0, 4.0, 12.0, 13.5],
            "hi": [6.0, 6.0, 15.0, 14.0],
        }
    )
    result = comp.score(tiny, forecast, comp.Result("m"))
    # A: scale mean(2, 1, 2) = 5/3; B: mean(2, 1) = 3/2.
    smape_a = 200 / 2 * (1 / 27 + 1 / 25)
    smape_b = 200 / 2 * (0 / 10 + 3 / 13)
    assert result.smape == pytest.approx((smape_a + smape_b) / 2, rel=1e-12)
    assert result.mase == pytest.approx((1 / (5 / 3) + 1.5 / 1.5) / 2, rel=1e-12)
    mape_a, mape_b = 100 / 2 * (1 / 14 + 1 / 12), 100 / 2 * (0 + 3 / 8)
    assert result.mape == pytest.approx((mape_a + mape_b) / 2, rel=1e-12)
    # A: inside (width 3); below by 1.5 (0.5 + 40 · 1.5). B: inside; above by 2 (2 + 40 · 2).
    msis_a = (3 + 60.5) / 2 / (5 / 3)
    msis_b = (2 + 82) / 2 / 1.5
    assert result.msis == pytest.approx((msis_a + msis_b) / 2, rel=1e-12)
    assert result.coverage == pytest.approx(0.5)


def test_owa(comp, tiny):
    results = [comp.run_method(name, tiny, seed=0) for name in ("naive2", "seasonal-naive")]
    good = comp.score(
        tiny,
        pd.DataFrame({"unique_id": ["A", "A", "B", "B"], "ds": [5, 6, 4, 5], "point": 13.0}),
        comp.Result("good"),
    )
    comp.add_owa([*results, good])
    naive2 = results[0]
    assert naive2.owa == 1.0
    assert results[1].owa == 1.0  # m = 1: seasonal naive is naive, and so is Naive2
    expected = 0.5 * (good.smape / naive2.smape + good.mase / naive2.mase)
    assert good.owa == pytest.approx(expected, rel=1e-12)
    # Naive2 by hand: A repeats 13, B repeats 5.
    assert naive2.mase == pytest.approx((1.0 / (5 / 3) + 1.5 / 1.5) / 2, rel=1e-12)


def test_a_missing_forecast_is_an_error(comp, tiny):
    forecast = pd.DataFrame({"unique_id": ["A", "A", "B"], "ds": [5, 6, 4], "point": 1.0})
    with pytest.raises(ValueError, match="no forecast for B at 5"):
        comp.score(tiny, forecast, comp.Result("m"))


@pytest.mark.parametrize(
    "method, blocked", [("autoets", "statsforecast"), ("nf-lstm", "neuralforecast")]
)
def test_a_missing_peer_is_reported(comp, tiny, monkeypatch, method, blocked):
    monkeypatch.setitem(sys.modules, blocked, None)  # `import` raises ImportError
    result = comp.run_method(method, tiny, seed=0)
    assert result.status == "not installed" and result.smape is None


def test_main_writes_json(comp, tmp_path, capsys, monkeypatch):
    _write(tmp_path / "m4", {"Hourly-train.csv": M4_TRAIN, "Hourly-test.csv": M4_TEST})
    spec = dataclasses.replace(comp.SETS["m4-hourly"], horizon=2, season=2)
    monkeypatch.setitem(comp.SETS, "tiny", spec)
    out = tmp_path / "out" / "tiny.json"
    argv = ["--data", str(tmp_path), "--set", "tiny", "--methods", "seasonal-naive"]
    assert comp.main([*argv, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| seasonal-naive |" in printed and "Published" in printed
    report = json.loads(out.read_text())
    assert [r["method"] for r in report["results"]] == ["naive2", "seasonal-naive"]
    assert report["results"][0]["owa"] == 1.0
    assert report["series"] == 2 and report["config"]["limit"] is None
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny.json"]


def test_main_without_data_exits_2(comp, tmp_path, capsys):
    assert comp.main(["--data", str(tmp_path), "--set", "m4-hourly"]) == 2
    assert "Hourly-train.csv" in capsys.readouterr().err
