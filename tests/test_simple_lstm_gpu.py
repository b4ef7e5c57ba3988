"""SimpleLSTM's GPU paths.

On a CPU, a stand-in for Keras 3.15.1's JAX cuDNN function shows that its
ordering of a backward pass and its float64 failure cannot reach users. Tests
marked `gpu` run the real paths where a GPU is visible and are skipped
elsewhere.
"""

import keras
import numpy as np
import pytest
from conftest import backend_is

# The stand-in replaces the backend function that keras.layers.LSTM and
# SimpleLSTM call; Keras exports it only through its source tree.
from keras.src import backend as keras_backend

from keras_lstm_cell import accelerator
from keras_lstm_cell import loops
from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.verify import GRID
from keras_lstm_cell.verify import TF32_TOLERANCE
from keras_lstm_cell.verify import build_model
from keras_lstm_cell.verify import builtin_lstm
from keras_lstm_cell.verify import compare_at_default_precision
from keras_lstm_cell.verify import compare_with_keras_lstm
from keras_lstm_cell.verify import make_inputs
from keras_lstm_cell.verify import outputs_and_gradients
from keras_lstm_cell.verify import scaled_diff
from keras_lstm_cell.verify import tolerance

needs_jax = pytest.mark.skipif(
    not backend_is("jax"), reason="stands in for the JAX backend's cuDNN function"
)


class JaxCudnnStandIn:
    """Behaves as `keras/src/backend/jax/rnn.py`'s `lstm` in Keras 3.15.1 on a
    GPU, computed on the CPU: no mask (NotImplementedError), inputs reversed
    for `go_backwards`, and at the end `if go_backwards and return_sequences:
    outputs = jnp.flip(outputs, axis=1)`. cuDNN's float64 path fails there
    (in the backward pass); this one fails at once. Records its calls."""

    def __init__(self):
        self.calls = []

    def __call__(
        self,
        inputs,
        initial_state_h,
        initial_state_c,
        mask,
        kernel,
        recurrent_kernel,
        bias,
        activation,
        recurrent_activation,
        return_sequences=False,
        go_backwards=False,
        unroll=False,
    ):
        self.calls.append({"go_backwards": go_backwards, "return_sequences": return_sequences})
        if mask is not None:
            raise NotImplementedError
        if keras.backend.standardize_dtype(inputs.dtype) == "float64":
            raise RuntimeError("Cannot lower jaxpr with verifier errors (float64 on cuDNN)")
        ops = keras.ops
        if go_backwards:
            inputs = ops.flip(inputs, axis=1)
        h, c = initial_state_h, initial_state_c
        steps = []
        for t in range(inputs.shape[1]):
            z = ops.matmul(inputs[:, t], kernel) + bias + ops.matmul(h, recurrent_kernel)
            i, f, g, o = ops.split(z, 4, axis=-1)  # cuDNN's (i, f, g, o) is Keras's order
            c = ops.sigmoid(f) * c + ops.sigmoid(i) * ops.tanh(g)
            h = ops.sigmoid(o) * ops.tanh(c)
            steps.append(h)
        y = ops.stack(steps, axis=1)
        last_output = y[:, -1]
        outputs = y if return_sequences else ops.expand_dims(last_output, axis=1)
        if go_backwards and return_sequences:
            outputs = ops.flip(outputs, axis=1)
        return last_output, outputs, [h, c]


@pytest.fixture
def stand_in(monkeypatch):
    """The stand-in as the backend's cuDNN function, with a GPU 'visible'."""
    fake = JaxCudnnStandIn()
    monkeypatch.setattr(keras_backend, "lstm", fake)
    monkeypatch.setattr(accelerator, "device_kind", lambda: "gpu")
    return fake


def _skip_float64_without_x64(dtype):
    if dtype == "float64":
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("float64 on JAX needs JAX_ENABLE_X64=1")


def _compare(layer, config):
    """`layer` against the built-in's own loop on `config`, as verify does."""
    reference = build_model(builtin_lstm(config), config)
    ours = build_model(layer, config)
    ours.set_weights(reference.get_weights())
    batches = [make_inputs(config, 0)]
    if config.rnn.get("stateful"):
        batches.append(make_inputs(config, 1))
    forward = gradient = 0.0
    for x in batches:
        out_ref, grad_ref = outputs_and_gradients(reference, x)
        out_ours, grad_ours = outputs_and_gradients(ours, x)
        forward = max(forward, scaled_diff(out_ref, out_ours))
        gradient = max(gradient, scaled_diff(grad_ref, grad_ours))
    return forward, gradient


@needs_jax
def test_stand_in_reproduces_the_builtin_ordering_bug(stand_in):
    # keras.layers.LSTM on a JAX GPU returns a backward pass's sequence in
    # input order: 0.364 max difference on an H200.
    config = next(c for c in GRID if c.name == "go_backwards")
    builtin = keras.layers.LSTM(5, **config.rnn)
    forward, _ = _compare(builtin, config)
    assert stand_in.calls
    assert all(call == {"go_backwards": True, "return_sequences": True} for call in stand_in.calls)
    assert forward > 0.1


@needs_jax
@pytest.mark.parametrize("config", GRID, ids=[c.name for c in GRID])
def test_auto_on_a_jax_gpu_takes_the_fused_loop(stand_in, config):
    _skip_float64_without_x64(config.dtype)
    layer = SimpleLSTM(5, **config.cell, **config.rnn, dtype=config.dtype)
    forward, gradient = _compare(layer, config)
    assert max(forward, gradient) <= tolerance(config.dtype, "SimpleLSTM")
    assert layer.last_loop == "fused"
    assert stand_in.calls == []


def _cudnn_can_run(config):
    return (
        config.dtype == "float32"
        and not config.mask
        and not config.rnn.get("unroll")
        and config.cell.get("use_bias", True)
    )


@needs_jax
@pytest.mark.parametrize("config", GRID, ids=[c.name for c in GRID])
def test_forced_cudnn_on_a_jax_gpu_equals_the_builtin_loop(stand_in, config):
    # The layer reverses the inputs itself, so the backend function never sees
    # go_backwards=True and its final flip cannot reorder the outputs.
    _skip_float64_without_x64(config.dtype)
    layer = SimpleLSTM(5, **config.cell, **config.rnn, dtype=config.dtype, use_cudnn=True)
    if not _cudnn_can_run(config):
        with pytest.raises(ValueError, match="use_cudnn=True, but cuDNN cannot run this layer"):
            _compare(layer, config)
        assert stand_in.calls == []
        return
    forward, gradient = _compare(layer, config)
    assert max(forward, gradient) <= tolerance(config.dtype, "SimpleLSTM")
    assert layer.last_loop == "cudnn"
    assert stand_in.calls
    assert all(call["go_backwards"] is False for call in stand_in.calls)


@needs_jax
def test_float64_never_reaches_cudnn(stand_in):
    _skip_float64_without_x64("float64")
    x = np.random.default_rng(0).normal(size=(2, 4, 3))
    layer = SimpleLSTM(3, dtype="float64")
    layer(x)
    assert layer.last_loop == "fused"
    assert "compute dtype='float64'" in layer.cudnn_reason()
    with pytest.raises(ValueError, match="compute dtype='float64'"):
        SimpleLSTM(3, dtype="float64", use_cudnn=True)(x)
    assert stand_in.calls == []


# On a real GPU.


@pytest.mark.gpu
@pytest.mark.parametrize("layer", ["RNN(SimpleLSTMCell)", "SimpleLSTM"])
@pytest.mark.parametrize("config", GRID, ids=[c.name for c in GRID])
def test_on_a_gpu_layers_equal_the_builtin_at_full_precision(config, layer):
    result = compare_with_keras_lstm(config, layer=layer)
    assert result.ok, result


@pytest.mark.gpu
@pytest.mark.parametrize("config", GRID, ids=[c.name for c in GRID])
def test_on_a_gpu_forced_cudnn_equals_the_builtin_at_full_precision(config):
    if not _cudnn_can_run(config) or (config.mask and not backend_is("tensorflow")):
        pytest.skip("cuDNN cannot run this configuration")
    layer = SimpleLSTM(5, **config.cell, **config.rnn, dtype=config.dtype, use_cudnn=True)
    with accelerator.full_float32_precision():
        forward, gradient = _compare(layer, config)
    assert max(forward, gradient) <= tolerance(config.dtype, "SimpleLSTM")
    assert layer.last_loop == loops.CUDNN_LOOPS[keras.backend.backend()].name


@pytest.mark.gpu
def test_on_a_gpu_default_precision_within_tf32_tolerance():
    result = compare_at_default_precision()
    assert result.tolerance == TF32_TOLERANCE
    assert result.ok, result


@pytest.mark.gpu
def test_on_a_gpu_auto_takes_the_measured_loop():
    layer = SimpleLSTM(4)
    layer(np.ones((2, 5, 3), "float32"))
    assert layer.last_loop == loops.AUTO_LOOPS[keras.backend.backend(), "gpu", "inference"][0].name
