"""Where a run trains: one device chosen by name, or TensorFlow's distribution strategies.

`resolve_device("cpu" | "gpu" | "auto")` names the one device of a plain run.

`get_strategy("mirrored")` trains one model on every GPU of a machine,
`get_strategy("multiworker")` on every GPU of several machines described by
the `TF_CONFIG` environment variable; `"none"` is TensorFlow's default, one
device. Build and compile the model inside `strategy.scope()` and call
`model.fit` as usual: each step splits the global batch among the replicas
and averages their gradients, so a run computes what one device computes
with the same global batch, up to float rounding. Two settings differ:

- Dropout masks are drawn per replica, for its part of the batch: the same
  distribution, other draws.
- Keras 3 clips gradients (`clipnorm`, `global_clipnorm`, `clipvalue`) per
  replica, before the replicas' gradients are summed; once clipping acts,
  the steps differ from one device's.

A stateful RNN keeps the states of its replica's part of the batch, so its
`keras.Input(batch_size=...)` is `replica_batch_size(global_batch, strategy)`.

Example:

>>> import keras
>>> strategy = get_strategy("none")
>>> with strategy.scope():
...     model = keras.Sequential([keras.Input((7, 1)), keras.layers.Dense(1)])
...     model.compile(optimizer="adam", loss="mse")
>>> strategy.num_replicas_in_sync
1
"""

from __future__ import annotations

import json
import logging
import os

import tensorflow as tf

from keras_lstm_cell._checks import check_choice
from keras_lstm_cell.forecast.config import DEVICES
from keras_lstm_cell.forecast.config import STRATEGIES

logger = logging.getLogger(__name__)
# Task types that take part in multi-worker training; the chief, if any, also
# writes the outputs.
WORKER_TASK_TYPES = ("chief", "worker")

_TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host1:12345", "host2:12345"]}, '
    '"task": {"type": "worker", "index": 0}}'
)


def get_strategy(name: str, devices: list[str] | None = None) -> tf.distribute.Strategy:
    """The distribution strategy named `name`.

    Call it first, before any other TensorFlow work: a multi-worker strategy
    configures the process's TensorFlow runtime, which cannot change once
    it has started.

    Args:
        name: `"none"` (TensorFlow's default strategy: one device),
            `"mirrored"` (`tf.distribute.MirroredStrategy`: one replica per
            local device) or `"multiworker"`
            (`tf.distribute.MultiWorkerMirroredStrategy`: one replica per
            device of every worker listed in `TF_CONFIG`, which must be set
            the same on every worker except for its `task`).
        devices: For `"mirrored"`, the devices to use, e.g.
            `["/gpu:0", "/gpu:1"]`. Default: every GPU, or the CPU if there is
            none.

    Returns:
        A `tf.distribute.Strategy`.
    """
    check_choice("name", name, STRATEGIES)
    if devices is not None and name != "mirrored":
        raise ValueError(
            "Expected `devices` only with the mirrored strategy. "
            f"Received: devices={devices!r} with {name!r}"
        )
    if name == "none":
        strategy = tf.distribute.get_strategy()
    elif name == "mirrored":
        strategy = tf.distribute.MirroredStrategy(devices)
    else:
        config = read_tf_config()
        task = config["task"]
        logger.info(
            "Multi-worker training as %s %d of a cluster of %s",
            task["type"],
            task["index"],
            {job: len(addresses) for job, addresses in config["cluster"].items()},
        )
        try:
            strategy = _MultiWorkerMirroredStrategy()
        except RuntimeError as e:
            raise RuntimeError(
                "get_strategy('multiworker') must run before any other TensorFlow "
                f"work in the process, which fixes its runtime ({e})"
            ) from e
    logger.info("Strategy %r with %d replica(s)", name, strategy.num_replicas_in_sync)
    return strategy


class _MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
    """`tf.distribute.MultiWorkerMirroredStrategy` whose `reduce` takes what Keras 3 passes.

    Keras 3.x calls `strategy.reduce` in two ways that only the single-worker
    `MirroredStrategy` accepts (keras-team/keras#20585): with a whole
    `(x, y)` batch, to build the model in `fit`, `evaluate` and `predict`,
    and with `axis=0` on each replica's scalar loss and metric values, to
    log them. This strategy reduces a structure element by element, and a
    scalar over the replicas, as `MirroredStrategy` does.
    """

    def reduce(self, reduce_op, value, axis):
        reduce_one = super().reduce

        def reduce_element(element):
            scalar = self.experimental_local_results(element)[0].shape.rank == 0
            return reduce_one(reduce_op, element, None if scalar else axis)

        return tf.nest.map_structure(reduce_element, value)


def read_tf_config(environ=None) -> dict:
    """The cluster of a multi-worker run, from the `TF_CONFIG` environment variable.

    `TF_CONFIG` is JSON with the addresses of every task and the role of this
    process, e.g.
    `{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task":
    {"type": "worker", "index": 0}}`. The lists in `cluster` are the same on
    every worker; `task` differs. An optional `"chief"` job of one address
    may come first; otherwise worker 0 is the chief.

    Args:
        environ: Mapping to read `TF_CONFIG` from. Default: `os.environ`.

    Returns:
        The parsed `TF_CONFIG`, checked.
    """
    environ = os.environ if environ is None else environ
    raw = environ.get("TF_CONFIG", "")
    expected = f"Expected the TF_CONFIG environment variable to hold JSON like {_TF_CONFIG_EXAMPLE}"
    if not raw.strip():
        raise ValueError(f"{expected} for multi-worker training. Received: TF_CONFIG unset")
    try:
        config = json.loads(raw)
    except json.JSONDecodeError as e:
        raise ValueError(f"{expected}. Received: TF_CONFIG={raw!r} (not JSON: {e})") from e
    cluster = config.get("cluster") if isinstance(config, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise ValueError(
            f"{expected}, with a `cluster` and a `task` object. Received: TF_CONFIG={raw!r}"
        )
    jobs = {job: addresses for job, addresses in cluster.items() if job in WORKER_TASK_TYPES}
    for job, addresses in jobs.items():
        if (
            not isinstance(addresses, list)
            or not addresses
            or not all(isinstance(a, str) and a.rpartition(":")[2].isdigit() for a in addresses)
        ):
            raise ValueError(
                f'{expected}: cluster["{job}"] a non-empty list of "host:port" strings. '
                f"Received: cluster[{job!r}]={addresses!r}"
            )
    if "worker" not in jobs:
        raise ValueError(
            f'{expected}, with a cluster["worker"] list. Received: cluster={cluster!r}'
        )
    if len(jobs.get("chief", [])) > 1:
        raise ValueError(
            f'{expected}: at most one chief. Received: cluster["chief"]={jobs["chief"]!r}'
        )
    task_type, index = task.get("type"), task.get("index")
    if not isinstance(task_type, str) or task_type not in jobs:
        raise ValueError(
            f"{expected}: task type one of the cluster's jobs {sorted(jobs)}. "
            f"Received: task={task!r}"
        )
    count = len(jobs[task_type])
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise ValueError(
            f"{expected}: task index in [0, {count}) for the {count} {task_type} "
            f"address(es). Received: task={task!r}"
        )
    return config


def split_cpu(count: int) -> list[str]:
    """Splits the CPU into `count` logical devices, for a `"mirrored"` run without GPUs.

    Each logical device is a replica of `MirroredStrategy(split_cpu(n))`, so a
    multi-device run can be rehearsed on one CPU. It must be called before
    TensorFlow initialises its devices, i.e. before any other TensorFlow
    work in the process.

    Returns:
        The names of the logical CPU devices, e.g. `["/cpu:0", "/cpu:1"]`.
    """
    if isinstance(count, bool) or not isinstance(count, int) or count <= 0:
        raise ValueError(f"Expected `count` to be a positive integer. Received: count={count!r}")
    cpu = tf.config.list_physical_devices("CPU")[0]
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)]
        )
    except RuntimeError as e:
        raise RuntimeError(
            "split_cpu() must run before TensorFlow initialises its devices, first "
            f"in the process ({e})"
        ) from e
    return [f"/cpu:{k}" for k in range(count)]


def replica_batch_size(global_batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """The batch each replica sees when the global batch is `global_batch_size`.

    A stateful RNN keeps one state row per sequence of its replica's batch,
    so under a strategy its `keras.Input(batch_size=...)` is this value, not
    the global batch; each replica then carries its own rows from batch to
    batch, as one device carries all of them.
    """
    replicas = strategy.num_replicas_in_sync
    if (
        isinstance(global_batch_size, bool)
        or not isinstance(global_batch_size, int)
        or global_batch_size <= 0
        or global_batch_size % replicas
    ):
        raise ValueError(
            f"Expected `batch_size` to be a positive multiple of the {replicas} replica(s). "
            f"Received: batch_size={global_batch_size!r}"
        )
    return global_batch_size // replicas


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the outputs: always, except on a
    multi-worker run's workers other than the chief (the `"chief"` task, or
    worker 0 when there is none)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or resolver.task_type is None:
        return True
    if resolver.task_type == "chief":
        return True
    jobs = resolver.cluster_spec().as_dict()
    return "chief" not in jobs and resolver.task_type == "worker" and resolver.task_id == 0


def worker_path(path: str, strategy: tf.distribute.Strategy) -> str:
    """Where this process writes `path`: `path` itself on the chief, and a
    private copy beside it on other workers, in a directory it creates.

    Every worker of a multi-worker run must save the model (saving may
    gather values from all of them), but only the chief's copy is kept;
    delete the others' after saving with `cleanup_worker_path`.
    """
    if is_chief(strategy):
        return path
    resolver = strategy.cluster_resolver
    head, tail = os.path.split(os.path.normpath(path))
    private_dir = os.path.join(head, f".{resolver.task_type}-{resolver.task_id}")
    tf.io.gfile.makedirs(private_dir)
    return os.path.join(private_dir, tail)


def cleanup_worker_path(path: str, strategy: tf.distribute.Strategy) -> None:
    """Deletes what a non-chief worker wrote at `worker_path(path, strategy)`."""
    if is_chief(strategy):
        return
    tf.io.gfile.rmtree(os.path.dirname(worker_path(path, strategy)))


NO_GPU_MESSAGE = (
    "Expected a GPU for device='gpu', but TensorFlow sees none "
    "(tf.config.list_physical_devices('GPU') is empty; on Linux, "
    "`pip install tensorflow[and-cuda]` adds CUDA support). "
    "Received: device='gpu'; use device='cpu' or 'auto'"
)


def resolve_device(choice: str = "cpu") -> str:
    """TensorFlow device name for `"cpu"`, `"gpu"` or `"auto"`.

    `"cpu"` always works. `"gpu"` raises `ValueError` when no GPU is visible,
    rather than silently training on the CPU. `"auto"` takes the first GPU
    when there is one, else the CPU.
    """
    check_choice("device", choice, DEVICES)
    if choice == "cpu":
        return "/CPU:0"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "/GPU:0"
    if choice == "gpu":
        raise ValueError(NO_GPU_MESSAGE)
    return "/CPU:0"
