"""Windows of a series, split in time, with scaling fitted on training only."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import tensorflow as tf
from keras import ops

from keras_lstm_cell import baselines
from keras_lstm_cell import forecast_metrics
from keras_lstm_cell.timeseries import TimeSeries
from keras_lstm_cell.window_dataset import window_dataset
from keras_lstm_cell.window_scaler import WindowScaler
from keras_lstm_cell.windows import make_windows
from keras_lstm_cell.windows import split_slices

PARTS = ("train", "val", "test")


def required_rows(window: int, horizon: int, val_fraction: float, test_fraction: float) -> int:
    """Fewest rows that give at least one train, validation and test window."""
    rows = window + horizon + 2
    while True:
        count = rows - window - horizon + 1
        n_val = max(1, round(val_fraction * count))
        n_test = max(1, round(test_fraction * count))
        if count - n_val - n_test >= 1:
            return rows
        rows += 1


# Holds arrays: compared by identity, not field by field.
@dataclasses.dataclass(frozen=True, eq=False)
class ForecastData:
    """Everything a run needs from the data, in raw and model units.

    Windows are cut from the whole series (`make_windows`) and split in time:
    training windows first, then validation, then test, each window's target
    later than every target of the part before. `scaler` and `mase_scale`
    come from the training part alone.

    Args:
        series: The cleaned `TimeSeries`.
        window: Rows per input window.
        horizon: Rows forecast per window.
        x: Raw windows `(N, window, F)`, float64.
        y: Raw targets `(N, horizon)`, float64.
        target_dates: Dates of the targets `(N, horizon)`, datetime64.
        slices: `{"train", "val", "test"}` → slice of the window axis.
        scaler: `WindowScaler` fitted on the training windows.
        mase_scale: In-sample MAE of one-step persistence on training rows.
        seasonal: Seasonal-naive forecasts `(N, horizon)`, NaN where undefined.
        season: Period of `seasonal`, in rows.
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
        season: int = 7,
        scaler: WindowScaler | None = None,
    ) -> ForecastData:
        """Windows, splits and fits the scaler (unless `scaler` is given)."""
        minimum = required_rows(window, horizon, val_fraction, test_fraction)
        if len(series) < minimum:
            raise ValueError(
                f"Expected at least {minimum} rows in {series.source} for "
                f"window={window}, horizon={horizon} and a train, validation "
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
        x, y = make_windows(series.values, series.target_values, window, horizon)
        dates = series.dates.to_numpy()
        count = len(y)
        target_dates = np.stack(
            [dates[window + k : window + k + count] for k in range(horizon)], axis=1
        )
        train, val, test = split_slices(count, val_fraction, test_fraction)
        target_index = series.columns.index(series.target)
        if scaler is None:
            scaler = WindowScaler.fit(x[train], y[train], transform, target_index)
        # Rows up to the last training target: all the model was fitted on.
        train_rows = series.target_values[: train.stop + window + horizon - 1]
        return cls(
            series=series,
            window=window,
            horizon=horizon,
            x=x,
            y=y,
            target_dates=target_dates,
            slices={"train": train, "val": val, "test": test},
            scaler=scaler,
            mase_scale=forecast_metrics.naive_scale(train_rows),
            seasonal=baselines.seasonal_naive(series.target_values, window, horizon, season),
            season=season,
        )

    @property
    def target_index(self) -> int:
        return self.scaler.target_index

    def raw(self, part: str) -> tuple[np.ndarray, np.ndarray]:
        """Raw `(x, y)` of one part, float32 for `x` as the model takes it."""
        s = self.slices[part]
        return self.x[s].astype("float32"), self.y[s]

    def dataset(
        self, part: str, *, batch_size: int, shuffle: bool = False, seed: int | None = None
    ) -> tf.data.Dataset:
        """`scaled(part)` as a `tf.data` pipeline of batches, cut from the series on demand."""
        part_slice = self.slices[part]
        raw = window_dataset(
            self.series.values,
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

    def persistence(self, part: str) -> np.ndarray:
        x = self.x[self.slices[part]]
        return baselines.persistence(x, self.target_index, self.horizon)

    def seasonal_naive(self, part: str) -> np.ndarray:
        return self.seasonal[self.slices[part]]

    def describe(self) -> dict:
        """Sizes and date ranges of the parts, for the run record."""
        parts = {}
        for part in PARTS:
            s = self.slices[part]
            dates = self.target_dates[s]
            parts[part] = {
                "windows": s.stop - s.start,
                "first_target_date": str(pd.Timestamp(dates[0, 0]).date()),
                "last_target_date": str(pd.Timestamp(dates[-1, -1]).date()),
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
            "notes": list(series.notes),
            "window": self.window,
            "horizon": self.horizon,
            "season": self.season,
            "mase_scale": self.mase_scale,
            "parts": parts,
        }
