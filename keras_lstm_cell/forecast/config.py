"""Every setting of a forecasting run, validated, with its reason.

A leaf module: it names every choice a setting can take (the names other
modules implement) and imports nothing heavy, so reading or checking a
configuration needs neither TensorFlow nor the layers.
"""

from __future__ import annotations

import dataclasses

from keras_lstm_cell._checks import check_bool
from keras_lstm_cell._checks import check_choice
from keras_lstm_cell._checks import check_non_negative_int
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell._checks import check_positive_number
from keras_lstm_cell._checks import is_int
from keras_lstm_cell._checks import is_number

# Handling of repeated dates, missing values and missing dates (`TimeSeries`).
DUPLICATE_POLICIES = ("error", "first", "last", "mean")
MISSING_POLICIES = ("error", "drop", "ffill", "interpolate")
GAP_POLICIES = ("error", "keep", "ffill", "interpolate")
# How a window is expressed before standardising (`WindowScaler`).
TRANSFORMS = ("level", "diff", "log_return")
# The recurrent layer `build_model` stacks: RNN(SimpleLSTMCell) or SimpleLSTM.
LAYERS = ("rnn", "simple_lstm")
DEVICES = ("auto", "cpu", "gpu")
# `tf.distribute` strategies by name (`get_strategy`).
STRATEGIES = ("none", "mirrored", "multiworker")
# The optimizer's clip settings; at most one is set.
CLIP_OPTIONS = ("global_clipnorm", "clipnorm", "clipvalue")
# Settings that may change when a run is resumed; all others must match.
RESUMABLE_CHANGES = ("epochs", "device", "distribute", "unit")
# Settings that `None` leaves to the data (inferred when it is read); a run
# records the values it used.
RESOLVED_SETTINGS = ("freq", "season")
# Field separators tried in this order (a tie keeps the first), and the
# characters numbers may use, as spreadsheets and price sites write them.
SEPARATORS = (",", ";", "\t", "|")
DECIMALS = (".", ",")
THOUSANDS = (",", ".", " ", "'")
DEFAULT_MAX_GAP = 14  # missing rows filled in one gap: two weeks of a daily series
MAX_SEED = 2**32 - 1  # NumPy's and Keras's seeds are 32-bit unsigned


def check_separator(sep) -> str | None:
    """`sep` as given (`"tab"` or `"\\t"` for a tab), one character, or `None` to detect."""
    if sep is None:
        return None
    if isinstance(sep, str):
        sep = {"tab": "\t", "\\t": "\t"}.get(sep, sep)
    if not isinstance(sep, str) or len(sep) != 1 or sep in '"\r\n' or sep.isalnum():
        raise ValueError(
            "Expected `sep` to be one character such as ',', ';', 'tab' or '|'. "
            f"Received: sep={sep!r}"
        )
    return sep


def check_number_format(decimal, thousands) -> tuple[str | None, str | None]:
    """Forced `decimal` and `thousands` characters (`None`: detect), checked."""
    if decimal is not None and decimal not in DECIMALS:
        raise ValueError(
            f"Expected `decimal` to be one of {list(DECIMALS)}. Received: decimal={decimal!r}"
        )
    if thousands is not None and thousands not in THOUSANDS:
        raise ValueError(
            f"Expected `thousands` to be one of {list(THOUSANDS)}. "
            f"Received: thousands={thousands!r}"
        )
    if decimal is not None and decimal == thousands:
        raise ValueError(
            "Expected different `decimal` and `thousands` characters. Received: "
            f"decimal={decimal!r}, thousands={thousands!r}"
        )
    return decimal, thousands


def check_date_format(date_format) -> str | None:
    """A strftime format of the date column (`"%d/%m/%Y"`), or `None` to detect it."""
    if date_format is not None and (not isinstance(date_format, str) or "%" not in date_format):
        raise ValueError(
            "Expected `date_format` to be a strftime format such as '%d/%m/%Y' or "
            f"'%d.%m.%Y %H:%M'. Received: date_format={date_format!r}"
        )
    return date_format


def check_na_values(na_values) -> tuple[str, ...]:
    """Codes meaning "missing", as strings: from `"-200,NA"`, `("-200", "NA")` or `(-200,)`."""
    if na_values is None:
        return ()
    if isinstance(na_values, str):
        na_values = na_values.split(",")
    elif is_number(na_values):
        na_values = (na_values,)
    codes = []
    for code in na_values if isinstance(na_values, (list, tuple)) else [na_values]:
        if is_number(code):
            code = str(code)
        if not isinstance(code, str) or not code.strip():
            raise ValueError(
                "Expected `na_values` to be codes that mean a missing value, such as "
                f"('-200', 'NA'). Received: na_values={na_values!r}"
            )
        codes.append(code.strip())
    return tuple(codes)


def check_levels(levels) -> tuple[float, ...] | None:
    """Interval levels as an ascending tuple of distinct numbers in (0, 1), or `None`.

    A single number is one level; a run recorded before several levels were
    possible holds one number.
    """
    if levels is None:
        return None
    many = isinstance(levels, (list, tuple))
    values = tuple(levels) if many else (levels,)
    if not values or not all(is_number(v) and 0.0 < v < 1.0 for v in values):
        raise ValueError(
            "Expected `interval` to be a level in (0, 1), such as 0.8, or several, such "
            f"as (0.8, 0.95), or None. Received: interval={levels!r}"
        )
    if len(set(values)) < len(values):
        raise ValueError(f"Expected distinct interval levels. Received: interval={levels!r}")
    return tuple(sorted(float(v) for v in values))


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
        gaps: Policy for missing dates: `"interpolate"` (default) fills
            gaps of up to `max_gap` missing rows linearly in time, `"ffill"`
            repeats the last value, `"keep"` treats the rows as consecutive
            steps, `"error"` refuses any gap.
        max_gap: Longest gap, in missing rows, that `"interpolate"` or
            `"ffill"` fills; a longer one stops the run.
        freq: Pandas frequency alias of the rows ("D", "B", "W-SUN", "MS",
            "QS-JAN", "h", ...); `None` to infer it from the dates. A run
            records the frequency it used.
        sep: Field separator of the CSV (`"tab"` for a tab); `None` to
            detect `,`, `;`, tab or `|`.
        decimal: Decimal mark of its numbers, `"."` or `","`; `None` to detect.
        thousands: Thousands separator of its numbers (`","`, `"."`, `" "`
            or `"'"`); `None` to detect.
        date_format: Strftime format of the date column (e.g.
            `"%d/%m/%Y"`); `None` to detect it, taking day or month first
            from the days above 12 or, failing that, from the reading that
            follows a regular calendar.
        time_column: Column of times of day (18:00:00, 18:00, 18.00.00 or
            a bare hour) joined to the dates; `None` to join a column named
            time or hour beside a date column without times.
        na_values: Codes that mean a missing value (e.g. `("-200", "NA")`);
            a numeric code also matches numerically equal values. Such
            values are handled by `missing`.
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
        season: Period of the seasonal-naive baseline and of the MASE
            scale, in rows; `None` for the frequency's (7 for days, 5 for
            business days, 52 for weeks, 12 for months, 4 for quarters, 24
            for hours, 1 for years). A run records the season it used.
        seed: Seed of weights, shuffling and dropout.
        device: `"cpu"`, `"gpu"` or `"auto"` (GPU when present).
        distribute: `"none"`, `"mirrored"` (every local GPU) or
            `"multiworker"` (the machines of `TF_CONFIG`), see `get_strategy`.
        gate_monitor: Log the LSTM gates of a validation probe batch to
            TensorBoard each epoch (`GateMonitor`, under `logdir/gates`).
        unit: Unit of the target (e.g. `"USD"`), shown in the plot's labels.
        interval: Nominal coverages of central prediction intervals around
            each forecast, e.g. `(0.8, 0.95)` (a single number is one level),
            split-conformal from the residuals of a calibration part of their
            own (`metrics.conformal_offsets`); `None` for none.
        calibration_fraction: Share of windows, between validation and test,
            whose residuals calibrate the intervals; used only with
            `interval` (training then gets that much less).
    """

    csv: str | None = None
    date_column: str | None = None
    target: str | None = None
    features: tuple[str, ...] = ()
    duplicates: str = "error"
    missing: str = "error"
    gaps: str = "interpolate"  # real files miss a day now and then
    max_gap: int = DEFAULT_MAX_GAP  # a longer gap stops the run
    freq: str | None = None  # inferred from the dates: "D", "B", "MS", "h", ...
    sep: str | None = None  # detected: ",", ";", "\t" or "|"
    decimal: str | None = None  # detected: "." or "," (spreadsheets in Europe)
    thousands: str | None = None  # detected: "8,077.20" on price sites
    date_format: str | None = None  # detected: "%Y-%m-%d", "%d/%m/%Y", ...
    time_column: str | None = None  # detected: a "Time" or "Hour" column beside the date
    na_values: tuple[str, ...] = ()  # e.g. ("-200",): the UCI air quality file's code
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
    season: int | None = None  # the frequency's: a week of days, a year of months, ...
    seed: int = 42
    device: str = "cpu"
    gate_monitor: bool = False
    distribute: str = "none"  # or "mirrored" (local GPUs), "multiworker" (TF_CONFIG)
    unit: str | None = None  # of the target, for plots; None: known for the embedded data
    interval: tuple[float, ...] | None = None  # e.g. (0.8, 0.95): 80% and 95% intervals
    # Residuals that played no part in fitting or choosing the model.
    calibration_fraction: float = 0.1

    def __post_init__(self):
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "na_values", check_na_values(self.na_values))
        object.__setattr__(self, "cell_kwargs", dict(self.cell_kwargs or {}))
        for name in (
            "window",
            "horizon",
            "units",
            "layers",
            "epochs",
            "batch_size",
            "max_gap",
        ):
            check_positive_int(name, getattr(self, name))
        if self.season is not None:
            check_positive_int("season", self.season)
        object.__setattr__(self, "sep", check_separator(self.sep))
        check_number_format(self.decimal, self.thousands)
        check_date_format(self.date_format)
        check_non_negative_int("patience", self.patience)
        check_bool("gate_monitor", self.gate_monitor)
        if not is_int(self.seed) or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(
                f"Expected `seed` to be an integer in [0, {MAX_SEED}]. Received: seed={self.seed!r}"
            )
        check_positive_number("learning_rate", self.learning_rate)
        clips = self.clipping
        for name, value in clips.items():
            check_positive_number(name, value)
        if len(clips) > 1:
            received = ", ".join(f"{k}={v}" for k, v in clips.items())
            raise ValueError(
                f"Expected at most one of {', '.join(CLIP_OPTIONS)} (set the others "
                f"to None). Received: {received}"
            )
        for name in ("val_fraction", "test_fraction"):
            value = getattr(self, name)
            if not is_number(value) or not 0.0 < value < 1.0:
                raise ValueError(f"Expected `{name}` to be in (0, 1). Received: {name}={value!r}")
        if self.val_fraction + self.test_fraction >= 1.0:
            raise ValueError(
                "Expected val_fraction + test_fraction < 1 to leave training "
                f"data. Received: val_fraction={self.val_fraction}, "
                f"test_fraction={self.test_fraction}"
            )
        choices = {
            "transform": TRANSFORMS,
            "layer": LAYERS,
            "device": DEVICES,
            "distribute": STRATEGIES,
            "duplicates": DUPLICATE_POLICIES,
            "missing": MISSING_POLICIES,
            "gaps": GAP_POLICIES,
        }
        for name, allowed in choices.items():
            check_choice(name, getattr(self, name), allowed)
        for name in ("csv", "date_column", "target", "unit", "freq", "time_column"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise ValueError(
                    f"Expected `{name}` to be a string or None. Received: {name}={value!r}"
                )
        object.__setattr__(self, "interval", check_levels(self.interval))
        value = self.calibration_fraction
        if not is_number(value) or not 0.0 < value < 1.0:
            raise ValueError(
                f"Expected `calibration_fraction` to be in (0, 1). Received: "
                f"calibration_fraction={value!r}"
            )
        if self.interval is not None and self.val_fraction + self.test_fraction + value >= 1.0:
            raise ValueError(
                "Expected val_fraction + calibration_fraction + test_fraction < 1 to leave "
                f"training data with `interval`. Received: val_fraction={self.val_fraction}, "
                f"calibration_fraction={value}, test_fraction={self.test_fraction}"
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
            name: getattr(self, name) for name in CLIP_OPTIONS if getattr(self, name) is not None
        }

    def replace(self, **changes) -> ForecastConfig:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        config = dataclasses.asdict(self)
        config["features"] = list(self.features)
        config["na_values"] = list(self.na_values)
        if self.interval is not None:
            config["interval"] = list(self.interval)
        return config

    @classmethod
    def from_dict(cls, config: dict) -> ForecastConfig:
        if not isinstance(config, dict):
            raise ValueError(f"Expected a settings object. Received: {type(config).__name__}")
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(config) - fields)
        if unknown:
            raise ValueError(
                f"Expected ForecastConfig fields only. Received unknown keys: {unknown}"
            )
        return cls(**config)
