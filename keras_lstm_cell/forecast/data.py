"""The data of a run: windows of a series, split in time, scaled on training only.

No window holds a value computed from its own targets or from anything after
them. A row filled in to close a gap (`TimeSeries.filled`) is interpolated
from both its neighbours, the next observed value included: a window whose
last input rows were filled that way would hold part of its own target. So
the inputs of every window, and the baselines built from them, see a filled
row as the last observed row before it (`model_inputs`: filled from the past
only); the interpolated value serves only as a training target, and a window
whose targets include a filled row is never scored.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

from keras_lstm_cell.forecast import baselines
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast import metrics
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.scaler import WindowScaler
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.windows import make_windows
from keras_lstm_cell.forecast.windows import split_slices
from keras_lstm_cell.forecast.windows import window_count
from keras_lstm_cell.forecast.windows import window_dataset

SCORED = "all"  # the one part of `ForecastData.for_scoring`
CALIBRATION = "cal"  # the part whose residuals calibrate prediction intervals


def model_inputs(series: TimeSeries) -> np.ndarray:
    """`series.values` with each filled-in row replaced by the last observed
    row before it: the inputs a window sees, computed from the past only.

    Float64 `(time, columns)`. The first row of a series is always observed
    (gaps are filled between observed rows).
    """
    values = series.values
    filled = series.filled_mask
    if not filled.any():
        return values
    rows = np.arange(len(values))
    last_observed = np.maximum.accumulate(np.where(filled, 0, rows))  # (time,)
    return values[last_observed]


def split_settings(config: ForecastConfig) -> dict:
    """`ForecastData.from_series`'s arguments from `config`: how the windows
    are cut and split (with a calibration part when it asks for intervals)."""
    return dict(
        window=config.window,
        horizon=config.horizon,
        val_fraction=config.val_fraction,
        test_fraction=config.test_fraction,
        transform=config.transform,
        season=config.season,
        calibration_fraction=None if config.interval is None else config.calibration_fraction,
    )


def split_parts(
    count: int,
    val_fraction: float,
    test_fraction: float,
    calibration_fraction: float | None = None,
    horizon: int = 1,
) -> dict:
    """`{"train", "val", ["cal",] "test"}` → slice of `count` windows, in time order.

    Without `calibration_fraction`, `windows.split_slices`. With it, a
    calibration part of `round(calibration_fraction * count)` windows (at
    least one) lies between validation and test, and the `horizon - 1`
    windows before it are left out, so that no calibration target was a
    validation target: its residuals played no part in fitting the model or
    in choosing its epoch.
    """
    train, val, test = split_slices(count, val_fraction, test_fraction)
    if calibration_fraction is None:
        return {"train": train, "val": val, "test": test}
    n_val, n_test = val.stop - val.start, test.stop - test.start
    n_cal = max(1, round(calibration_fraction * count))
    gap = horizon - 1
    n_train = count - n_val - gap - n_cal - n_test
    if n_train < 1:
        raise ValueError(
            f"Expected at least {count - n_train + 1} windows for a training, validation, "
            f"calibration and test part (calibration_fraction={calibration_fraction}). "
            f"Received: {count} windows"
        )
    return {
        "train": slice(0, n_train),
        "val": slice(n_train, n_train + n_val),
        CALIBRATION: slice(n_train + n_val + gap, count - n_test),
        "test": slice(count - n_test, count),
    }


def load_series(config: ForecastConfig) -> TimeSeries:
    """The series named by `config.csv`, or the embedded data when it is `None`."""
    kwargs = dict(
        date_column=config.date_column,
        target=config.target,
        features=config.features,
        duplicates=config.duplicates,
        missing=config.missing,
        gaps=config.gaps,
        max_gap=config.max_gap,
        freq=config.freq,
        sep=config.sep,
        decimal=config.decimal,
        thousands=config.thousands,
        date_format=config.date_format,
        time_column=config.time_column,
        na_values=config.na_values,
    )
    if config.csv is None:
        return TimeSeries.default(**kwargs)
    return TimeSeries.from_csv(config.csv, **kwargs)


def prepare_data(config: ForecastConfig, series: TimeSeries | None = None) -> ForecastData:
    """Reads (unless given) and windows the series as `config` says."""
    series = load_series(config) if series is None else series
    return ForecastData.from_series(series, **split_settings(config))


def resolve_config(config: ForecastConfig, data: ForecastData) -> ForecastConfig:
    """`config` with the frequency and season `data` was read with, as a run records it."""
    return config.replace(freq=data.series.freq, season=data.season)


def required_rows(
    window: int,
    horizon: int,
    val_fraction: float,
    test_fraction: float,
    calibration_fraction: float | None = None,
) -> int:
    """Fewest rows that give at least one window to each part."""
    rows = window + horizon + 2
    while True:
        count = window_count(rows, window, horizon)
        try:
            split_parts(count, val_fraction, test_fraction, calibration_fraction, horizon)
            return rows
        except ValueError:
            rows += 1


# Holds arrays: compared by identity, not field by field.
@dataclasses.dataclass(frozen=True, eq=False)
class ForecastData:
    """Everything a run needs from the data, in raw and model units.

    Windows are cut from the whole series (`make_windows`) and split in time:
    training windows first, then validation, then test, each window's target
    later than every target of the part before. `scaler` and `mase_scale`
    come from the training part alone; both seasonal naive and the MASE scale
    use `season`, by default the frequency's (`frequency.default_season`:
    7 for daily data, 5 for business days, 12 for monthly, ...). A window
    whose targets include a date that was filled in (`TimeSeries.filled`)
    trains the model but is not scored: errors are measured on observed
    values only. Its inputs hold filled rows as the last observed value
    before them (`model_inputs`): no window sees its own targets.

    With a calibration part (`calibration_fraction`, for prediction
    intervals) the parts are training, validation, calibration and test
    (`split_parts`).

    Args:
        series: The cleaned `TimeSeries`.
        window: Rows per input window.
        horizon: Rows forecast per window.
        x: Raw windows `(N, window, F)`, float64.
        y: Raw targets `(N, horizon)`, float64.
        target_dates: Dates of the targets `(N, horizon)`, datetime64.
        slices: `{"train", "val", ["cal",] "test"}` → slice of the window
            axis (or `{"all"}`, see `for_scoring`).
        scaler: `WindowScaler` fitted on the training windows.
        mase_scale: In-sample MAE of seasonal naive (period `season`) on the
            training rows.
        seasonal: Seasonal-naive forecasts `(N, horizon)`, NaN where undefined.
        season: Period of `seasonal`, in rows.
        observed: `(N,)` bool, whether none of the window's targets was filled in.
    """

    series: TimeSeries
    window: int
    horizon: int
    x: np.ndarray
    y: np.ndarray
    target_dates: np.ndarray
    slices: dict
    scaler: WindowScaler
    mase_scale: float
    seasonal: np.ndarray
    season: int
    observed: np.ndarray

    @classmethod
    def from_series(
        cls,
        series: TimeSeries,
        *,
        window: int = 7,
        horizon: int = 1,
        val_fraction: float = 0.1,
        test_fraction: float = 0.2,
        transform: str = "diff",
        season: int | None = None,
        scaler: WindowScaler | None = None,
        calibration_fraction: float | None = None,
    ) -> ForecastData:
        """Windows, splits and fits the scaler (unless `scaler` is given).

        `season` `None` is the series frequency's default season;
        `calibration_fraction` adds a calibration part (`split_parts`).
        """
        minimum = required_rows(window, horizon, val_fraction, test_fraction, calibration_fraction)
        if len(series) < minimum:
            calibration = "" if calibration_fraction is None else " calibration,"
            raise ValueError(
                f"Expected at least {minimum} rows in {series.source} for "
                f"window={window}, horizon={horizon} and a train, validation,{calibration} "
                f"and test part (test_fraction={test_fraction}). "
                f"Received: {len(series)} rows"
            )
        if transform == "log_return":
            values = series.frame
            bad = [c for c in values.columns if (values[c] <= 0).any()]
            if bad:
                raise ValueError(
                    "Expected strictly positive values with transform='log_return' "
                    f"(log of ratios). Received: non-positive values in {bad} of "
                    f"{series.source}; use transform='diff'"
                )
        season = _season(series, season)
        arrays = _windows(series, window, horizon, season)
        slices = split_parts(
            len(arrays["y"]), val_fraction, test_fraction, calibration_fraction, horizon
        )
        train = slices["train"]
        if scaler is None:
            target_index = series.columns.index(series.target)
            x, y = arrays["x"][train], arrays["y"][train]
            scaler = WindowScaler.fit(x, y, transform, target_index)
        # Rows up to the last training target: all the model was fitted on.
        train_rows = series.target_values[: train.stop + window + horizon - 1]
        if len(train_rows) <= season:
            raise ValueError(
                f"Expected `season` shorter than the {len(train_rows)} training rows of "
                f"{series.source} (frequency {series.freq}). Received: season={season}; "
                "choose a shorter --season"
            )
        return cls(
            series=series,
            window=window,
            horizon=horizon,
            slices=slices,
            scaler=scaler,
            mase_scale=metrics.naive_scale(train_rows, season),
            season=season,
            **arrays,
        )

    @classmethod
    def for_scoring(
        cls,
        series: TimeSeries,
        *,
        window: int,
        horizon: int,
        season: int | None,
        scaler: WindowScaler,
        mase_scale: float,
    ) -> ForecastData:
        """Every window of `series` as one part, `"all"`, to score a trained model."""
        season = _season(series, season)
        if len(series) < window + horizon:
            raise ValueError(
                f"Expected at least window + horizon = {window + horizon} rows in "
                f"{series.source}. Received: {len(series)} rows"
            )
        arrays = _windows(series, window, horizon, season)
        return cls(
            series=series,
            window=window,
            horizon=horizon,
            slices={SCORED: slice(0, len(arrays["y"]))},
            scaler=scaler,
            mase_scale=mase_scale,
            season=season,
            **arrays,
        )

    @property
    def target_index(self) -> int:
        return self.scaler.target_index

    def raw(self, part: str, observed_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """Raw `(x, y)` of one part, float32 for `x` as the model takes it.

        With `observed_only`, only the windows whose targets were observed.
        """
        keep = self.kept(part, observed_only)
        return self.x[keep].astype("float32"), self.y[keep]

    def kept(self, part: str, observed_only: bool = True) -> np.ndarray:
        """Window indices of one part (only the observed ones, by default)."""
        indices = np.arange(len(self.y))[self.slices[part]]
        return indices[self.observed[indices]] if observed_only else indices

    def dataset(
        self, part: str, *, batch_size: int, shuffle: bool = False, seed: int | None = None
    ) -> tf.data.Dataset:
        """`scaled(part)` as a `tf.data` pipeline of batches, cut from the series on demand."""
        part_slice = self.slices[part]
        raw = window_dataset(
            model_inputs(self.series),
            self.series.target_values,
            self.window,
            self.horizon,
            batch_size=batch_size,
            shuffle=shuffle,
            seed=seed,
            start=part_slice.start,
            stop=part_slice.stop,
            dtype="float64",
        )
        return raw.map(
            lambda x, y: (
                tf.cast(self.scaler.scale_inputs(x), "float32"),
                tf.cast(self.scaler.scale_targets(y, x), "float32"),
            )
        )

    def scaled(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """`(x, y)` of one part in model units, float32."""
        x, y = self.x[self.slices[part]], self.y[self.slices[part]]
        xs = ops.convert_to_numpy(self.scaler.scale_inputs(x))
        ys = ops.convert_to_numpy(self.scaler.scale_targets(y, x))
        return np.asarray(xs, "float32"), np.asarray(ys, "float32")

    def persistence(self, part: str, observed_only: bool = False) -> np.ndarray:
        x = self.x[self.kept(part, observed_only)]
        return baselines.persistence(x, self.target_index, self.horizon)

    def seasonal_naive(self, part: str, observed_only: bool = False) -> np.ndarray:
        return self.seasonal[self.kept(part, observed_only)]

    def describe(self) -> dict:
        """Sizes and date ranges of the parts, for the run record."""
        parts = {}
        for part, s in self.slices.items():
            dates = self.target_dates[s]
            parts[part] = {
                "windows": s.stop - s.start,
                "scored_windows": len(self.kept(part)),
                "first_target_date": _date_text(dates[0, 0]),
                "last_target_date": _date_text(dates[-1, -1]),
            }
        series = self.series
        return {
            "source": series.source,
            "date_column": series.date_column,
            "target": series.target,
            "columns": series.columns,
            "rows": len(series),
            "first_date": str(series.dates[0]),
            "last_date": str(series.dates[-1]),
            "step": str(series.step),
            "freq": series.freq,
            "notes": list(series.notes),
            "filled": [list(r) for r in series.filled],
            "window": self.window,
            "horizon": self.horizon,
            "season": self.season,
            "mase_scale": self.mase_scale,
            "parts": parts,
        }


def _season(series: TimeSeries, season: int | None) -> int:
    """`season`, or the default season of the series' frequency."""
    return frequency.default_season(series.freq) if season is None else season


def _windows(series: TimeSeries, window: int, horizon: int, season: int) -> dict:
    """The per-window arrays of `ForecastData`: `make_windows` of the series
    (inputs filled from the past only), the targets' dates, whether they were
    observed, and the seasonal-naive forecasts (from the same past-only values)."""
    inputs = model_inputs(series)  # (time, columns)
    x, y = make_windows(inputs, series.target_values, window, horizon)
    positions = np.arange(len(y))[:, None] + window + np.arange(horizon)  # (N, horizon)
    return {
        "x": x,
        "y": y,
        "target_dates": series.dates.to_numpy()[positions],
        "observed": ~series.filled_mask[positions].any(axis=1),  # (N,)
        "seasonal": baselines.seasonal_naive(
            inputs[:, series.columns.index(series.target)], window, horizon, season
        ),
    }


def _date_text(date) -> str:
    timestamp = pd.Timestamp(date)
    return str(timestamp.date()) if timestamp == timestamp.normalize() else str(timestamp)
