"""The training runs of tests/test_distribute.py that need a process of their own.

Devices are fixed when a process starts (logical CPUs, the XLA host device
count, the Keras backend, a multi-worker cluster), so each run below is a
fresh Python process started by the test; it prints one JSON object on its
last line.

    python tests/_multiworker_worker.py mirrored OUT_DIR   # 2 logical CPUs
    python tests/_multiworker_worker.py worker OUT_DIR     # one worker; TF_CONFIG set
    python tests/_multiworker_worker.py jax                # KERAS_BACKEND=jax, 2 XLA CPUs

`train_run` is also imported by the test, which runs the single-worker
reference of the multi-worker run in its own process.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

STEPS = 6  # time steps per window
FEATURES = 2  # input columns
UNITS = 4
SAMPLES = 64  # sequences in the array runs
BATCH = 16  # global batch: 4 steps per epoch, 8 sequences per replica
EPOCHS = 3
LEARNING_RATE = 0.1  # SGD, large enough for the loss to move in 3 epochs
DROPOUT = 0.25
RECURRENT_DROPOUT = 0.2
SEED = 7
# Series of the multi-worker run: 12 full batches of windows.
SERIES_ROWS = 12 * BATCH + STEPS


def arrays():
    """Fixed inputs `(SAMPLES, STEPS, FEATURES)` and targets `(SAMPLES, 1)`."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(SAMPLES, STEPS, FEATURES)).astype("float32")
    y = (x[:, -3:, :].sum(axis=(1, 2))[:, None] / 3).astype("float32")
    return x, y


def series():
    """A two-column series `(SERIES_ROWS, FEATURES)` and its target column."""
    t = np.arange(SERIES_ROWS, dtype="float32")
    values = np.stack([np.sin(0.3 * t), np.cos(0.17 * t)], axis=1)
    return values, values[:, 0]


def make_layer(kind: str, **kwargs):
    import keras

    from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

    rnn_kwargs = {k: kwargs.pop(k) for k in ("stateful",) if k in kwargs}
    if kind == "cell":
        return keras.layers.RNN(SimpleLSTMCell(UNITS, **kwargs), **rnn_kwargs)
    if kind == "fast":
        from keras_lstm_cell.simple_lstm import SimpleLSTM

        # The fused loop: on a CPU, `use_cudnn="auto"` trains with the generic one.
        return SimpleLSTM(UNITS, use_cudnn=False, **kwargs, **rnn_kwargs)
    if kind == "builtin":
        return keras.layers.LSTM(UNITS, **kwargs, **rnn_kwargs)
    raise ValueError(f"Expected kind cell, fast or builtin. Received: kind={kind!r}")


def make_model(kind: str, batch_size=None, **layer_kwargs):
    """`Input -> layer -> Dense(1)`, compiled, with the same weights for every kind."""
    import keras

    inputs = keras.Input((STEPS, FEATURES), batch_size=batch_size)
    outputs = keras.layers.Dense(1)(make_layer(kind, **layer_kwargs)(inputs))
    model = keras.Model(inputs, outputs)
    rng = np.random.default_rng(SEED)
    model.set_weights([rng.normal(scale=0.4, size=w.shape) for w in model.get_weights()])
    model.compile(optimizer=keras.optimizers.SGD(LEARNING_RATE), loss="mse")
    return model


def train_run(strategy, kind: str, data, batch_size=None, **layer_kwargs) -> dict:
    """Builds under `strategy`, fits, and returns the loss per epoch and the predictions."""
    x, y = arrays()
    with strategy.scope():
        model = make_model(kind, batch_size=batch_size, **layer_kwargs)
    if data == "arrays":
        history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
    else:
        # The dataset shuffles itself; fit's own `shuffle` is for arrays.
        history = model.fit(data, epochs=EPOCHS, shuffle=False, verbose=0)
    predictions = model.predict(x, batch_size=BATCH, verbose=0)
    layer = model.layers[1]
    return {
        "loss": [float(v) for v in history.history["loss"]],
        "predictions": predictions.ravel().tolist(),
        # Why SimpleLSTM would leave its fused loop in training (None: it did not).
        "fast_path_reason": layer.fast_path_reason(training=True) if kind == "fast" else None,
        "model": model,
    }


def windows(shuffle: bool):
    import keras

    from keras_lstm_cell.forecast.windows import window_dataset

    # The shuffle's seed, like every TensorFlow op seed, combines with the
    # global seed: every process sets the same one.
    keras.utils.set_random_seed(SEED)
    values, target = series()
    return window_dataset(
        values, target, STEPS, batch_size=BATCH, shuffle=shuffle, seed=SEED, drop_remainder=True
    )


def _saved_predictions(model, strategy, out_dir: str, name: str) -> dict:
    """Saves and exports `model` inside `strategy`'s scope, reloads both outside it."""
    import keras
    import tensorflow as tf

    import keras_lstm_cell.simple_lstm  # noqa: F401  registers SimpleLSTM for loading
    from keras_lstm_cell.forecast.distribute import cleanup_worker_path
    from keras_lstm_cell.forecast.distribute import worker_path

    x, _ = arrays()
    keras_path = os.path.join(out_dir, f"{name}.keras")
    export_path = os.path.join(out_dir, f"{name}_export")
    with strategy.scope():
        model.save(worker_path(keras_path, strategy))
        model.export(worker_path(export_path, strategy), verbose=False)
    loaded = keras.saving.load_model(worker_path(keras_path, strategy))
    served = tf.saved_model.load(worker_path(export_path, strategy))
    result = {
        "loaded": loaded.predict(x, batch_size=BATCH, verbose=0).ravel().tolist(),
        "served": served.serve(tf.constant(x)).numpy().ravel().tolist(),
    }
    cleanup_worker_path(keras_path, strategy)
    return result


def _public(run: dict) -> dict:
    return {key: value for key, value in run.items() if key != "model"}


def mirrored(out_dir: str) -> dict:
    """Single device against `MirroredStrategy` on 2 logical CPUs."""
    import tensorflow as tf

    from keras_lstm_cell.forecast.distribute import get_strategy
    from keras_lstm_cell.forecast.distribute import replica_batch_size
    from keras_lstm_cell.forecast.distribute import split_cpu

    devices = split_cpu(2)  # before any other TensorFlow work
    one = get_strategy("none")
    two = get_strategy("mirrored", devices=devices)
    # Under a strategy Keras starts one pass over a dataset to build the
    # model, so a shuffled dataset's first epoch is its second permutation:
    # the reference for shuffled windows is a one-device mirrored run.
    one_mirrored = get_strategy("mirrored", devices=devices[:1])
    runs = {}
    for kind in ("cell", "fast"):
        runs[f"{kind}/one"] = train_run(one, kind, "arrays")
        runs[f"{kind}/two"] = train_run(two, kind, "arrays")
    runs["cell/windows/one"] = train_run(one_mirrored, "cell", windows(shuffle=True))
    runs["cell/windows/two"] = train_run(two, "cell", windows(shuffle=True))
    # Stateful: one device holds the states of the global batch, each replica
    # those of its part.
    runs["cell/stateful/one"] = train_run(one, "cell", "arrays", batch_size=BATCH, stateful=True)
    replica_batch = replica_batch_size(BATCH, two)
    runs["cell/stateful/two"] = train_run(
        two, "cell", "arrays", batch_size=replica_batch, stateful=True
    )
    # Dropout masks are drawn per replica, so dropout runs are compared with
    # the built-in LSTM under the same strategy. SimpleLSTM runs its fused
    # loop with input dropout only (recurrent dropout takes the cell's loop).
    settings = {
        "cell": {"dropout": DROPOUT, "recurrent_dropout": RECURRENT_DROPOUT},
        "fast": {"dropout": DROPOUT},
    }
    for kind, dropout in settings.items():
        for layer in (kind, "builtin"):
            runs[f"{layer}/stateful_dropout/{kind}"] = train_run(
                two, layer, "arrays", batch_size=replica_batch, stateful=True, seed=SEED, **dropout
            )
    saved = {
        kind: _saved_predictions(runs[f"{kind}/two"]["model"], two, out_dir, kind)
        for kind in ("cell", "fast")
    }
    return {
        "replicas": two.num_replicas_in_sync,
        "devices": [d.name for d in tf.config.list_logical_devices("CPU")],
        "runs": {name: _public(run) for name, run in runs.items()},
        "saved": saved,
    }


def worker(out_dir: str) -> dict:
    """One worker of a `MultiWorkerMirroredStrategy` run (cluster from TF_CONFIG)."""
    from keras_lstm_cell.forecast.distribute import get_strategy
    from keras_lstm_cell.forecast.distribute import is_chief

    strategy = get_strategy("multiworker")
    runs = {kind: train_run(strategy, kind, windows(shuffle=True)) for kind in ("cell", "fast")}
    saved = {
        kind: _saved_predictions(runs[kind]["model"], strategy, out_dir, kind)
        for kind in ("cell", "fast")
    }
    return {
        "chief": is_chief(strategy),
        "replicas": strategy.num_replicas_in_sync,
        "runs": {name: _public(run) for name, run in runs.items()},
        "saved": saved,
    }


def jax_data_parallel() -> dict:
    """One device against `keras.distribution.DataParallel` on 2 XLA CPU devices."""
    import jax
    import keras

    x, y = arrays()
    data_parallel = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
    runs = {}
    for name, kind, distribution, layer_kwargs in (
        ("cell/1", "cell", None, {}),
        ("cell/2", "cell", data_parallel, {}),
        ("fast/1", "fast", None, {}),
        ("fast/2", "fast", data_parallel, {}),
        ("cell/dropout/2", "cell", data_parallel, {"dropout": DROPOUT, "seed": SEED}),
        ("builtin/dropout/2", "builtin", data_parallel, {"dropout": DROPOUT, "seed": SEED}),
    ):
        keras.distribution.set_distribution(distribution)
        model = make_model(kind, **layer_kwargs)
        history = model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, verbose=0)
        runs[name] = {
            "loss": [float(v) for v in history.history["loss"]],
            "predictions": model.predict(x, batch_size=BATCH, verbose=0).ravel().tolist(),
            # Devices holding the LSTM kernel: all of them when replicated.
            "kernel_devices": len(model.layers[1].weights[0].value.sharding.device_set),
        }
    keras.distribution.set_distribution(None)
    return {"backend": keras.backend.backend(), "devices": len(jax.devices()), "runs": runs}


def main(argv) -> int:
    mode = argv[0]
    if mode == "mirrored":
        result = mirrored(argv[1])
    elif mode == "worker":
        result = worker(argv[1])
    elif mode == "jax":
        result = jax_data_parallel()
    else:
        raise ValueError(f"Expected mode mirrored, worker or jax. Received: {mode!r}")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
