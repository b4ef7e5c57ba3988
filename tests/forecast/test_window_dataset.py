"""`window_dataset` yields exactly the windows of `make_windows`, batch by batch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.windows import make_windows
from keras_lstm_cell.forecast.windows import split_slices
from keras_lstm_cell.forecast.windows import window_dataset
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

ROWS = 23  # a series length that leaves a partial last batch for most grids


def _series(features: int, targets: int):
    """`np.arange` columns, each value naming its row and column: row * 10 + column."""
    table = np.arange(ROWS)[:, None] * 10 + np.arange(features + targets)[None, :]
    inputs = table[:, :features] if features > 1 else table[:, 0]
    target = table[:, features:] if targets > 1 else table[:, features]
    return inputs.astype("float64"), target.astype("float64")


def _looped_windows(inputs, targets, window, horizon):
    """The definition, one window at a time."""
    inputs = inputs[:, None] if inputs.ndim == 1 else inputs
    count = len(targets) - window - horizon + 1
    x = np.stack([inputs[n : n + window] for n in range(count)])
    y = np.stack([targets[n + window : n + window + horizon] for n in range(count)])
    return x, y


def _collect(dataset):
    xs, ys = zip(*[(x.numpy(), y.numpy()) for x, y in dataset])
    return np.concatenate(xs), np.concatenate(ys), [len(x) for x in xs]


@pytest.mark.parametrize("window, horizon", [(1, 1), (3, 1), (5, 2), (7, 4)])
@pytest.mark.parametrize("features, targets", [(1, 1), (3, 1), (2, 2)])
def test_windows_equal_numpy_windows(window, horizon, features, targets):
    inputs, target = _series(features, targets)
    expected_x, expected_y = _looped_windows(inputs, target, window, horizon)
    for batch_size in (1, 4, 64):
        dataset = window_dataset(inputs, target, window, horizon, batch_size=batch_size)
        x, y, sizes = _collect(dataset)
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_array_equal(y, expected_y)
        assert x.dtype == y.dtype == np.float32
        full, rest = divmod(len(expected_x), batch_size)
        assert sizes == [batch_size] * full + ([rest] if rest else [])
    if targets == 1:
        numpy_x, numpy_y = make_windows(inputs, target, window, horizon)
        np.testing.assert_array_equal(x, numpy_x)
        np.testing.assert_array_equal(y, numpy_y)


def test_windows_equal_keras_timeseries_dataset():
    inputs, target = _series(2, 1)
    window = 4
    x, y, _ = _collect(window_dataset(inputs, target, window, batch_size=5))
    # Keras pairs the sequence starting at row n with `targets[n]`; the last
    # row is a target only.
    keras_dataset = keras.utils.timeseries_dataset_from_array(
        inputs[:-1], target[window:], sequence_length=window, batch_size=5
    )
    keras_x, keras_y, _ = _collect(keras_dataset)
    np.testing.assert_array_equal(x, keras_x)
    np.testing.assert_array_equal(y[:, 0], keras_y)


def test_start_and_stop_select_the_chronological_splits():
    inputs, target = _series(2, 1)
    window, horizon = 4, 2
    numpy_x, numpy_y = make_windows(inputs, target, window, horizon)
    for part in split_slices(len(numpy_x), val_fraction=0.2, test_fraction=0.2):
        dataset = window_dataset(
            inputs, target, window, horizon, batch_size=3, start=part.start, stop=part.stop
        )
        x, y, _ = _collect(dataset)
        np.testing.assert_array_equal(x, numpy_x[part])
        np.testing.assert_array_equal(y, numpy_y[part])


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("drop_remainder", [False, True])
def test_cardinality_is_known(shuffle, drop_remainder):
    inputs, target = _series(1, 1)
    dataset = window_dataset(
        inputs, target, 3, batch_size=4, shuffle=shuffle, seed=1, drop_remainder=drop_remainder
    )
    count = ROWS - 3
    expected = count // 4 if drop_remainder else -(-count // 4)
    assert int(dataset.cardinality()) == expected
    assert len(list(dataset)) == expected
    assert dataset.element_spec[0].shape.as_list() == [4 if drop_remainder else None, 3, 1]


def _window_order(dataset):
    """Window numbers in the order of one pass (the target of window n is row n + 3)."""
    return [int(v) // 10 - 3 for _, y in dataset for v in y.numpy()[:, 0]]


def test_shuffle_draws_a_new_permutation_each_pass():
    inputs, target = _series(1, 1)
    dataset = window_dataset(inputs, target, 3, batch_size=4, shuffle=True, seed=3, start=2)
    passes = [_window_order(dataset) for _ in range(3)]
    for order in passes:
        assert sorted(order) == list(range(2, ROWS - 3))
    assert passes[0] != list(range(2, ROWS - 3))
    assert passes[0] != passes[1] != passes[2]
    # Windows travel whole: the target (row n + 3, column 1) follows the
    # last input (row n + 2, column 0).
    for x, y in dataset:
        np.testing.assert_array_equal(y.numpy()[:, 0], x.numpy()[:, -1, 0] + 11)


def test_seeded_shuffle_repeats_across_datasets():
    inputs, target = _series(1, 1)

    def passes(seed):
        dataset = window_dataset(inputs, target, 3, batch_size=4, shuffle=True, seed=seed)
        return [_window_order(dataset) for _ in range(2)]

    assert passes(5) == passes(5)
    assert passes(5) != passes(6)


def test_float64_windows():
    inputs, target = _series(1, 1)
    x, y, _ = _collect(window_dataset(inputs + 0.25, target, 2, dtype="float64"))
    assert x.dtype == y.dtype == np.float64
    assert x[0, 0, 0] == 0.25


def test_fit_on_windows():
    inputs, target = _series(2, 1)
    scale = float(np.abs(inputs).max())
    dataset = window_dataset(inputs / scale, target / scale, 4, batch_size=8, shuffle=True, seed=0)
    model = keras.Sequential(
        [keras.Input((4, 2)), keras.layers.RNN(SimpleLSTMCell(4)), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    # The dataset shuffles itself; fit's own `shuffle` is for arrays.
    history = model.fit(dataset, epochs=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"window": 0}, r"`window` to be a positive integer. Received: window=0"),
        ({"window": 2.0}, r"Received: window=2.0"),
        ({"horizon": 0}, r"`horizon` to be a positive integer. Received: horizon=0"),
        ({"batch_size": -1}, r"Received: batch_size=-1"),
        ({"seed": "1"}, r"`seed` to be an integer or None. Received: seed='1'"),
        ({"shuffle": 1}, r"`shuffle` to be True or False. Received: shuffle=1"),
        ({"dtype": "int32"}, r"floating-point dtype. Received: dtype='int32'"),
        ({"dtype": "float99"}, r"floating-point dtype. Received: dtype='float99'"),
        ({"window": 20}, r"at least window \+ horizon = 21 rows to make one window. Received: 20"),
        ({"start": 5, "stop": 5}, r"0 <= start < stop <= 18 .* Received: start=5, stop=5"),
        ({"stop": 19}, r"Received: start=0, stop=19"),
        ({"start": -1}, r"Received: start=-1"),
        ({"start": 1.5}, r"`start` to be an integer. Received: start=1.5"),
        ({"batch_size": 32, "drop_remainder": True}, r"at least batch_size=32 windows"),
        ({"inputs": np.zeros((20, 2, 2))}, r"`inputs` to be a numeric array of shape \(T,\)"),
        ({"inputs": np.array(["a"] * 20)}, r"Received: inputs with shape \(20,\) and dtype <U1"),
        ({"targets": np.zeros(19)}, r"the same number of rows. .* targets.shape=\(19,\)"),
    ],
)
def test_bad_arguments_are_refused(kwargs, message):
    arguments = {"inputs": np.zeros(20), "targets": np.zeros(20), "window": 2}
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        window_dataset(**arguments)


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="the scaler's keras.ops run inside tf.data on the TensorFlow backend",
)
def test_stream_feeds_the_forecasting_tool_its_scaled_windows():
    # The forecasting tool's scaler works on batches of raw windows, so
    # mapping it over the stream gives the tool's training arrays exactly.
    series = TimeSeries.default()
    data = ForecastData.from_series(series, window=7, horizon=2)
    for part in ("train", "val", "test"):
        dataset = window_dataset(
            series.values,
            series.target_values,
            data.window,
            data.horizon,
            batch_size=64,
            start=data.slices[part].start,
            stop=data.slices[part].stop,
            dtype="float64",
        ).map(
            lambda x, y: (
                tf.cast(data.scaler.scale_inputs(x), "float32"),
                tf.cast(data.scaler.scale_targets(y, x), "float32"),
            )
        )
        x, y, _ = _collect(dataset)
        expected_x, expected_y = data.scaled(part)
        np.testing.assert_array_equal(x, expected_x)
        np.testing.assert_array_equal(y, expected_y)
