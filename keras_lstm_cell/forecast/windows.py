"""Sliding windows and chronological splits: NumPy arrays, or a `tf.data` stream.

Window `n` of a series of length `T` holds the inputs of rows
`n, ..., n + window - 1` and, as its target, the target values of rows
`n + window, ..., n + window + horizon - 1`. There are
`T - window - horizon + 1` windows, ordered by the time of their targets, so a
split of the window list at two indices is a chronological split.

`make_windows` returns them all as arrays. `window_dataset` yields the same
windows batch by batch, cutting each batch out of the series when it is
needed, so a series of millions of rows trains in the memory of the series
itself plus a few batches, not of all its windows (a window of `w` rows
repeats every row `w` times); its `start` and `stop` select the same
chronological splits. It works as it is with `model.fit` under any
`tf.distribute` strategy: it is sharded by data, and a seeded shuffle draws
the same order on every worker.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from keras_lstm_cell._checks import check_bool
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell._checks import is_int


def window_count(length: int, window: int, horizon: int = 1) -> int:
    """Number of complete (input, target) windows in a series of `length` rows."""
    window = check_positive_int("window", window)
    horizon = check_positive_int("horizon", horizon)
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


def _as_float_array(name: str, value, dtype: str, shapes: str) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim not in (1, 2) or not np.issubdtype(array.dtype, np.number):
        raise ValueError(
            f"Expected `{name}` to be a numeric array of shape {shapes}. "
            f"Received: {name} with shape {array.shape} and dtype {array.dtype}"
        )
    return np.asarray(array, dtype=dtype)


def window_dataset(
    inputs,
    targets,
    window: int,
    horizon: int = 1,
    *,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int | None = None,
    start: int = 0,
    stop: int | None = None,
    drop_remainder: bool = False,
    dtype: str = "float32",
) -> tf.data.Dataset:
    """Batches of (input window, future targets) pairs, cut on demand.

    Each batch is a pair `x (B, window, F)`, `y (B, horizon)` (or
    `y (B, horizon, K)` for `K` target columns), where for window `n`
    `x[n] = inputs[n : n + window]` and `y[n] = targets[n + window :
    n + window + horizon]`. The series is copied once into TensorFlow, in
    `dtype`; the windows of a batch are gathered from it when the batch is
    produced, in parallel with training (`prefetch`).

    With `shuffle=True` every pass (every `iter()`) visits the windows in
    `[start, stop)` in a new uniformly random order, drawn as a permutation
    of their numbers: 4 bytes a window, not `4 * window * F`. With a `seed`
    the passes are reproducible and the same on every worker of a
    multi-worker run, as data sharding requires. Like every TensorFlow op
    seed, `seed` combines with the global seed
    (`keras.utils.set_random_seed`): every worker sets the same one, or
    none. Under a `tf.distribute` strategy, Keras starts one pass to build
    the model before training, so the first epoch sees the second order.

    Args:
        inputs: Array `(T,)` or `(T, F)`: the model's input columns per row.
        targets: Array `(T,)` or `(T, K)`: the value(s) to forecast per row.
        window: Number of past rows in each input window.
        horizon: Number of future rows forecast from each window. Default: 1.
        batch_size: Windows per batch (the global batch under a
            `tf.distribute` strategy). Default: 32.
        shuffle: Whether each pass visits the windows in a new random order.
            Default: `False` (time order).
        seed: Integer seed for the shuffle, or `None` for a random one.
        start: First window to use (window numbering as above). Default: 0.
        stop: One past the last window to use. Default: every complete
            window, `T - window - horizon + 1`.
        drop_remainder: Whether to drop a last batch smaller than
            `batch_size`. Default: `False`.
        dtype: Floating-point dtype of `x` and `y`. Default: `"float32"`.

    Returns:
        A batched, prefetched `tf.data.Dataset` of `(x, y)` pairs.

    Example:

    >>> ds = window_dataset(np.arange(6), np.arange(6), window=3, horizon=2)
    >>> [(x[:, :, 0].numpy().tolist(), y.numpy().tolist()) for x, y in ds]
    [([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0]], [[3.0, 4.0], [4.0, 5.0]])]

    In training, the dataset does the shuffling (`fit`'s own `shuffle` is
    for arrays):

    >>> train = window_dataset(inputs, targets, 24, batch_size=256, shuffle=True, seed=0)
    >>> model.fit(train, epochs=10, shuffle=False)  # doctest: +SKIP
    """
    window = check_positive_int("window", window)
    horizon = check_positive_int("horizon", horizon)
    batch_size = check_positive_int("batch_size", batch_size)
    if seed is not None and not is_int(seed):
        raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
    shuffle = check_bool("shuffle", shuffle)
    try:
        floating = np.issubdtype(np.dtype(dtype), np.floating)
    except TypeError:
        floating = False
    if not floating:
        raise ValueError(
            f"Expected `dtype` to be a floating-point dtype. Received: dtype={dtype!r}"
        )
    x_values = _as_float_array("inputs", inputs, dtype, "(T,) or (T, F)")
    y_values = _as_float_array("targets", targets, dtype, "(T,) or (T, K)")
    if x_values.ndim == 1:
        x_values = x_values[:, None]
    if len(x_values) != len(y_values):
        raise ValueError(
            "Expected `inputs` and `targets` to have the same number of rows. "
            f"Received: inputs.shape={x_values.shape}, targets.shape={y_values.shape}"
        )
    count = window_count(len(y_values), window, horizon)
    if count == 0:
        raise ValueError(
            f"Expected at least window + horizon = {window + horizon} rows to "
            f"make one window. Received: {len(y_values)} rows"
        )
    stop = count if stop is None else stop
    for name, value in (("start", start), ("stop", stop)):
        if not is_int(value):
            raise ValueError(f"Expected `{name}` to be an integer. Received: {name}={value!r}")
    if not 0 <= start < stop <= count:
        raise ValueError(
            f"Expected 0 <= start < stop <= {count} (the number of windows). "
            f"Received: start={start}, stop={stop}"
        )
    size = int(stop - start)
    if drop_remainder and size < batch_size:
        raise ValueError(
            f"Expected at least batch_size={batch_size} windows with drop_remainder=True. "
            f"Received: {size} windows"
        )

    x_series = tf.constant(x_values)  # (T, F)
    y_series = tf.constant(y_values)  # (T,) or (T, K)
    del x_values, y_values
    # Row numbers as int32 where they fit: half the memory of a permutation.
    index_dtype = tf.int32 if len(y_series) < 2**31 else tf.int64
    x_offsets = tf.range(window, dtype=index_dtype)  # (W,)
    y_offsets = tf.range(window, window + horizon, dtype=index_dtype)  # (H,)

    def cut(positions):  # (B,) window numbers -> (B, W, F), (B, H) or (B, H, K)
        rows = tf.cast(positions, index_dtype)[:, None]
        return tf.gather(x_series, rows + x_offsets), tf.gather(y_series, rows + y_offsets)

    batches = -(-size // batch_size) if not drop_remainder else size // batch_size

    def batch_of(order):  # (size,) window numbers in visiting order -> (B,) per batch
        return tf.data.Dataset.range(batches).map(
            lambda k: order[k * batch_size : (k + 1) * batch_size]
        )

    if shuffle:
        # A new pair of seed words for each pass (deterministic when `seed` is
        # set), from which the pass's permutation is computed.
        pass_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        pass_seeds = pass_seeds.batch(2, drop_remainder=True).take(1)
        positions = pass_seeds.flat_map(
            lambda pass_seed: batch_of(
                tf.random.experimental.stateless_shuffle(
                    tf.range(start, stop, dtype=index_dtype), seed=pass_seed
                )
            )
        )
        # flat_map hides the number of batches, which Keras needs to end an epoch.
        positions = positions.apply(tf.data.experimental.assert_cardinality(batches))
    else:
        positions = tf.data.Dataset.range(start, start + batches * batch_size, batch_size).map(
            lambda first: tf.range(first, tf.minimum(first + batch_size, stop))
        )
    if drop_remainder:
        positions = positions.map(lambda p: tf.ensure_shape(p, [batch_size]))
    dataset = positions.map(cut, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    # Windows come from one in-memory series, not files: shard by data.
    options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
