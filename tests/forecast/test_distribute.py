"""Distributed training of the cell and SimpleLSTM, against one device.

The runs that need devices of their own (2 logical CPUs for
`MirroredStrategy`, two worker processes for `MultiWorkerMirroredStrategy`,
2 XLA CPU devices for the JAX backend) are in `_multiworker_worker.py`, each
started as a fresh process with a time limit; they print their results as
JSON, and the assertions are here.
"""

import dataclasses
import json
import os
import socket
import subprocess
import sys
import types

import _multiworker_worker as runs
import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_lstm_cell.forecast import distribute

WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_multiworker_worker.py")
TIMEOUT = 240  # seconds for one training process on a busy 2-core machine
# Replicas all-reduce float32 gradients in another order than one device sums them.
ATOL = 1e-6

tensorflow_only = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="tf.distribute strategies train models of the TensorFlow backend",
)


def _env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CONFIG", "JAX_ENABLE_X64")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", CUDA_VISIBLE_DEVICES="-1", KERAS_BACKEND="tensorflow")
    env.update(overrides)
    return env


def _tool_env(**overrides) -> dict:
    """`_env` as a user's shell has it, with TensorFlow's C++ log level unset: the
    tool then lists the devices (quietly) before it makes the strategy."""
    env = _env(**overrides)
    del env["TF_CPP_MIN_LOG_LEVEL"]
    return env


def _result(stdout: str, stderr: str, returncode: int) -> dict:
    log = "\n".join(line for line in stderr.splitlines() if not line.startswith("I0000"))
    assert returncode == 0, f"exit code {returncode}:\n{log[-4000:]}"
    return json.loads(stdout.strip().splitlines()[-1])


def _run_script(*args, env) -> dict:
    done = subprocess.run(
        [sys.executable, WORKER_SCRIPT, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    return _result(done.stdout, done.stderr, done.returncode)


def _assert_close(actual, expected):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=0, atol=ATOL)


# --- get_strategy and TF_CONFIG ---------------------------------------------


def test_none_is_the_default_strategy():
    strategy = distribute.get_strategy("none")
    assert strategy is tf.distribute.get_strategy()
    assert strategy.num_replicas_in_sync == 1
    assert distribute.is_chief(strategy)


@pytest.mark.parametrize("name", ["", "Mirrored", "tpu", None, 2])
def test_unknown_strategy_names_are_refused(name):
    with pytest.raises(ValueError, match=r"one of none, mirrored, multiworker\. Received: name="):
        distribute.get_strategy(name)


def test_devices_only_with_mirrored():
    with pytest.raises(ValueError, match=r"`devices` only with the mirrored strategy"):
        distribute.get_strategy("none", devices=["/cpu:0"])


def _tf_config(cluster=None, task=None) -> str:
    cluster = {"worker": ["127.0.0.1:2000", "127.0.0.1:2001"]} if cluster is None else cluster
    task = {"type": "worker", "index": 0} if task is None else task
    return json.dumps({"cluster": cluster, "task": task})


@pytest.mark.parametrize(
    "raw, message",
    [
        (None, r"Received: TF_CONFIG unset"),
        ("  ", r"Received: TF_CONFIG unset"),
        ("{cluster", r"not JSON"),
        ("[1, 2]", r"with a `cluster` and a `task` object"),
        (json.dumps({"cluster": {"worker": ["h:1"]}}), r"with a `cluster` and a `task`"),
        (_tf_config(cluster={"ps": ["h:1"]}), r'with a cluster\["worker"\] list'),
        (_tf_config(cluster={"worker": []}), r'cluster\["worker"\] a non-empty list'),
        (_tf_config(cluster={"worker": ["localhost"]}), r"\"host:port\" strings"),
        (_tf_config(cluster={"worker": "h:1,h:2"}), r"Received: cluster\['worker'\]='h:1,h:2'"),
        (_tf_config(cluster={"worker": ["h:1"], "chief": ["a:1", "b:1"]}), r"at most one chief"),
        (_tf_config(task={"type": "ps", "index": 0}), r"task type one of the cluster's jobs"),
        (_tf_config(task={"type": "worker", "index": 2}), r"task index in \[0, 2\)"),
        (_tf_config(task={"type": "worker", "index": True}), r"task index in \[0, 2\)"),
        (_tf_config(task={"type": "worker"}), r"task index in \[0, 2\)"),
    ],
)
def test_bad_tf_config_is_refused(raw, message):
    environ = {} if raw is None else {"TF_CONFIG": raw}
    with pytest.raises(ValueError, match=message):
        distribute.read_tf_config(environ)


def test_multiworker_checks_tf_config_first(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", _tf_config(task={"type": "worker", "index": 5}))
    with pytest.raises(ValueError, match=r"Expected the TF_CONFIG .* Received: task="):
        distribute.get_strategy("multiworker")


def test_multiworker_must_come_first(monkeypatch):
    tf.constant(0.0)  # TensorFlow's runtime starts
    monkeypatch.setenv("TF_CONFIG", _tf_config())
    with pytest.raises(RuntimeError, match=r"must run before any other TensorFlow work"):
        distribute.get_strategy("multiworker")


def test_tf_config_with_a_chief():
    raw = _tf_config(
        cluster={"chief": ["10.0.0.1:2222"], "worker": ["10.0.0.2:2222"]},
        task={"type": "chief", "index": 0},
    )
    config = distribute.read_tf_config({"TF_CONFIG": raw})
    assert config == json.loads(raw)


def _strategy_stub(replicas=1, cluster=None, task_type=None, task_id=None):
    resolver = None
    if cluster is not None:
        resolver = types.SimpleNamespace(
            task_type=task_type,
            task_id=task_id,
            cluster_spec=lambda: tf.train.ClusterSpec(cluster),
        )
    return types.SimpleNamespace(num_replicas_in_sync=replicas, cluster_resolver=resolver)


@pytest.mark.parametrize(
    "jobs, task_type, task_id, chief",
    [
        (("worker",), "worker", 0, True),
        (("worker",), "worker", 1, False),
        (("chief", "worker"), "chief", 0, True),
        (("chief", "worker"), "worker", 0, False),
    ],
)
def test_is_chief_and_worker_path(tmp_path, jobs, task_type, task_id, chief):
    cluster = {job: ["h:1", "h:2"] if job == "worker" else ["h:0"] for job in jobs}
    strategy = _strategy_stub(cluster=cluster, task_type=task_type, task_id=task_id)
    path = str(tmp_path / "model.keras")
    assert distribute.is_chief(strategy) is chief
    written = distribute.worker_path(path, strategy)
    if chief:
        assert written == path
    else:
        assert written == str(tmp_path / f".{task_type}-{task_id}" / "model.keras")
        assert os.path.isdir(os.path.dirname(written))
        distribute.cleanup_worker_path(path, strategy)
        assert not os.path.exists(os.path.dirname(written))


@pytest.mark.parametrize("replicas, global_batch, expected", [(1, 16, 16), (2, 16, 8), (4, 8, 2)])
def test_replica_batch_size(replicas, global_batch, expected):
    strategy = _strategy_stub(replicas=replicas)
    assert distribute.replica_batch_size(global_batch, strategy) == expected


@pytest.mark.parametrize("global_batch", [15, 0, -2, 8.0, True])
def test_replica_batch_size_needs_a_multiple(global_batch):
    with pytest.raises(ValueError, match=r"multiple of the 2 replica\(s\). Received: batch_size="):
        distribute.replica_batch_size(global_batch, _strategy_stub(replicas=2))


def test_split_cpu_refuses_after_devices_exist():
    tf.config.list_logical_devices()  # TensorFlow initialises its devices
    with pytest.raises(RuntimeError, match=r"must run before TensorFlow initialises"):
        distribute.split_cpu(2)
    with pytest.raises(ValueError, match=r"Received: count=0"):
        distribute.split_cpu(0)


# --- MirroredStrategy on 2 logical CPUs -------------------------------------


@pytest.fixture(scope="module")
def mirrored(tmp_path_factory):
    if keras.backend.backend() != "tensorflow":
        pytest.skip("tf.distribute strategies train models of the TensorFlow backend")
    return _run_script("mirrored", str(tmp_path_factory.mktemp("mirrored")), env=_env())


def test_mirrored_runs_two_replicas(mirrored):
    assert mirrored["replicas"] == 2
    assert mirrored["devices"] == ["/device:CPU:0", "/device:CPU:1"]


@pytest.mark.parametrize("run", ["cell", "fast", "cell/windows", "cell/stateful"])
def test_mirrored_matches_one_device(mirrored, run):
    one, two = mirrored["runs"][f"{run}/one"], mirrored["runs"][f"{run}/two"]
    assert two["loss"][-1] < two["loss"][0]  # it trained
    _assert_close(two["loss"], one["loss"])
    _assert_close(two["predictions"], one["predictions"])


@pytest.mark.parametrize("kind", ["cell", "fast"])
def test_mirrored_dropout_and_stateful_as_builtin_lstm(mirrored, kind):
    ours = mirrored["runs"][f"{kind}/stateful_dropout/{kind}"]
    builtin = mirrored["runs"][f"builtin/stateful_dropout/{kind}"]
    _assert_close(ours["loss"], builtin["loss"])
    _assert_close(ours["predictions"], builtin["predictions"])
    # Dropout changes the trajectory: the masks were applied.
    without_dropout = mirrored["runs"]["cell/stateful/two"]["loss"]
    assert np.max(np.abs(np.subtract(ours["loss"], without_dropout))) > 1e-3
    assert ours["fast_path_reason"] is None  # SimpleLSTM trained with its fused loop


@pytest.mark.parametrize("kind", ["cell", "fast"])
def test_mirrored_model_saves_and_exports(mirrored, kind):
    predictions = mirrored["runs"][f"{kind}/two"]["predictions"]
    _assert_close(mirrored["saved"][kind]["loaded"], predictions)
    _assert_close(mirrored["saved"][kind]["served"], predictions)


# --- MultiWorkerMirroredStrategy: two processes on 127.0.0.1 -----------------


def _local_cluster(workers: int = 2) -> dict:
    """A cluster of `workers` tasks on free 127.0.0.1 ports, held open together
    while they are picked so that they differ."""
    sockets = [socket.socket() for _ in range(workers)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return {"worker": [f"127.0.0.1:{s.getsockname()[1]}" for s in sockets]}
    finally:
        for s in sockets:
            s.close()


@tensorflow_only
def test_multiworker_matches_single_worker(tmp_path):
    cluster = _local_cluster()
    workers = []
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        workers.append(
            subprocess.Popen(
                [sys.executable, WORKER_SCRIPT, "worker", str(tmp_path)],
                env=_env(TF_CONFIG=config),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=TIMEOUT))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()
    results = [_result(out, err, w.returncode) for (out, err), w in zip(outputs, workers)]
    assert [r["chief"] for r in results] == [True, False]
    assert [r["replicas"] for r in results] == [2, 2]

    # The same program on one worker with one replica. A one-device
    # MirroredStrategy, like the workers, starts one extra pass over the
    # shuffled dataset to build the model, so its epochs see the same orders.
    single = distribute.get_strategy("mirrored", devices=["/cpu:0"])
    for kind in ("cell", "fast"):
        reference = runs.train_run(single, kind, runs.windows(shuffle=True))
        chief, other = results[0]["runs"][kind], results[1]["runs"][kind]
        assert chief["loss"] == other["loss"]
        _assert_close(chief["loss"], reference["loss"])
        _assert_close(chief["predictions"], reference["predictions"])
        _assert_close(other["predictions"], reference["predictions"])
        for result in results:
            _assert_close(result["saved"][kind]["loaded"], chief["predictions"])
            _assert_close(result["saved"][kind]["served"], chief["predictions"])
    # Only the chief's files are kept.
    assert sorted(os.listdir(tmp_path)) == [
        "cell.keras",
        "cell_export",
        "fast.keras",
        "fast_export",
    ]


# --- JAX: keras.distribution.DataParallel on 2 XLA CPU devices --------------


def test_jax_data_parallel_matches_one_device():
    result = _run_script(
        "jax",
        env=_env(
            KERAS_BACKEND="jax",
            JAX_PLATFORMS="cpu",
            XLA_FLAGS="--xla_force_host_platform_device_count=2",
        ),
    )
    assert result["backend"] == "jax"
    assert result["devices"] == 2
    jax_runs = result["runs"]
    for kind in ("cell", "fast"):
        one, two = jax_runs[f"{kind}/1"], jax_runs[f"{kind}/2"]
        assert two["kernel_devices"] == 2  # weights replicated on both devices
        _assert_close(two["loss"], one["loss"])
        _assert_close(two["predictions"], one["predictions"])
    _assert_close(jax_runs["cell/dropout/2"]["loss"], jax_runs["builtin/dropout/2"]["loss"])


# --- The forecasting tool, `keras-lstm-cell train --distribute` --------------


def _cli_takes_distribute() -> bool:
    from keras_lstm_cell.forecast.config import ForecastConfig

    return "distribute" in {field.name for field in dataclasses.fields(ForecastConfig)}


def _train_command(distribute: str, run_dir) -> list[str]:
    # Gradient clipping is off: Keras 3 clips each replica's gradient before
    # the replicas' gradients are summed, which one device cannot reproduce.
    return [
        sys.executable,
        "-m",
        "keras_lstm_cell",
        "train",
        "--distribute",
        distribute,
        "--no-clip",
        "--epochs",
        "2",
        "--logdir",
        str(run_dir / "runs" / distribute),
        "--export",
        str(run_dir / "models" / distribute),
    ]


def _history(run_dir, distribute: str) -> np.ndarray:
    path = run_dir / "runs" / distribute / "history.csv"
    return np.loadtxt(path, delimiter=",", skiprows=1)  # epoch, loss, val_loss


@tensorflow_only
@pytest.mark.skipif(not _cli_takes_distribute(), reason="the CLI has no --distribute yet")
def test_forecasting_tool_on_two_workers_matches_one(tmp_path):
    cluster = _local_cluster()
    processes = [
        subprocess.Popen(
            _train_command("mirrored", tmp_path),
            env=_tool_env(),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    ]
    for index in range(2):
        config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}})
        processes.append(
            subprocess.Popen(
                _train_command("multiworker", tmp_path),
                env=_tool_env(TF_CONFIG=config),
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        outputs = [process.communicate(timeout=TIMEOUT) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for (out, err), process in zip(outputs, processes):
        log = "\n".join(line for line in err.splitlines() if not line.startswith("I0000"))
        assert process.returncode == 0, f"{out[-2000:]}\n{log[-3000:]}"
    one, two = _history(tmp_path, "mirrored"), _history(tmp_path, "multiworker")
    assert one.shape == two.shape == (2, 3)
    _assert_close(two, one)
    # The test-part table is printed alike (same forecasts to print precision).
    tables = [out[out.index("Test part:") :].splitlines()[1:5] for out, _ in outputs]
    assert tables[1] == tables[0] == tables[2]
    # Only the chief's run directory and SavedModel are kept.
    assert sorted(os.listdir(tmp_path / "runs")) == ["mirrored", "multiworker"]
    assert sorted(os.listdir(tmp_path / "models")) == ["mirrored", "multiworker"]
