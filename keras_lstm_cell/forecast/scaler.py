"""Scaling of input windows and targets, fitted on the training windows only."""

from __future__ import annotations

import dataclasses

import numpy as np
from keras import ops

from keras_lstm_cell.forecast.config import TRANSFORMS

# "diff" and "log_return" are relative to the window's last value, so a series
# that leaves its training range (a trending price) still maps to familiar
# numbers, and 0 means "no change", i.e. the persistence forecast.
_MIN_SCALE = 1e-12


def _relative(values, reference, transform: str):
    if transform == "diff":
        return values - reference
    if transform == "log_return":
        return ops.log(values) - ops.log(reference)
    return values


def _absolute(relative, reference, transform: str):
    if transform == "diff":
        return relative + reference
    if transform == "log_return":
        return reference * ops.exp(relative)
    return relative


def _constant(values, like):
    return ops.convert_to_tensor(np.asarray(values), dtype=like.dtype)


@dataclasses.dataclass(frozen=True)
class WindowScaler:
    """Maps raw windows and forecasts to the model's standardised units.

    With `r` the relative value (`transform="level"`: `r = v`; `"diff"`:
    `r = v - v_last`; `"log_return"`: `r = log(v / v_last)`, where `v_last` is
    the last value of the same column in the window), the model sees
    `(r - center) / scale`, per input column for inputs and per horizon step
    for targets. `fit` takes the centers and scales from training windows
    only: the mean and standard deviation for `"level"`; center 0 and the
    root mean square for the relative transforms, so that a model output of 0
    is the persistence forecast.

    The methods use `keras.ops`, so the same code prepares NumPy training
    data and runs inside an exported graph.

    Args:
        transform: One of `"level"`, `"diff"`, `"log_return"`.
        target_index: Position of the target among the input columns.
        input_center: Center per input column, length `F`.
        input_scale: Scale per input column, length `F`.
        target_center: Center per horizon step, length `H`.
        target_scale: Scale per horizon step, length `H`.

    Example:

    >>> x = np.array([[[1.0], [2.0], [4.0]]])  # (1 window, 3 steps, 1 column)
    >>> y = np.array([[5.0]])
    >>> scaler = WindowScaler.fit(x, y, transform="diff")
    >>> ops.convert_to_numpy(scaler.scale_targets(y, x)).tolist()
    [[1.0]]
    """

    transform: str
    target_index: int
    input_center: tuple[float, ...]
    input_scale: tuple[float, ...]
    target_center: tuple[float, ...]
    target_scale: tuple[float, ...]

    def __post_init__(self):
        if self.transform not in TRANSFORMS:
            raise ValueError(
                f"Expected `transform` to be one of {', '.join(TRANSFORMS)}. "
                f"Received: transform={self.transform!r}"
            )

    @classmethod
    def fit(
        cls, x: np.ndarray, y: np.ndarray, transform: str = "diff", target_index: int = 0
    ) -> WindowScaler:
        """Fits centers and scales on training windows `x (N, W, F)`, `y (N, H)`."""
        if transform not in TRANSFORMS:
            raise ValueError(
                f"Expected `transform` to be one of {', '.join(TRANSFORMS)}. "
                f"Received: transform={transform!r}"
            )
        x = np.asarray(x, dtype="float64")
        y = np.asarray(y, dtype="float64")
        if transform != "level" and x.shape[1] < 2:
            raise ValueError(
                f"Expected `window` >= 2 with transform={transform!r}: relative "
                "to its last value, a window of 1 is all zeros. Received: window=1"
            )
        if transform == "log_return" and (np.min(x) <= 0 or np.min(y) <= 0):
            raise ValueError(
                "Expected strictly positive values with transform='log_return'. "
                f"Received: a minimum of {min(np.min(x), np.min(y))}"
            )
        x_last = x[:, -1:, :]
        y_last = x[:, -1, target_index][:, None]
        rel_x = np.asarray(ops.convert_to_numpy(_relative(x, x_last, transform)))
        rel_y = np.asarray(ops.convert_to_numpy(_relative(y, y_last, transform)))
        if transform == "level":
            input_center = rel_x.mean(axis=(0, 1))
            input_scale = rel_x.std(axis=(0, 1))
            target_center = rel_y.mean(axis=0)
            target_scale = rel_y.std(axis=0)
        else:
            # The last step is 0 by construction; it would shrink the scale.
            rel_x = rel_x[:, :-1, :]
            input_center = np.zeros(rel_x.shape[-1])
            input_scale = np.sqrt(np.mean(rel_x**2, axis=(0, 1)))
            target_center = np.zeros(rel_y.shape[-1])
            target_scale = np.sqrt(np.mean(rel_y**2, axis=0))
        input_scale = np.where(input_scale > _MIN_SCALE, input_scale, 1.0)
        target_scale = np.where(target_scale > _MIN_SCALE, target_scale, 1.0)
        return cls(
            transform=transform,
            target_index=int(target_index),
            input_center=tuple(float(v) for v in input_center),
            input_scale=tuple(float(v) for v in input_scale),
            target_center=tuple(float(v) for v in target_center),
            target_scale=tuple(float(v) for v in target_scale),
        )

    def scale_inputs(self, x):
        """Raw windows `(B, W, F)` to model inputs `(B, W, F)`."""
        x = ops.convert_to_tensor(x)
        relative = _relative(x, x[:, -1:, :], self.transform)
        return (relative - _constant(self.input_center, x)) / _constant(self.input_scale, x)

    def scale_targets(self, y, x):
        """Raw targets `(B, H)` to model targets, given their raw windows."""
        x = ops.convert_to_tensor(x)
        y = ops.convert_to_tensor(y, dtype=x.dtype)
        relative = _relative(y, self._last_target(x), self.transform)
        return (relative - _constant(self.target_center, x)) / _constant(self.target_scale, x)

    def unscale_targets(self, scaled, x):
        """Model outputs `(B, H)` to forecasts in original units."""
        x = ops.convert_to_tensor(x)
        scaled = ops.cast(scaled, x.dtype)
        relative = scaled * _constant(self.target_scale, x) + _constant(self.target_center, x)
        return _absolute(relative, self._last_target(x), self.transform)

    def _last_target(self, x):
        # (B, 1): broadcasts over the horizon.
        return x[:, -1, self.target_index : self.target_index + 1]

    def get_config(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_config(cls, config: dict) -> WindowScaler:
        return cls(
            transform=config["transform"],
            target_index=int(config["target_index"]),
            **{
                key: tuple(float(v) for v in config[key])
                for key in ("input_center", "input_scale", "target_center", "target_scale")
            },
        )
