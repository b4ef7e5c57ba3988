"""`LSTMForecaster`: one LSTM trained across many series, fitted and used in memory."""

from __future__ import annotations

import io
import json
import math
import os

import keras
import numpy as np
import pandas as pd

from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell._checks import is_number
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast.config import check_levels
from keras_lstm_cell.forecast.files import write_bytes_atomic
from keras_lstm_cell.forecast.files import write_json_atomic
from keras_lstm_cell.forecast.global_network import build_global_network
from keras_lstm_cell.forecast.global_network import seasonal_spread
from keras_lstm_cell.forecast.global_network import window_stats
from keras_lstm_cell.forecast.global_network import with_intervals
from keras_lstm_cell.forecast.metrics import conformal_offsets
from keras_lstm_cell.forecast.metrics import level_label
from keras_lstm_cell.forecast.panel import ID_COL
from keras_lstm_cell.forecast.panel import TARGET_COL
from keras_lstm_cell.forecast.panel import TIME_COL
from keras_lstm_cell.forecast.panel import Panel

MODEL_NAME = "lstm"  # the forecasts' column, and the prefix of the bounds' ("lstm-lo-80")
FORMATS = ("tf_saved_model", "litert", "onnx")
MODEL_FILE, SETTINGS_FILE, ARRAYS_FILE = "model.keras", "forecaster.json", "arrays.npz"
FILE_FORMAT = "keras-lstm-cell global forecaster"
CHECKPOINT = os.path.join("checkpoints", "best.weights.h5")  # in `fit`'s logdir
PREDICT_BATCH = 1024  # windows per call of the network

# Defaults, each with its reason.
UNITS = 64  # one layer of 64 units serves a few hundred series of one frequency
# Measured on the competitions (benchmarks/competitions.py, docs/forecasting.md):
# 60 epochs instead of 30 took M4 Hourly from sMAPE 14.20 to 13.80; batches of
# 64 instead of 256 took tourism quarterly's MASE from 1.70 to 1.55.
EPOCHS = 60  # an upper bound: early stopping on the held-out windows ends sooner
PATIENCE = 8  # epochs without improvement of the held-out windows' loss
BATCH_SIZE = 64
LEARNING_RATE = 1e-3
GLOBAL_CLIPNORM = 1.0
WINDOWS_PER_SERIES = 32  # sampled from each series per epoch: every series weighs the same


def default_window(horizon: int, season: int) -> int:
    """Two horizons or two seasons of input, whichever is longer, at least 8 rows."""
    return max(2 * horizon, 2 * season, 8)


class LSTMForecaster:
    """One LSTM trained on windows of every series of a long frame.

    Takes Nixtla's long frame (`unique_id`, `ds`, `y`) or one `pandas.Series`
    indexed by date, as darts and neuralforecast do: `fit`, then `predict`
    the `horizon` values after each series' end, in memory; nothing is
    written unless asked (`logdir`, `save`, `export`).

    Windows of `window` rows, with the `horizon` values after them as
    targets, are sampled from every series (`windows_per_series` per epoch,
    so that long and short series weigh alike) and train one network
    (`global_network`): each window is scaled in the graph by its own level,
    so series of any size share the weights, the forecast of a series times
    `c > 0` is its forecast times `c`, and a series never seen in training is
    forecast as well. The loss is the mean absolute error in units of each
    window's level. The last `horizon` values of each series are held out to
    stop training early; with `level`, the `horizon` values before them too,
    and those held-out windows (neither trained on nor stopped on) calibrate
    split-conformal intervals, in units of each window's seasonal spread.

    Args:
        horizon: Steps forecast after each series' end.
        window: Rows of input; `None` for `default_window(horizon, season)`.
        freq: Pandas frequency alias of the dates, or integer step of
            integer `ds`; `None` to infer it.
        level: Interval levels in percent, e.g. `[80, 95]`; `None` for none.
        season: Seasonal period in rows; `None` for the frequency's (24 for
            hourly data, 12 for monthly, ...; 1 for integer `ds`).
        units: LSTM units per layer.
        layers: Stacked LSTM layers.
        epochs: Most passes; early stopping usually ends sooner.
        windows_per_series: Windows drawn from each series per epoch.
        batch_size: Windows per gradient step.
        learning_rate: Adam's learning rate.
        global_clipnorm: Clip the gradients' global norm at this value.
        patience: Epochs without improvement before stopping.
        seed: Seed of the weights and of the windows drawn.
        id_col: Column of the series' ids.
        time_col: Column of the dates (or integers).
        target_col: Column of the values.

    Example:

    >>> model = LSTMForecaster(horizon=24, freq="h", level=[80])
    >>> model.fit(df).predict().columns.tolist()  # doctest: +SKIP
    ['unique_id', 'ds', 'lstm', 'lstm-lo-80', 'lstm-hi-80']
    """

    def __init__(
        self,
        horizon: int,
        window: int | None = None,
        freq=None,
        level=None,
        *,
        season: int | None = None,
        units: int = UNITS,
        layers: int = 1,
        epochs: int = EPOCHS,
        windows_per_series: int = WINDOWS_PER_SERIES,
        batch_size: int = BATCH_SIZE,
        learning_rate: float = LEARNING_RATE,
        global_clipnorm: float = GLOBAL_CLIPNORM,
        patience: int = PATIENCE,
        seed: int = 0,
        id_col: str = ID_COL,
        time_col: str = TIME_COL,
        target_col: str = TARGET_COL,
    ):
        self.horizon = check_positive_int("horizon", horizon)
        self.window = None if window is None else check_positive_int("window", window)
        self.freq = freq
        self.level = _percent_levels(level)
        self.season = None if season is None else check_positive_int("season", season)
        for name, value in (
            ("units", units),
            ("layers", layers),
            ("epochs", epochs),
            ("windows_per_series", windows_per_series),
            ("batch_size", batch_size),
        ):
            check_positive_int(name, value)
        self.units, self.layers, self.epochs = units, layers, epochs
        self.windows_per_series, self.batch_size = windows_per_series, batch_size
        self.learning_rate, self.global_clipnorm = learning_rate, global_clipnorm
        self.patience, self.seed = patience, seed
        self.id_col, self.time_col, self.target_col = id_col, time_col, target_col
        self.network = None
        self.panel = None
        self.residuals = None  # (N, horizon) calibration residuals over their spread
        self._served = None  # (levels, the model serving them); reset with the network
        self.history = {}

    # -- settings --------------------------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor's arguments (`LSTMForecaster(**config)` makes an unfitted copy)."""
        return {
            "horizon": self.horizon,
            "window": self.window,
            "freq": self.freq,
            "level": self.level,
            "season": self.season,
            "units": self.units,
            "layers": self.layers,
            "epochs": self.epochs,
            "windows_per_series": self.windows_per_series,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "global_clipnorm": self.global_clipnorm,
            "patience": self.patience,
            "seed": self.seed,
            "id_col": self.id_col,
            "time_col": self.time_col,
            "target_col": self.target_col,
        }

    def _read(self, df) -> Panel:
        freq = self.freq if self.panel is None else self.panel.freq
        return Panel.from_frame(
            df, id_col=self.id_col, time_col=self.time_col, target_col=self.target_col, freq=freq
        )

    def _resolve(self, panel: Panel) -> None:
        """Season, window and frequency from the data, where left to it."""
        if self.season is None:
            self.season = frequency.default_season(panel.freq) if isinstance(panel.freq, str) else 1
        if self.window is None:
            self.window = default_window(self.horizon, self.season)
        self.freq = panel.freq

    # -- fit -------------------------------------------------------------------------------

    def fit(self, df, logdir=None, verbose: int = 0) -> LSTMForecaster:
        """Trains one network on windows of every series of `df`; returns `self`.

        Args:
            df: A long `DataFrame` (`id_col`, `time_col`, `target_col`), or
                one series as a `pandas.Series` indexed by date.
            logdir: A directory for TensorBoard logs and the best weights'
                checkpoint; `None` writes nothing.
            verbose: Keras's `fit` verbosity: 0 silent, 1 a progress bar,
                2 a line per epoch.
        """
        panel = self._read(df)
        holding, trained, ends = self._plan_fit(panel)
        lengths = panel.lengths
        keras.utils.set_random_seed(self.seed)
        self.network = build_global_network(
            self.window, self.horizon, self.season, self.units, self.layers
        )
        self.network.compile(
            optimizer=keras.optimizers.Adam(
                self.learning_rate, global_clipnorm=self.global_clipnorm
            ),
            loss="mae",
        )
        held = np.flatnonzero(holding)
        validation_end = lengths[held] - (self.horizon if self.level else 0)
        validation = _weighted(
            panel, held, validation_end - self.horizon, self.window, self.horizon
        )
        sampler = _WindowSampler(trained, ends, self, self.seed)
        history = self.network.fit(
            sampler,
            validation_data=validation if len(held) else None,
            epochs=self.epochs,
            callbacks=self._callbacks(logdir, bool(len(held))),
            verbose=verbose,
        )
        self.history = {k: [float(v) for v in vs] for k, vs in history.history.items()}
        self.panel = panel
        self.residuals = None
        self._served = None  # a new network, new residuals
        if self.level:
            # The last `horizon` values: after the validation windows' targets.
            self.residuals = self._calibration_residuals(panel, held, lengths[held] - self.horizon)
        return self

    def check(self, df) -> None:
        """Raises the `ValueError` that `fit(df)` would raise for its data, at once,
        without training: bad input, series too short, too few for `level`."""
        self._plan_fit(self._read(df))

    def _plan_fit(self, panel: Panel):
        """`(holding, trained, ends)`: which series hold out their last values,
        the part of each that trains, and its windows' ends; checked."""
        self._resolve(panel)
        held_out = self.horizon * (2 if self.level else 1)
        lengths = panel.lengths
        # Series long enough give their last values to stopping (and calibration).
        holding = lengths >= held_out + self.horizon + 1
        trained = panel.head(np.where(holding, lengths - held_out, lengths))
        ends = _training_ends(trained.lengths, self.window, self.horizon)
        if not any(len(e) for e in ends):
            raise ValueError(
                f"Expected a series of more than horizon={self.horizon} values to train on. "
                f"Received: series of at most {int(lengths.max())} values"
            )
        for percent in self.level or []:
            needed = _calibration_series(percent)
            if holding.sum() < needed:
                raise _too_few_to_calibrate(percent, needed, int(holding.sum()), self.horizon)
        return holding, trained, ends

    def _callbacks(self, logdir, validating: bool) -> list:
        monitor = "val_loss" if validating else "loss"
        callbacks = [
            keras.callbacks.EarlyStopping(
                monitor=monitor, patience=self.patience, restore_best_weights=True
            )
        ]
        if logdir is not None:
            logdir = os.fspath(logdir)
            callbacks += [
                keras.callbacks.TensorBoard(logdir),
                keras.callbacks.ModelCheckpoint(
                    os.path.join(logdir, CHECKPOINT),
                    monitor=monitor,
                    save_best_only=True,
                    save_weights_only=True,
                ),
            ]
        return callbacks

    def _calibration_residuals(self, panel, series, ends) -> np.ndarray:
        """Residuals of the windows whose inputs end before row `ends` (and whose
        targets start there), over their spread: `(N, H)`."""
        if len(series) == 0:
            raise ValueError(
                f"Expected series of at least {3 * self.horizon + 1} values to calibrate "
                f"intervals with horizon={self.horizon}. Received: none that long"
            )
        x, y = panel.windows(series, ends, self.window, self.horizon)
        x = x[..., None].astype("float32")
        predicted = self.network.predict(x, batch_size=PREDICT_BATCH, verbose=0)
        spread = keras.ops.convert_to_numpy(seasonal_spread(x, self.season))  # (N, 1)
        return (y - predicted) / spread

    # -- predict ---------------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if self.network is None:
            raise ValueError("Expected a fitted LSTMForecaster. Received: call fit(df) first")

    def _offsets(self, level) -> list:
        """Conformal offsets `(lower, upper)` per level, in units of a window's spread."""
        if not level:
            return []
        if self.residuals is None:
            raise ValueError(
                f"Expected a forecaster fitted with `level` for intervals. Received: level={level}"
            )
        offsets = []
        for percent in level:
            try:
                offsets.append(conformal_offsets(self.residuals, percent / 100))
            except ValueError:
                needed = _calibration_series(percent)
                raise _too_few_to_calibrate(
                    percent, needed, len(self.residuals), self.horizon
                ) from None
        return offsets

    def predict(self, df=None, level=None, *, serve=None) -> pd.DataFrame:
        """The `horizon` values after each series' end.

        Args:
            df: The series to forecast from (their last `window` rows; a
                shorter series repeats its first value), any ids, seen in
                training or not; `None` for the training series.
            level: Interval levels in percent; `None` for those of the
                constructor.
            serve: A function from raw windows `(N, window, 1)` (float32)
                to the network's output, `(N, horizon)` or `(N, horizon,
                1 + 2K)` for the levels of `level`: an exported file run in
                its runtime, say; `None` for the Keras network.

        Returns:
            A frame `unique_id, ds, lstm` (and `lstm-lo-80`, `lstm-hi-80`,
            ... per level), `horizon` rows per series, stepped along the
            series' calendar.
        """
        self._check_fitted()
        panel = self.panel if df is None else self._read(df)
        level = self.level if level is None else _percent_levels(level)
        series = np.arange(len(panel))
        x = panel.windows(series, panel.lengths, self.window)[..., None].astype("float32")
        forecasts = self._serve(x, level, serve)  # (S, H, 1 + 2K)
        return self._frame(panel, series, forecasts, level)

    def _serve(self, x: np.ndarray, level, serve=None) -> np.ndarray:
        if serve is None:
            model = self._serving_model(level)
            out = np.asarray(model.predict(x, batch_size=PREDICT_BATCH, verbose=0), "float64")
        else:
            out = np.asarray(serve(x), "float64")
        expected = (len(x), self.horizon, 1 + 2 * len(level or []))
        out = out if out.ndim == 3 else out[..., None]
        if out.shape != expected:
            raise ValueError(
                f"Expected forecasts of shape {expected} (windows, horizon, 1 + 2 x levels). "
                f"Received: {out.shape}"
            )
        return out

    def _serving_model(self, level) -> keras.Model:
        """The network, with the bounds of `level` if any: one model per network and
        levels, kept, so that its predict function is traced once, not per call."""
        key = tuple(level or ())
        if self._served is None or self._served[0] != key:
            offsets = self._offsets(level or [])
            model = with_intervals(self.network, offsets, self.season) if offsets else self.network
            self._served = (key, model)
        return self._served[1]

    def _frame(self, panel, series, forecasts, level, dates=None) -> pd.DataFrame:
        columns = {
            self.id_col: np.repeat(np.asarray(panel.ids, dtype=object)[series], self.horizon),
            self.time_col: (
                [d for k in series for d in panel.future(k, self.horizon)]
                if dates is None
                else dates
            ),
            MODEL_NAME: forecasts[..., 0].reshape(-1),
        }
        for k, percent in enumerate(level or []):
            label = level_label(percent / 100)
            columns[f"{MODEL_NAME}-lo-{label}"] = forecasts[..., 1 + 2 * k].reshape(-1)
            columns[f"{MODEL_NAME}-hi-{label}"] = forecasts[..., 2 + 2 * k].reshape(-1)
        return pd.DataFrame(columns)

    # -- cross-validation ------------------------------------------------------------------

    def cross_validation(
        self, df, n_windows: int = 1, step_size: int | None = None, refit: bool = True
    ) -> pd.DataFrame:
        """Forecasts from `n_windows` cutoffs at the end of each series, as Nixtla's.

        The last cutoff leaves `horizon` values after it; the others are
        `step_size` (default `horizon`) rows apart. Each forecast sees only
        the values up to its cutoff: with `refit`, a new model is fitted on
        them for every cutoff; without, one model is fitted on the values up
        to the first cutoff and forecasts from every cutoff.

        Returns:
            A frame `unique_id, ds, cutoff, y, lstm` (and the bounds' columns
            with `level`).
        """
        n_windows = check_positive_int("n_windows", n_windows)
        step = self.horizon if step_size is None else check_positive_int("step_size", step_size)
        panel = self._read(df)
        self._resolve(panel)  # the settings left to the data, as each fit resolves them
        back = self.horizon + step * (n_windows - 1)
        short = [panel.ids[k] for k in np.flatnonzero(panel.lengths < back + 2)]
        if short:
            raise ValueError(
                f"Expected series of at least {back + 2} values for {n_windows} windows of "
                f"horizon {self.horizon}, {step} apart. Received: shorter series {short[:5]}"
            )
        frames, model = [], None
        for w in range(n_windows):
            cutoffs = panel.lengths - back + step * w  # rows up to each cutoff
            seen = panel.head(cutoffs)
            if refit or model is None:
                model = LSTMForecaster(**{**self.get_config(), "freq": panel.freq}).fit(
                    seen.to_frame(self.id_col, self.time_col, self.target_col)
                )
            forecast = model.predict(seen.to_frame(self.id_col, self.time_col, self.target_col))
            truth = np.concatenate(
                [panel.series(k)[c : c + self.horizon] for k, c in enumerate(cutoffs)]
            )
            forecast.insert(2, "cutoff", np.repeat(np.asarray(seen.last, object), self.horizon))
            forecast.insert(3, self.target_col, truth)
            frames.append(forecast)
        return pd.concat(frames, ignore_index=True)

    # -- files -----------------------------------------------------------------------------

    def save(self, path, df=None) -> None:
        """Writes the fitted forecaster into directory `path` (new or empty): the
        network (`model.keras`), the settings (JSON) and the arrays (`.npz`).

        `df`, a frame like `fit`'s, gives the series saved with it, that
        `predict()` forecasts from after `load`; `None` for those it was
        fitted on. A forecaster fitted on all but each series' last values
        (to score them) is saved with the whole series this way."""
        self._check_fitted()
        panel = self.panel if df is None else self._read(df)
        path = os.fspath(path)
        if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
            raise ValueError(
                f"Expected `path` to be a new or empty directory. Received: path={path!r}"
            )
        os.makedirs(path, exist_ok=True)
        self.network.save(os.path.join(path, MODEL_FILE))
        arrays = {"values": panel.values, "starts": panel.starts}
        if self.residuals is not None:
            arrays["residuals"] = self.residuals
        buffer = _npz_bytes(arrays)
        write_bytes_atomic(os.path.join(path, ARRAYS_FILE), buffer)
        write_json_atomic(
            os.path.join(path, SETTINGS_FILE),
            {
                "format": FILE_FORMAT,
                "format_version": 1,
                "config": self.get_config(),
                "ids": [_json_id(i) for i in panel.ids],
                "last": [_json_ds(d) for d in panel.last],
                "history": self.history,
            },
        )

    @classmethod
    def load(cls, path) -> LSTMForecaster:
        """A forecaster saved by `save`. Reads data only: the network in Keras's
        format with `safe_mode` (no code runs on load), JSON and arrays."""
        path = os.fspath(path)
        try:
            with open(os.path.join(path, SETTINGS_FILE), encoding="utf-8") as f:
                settings = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(
                f"Expected a directory written by LSTMForecaster.save. Received: {path!r} ({e})"
            ) from None
        if not isinstance(settings, dict) or settings.get("format") != FILE_FORMAT:
            raise ValueError(
                f"Expected a directory written by LSTMForecaster.save. Received: {path!r}, "
                f"whose {SETTINGS_FILE} is not one"
            )
        model = cls(**settings["config"])
        model.network = keras.saving.load_model(os.path.join(path, MODEL_FILE), safe_mode=True)
        with np.load(os.path.join(path, ARRAYS_FILE), allow_pickle=False) as arrays:
            values, starts = arrays["values"], arrays["starts"]
            model.residuals = arrays["residuals"] if "residuals" in arrays else None
        freq = settings["config"]["freq"]
        last = [pd.Timestamp(d) if isinstance(freq, str) else d for d in settings["last"]]
        model.panel = Panel(tuple(settings["ids"]), values, starts, tuple(last), freq)
        model.history = settings.get("history", {})
        return model

    def export(self, path, format: str = "tf_saved_model") -> str:
        """Writes the network (with the intervals of `level`, if any) for a runtime:
        raw windows `(batch, window, 1)` in, `(batch, horizon)` forecasts (or
        `(batch, horizon, 1 + 2K)` with bounds) out, in the series' units.

        `"litert"` (a `.tflite` file) and `"onnx"` are written by
        `keras_lstm_cell.export_model`, run in their runtime and compared with
        the Keras model before they are kept; a SavedModel is loaded back and
        compared the same way. Returns `path`.
        """
        self._check_fitted()
        if format not in FORMATS:
            raise ValueError(f"Expected `format` to be one of {FORMATS}. Received: {format!r}")
        from keras_lstm_cell.export.export_model import export_model

        model = self._serving_model(self.level)
        probe = self.panel.windows(
            np.arange(min(len(self.panel), 64)), self.panel.lengths[:64], self.window
        )[..., None].astype("float32")
        if format == "litert":
            export_model(model, path, format="litert", probe_inputs=probe[:1])
        elif format == "onnx":
            export_model(model, path, format="onnx", probe_inputs=probe)
        else:
            _export_saved_model(model, os.fspath(path), probe)
        return os.fspath(path)


# -- helpers -----------------------------------------------------------------------------------


def _percent_levels(level):
    """Levels in percent, ascending, e.g. `[80.0, 95.0]`; `None` for none.

    Levels under 1 are refused: `0.8` is far likelier a fraction meant as 80%
    than a 0.8% interval.
    """
    if level is None:
        return None
    levels = list(level) if isinstance(level, (list, tuple)) else [level]
    if not levels or not all(is_number(v) and 1 <= v < 100 for v in levels):
        raise ValueError(
            f"Expected `level` in percent, such as [80, 95], each in [1, 100). "
            f"Received: level={level!r}"
        )
    return [float(f"{100 * f:.10g}") for f in check_levels([v / 100 for v in levels])]


def _calibration_series(percent: float) -> int:
    """Held-out windows (one per series) that a `percent`% interval needs."""
    return math.ceil(2 / (1 - percent / 100) - 1e-9) - 1


def _too_few_to_calibrate(percent, needed: int, received: int, horizon: int) -> ValueError:
    return ValueError(
        f"Expected at least {needed} series of at least {3 * horizon + 1} values to "
        f"calibrate a {percent:g}% interval (one held-out window each). Received: "
        f"{received}; ask for a lower level"
    )


def _training_ends(lengths, window: int, horizon: int) -> list[np.ndarray]:
    """Per series, the window ends `e` that train: whole windows where the series
    is long enough (`e >= window`), else its one window with all it has."""
    ends = []
    for n in lengths:
        last = int(n) - horizon
        first = min(window, last)
        ends.append(np.arange(max(first, 1), last + 1) if last >= 1 else np.arange(0))
    return ends


def _weighted(panel: Panel, series, ends, window: int, horizon: int):
    """`(x, y, weights)`: windows with 1 / their deviation as weights, so that
    the loss is the mean absolute error in units of each window's deviation
    (`window_stats`), the units the network forecasts in."""
    x, y = panel.windows(series, ends, window, horizon)
    x = x[..., None].astype("float32")
    weights = 1.0 / keras.ops.convert_to_numpy(window_stats(x)[1])[:, 0]
    return x, y.astype("float32"), weights.astype("float32")


class _WindowSampler(keras.utils.PyDataset):
    """Each epoch, `windows_per_series` windows drawn from every series (as
    far as it has them), shuffled into batches; seeded, so reproducible."""

    def __init__(self, panel: Panel, ends, settings: LSTMForecaster, seed: int):
        super().__init__()
        self.panel, self.ends, self.seed = panel, ends, seed
        self.window, self.horizon = settings.window, settings.horizon
        self.per_series, self.batch_size = settings.windows_per_series, settings.batch_size
        self.trainable = [k for k, e in enumerate(ends) if len(e)]
        self.epoch = 0
        self._draw()

    def _draw(self) -> None:
        rng = np.random.default_rng([self.seed, self.epoch])
        series, ends = [], []
        for k in self.trainable:
            choices = self.ends[k]
            take = min(self.per_series, len(choices))
            series.append(np.full(take, k))
            ends.append(rng.choice(choices, size=take, replace=False))
        series, ends = np.concatenate(series), np.concatenate(ends)
        order = rng.permutation(len(series))
        self.series, self.window_ends = series[order], ends[order]

    def __len__(self) -> int:
        return math.ceil(len(self.series) / self.batch_size)

    def __getitem__(self, index):
        part = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return _weighted(
            self.panel, self.series[part], self.window_ends[part], self.window, self.horizon
        )

    def on_epoch_end(self):
        self.epoch += 1
        self._draw()


def _json_id(value):
    return value.item() if isinstance(value, np.generic) else value


def _json_ds(value):
    return str(value) if isinstance(value, pd.Timestamp) else int(value)


def _npz_bytes(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _export_saved_model(model: keras.Model, path: str, probe: np.ndarray) -> None:
    """`model.export`, then the SavedModel loaded back and checked on `probe`."""
    import tensorflow as tf

    model.export(path, format="tf_saved_model", verbose=False)
    served = tf.saved_model.load(path).serve(probe).numpy()
    expected = np.asarray(model.predict(probe, verbose=0))
    scale = max(1.0, float(np.max(np.abs(expected))))
    if not np.max(np.abs(served - expected)) <= 1e-5 * scale:
        raise ValueError(
            f"Expected the SavedModel at {path!r} to forecast as the Keras model. Received: "
            f"a largest difference of {float(np.max(np.abs(served - expected))):.3g}"
        )
