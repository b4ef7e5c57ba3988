"""How SimpleLSTM picks its time loop: per backend, device, mode and option
from `AUTO_LOOPS`, the first loop that can run a call runs it, a loop that
declines at run time hands the call on, and running a loop loads no other
framework."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import backend_is

from keras_lstm_cell import accelerator
from keras_lstm_cell import loops
from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

BACKEND = keras.backend.backend()


class StandInLoop:
    """A loop that computes with the generic loop under its own name, refuses
    with `refusal` and declines at run time when told; records its calls."""

    def __init__(self, name, refusal=None, declines=False):
        self.name, self.refusal, self.declines = name, refusal, declines
        self.runs = []

    def reason(self, layer, call):
        return self.refusal

    def run(self, layer, sequences, initial_state, mask, training):
        self.runs.append(training)
        if self.declines:
            raise NotImplementedError("the stand-in declines")
        return loops.GENERIC.run(layer, sequences, initial_state, mask, training)


def _x():
    return np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")


def _set_table(monkeypatch, device, training, inference):
    monkeypatch.setattr(accelerator, "device_kind", lambda: device)
    monkeypatch.setitem(loops.AUTO_LOOPS, (BACKEND, device, "training"), training)
    monkeypatch.setitem(loops.AUTO_LOOPS, (BACKEND, device, "inference"), inference)


@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_the_first_loop_that_can_run_runs(monkeypatch, device):
    refusing = StandInLoop("refusing", refusal="cannot run this")
    declining = StandInLoop("declining", declines=True)
    running = StandInLoop("running")
    table = (refusing, declining, running, loops.GENERIC)
    _set_table(monkeypatch, device, table, table)
    layer = SimpleLSTM(4, return_sequences=True)
    rnn = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    x = _x()
    rnn(x)
    layer(x)
    layer.set_weights(rnn.get_weights())
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x)), keras.ops.convert_to_numpy(rnn(x))
    )
    assert layer.last_loop == "running"
    assert refusing.runs == []
    assert declining.runs == running.runs == [False, False]


def test_training_and_inference_take_their_own_entries(monkeypatch):
    trainer, predictor = StandInLoop("trainer"), StandInLoop("predictor")
    _set_table(monkeypatch, "cpu", (trainer, loops.GENERIC), (predictor, loops.GENERIC))
    layer = SimpleLSTM(4)
    layer(_x(), training=True)
    assert layer.last_loop == "trainer"
    layer(_x(), training=False)
    assert layer.last_loop == "predictor"
    assert trainer.runs == [True] and predictor.runs == [False]


def test_a_table_that_picks_the_generic_loop_says_so(monkeypatch):
    _set_table(monkeypatch, "cpu", (loops.GENERIC,), (loops.FUSED, loops.GENERIC))
    layer = SimpleLSTM(4)
    assert "fastest measured for training" in layer.fast_path_reason(training=True)
    assert layer.fast_path_reason(training=False) is None
    layer(_x(), training=True)
    assert layer.last_loop == "generic"


class LongOnlyLoop(StandInLoop):
    """Runs calls of at least `min_steps` static timesteps only."""

    def __init__(self, min_steps):
        super().__init__("long_only")
        self.min_steps = min_steps

    def reason(self, layer, call):
        if call.steps is None or call.steps < self.min_steps:
            return f"runs from {self.min_steps} timesteps; steps={call.steps}"
        return None


@pytest.mark.parametrize("steps, loop", [(4, "generic"), (6, "long_only")])
def test_a_loop_is_told_the_calls_static_length(monkeypatch, steps, loop):
    _set_table(monkeypatch, "cpu", (LongOnlyLoop(5), loops.GENERIC), (loops.GENERIC,))
    layer = SimpleLSTM(4, return_sequences=True)
    rnn = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    x = np.random.default_rng(0).normal(size=(2, steps, 3)).astype("float32")
    rnn(x)
    layer(x, training=True)
    layer.set_weights(rnn.get_weights())
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer(x, training=True)),
        keras.ops.convert_to_numpy(rnn(x, training=True)),
        atol=1e-6,
    )
    assert layer.last_loop == loop
    assert (layer.fast_path_reason(training=True, steps=steps) is None) == (loop == "long_only")
    assert "fastest measured" in layer.fast_path_reason(training=True)  # length unknown


def test_use_cudnn_false_takes_the_fused_loop_whatever_the_table(monkeypatch):
    stand_in = StandInLoop("stand_in")
    _set_table(monkeypatch, "cpu", (stand_in, loops.GENERIC), (stand_in, loops.GENERIC))
    layer = SimpleLSTM(4, use_cudnn=False)
    layer(_x())
    assert layer.last_loop == "fused"
    assert stand_in.runs == []


# The loop each backend takes on each device, for each option. With a GPU
# "visible" on this CPU, Keras's cuDNN function declines at run time and the
# next loop runs; torch's kernel runs on any device.
OPTIONS = {
    "default": ({}, False),
    "masked": ({}, True),
    "unroll": ({"unroll": True}, False),
    "use_cudnn=False": ({"use_cudnn": False}, False),
    "float64": ({"dtype": "float64"}, False),
    "variant": ({"variant": "coupled"}, False),
}
TORCH_LOOPS = {
    "cpu": {"default": "torch_lstm", "float64": "torch_lstm"},
    "gpu": {"default": "torch_lstm"},  # cuDNN runs float32 only
}


def _expected_loop(device, option):
    if option == "variant":
        return "generic"
    if backend_is("torch"):
        return TORCH_LOOPS[device].get(option, "fused")
    return "fused"


@pytest.mark.parametrize("option", list(OPTIONS))
@pytest.mark.parametrize("device", ["cpu", "gpu"])
def test_loop_per_backend_device_and_option(monkeypatch, device, option):
    kwargs, masked = OPTIONS[option]
    if kwargs.get("dtype") == "float64" and backend_is("jax"):
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("float64 on JAX needs JAX_ENABLE_X64=1")
    monkeypatch.setattr(accelerator, "device_kind", lambda: device)
    layer = SimpleLSTM(4, **kwargs)
    x = _x().astype(kwargs.get("dtype", "float32"))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool) if masked else None
    layer(x, mask=mask)
    assert layer.last_loop == _expected_loop(device, option)


_IMPORT_PROBE = """
import sys
import numpy as np
import keras_lstm_cell
loaded = set(sys.modules)
layer = keras_lstm_cell.SimpleLSTM(3)
layer(np.ones((2, 4, 3), "float32"), training=True)
layer(np.ones((2, 4, 3), "float32"))
new = sorted({name.split(".")[0] for name in set(sys.modules) - loaded})
fused = sorted(m for m in sys.modules if m.startswith("keras_lstm_cell.loops._fused"))
print(json.dumps({"new": new, "fused": fused, "loop": layer.last_loop}))
"""


def test_running_a_loop_loads_only_its_backends_framework():
    backend = BACKEND
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + _IMPORT_PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    probe = json.loads(out.stdout.strip().splitlines()[-1])
    frameworks = {"tensorflow", "jax", "jaxlib", "torch"} - {backend}
    if backend == "jax":
        frameworks -= {"jaxlib"}
    assert not frameworks & set(probe["new"]), probe
    expected = {
        "tensorflow": ["keras_lstm_cell.loops._fused_tensorflow"],
        "jax": ["keras_lstm_cell.loops._fused_jax"],
        "torch": [],
    }[backend]
    assert probe["fused"] == expected
