"""Forecasters scored as the M4 and tourism competitions score them.

Reads one set of the M4 competition (Hourly, Weekly) or of the tourism
forecasting competition (monthly, quarterly, yearly; Athanasopoulos et al.,
IJF 27(3), 2011), fits each method on the training part of every series,
forecasts the h points of the test part and scores them by M4's rules
(Makridakis et al., "The M4 Competition: 100,000 time series and 61
forecasting methods", IJF 36(1), 2020; the M4 guide and `Benchmarks and
Evaluation.R` of github.com/Mcompetitions/M4-methods):

- per series, sMAPE = 200/h Σ |y − ŷ| / (|y| + |ŷ|) and MASE = mean |y − ŷ|
  over the in-sample mean |x_t − x_{t−m}| of the training part (m: the
  set's MASE period, 1 for M4 Weekly and tourism yearly), both averaged over
  the series; OWA = (sMAPE / sMAPE(Naive2) + MASE / MASE(Naive2)) / 2, the
  ratios taken of the set's means;
- for a method with a 95% interval: its coverage and MSIS, the mean of
  (U − L) + 2/0.05 (L − y) 1{y < L} + 2/0.05 (y − U) 1{y > U} divided by the
  same scale as MASE, averaged over the series;
- for tourism also MAPE (mean of 100 |y − ŷ| / |y|), the measure its paper
  and the R `Tcomp` package report.

`keras_lstm_cell.forecast.metrics` computes each series' numbers; its rules
agree with M4's on every point where |y| + |ŷ| > 0 and the scale is > 0,
which holds for all series of these sets. Where they do not: `smape` counts
0 where y = ŷ = 0 (M4's code: 0/0, NaN) and `mase`/`msis` return NaN for a
zero scale (M4's code: Inf).

Methods (`--methods`; Naive2 always runs, as the reference of OWA):

- `seasonal-naive`: the last m values repeated (m = 1: naive);
- `naive2`: M4's Naive2. A series of at least 3m values is seasonal when
  |r_m| > 1.645 sqrt((1 + 2 Σ_{k<m} r_k²) / n), r_k its autocorrelations
  (90% test). A seasonal series is divided by the indices of a classical
  multiplicative decomposition (a centred moving average of order m, 2×m
  for even m, as the trend; the mean ratio to it per position in the
  cycle, scaled to mean 1); its last value, times the index of each future
  position, is the forecast. Otherwise naive;
- `autoets`, `dynamic-theta`: statsforecast's `AutoETS` and
  `DynamicOptimizedTheta` with the models' season length and 95% intervals;
- `nf-lstm`: neuralforecast's `LSTM` with its defaults and input size 2h;
- `lstm-forecaster`: this package's `keras_lstm_cell.forecast.LSTMForecaster`
  with the models' season and a 95% interval; `lstm-forecaster-32` the same
  with 32 LSTM units instead of 64.

The models' season is m, except on M4 Weekly: M4 scores it with m = 1,
but its series are weekly, with a yearly cycle of 52 weeks, which ETS,
Theta and the LSTMForecaster are given (neuralforecast's LSTM takes no
season). Seasonal naive, Naive2 and the scores keep m.
A peer that is not installed (`pip install "keras-lstm-cell[bench]"`) is
listed as such and the run goes on. Each method's fit and its forecast are
timed apart, in seconds, over all series together; statsforecast's models
first fit one series untimed, so numba's compilation is left out.

It prints one table and the set's published numbers; `--json OUT` also
writes the machine (CPU, count, 1-minute load average before and after),
library versions, the configuration, every row and the published numbers.

The data is not part of the project. Get the M4 files from the `Dataset/`
folder of github.com/Mcompetitions/M4-methods (`Train/Hourly-train.csv`,
`Test/Hourly-test.csv`, ...) and the tourism files from the `source-data/`
folder of github.com/ellisp/Tcomp-r-package (`monthly_in.csv`,
`monthly_oos.csv`, ...), and lay them out as

    DATA/m4/{Hourly,Weekly}-{train,test}.csv
    DATA/tourism/{monthly,quarterly,yearly}_{in,oos}.csv

`--data` takes DATA, or the set's own folder (DATA/m4, DATA/tourism).

    python benchmarks/competitions.py --data DATA --set m4-hourly --limit 50
    python benchmarks/competitions.py --data DATA --set tourism-monthly \\
        --methods seasonal-naive autoets --json /tmp/tourism-monthly.json
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import importlib.metadata
import json
import logging
import math
import os
import platform
import sys
import time
import traceback
import warnings
from pathlib import Path

# Quiet TensorFlow's C++ start-up logging; must be set before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from keras_lstm_cell.forecast import metrics  # noqa: E402

LEVEL = 95  # the interval scored, in percent, as M4 scored its intervals
SEASONALITY_Z = 1.645  # M4's seasonality test: one-sided 95%, a 90% two-sided band
SEED = 0  # of the --limit sample and of the learned methods


@dataclasses.dataclass(frozen=True)
class Published:
    """One published reference result; None where the source gives none."""

    method: str
    smape: float | None = None
    mase: float | None = None
    mape: float | None = None


@dataclasses.dataclass(frozen=True)
class SetSpec:
    """Where a set's files are and how its competition scores it."""

    name: str
    folder: str  # "m4" or "tourism"
    train_file: str
    test_file: str
    horizon: int
    season: int  # m of MASE, of seasonal naive and of Naive2's test
    freq: int | str  # Nixtla's freq: 1 for positions, a pandas alias for dates
    source: str  # of the published numbers
    published: tuple[Published, ...]
    header_rows: int = 0  # tourism: length, start year (and start period) above the values
    # The cycle the models are given, where the calendar has one that the
    # competition's m leaves out: a year of 52 weeks for M4 Weekly (m = 1).
    model_season: int | None = None


def model_season(spec: SetSpec) -> int:
    """The seasonal period the models are given: the calendar's, else m."""
    return spec.season if spec.model_season is None else spec.model_season


M4_SOURCE = "M4 competition, Evaluation and Ranks, point forecasts"
TOURISM_SOURCE = (
    "tourism competition: MASE of the R forecast package's reproduction (Tcomp); "
    "MAPE of seasonal naive (Tcomp) and of N-BEATS (Oreshkin et al., ICLR 2020)"
)
SETS = {
    spec.name: spec
    for spec in (
        SetSpec(
            name="m4-hourly",
            folder="m4",
            train_file="Hourly-train.csv",
            test_file="Hourly-test.csv",
            horizon=48,
            season=24,
            freq=1,
            source=M4_SOURCE,
            published=(
                Published("Naive2", 18.383, 2.395),
                Published("seasonal naive", 13.912, 1.193),
                Published("Theta", 18.138, 2.455),
                Published("RNN benchmark", 14.698, 3.048),
                Published("MLP benchmark", 13.842, 2.607),
                Published("ES-RNN (1st)", 9.328, 0.893),
                Published("Montero-Manso (2nd)", 11.506, 0.819),
            ),
        ),
        SetSpec(
            name="m4-weekly",
            folder="m4",
            train_file="Weekly-train.csv",
            test_file="Weekly-test.csv",
            horizon=13,
            season=1,
            model_season=52,
            freq=1,
            source=M4_SOURCE,
            published=(
                Published("Naive2", 9.161, 2.777),
                Published("seasonal naive", 9.161, 2.777),
                Published("Theta", 9.093, 2.637),
                Published("RNN benchmark", 15.220, 5.132),
                Published("MLP benchmark", 21.349, 13.568),
                Published("ES-RNN (1st)", 7.817, 2.356),
                Published("Montero-Manso (2nd)", 7.625, 2.108),
            ),
        ),
        SetSpec(
            name="tourism-monthly",
            folder="tourism",
            train_file="monthly_in.csv",
            test_file="monthly_oos.csv",
            horizon=24,
            season=12,
            freq="MS",
            source=TOURISM_SOURCE,
            published=(
                Published("ETS", mase=1.54),
                Published("ARIMA", mase=1.60),
                Published("seasonal naive", mase=1.63, mape=22.56),
                Published("Theta", mase=1.65),
                Published("N-BEATS", mape=19.47),
            ),
            header_rows=3,
        ),
        SetSpec(
            name="tourism-quarterly",
            folder="tourism",
            train_file="quarterly_in.csv",
            test_file="quarterly_oos.csv",
            horizon=8,
            season=4,
            freq="QS",
            source=TOURISM_SOURCE,
            published=(
                Published("ETS", mase=1.59),
                Published("ARIMA", mase=1.60),
                Published("seasonal naive", mase=1.70, mape=16.46),
                Published("Theta", mase=1.66),
                Published("N-BEATS", mape=14.95),
            ),
            header_rows=3,
        ),
        SetSpec(
            # The yearly files have no start-period row.
            name="tourism-yearly",
            folder="tourism",
            train_file="yearly_in.csv",
            test_file="yearly_oos.csv",
            horizon=4,
            season=1,
            freq="YS",
            source=TOURISM_SOURCE,
            published=(
                Published("Theta", mase=2.73),
                Published("ETS", mase=3.00),
                Published("naive", mase=3.01, mape=23.61),
                Published("ARIMA", mase=3.19),
                Published("N-BEATS", mape=21.36),
            ),
            header_rows=2,
        ),
    )
}
PERIODS_PER_YEAR = {"MS": 12, "QS": 4, "YS": 1}


# ---------------------------------------------------------------- reading


@dataclasses.dataclass(frozen=True)
class Competition:
    """A set read into Nixtla's long format (`unique_id`, `ds`, `y`)."""

    spec: SetSpec
    train: pd.DataFrame
    test: pd.DataFrame
    notes: tuple[str, ...] = ()  # what the reader repaired in the files

    @property
    def ids(self) -> list[str]:
        return list(self.train["unique_id"].unique())

    def sample(self, limit: int | None, seed: int) -> Competition:
        """`limit` series drawn at random with `seed`, in the files' order (None: all)."""
        ids = self.ids
        if limit is None or limit >= len(ids):
            return self
        chosen = np.sort(np.random.default_rng(seed).choice(len(ids), size=limit, replace=False))
        keep = {ids[i] for i in chosen}
        return dataclasses.replace(
            self,
            train=self.train[self.train["unique_id"].isin(keep)].reset_index(drop=True),
            test=self.test[self.test["unique_id"].isin(keep)].reset_index(drop=True),
        )


def _long(series: dict[str, np.ndarray], dates: dict[str, object]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": np.repeat(list(series), [len(v) for v in series.values()]),
            "ds": np.concatenate([np.asarray(dates[k]) for k in series]),
            "y": np.concatenate(list(series.values())),
        }
    )


def read_m4_file(path: Path) -> dict[str, np.ndarray]:
    """An M4 file: one row per series, `V1` its id, then its values; rows end in empty fields."""
    wide = pd.read_csv(path, index_col=0, dtype={0: str})
    series = {}
    for series_id, row in wide.iterrows():
        values = row.to_numpy(dtype="float64")
        length = int(np.count_nonzero(~np.isnan(values)))
        if length == 0 or np.isnan(values[:length]).any():
            raise ValueError(f"{path}: series {series_id} has a gap or no values")
        series[str(series_id)] = values[:length]
    return series


def read_m4(spec: SetSpec, folder: Path) -> Competition:
    """M4 series are indexed by position: training ds 1..n, test n+1..n+h."""
    train = read_m4_file(folder / spec.train_file)
    test = read_m4_file(folder / spec.test_file)
    _check_parts(spec, train, test)
    train_ds = {k: np.arange(1, len(v) + 1) for k, v in train.items()}
    test_ds = {k: np.arange(len(train[k]) + 1, len(train[k]) + spec.horizon + 1) for k in test}
    return Competition(spec, _long(train, train_ds), _long(test, test_ds))


def read_tourism_file(
    path: Path, header_rows: int
) -> dict[str, tuple[tuple[int, int], np.ndarray]]:
    """A tourism file: one column per series; rows of its length, start year and
    (monthly, quarterly) start period, then the values, then empty fields.

    Returns `{id: ((start year, start period), values)}`. Only the first
    `length` values are read: `yearly_in.csv` has stray numbers further down
    in some columns (its 337th line).
    """
    wide = pd.read_csv(path, dtype="float64")
    series = {}
    for column in wide.columns:
        cells = wide[column].to_numpy()
        length, year = int(cells[0]), int(cells[1])
        period = int(cells[2]) if header_rows == 3 else 1
        values = cells[header_rows : header_rows + length]
        if len(values) < length or np.isnan(values).any():
            raise ValueError(f"{path}: series {column} says {length} values, has fewer")
        series[column] = ((year, period), values)
    return series


def _period_dates(start: tuple[int, int], count: int, freq: str) -> pd.DatetimeIndex:
    year, period = start
    month = (period - 1) * 12 // PERIODS_PER_YEAR[freq] + 1
    return pd.date_range(pd.Timestamp(year, month, 1), periods=count, freq=freq)


def read_tourism(spec: SetSpec, folder: Path) -> Competition:
    """Dates are period starts (`MS`, `QS`, `YS`). The test part's dates follow
    the training part's end; where its own start row disagrees, that is noted
    (`yearly_oos.csv` has Y18 start in 2003, the year its training part ends)."""
    train = read_tourism_file(folder / spec.train_file, spec.header_rows)
    test = read_tourism_file(folder / spec.test_file, spec.header_rows)
    _check_parts(spec, {k: v for k, (_, v) in train.items()}, {k: v for k, (_, v) in test.items()})
    train_ds, test_ds, notes = {}, {}, []
    for key, (start, values) in train.items():
        dates = _period_dates(start, len(values) + spec.horizon, spec.freq)
        train_ds[key], test_ds[key] = dates[: len(values)], dates[len(values) :]
        stated = _period_dates(test[key][0], 1, spec.freq)[0]
        if stated != test_ds[key][0]:
            notes.append(
                f"{key}: the test part's start row says {stated.date()}; the training part "
                f"ends the period before {test_ds[key][0].date()}, which is used"
            )
    return Competition(
        spec,
        _long({k: v for k, (_, v) in train.items()}, train_ds),
        _long({k: v for k, (_, v) in test.items()}, test_ds),
        tuple(notes),
    )


def _check_parts(spec: SetSpec, train: dict, test: dict) -> None:
    if list(train) != list(test):
        raise ValueError(f"{spec.name}: the training and test files hold different series")
    short = [k for k, v in test.items() if len(v) != spec.horizon]
    if short:
        raise ValueError(f"{spec.name}: {short[0]} has a test part of length != {spec.horizon}")


def find_folder(data: Path, spec: SetSpec) -> Path:
    """`data` itself, or its `m4/` or `tourism/` child: whichever holds the set's files."""
    for folder in (data / spec.folder, data):
        if (folder / spec.train_file).is_file() and (folder / spec.test_file).is_file():
            return folder
    raise FileNotFoundError(
        f"no {spec.train_file} and {spec.test_file} in {data} or {data / spec.folder}; "
        "see `python benchmarks/competitions.py --help` for where to get them"
    )


def read_set(spec: SetSpec, data: Path) -> Competition:
    folder = find_folder(data, spec)
    return (read_m4 if spec.folder == "m4" else read_tourism)(spec, folder)


# ---------------------------------------------------------------- M4's benchmarks


def autocorrelations(x: np.ndarray, max_lag: int) -> np.ndarray:
    """r_0..r_max_lag as R's `acf` computes them: lag-k autocovariance (sum
    over n − k products, divided by n) over the variance."""
    centred = x - x.mean()
    variance = centred @ centred
    return np.array([centred[: len(x) - k] @ centred[k:] for k in range(max_lag + 1)]) / variance


def is_seasonal(x: np.ndarray, season: int) -> bool:
    """M4's 90% autocorrelation test for seasonality at lag `season`.

    False for `season` 1 and for series shorter than 3 seasons; also where R's
    `acf` stops before lag `season` (its default last lag is 10 log10(n)), as
    M4's code then reads a missing value: with season 24, series of 72..251.
    """
    x = np.asarray(x, dtype="float64")
    n = len(x)
    if season <= 1 or n < 3 * season or min(n - 1, int(10 * math.log10(n))) < season:
        return False
    if np.all(x == x[0]):  # no variance: R's acf gives NaN, the test False
        return False
    r = autocorrelations(x, season)
    limit = SEASONALITY_Z * math.sqrt((1 + 2 * np.sum(r[1:season] ** 2)) / n)
    return bool(abs(r[season]) > limit)


def seasonal_indices(x: np.ndarray, season: int) -> np.ndarray:
    """Classical multiplicative decomposition's indices, as R's `decompose`.

    Returns `(season,)`: entry i for the positions i, i + season, ... of `x`
    counted from its first value. The trend is the centred moving average of
    order `season` (2×`season` for an even one); an index is the mean of
    x / trend over its positions, all indices scaled to mean 1.
    """
    x = np.asarray(x, dtype="float64")
    if season % 2 == 0:
        weights = np.r_[0.5, np.ones(season - 1), 0.5] / season
    else:
        weights = np.ones(season) / season
    half = len(weights) // 2
    ratio = np.full(len(x), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio[half : len(x) - half] = x[half : len(x) - half] / np.convolve(x, weights, "valid")
    padded = np.pad(ratio, (0, -len(x) % season), constant_values=np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 0/0 in a series of zeros
        figure = np.nanmean(padded.reshape(-1, season), axis=0)
    return figure / figure.mean()


def naive2(x: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """M4's Naive2: naive on the seasonally adjusted series, reseasonalised."""
    x = np.asarray(x, dtype="float64")
    if not is_seasonal(x, season):
        return np.full(horizon, x[-1])
    indices = seasonal_indices(x, season)
    n = len(x)
    last_adjusted = x[-1] / indices[(n - 1) % season]
    return last_adjusted * indices[(n + np.arange(horizon)) % season]


def seasonal_naive(x: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """The last `season` values, repeated over the horizon."""
    x = np.asarray(x, dtype="float64")
    return np.resize(x[len(x) - season :], horizon)


# ---------------------------------------------------------------- methods


class NotAvailable(Exception):
    """A method that cannot run here; its message is the row's status."""


def future_ds(train: pd.DataFrame, horizon: int, freq: int | str) -> pd.DataFrame:
    """`unique_id`, `ds` of the `horizon` steps after each series' end."""
    last = train.groupby("unique_id", sort=False)["ds"].last()
    if isinstance(freq, int):
        steps = {k: v + freq * np.arange(1, horizon + 1) for k, v in last.items()}
    else:
        steps = {k: pd.date_range(v, periods=horizon + 1, freq=freq)[1:] for k, v in last.items()}
    return pd.DataFrame(
        {
            "unique_id": np.repeat(list(steps), horizon),
            "ds": np.concatenate([np.asarray(v) for v in steps.values()]),
        }
    )


class Method:
    """What the benchmark times: `fit` on the training parts, then `predict` h
    steps as a frame `unique_id, ds, point` (and `lo`, `hi` with an interval)."""

    name: str

    def warm_up(self, train: pd.DataFrame) -> None:
        """One-off work kept out of the timings (compiling), on a part of `train`."""

    def fit(self, train: pd.DataFrame) -> None:
        raise NotImplementedError

    def predict(self) -> pd.DataFrame:
        raise NotImplementedError


class ScriptMethod(Method):
    """A benchmark computed here, one series at a time, from its training values."""

    def __init__(self, name: str, forecast, spec: SetSpec):
        self.name = name
        self._forecast = forecast  # (values, season, horizon) -> (horizon,)
        self._spec = spec

    def fit(self, train: pd.DataFrame) -> None:
        self._train = train
        self._points = [
            self._forecast(group.to_numpy(), self._spec.season, self._spec.horizon)
            for _, group in train.groupby("unique_id", sort=False)["y"]
        ]

    def predict(self) -> pd.DataFrame:
        frame = future_ds(self._train, self._spec.horizon, self._spec.freq)
        frame["point"] = np.concatenate(self._points)
        return frame


class StatsForecastMethod(Method):
    """statsforecast's `AutoETS` or `DynamicOptimizedTheta`, season length m, one process."""

    def __init__(self, name: str, model: str, spec: SetSpec):
        try:
            import statsforecast
            import statsforecast.models
        except ImportError as error:
            raise NotAvailable("not installed") from error
        self.name = name
        self._spec = spec
        self._model = getattr(statsforecast.models, model)
        self._forecaster = self._build()

    def _build(self):
        import statsforecast

        model = self._model(season_length=model_season(self._spec))
        self._alias = str(model)
        return statsforecast.StatsForecast(models=[model], freq=self._spec.freq, n_jobs=1)

    def warm_up(self, train: pd.DataFrame) -> None:
        """Fits the first series once: numba compiles the model's code on its first call."""
        first = train[train["unique_id"] == train["unique_id"].iloc[0]]
        self._build().fit(first).predict(h=self._spec.horizon, level=[LEVEL])

    def fit(self, train: pd.DataFrame) -> None:
        self._forecaster.fit(train)

    def predict(self) -> pd.DataFrame:
        frame = self._forecaster.predict(h=self._spec.horizon, level=[LEVEL]).reset_index()
        return _rename(frame, self._alias)


class NeuralForecastLSTM(Method):
    """neuralforecast's `LSTM` with its defaults, input size 2h, without progress
    output; with its start padding where a series is shorter than that input and
    the horizon (tourism yearly), which it refuses otherwise."""

    def __init__(self, spec: SetSpec, seed: int):
        try:
            import neuralforecast.models
        except ImportError as error:
            raise NotAvailable("not installed") from error
        self._models = neuralforecast.models
        for name in ("lightning", "pytorch_lightning", "lightning_fabric", "neuralforecast"):
            logging.getLogger(name).setLevel(logging.ERROR)
        self.name = "nf-lstm"
        self._spec = spec
        self._seed = seed
        self._forecaster = None

    def fit(self, train: pd.DataFrame) -> None:
        import neuralforecast

        spec = self._spec
        shortest = int(train.groupby("unique_id").size().min())
        model = self._models.LSTM(
            h=spec.horizon,
            input_size=2 * spec.horizon,
            random_seed=self._seed,
            start_padding_enabled=shortest < 3 * spec.horizon,
            enable_progress_bar=False,
            enable_model_summary=False,
            logger=False,
        )
        self._forecaster = neuralforecast.NeuralForecast(models=[model], freq=spec.freq)
        self._forecaster.fit(train)

    def predict(self) -> pd.DataFrame:
        return _rename(self._forecaster.predict().reset_index(), "LSTM")


class LSTMForecasterMethod(Method):
    """This package's `LSTMForecaster`, through its public API only: its
    defaults, or `units` LSTM units (`name` `lstm-forecaster-UNITS`)."""

    def __init__(self, spec: SetSpec, seed: int, units: int | None = None):
        try:
            from keras_lstm_cell.forecast import LSTMForecaster
        except ImportError as error:
            raise NotAvailable("not available in this version") from error
        self.name = "lstm-forecaster" + ("" if units is None else f"-{units}")
        self._spec = spec
        sizes = {} if units is None else {"units": units}
        # Integer `ds` carry no calendar: the set's season is given.
        self._forecaster = LSTMForecaster(
            horizon=spec.horizon,
            freq=spec.freq,
            level=[LEVEL],
            season=model_season(spec),
            seed=seed,
            **sizes,
        )

    def fit(self, train: pd.DataFrame) -> None:
        self._forecaster.fit(train)

    def predict(self) -> pd.DataFrame:
        return _rename(self._forecaster.predict(), "lstm")


def _rename(frame: pd.DataFrame, alias: str) -> pd.DataFrame:
    """Nixtla's columns `alias`, `alias-lo-95`, `alias-hi-95` as `point`, `lo`, `hi`."""
    names = {alias: "point", f"{alias}-lo-{LEVEL}": "lo", f"{alias}-hi-{LEVEL}": "hi"}
    columns = ["unique_id", "ds", *[name for name in names if name in frame.columns]]
    return frame[columns].rename(columns=names)


METHODS = {
    "seasonal-naive": lambda spec, seed: ScriptMethod("seasonal-naive", seasonal_naive, spec),
    "naive2": lambda spec, seed: ScriptMethod("naive2", naive2, spec),
    "autoets": lambda spec, seed: StatsForecastMethod("autoets", "AutoETS", spec),
    "dynamic-theta": lambda spec, seed: StatsForecastMethod(
        "dynamic-theta", "DynamicOptimizedTheta", spec
    ),
    "nf-lstm": lambda spec, seed: NeuralForecastLSTM(spec, seed),
    "lstm-forecaster": lambda spec, seed: LSTMForecasterMethod(spec, seed),
    # Half the units: half the time on M4 Hourly (docs/forecasting.md).
    "lstm-forecaster-32": lambda spec, seed: LSTMForecasterMethod(spec, seed, units=32),
}


# ---------------------------------------------------------------- scoring


@dataclasses.dataclass
class Result:
    """One method's row: its status and, when it ran, its scores and seconds."""

    method: str
    status: str = "ok"
    smape: float | None = None
    mase: float | None = None
    owa: float | None = None
    mape: float | None = None
    coverage: float | None = None
    msis: float | None = None
    fit_seconds: float | None = None
    forecast_seconds: float | None = None


def _matrix(frame: pd.DataFrame, column: str, ids: list[str]) -> np.ndarray:
    """`(series, h)` values of `column`, series in `ids`' order, steps in time order."""
    ordered = frame.sort_values(["unique_id", "ds"], kind="stable").set_index("unique_id")
    return np.stack([ordered.loc[[key], column].to_numpy(dtype="float64") for key in ids])


def align(forecast: pd.DataFrame, test: pd.DataFrame, name: str) -> pd.DataFrame:
    """The test frame with the method's forecast columns beside each point."""
    forecast = forecast.copy()
    forecast["unique_id"] = forecast["unique_id"].astype(str)
    forecast["ds"] = forecast["ds"].astype(test["ds"].dtype)
    merged = test.merge(forecast, on=["unique_id", "ds"], how="left")
    if merged["point"].isna().any():
        missing = merged.loc[merged["point"].isna(), ["unique_id", "ds"]].iloc[0].tolist()
        raise ValueError(f"{name} gave no forecast for {missing[0]} at {missing[1]}")
    return merged


def score(competition: Competition, forecast: pd.DataFrame, result: Result) -> Result:
    """Fill `result` with the per-series means of sMAPE, MASE, MAPE and, with an
    interval, coverage and MSIS. OWA needs Naive2 and is set by `add_owa`."""
    ids = competition.ids
    merged = align(forecast, competition.test, result.method)
    y, point = _matrix(merged, "y", ids), _matrix(merged, "point", ids)
    history = competition.train.groupby("unique_id", sort=False)["y"]
    scales = [
        metrics.naive_scale(history.get_group(k).to_numpy(), competition.spec.season) for k in ids
    ]
    result.smape = float(np.mean([metrics.smape(a, b) for a, b in zip(y, point)]))
    result.mase = float(np.mean([metrics.mase(a, b, s) for a, b, s in zip(y, point, scales)]))
    result.mape = float(np.mean([metrics.mape(a, b) for a, b in zip(y, point)]))
    if {"lo", "hi"} <= set(merged.columns):
        lo, hi = _matrix(merged, "lo", ids), _matrix(merged, "hi", ids)
        level = LEVEL / 100
        result.coverage = float(np.mean([metrics.coverage(*row) for row in zip(y, lo, hi)]))
        result.msis = float(
            np.mean(
                [metrics.msis(a, low, high, level, s) for a, low, high, s in zip(y, lo, hi, scales)]
            )
        )
    return result


def add_owa(results: list[Result]) -> None:
    """OWA of each row that ran, against the Naive2 row's set means."""
    reference = next(r for r in results if r.method == "naive2")
    for result in results:
        if result.smape is not None:
            result.owa = 0.5 * (result.smape / reference.smape + result.mase / reference.mase)


def run_method(name: str, competition: Competition, seed: int) -> Result:
    """Fit on the training parts, forecast h, score; a failure becomes the row's status."""
    try:
        method = METHODS[name](competition.spec, seed)
    except NotAvailable as error:
        return Result(name, status=str(error))
    result = Result(name)
    try:
        method.warm_up(competition.train)
        started = time.perf_counter()
        method.fit(competition.train)
        result.fit_seconds = time.perf_counter() - started
        started = time.perf_counter()
        forecast = method.predict()
        result.forecast_seconds = time.perf_counter() - started
        return score(competition, forecast, result)
    except Exception as error:  # one method's failure should not end the whole run
        traceback.print_exc()
        return Result(name, status=f"failed: {type(error).__name__}: {error}")


# ---------------------------------------------------------------- report


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (line.split(":", 1)[1].strip() for line in f if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }


def versions() -> dict:
    found = {}
    for package in ("numpy", "pandas", "keras", "statsforecast", "neuralforecast", "torch"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    if "keras" in sys.modules:  # the backend the package's forecaster ran on
        found["keras_backend"] = sys.modules["keras"].backend.backend()
    return found


SHOWN = {"smape": "sMAPE", "mase": "MASE", "mape": "MAPE"}


def _cell(value: float | None, digits: int) -> str:
    return "—" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def format_table(spec: SetSpec, results: list[Result]) -> str:
    tourism = spec.folder == "tourism"
    header = "| method | sMAPE | MASE | OWA |" + (" MAPE |" if tourism else "")
    header += " coverage95 | MSIS | fit s | forecast s |"
    lines = [header, "|---" + "|--:" * (header.count("|") - 2) + "|"]
    for r in results:
        if r.status != "ok":
            lines.append(f"| {r.method} | {r.status} |" + " |" * (header.count("|") - 3))
            continue
        cells = [_cell(r.smape, 3), _cell(r.mase, 3), _cell(r.owa, 3)]
        cells += [_cell(r.mape, 2)] if tourism else []
        cells += [_cell(r.coverage, 3), _cell(r.msis, 2)]
        cells += [_cell(r.fit_seconds, 1), _cell(r.forecast_seconds, 1)]
        lines.append(f"| {r.method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_published(spec: SetSpec) -> str:
    """The set's published numbers; for M4 with OWA against the published Naive2."""
    naive2_row = next((p for p in spec.published if p.method == "Naive2"), None)
    columns = [
        (label, digits)
        for label, digits in (("smape", 3), ("mase", 3), ("mape", 2))
        if any(getattr(p, label) is not None for p in spec.published)
    ]
    header = "| method | " + " | ".join(f"{SHOWN[c]}" for c, _ in columns) + " |"
    header += " OWA |" if naive2_row else ""
    lines = [f"Published ({spec.source}):", header, "|---" + "|--:" * (header.count("|") - 2) + "|"]
    for p in spec.published:
        cells = [_cell(getattr(p, label), digits) for label, digits in columns]
        if naive2_row:
            owa = 0.5 * (p.smape / naive2_row.smape + p.mase / naive2_row.mase)
            cells.append(_cell(owa, 3))
        lines.append(f"| {p.method} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def build_report(args, competition: Competition, results: list[Result], date, host) -> dict:
    """What `--json` writes: when, where, with what, and every row."""
    spec = competition.spec
    return {
        "date": date,
        "machine": host,
        "versions": versions(),
        "config": {
            "data": str(args.data.resolve()),
            "set": spec.name,
            "methods": [r.method for r in results],
            "limit": args.limit,
            "seed": args.seed,
            "level": LEVEL,
        },
        "series": len(competition.ids),
        "horizon": spec.horizon,
        "season": spec.season,
        "model_season": model_season(spec),
        "freq": spec.freq,
        "notes": list(competition.notes),
        "results": [dataclasses.asdict(r) for r in results],
        "published": {
            "source": spec.source,
            "rows": [dataclasses.asdict(p) for p in spec.published],
        },
    }


def write_json(path: Path, report: dict) -> None:
    """Written beside and renamed, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(partial, path)


# ---------------------------------------------------------------- command line


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Data: M4 from github.com/Mcompetitions/M4-methods (Dataset/), tourism from "
        "github.com/ellisp/Tcomp-r-package (source-data/).",
    )
    parser.add_argument("--data", type=Path, required=True, help="folder with m4/ and tourism/")
    parser.add_argument("--set", dest="set_name", required=True, choices=list(SETS))
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS))
    parser.add_argument("--limit", type=int, help="a random sample of this many series")
    parser.add_argument("--seed", type=int, default=SEED, help="of the sample and the models")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args(argv)
    if args.limit is not None and args.limit < 1:
        parser.error(f"expected --limit >= 1; received {args.limit}")
    return args


def _progress(result: Result) -> str:
    if result.status != "ok":
        return result.status
    return (
        f"sMAPE {result.smape:.3f}, MASE {result.mase:.3f}, fit {result.fit_seconds:.1f} s, "
        f"forecast {result.forecast_seconds:.1f} s"
    )


def main(argv=None) -> int:
    args = parse_args(argv)
    spec = SETS[args.set_name]
    try:
        competition = read_set(spec, args.data).sample(args.limit, args.seed)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    methods = list(dict.fromkeys(args.methods))
    if "naive2" not in methods:  # the reference of OWA
        methods.insert(0, "naive2")
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load_before = os.getloadavg()[0]
    results = []
    for name in methods:
        results.append(run_method(name, competition, args.seed))
        print(f"{name}: {_progress(results[-1])}", file=sys.stderr, flush=True)
    add_owa(results)

    host = machine() | {"load_average_1min": [load_before, os.getloadavg()[0]]}
    count = len(competition.ids)
    if args.json:
        write_json(args.json, build_report(args, competition, results, date, host))
    print(
        f"{spec.name}: {count} series, h={spec.horizon}, m={spec.season}, models' season "
        f"{model_season(spec)}, freq={spec.freq}; "
        f"{host['cpu']}, {host['cpus']} CPUs, load {load_before:.1f}; {date}"
    )
    print(format_table(spec, results))
    print()
    print(format_published(spec))
    for note in competition.notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
