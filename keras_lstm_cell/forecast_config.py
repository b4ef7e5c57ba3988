"""Every setting of a forecasting run, validated, with its reason."""

from __future__ import annotations

import dataclasses

import numpy as np

from keras_lstm_cell.distribute import STRATEGIES
from keras_lstm_cell.recurrent_layers import RECURRENT_LAYERS
from keras_lstm_cell.timeseries import DUPLICATE_POLICIES
from keras_lstm_cell.timeseries import GAP_POLICIES
from keras_lstm_cell.timeseries import MISSING_POLICIES
from keras_lstm_cell.window_scaler import TRANSFORMS

DEVICES = ("auto", "cpu", "gpu")


def _is_int(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, np.integer))


def _is_number(value) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float, np.number))


@dataclasses.dataclass(frozen=True)
class ForecastConfig:
    """Settings of one training run; `to_dict()` is what the run records.

    The defaults train on the embedded Seattle data in about a minute on two
    CPU cores. The seed tutorial's settings (bitcoin, 256 units, window 7,
    batch 7, clip margin 4, learning rate 0.001, 200 epochs) are
    `units=256, batch_size=7, global_clipnorm=4.0, epochs=200`.

    Args:
        csv: CSV file to read; `None` for the embedded Seattle weather data.
        date_column: Date column (case-insensitive); `None` to detect it.
        target: Column to forecast; `None`: `temp_max` for the embedded
            data, `close` or the only numeric column otherwise.
        features: Further input columns; the target is always the first input.
        duplicates: Policy for repeated dates (`TimeSeries`).
        missing: Policy for missing values.
        gaps: Policy for missing dates.
        window: Past rows per input window.
        horizon: Future rows forecast from each window.
        transform: `"diff"` (default), `"log_return"` or `"level"`, see
            `WindowScaler`.
        units: LSTM units per layer.
        layers: Number of stacked LSTM layers.
        layer: Recurrent layer implementation, see `build_model`.
        cell_kwargs: Extra `SimpleLSTMCell` arguments (e.g. `dropout`).
        epochs: Maximum epochs; early stopping usually ends sooner.
        batch_size: Windows per gradient step.
        learning_rate: Adam learning rate.
        global_clipnorm: Rescale all gradients together to at most this
            global norm (`tf.clip_by_global_norm`). At most one of the three
            clip settings may be set.
        clipnorm: Clip each weight's gradient to this norm.
        clipvalue: Clip each gradient element to [-clipvalue, clipvalue].
        val_fraction: Share of windows, after training, for validation.
        test_fraction: Share of windows, at the end, for the test.
        patience: Epochs without validation improvement before stopping.
        season: Period of the seasonal-naive baseline, in rows.
        seed: Seed of weights, shuffling and dropout.
        device: `"cpu"`, `"gpu"` or `"auto"` (GPU when present).
        distribute: `"none"`, `"mirrored"` (every local GPU) or
            `"multiworker"` (the machines of `TF_CONFIG`), see `get_strategy`.
        gate_monitor: Log the LSTM gates of a validation probe batch to
            TensorBoard each epoch (`GateMonitor`, under `logdir/gates`).
    """

    csv: str | None = None
    date_column: str | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    duplicates: str = "error"
    missing: str = "error"
    gaps: str = "error"
    window: int = 7  # a week of daily values, as in the tutorial
    horizon: int = 1  # next day
    transform: str = "diff"  # level-free: survives prices leaving the training range
    units: int = 32  # enough for a univariate daily series; 256 overfits and is slow
    layers: int = 1
    layer: str = "rnn"
    cell_kwargs: dict = dataclasses.field(default_factory=dict)
    epochs: int = 100  # an upper bound: early stopping ends most runs by ~40
    batch_size: int = 32
    learning_rate: float = 1e-3  # Adam's default, as in the tutorial
    global_clipnorm: float | None = 1.0  # clip the gradients' global norm at 1
    clipnorm: float | None = None
    clipvalue: float | None = None
    val_fraction: float = 0.1
    test_fraction: float = 0.2  # the tutorial's 80/20, with validation from the 80
    patience: int = 10  # epochs without val_loss improvement before stopping
    season: int = 7  # weekly seasonal-naive baseline for daily data
    seed: int = 42
    device: str = "cpu"
    gate_monitor: bool = False
    distribute: str = "none"  # or "mirrored" (local GPUs), "multiworker" (TF_CONFIG)

    def __post_init__(self):
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "cell_kwargs", dict(self.cell_kwargs or {}))
        for name in ("window", "horizon", "units", "layers", "epochs", "batch_size", "season"):
            value = getattr(self, name)
            if not _is_int(value) or value <= 0:
                raise ValueError(
                    f"Expected `{name}` to be a positive integer. Received: {name}={value!r}"
                )
        if not _is_int(self.patience) or self.patience < 0:
            raise ValueError(
                "Expected `patience` to be a non-negative integer. "
                f"Received: patience={self.patience!r}"
            )
        if not isinstance(self.gate_monitor, bool):
            raise ValueError(
                "Expected `gate_monitor` to be True or False. "
                f"Received: gate_monitor={self.gate_monitor!r}"
            )
        if not _is_int(self.seed):
            raise ValueError(f"Expected `seed` to be an integer. Received: seed={self.seed!r}")
        if not _is_number(self.learning_rate) or not self.learning_rate > 0:
            raise ValueError(
                "Expected `learning_rate` to be a positive number. "
                f"Received: learning_rate={self.learning_rate!r}"
            )
        clips = {
            name: getattr(self, name)
            for name in ("global_clipnorm", "clipnorm", "clipvalue")
            if getattr(self, name) is not None
        }
        for name, value in clips.items():
            if not _is_number(value) or not value > 0:
                raise ValueError(
                    f"Expected `{name}` to be a positive number or None. Received: {name}={value!r}"
                )
        if len(clips) > 1:
            received = ", ".join(f"{k}={v}" for k, v in clips.items())
            raise ValueError(
                "Expected at most one of global_clipnorm, clipnorm and clipvalue "
                f"(set the others to None). Received: {received}"
            )
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not _is_number(value) or not 0.0 < value < 1.0:
                raise ValueError(f"Expected `{name}` to be in (0, 1). Received: {name}={value!r}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError(
                "Expected val_fraction + test_fraction < 1 to leave training "
                f"data. Received: val_fraction={self.val_fraction}, "
                f"test_fraction={self.test_fraction}"
            )
        choices = {
            "transform": TRANSFORMS,
            "layer": tuple(RECURRENT_LAYERS),
            "device": DEVICES,
            "distribute": STRATEGIES,
            "duplicates": DUPLICATE_POLICIES,
            "missing": MISSING_POLICIES,
            "gaps": GAP_POLICIES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(
                    f"Expected `{name}` to be one of {', '.join(allowed)}. "
                    f"Received: {name}={getattr(self, name)!r}"
                )
        if self.transform != "level" and self.window < 2:
            raise ValueError(
                f"Expected `window` >= 2 with transform={self.transform!r}: "
                "relative to its last value, a window of 1 is all zeros. "
                f"Received: window={self.window}"
            )

    @property
    def clipping(self) -> dict:
        """The one clip setting in use, e.g. `{"global_clipnorm": 1.0}`."""
        return {
            name: getattr(self, name)
            for name in ("global_clipnorm", "clipnorm", "clipvalue")
            if getattr(self, name) is not None
        }

    def replace(self, **changes) -> ForecastConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        config = dataclasses.asdict(self)
        config["features"] = list(self.features)
        return config

    @classmethod
    def from_dict(cls, config: dict) -> ForecastConfig:
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - fields)
        if unknown:
            raise ValueError(
                f"Expected ForecastConfig fields only. Received unknown keys: {unknown}"
            )
        return cls(**config)
