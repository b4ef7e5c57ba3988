"""Sliding windows and chronological splits, as pure NumPy functions.

Window `n` of a series of length `T` holds the inputs of rows
`n, ..., n + window - 1` and, as its target, the target values of rows
`n + window, ..., n + window + horizon - 1`. There are
`T - window - horizon + 1` windows, ordered by the time of their targets, so a
split of the window list at two indices is a chronological split.
"""

from __future__ import annotations

import numpy as np


def _check_positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def window_count(length: int, window: int, horizon: int = 1) -> int:
    """Number of complete (input, target) windows in a series of `length` rows."""
    window = _check_positive_int("window", window)
    horizon = _check_positive_int("horizon", horizon)
    return max(0, int(length) - window - horizon + 1)


def make_windows(
    inputs: np.ndarray, targets: np.ndarray, window: int, horizon: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Cuts a series into overlapping (input window, future targets) pairs.

    Args:
        inputs: Array `(T,)` or `(T, F)`: the input columns per row.
        targets: Array `(T,)`: the value to forecast per row.
        window: Number of past rows the model sees.
        horizon: Number of future rows forecast from each window.

    Returns:
        `x (N, window, F)` and `y (N, horizon)` with `N = T - window - horizon
        + 1`, where `x[n] = inputs[n : n + window]` and
        `y[n] = targets[n + window : n + window + horizon]`.

    Example:

    >>> x, y = make_windows(np.arange(6), np.arange(6), window=3, horizon=2)
    >>> x[:, :, 0].tolist(), y.tolist()
    ([[0, 1, 2], [1, 2, 3]], [[3, 4], [4, 5]])
    """
    inputs = np.asarray(inputs)
    targets = np.asarray(targets)
    if inputs.ndim == 1:
        inputs = inputs[:, None]
    if inputs.ndim != 2 or targets.ndim != 1 or len(inputs) != len(targets):
        raise ValueError(
            "Expected `inputs` of shape (T,) or (T, F) and `targets` of shape "
            f"(T,) with the same T. Received: inputs.shape={inputs.shape}, "
            f"targets.shape={targets.shape}"
        )
    count = window_count(len(targets), window, horizon)
    if count == 0:
        raise ValueError(
            f"Expected at least window + horizon = {window + horizon} rows to "
            f"make one window. Received: {len(targets)} rows"
        )
    # sliding_window_view puts the window axis last: (T - window + 1, F, window).
    x = np.lib.stride_tricks.sliding_window_view(inputs, window, axis=0)[:count]
    y = np.lib.stride_tricks.sliding_window_view(targets[window:], horizon)[:count]
    return np.ascontiguousarray(x.transpose(0, 2, 1)), np.ascontiguousarray(y)


def split_counts(count: int, val_fraction: float, test_fraction: float) -> tuple[int, int, int]:
    """Sizes of the chronological train, validation and test parts of `count`.

    Each part gets `round(fraction * count)` windows, at least one; training
    gets the rest, which must also be at least one.
    """
    for name, value in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 < float(value) < 1.0:
            raise ValueError(f"Expected `{name}` to be in (0, 1). Received: {name}={value!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            "Expected val_fraction + test_fraction < 1 to leave training data. "
            f"Received: val_fraction={val_fraction}, test_fraction={test_fraction}"
        )
    n_val = max(1, round(val_fraction * count))
    n_test = max(1, round(test_fraction * count))
    n_train = count - n_val - n_test
    if n_train < 1:
        raise ValueError(
            f"Expected at least 3 windows (train, validation, test). Received: {count} windows"
        )
    return n_train, n_val, n_test


def split_slices(
    count: int, val_fraction: float, test_fraction: float
) -> tuple[slice, slice, slice]:
    """`split_counts` as slices of the window axis, in time order."""
    n_train, n_val, _ = split_counts(count, val_fraction, test_fraction)
    return (
        slice(0, n_train),
        slice(n_train, n_train + n_val),
        slice(n_train + n_val, count),
    )
