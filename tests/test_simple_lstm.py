"""SimpleLSTM equals RNN(SimpleLSTMCell) and keras.layers.LSTM, on every loop it takes."""

import functools

import keras
import numpy as np
import pytest
from conftest import backend_is

from keras_lstm_cell import accelerator
from keras_lstm_cell import loops
from keras_lstm_cell.loops import fused_loop
from keras_lstm_cell.loops import fused_lstm
from keras_lstm_cell.simple_lstm import SimpleLSTM
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.verify import GRID
from keras_lstm_cell.verify import compare_with_keras_lstm
from keras_lstm_cell.verify import compare_with_reference
from keras_lstm_cell.verify import outputs_and_gradients
from keras_lstm_cell.verify import reference_tolerance
from keras_lstm_cell.verify import scaled_diff

# The loop SimpleLSTM takes on a CPU for a configuration torch's kernel runs:
# torch's own LSTM kernel on torch, the fused loop elsewhere (AUTO_LOOPS).
FAST_LOOP = "torch_lstm" if backend_is("torch") else "fused"


def _np(values):
    return [keras.ops.convert_to_numpy(v) for v in keras.tree.flatten(values)]


def _max_diff(a, b):
    assert len(a) == len(b)
    return max(float(np.max(np.abs(np.asarray(u) - np.asarray(v)))) for u, v in zip(a, b))


def _skip_float64_without_x64(dtype):
    if dtype == "float64" and backend_is("jax"):
        import jax

        if not jax.config.jax_enable_x64:
            pytest.skip("float64 on JAX needs JAX_ENABLE_X64=1")


def _transfer(source, *targets, x, **call_kwargs):
    source(x, **call_kwargs)
    for target in targets:
        target(x, **call_kwargs)
        target.set_weights(source.get_weights())


# Parity over the cell's grid.


def _expected_loop(config):
    """The loop SimpleLSTM takes on a CPU for a grid configuration."""
    if backend_is("torch") and (config.mask or config.rnn.get("unroll")):
        return "fused"  # torch's kernel takes no mask and does not unroll
    return FAST_LOOP


@pytest.mark.parametrize("config", GRID, ids=[c.name for c in GRID])
def test_outputs_and_gradients_equal_builtin(config):
    # The built-in's own loop, which RNN(SimpleLSTMCell) equals to the bit on a
    # CPU (tests/test_parity.py).
    _skip_float64_without_x64(config.dtype)
    result = compare_with_keras_lstm(config, layer="SimpleLSTM")
    assert result.ok, result
    assert result.loop == _expected_loop(config)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_float64_matches_numpy_reference(go_backwards):
    _skip_float64_without_x64("float64")
    diff = compare_with_reference(seed=3, go_backwards=go_backwards, layer="SimpleLSTM")
    assert diff <= reference_tolerance()


@pytest.mark.parametrize("unroll", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("zero_output_for_mask", [False, True])
def test_initial_state_with_leading_masked_steps_equal_rnn_cell(
    go_backwards, zero_output_for_mask, unroll
):
    # Masked first steps are where TensorFlow's and JAX's RNN loops differ
    # (previous output or previous state); the fused loop follows each.
    # Keras's unrolled loops treat masks otherwise again (zeros for masked
    # leading steps, zero_output_for_mask ignored on JAX, zeros at unreversed
    # steps with go_backwards on TensorFlow): SimpleLSTM(unroll=True) follows
    # the loop's semantics, so it is compared with RNN(unroll=False).
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 5, 2)).astype("float32")
    h0, c0 = (rng.normal(size=(3, 4)).astype("float32") for _ in range(2))
    mask = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 1, 0, 1]], bool)
    options = dict(
        return_sequences=True,
        return_state=True,
        go_backwards=go_backwards,
        zero_output_for_mask=zero_output_for_mask,
    )
    rnn = keras.layers.RNN(SimpleLSTMCell(4), **options)
    ours = SimpleLSTM(4, unroll=unroll, **options)
    kwargs = dict(initial_state=[h0, c0], mask=mask)
    _transfer(rnn, ours, x=x, **kwargs)
    assert _max_diff(_np(ours(x, **kwargs)), _np(rnn(x, **kwargs))) <= 1e-6
    assert ours.last_loop == "fused"  # a mask: the fused loop on every backend


def test_variable_length_input_equals_rnn_cell():
    inputs = keras.Input((None, 3))
    rnn = keras.Model(inputs, keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)(inputs))
    layer = SimpleLSTM(4, return_sequences=True)
    ours = keras.Model(inputs, layer(inputs))
    ours.set_weights(rnn.get_weights())
    for steps in (3, 7):
        x = np.random.default_rng(steps).normal(size=(2, steps, 3)).astype("float32")
        np.testing.assert_allclose(_np(ours(x))[0], _np(rnn(x))[0], atol=1e-6, rtol=0)
    assert layer.last_loop == FAST_LOOP


def _assert_fused_equals_builtin(ours, builtin, layer, x, training=False):
    # Outputs and gradients within 1e-6 (relative above 1) of the built-in's
    # on its weights, with the fused loop run.
    ours.set_weights(builtin.get_weights())
    out_ours, grad_ours = outputs_and_gradients(ours, x, training=training)
    out_ref, grad_ref = outputs_and_gradients(builtin, x, training=training)
    assert scaled_diff(out_ref, out_ours) <= 1e-6
    assert scaled_diff(grad_ref, grad_ours) <= 1e-6
    assert layer.last_loop == "fused"


@pytest.mark.parametrize(
    "activation, recurrent_activation",
    [("relu", "sigmoid"), ("tanh", "hard_sigmoid"), ("linear", "tanh")],
)
def test_other_activations_equal_builtin(activation, recurrent_activation):
    # relu and hard_sigmoid are differentiated automatically, linear and tanh
    # by the hand-written pass (on TensorFlow and JAX); all on the fused loop.
    # Linear cells grow large values: the differences are relative above 1.
    kwargs = dict(activation=activation, recurrent_activation=recurrent_activation)
    x = np.random.default_rng(3).normal(size=(3, 6, 2)).astype("float32")
    builtin = keras.Sequential([keras.Input((6, 2)), keras.layers.LSTM(4, **kwargs)])
    layer = SimpleLSTM(4, **kwargs)
    ours = keras.Sequential([keras.Input((6, 2)), layer])
    _assert_fused_equals_builtin(ours, builtin, layer, x)


@pytest.mark.parametrize("masked", [False, True], ids=["no mask", "mask"])
def test_long_sequences_train_from_checkpoints_equal_to_builtin(monkeypatch, masked):
    # From this many bytes of gates per sequence the backward loop recomputes
    # them where the backend does (TensorFlow), from checkpoints every
    # segment_steps(steps) steps; here from any size, on every backend.
    monkeypatch.setattr(fused_loop, "_RECOMPUTE_GATES_FROM", {keras.backend.backend(): 0})
    steps = 20
    assert fused_loop.segment_steps(steps) == 4
    x = np.random.default_rng(4).normal(size=(3, steps, 2)).astype("float32")
    if masked:
        x[0, 13:] = 0.0  # padding, masked by Masking
    builtin = keras.Sequential([keras.Input((steps, 2)), keras.layers.LSTM(5)])
    layer = SimpleLSTM(5, use_cudnn=False)
    inputs = keras.Input((steps, 2))
    hidden = keras.layers.Masking(0.0)(inputs) if masked else inputs
    ours = keras.Model(inputs, layer(hidden))
    if masked:
        builtin = keras.Model(inputs, keras.layers.LSTM(5)(hidden))
    _assert_fused_equals_builtin(ours, builtin, layer, x)


@pytest.mark.parametrize(
    "steps, segment", [(1000, 25), (30, 5), (20, 4), (16, 4), (97, 0), (15, 0), (None, 0)]
)
def test_checkpoint_segments_divide_the_length_near_its_square_root(steps, segment):
    assert fused_loop.segment_steps(steps) == segment


@pytest.mark.parametrize("stateful", [False, True], ids=["stateless", "stateful, masked"])
def test_one_training_step_equals_rnn_cell(stateful):
    """`fit` with Adam and clipping moves both layers' weights alike; a
    stateful layer carries its states from batch to batch, as the masked
    fused loop does on every backend (on torch, under autograd, while Keras
    overwrites the state variables after each call)."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(16, 6, 3)).astype("float32")
    if stateful:
        x[:, 4:] = 0.0  # padding, masked by Masking
    y = rng.normal(size=(16, 1)).astype("float32")
    models = []
    options = dict(stateful=stateful)
    fused = SimpleLSTM(5, use_cudnn=False, **options)  # the fused loop on every backend
    for layer in (keras.layers.RNN(SimpleLSTMCell(5), **options), fused):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((6, 3), batch_size=8 if stateful else None)
        hidden = keras.layers.Masking(0.0)(inputs) if stateful else inputs
        model = keras.Model(inputs, keras.layers.Dense(1)(layer(hidden)))
        model.compile(keras.optimizers.Adam(0.01, global_clipnorm=1.0), "mse")
        models.append(model)
    models[1].set_weights(models[0].get_weights())
    for model in models:
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert fused.last_loop == "fused"
    for a, b in zip(models[0].get_weights(), models[1].get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_predictions_follow_every_change_of_the_weights():
    # torch's kernel keeps its copies of the weights between predictions
    # while the variables are unchanged: after fit, set_weights and assign,
    # each prediction equals the built-in's on the weights of that moment.
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 5, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    layer = SimpleLSTM(4)
    ours = keras.Sequential([keras.Input((5, 3)), layer, keras.layers.Dense(1)])
    builtin = keras.Sequential([keras.Input((5, 3)), keras.layers.LSTM(4), keras.layers.Dense(1)])
    ours.compile(keras.optimizers.Adam(0.05), "mse")

    def assert_equal_predictions():
        builtin.set_weights(ours.get_weights())
        expected = builtin.predict(x, verbose=0)
        np.testing.assert_allclose(ours.predict(x, verbose=0), expected, atol=1e-6, rtol=0)
        assert layer.last_loop == FAST_LOOP
        return expected

    before = assert_equal_predictions()
    ours.fit(x, y, epochs=2, verbose=0)
    after_fit = assert_equal_predictions()
    assert np.abs(after_fit - before).max() > 1e-3  # the weights moved
    weights = ours.get_weights()
    ours.set_weights([w * 0.5 for w in weights])
    assert_equal_predictions()
    layer.cell.recurrent_kernel.assign(weights[1])
    assert_equal_predictions()


# The hand-written backward pass against automatic differentiation.


def _kernel_gradients(config, args, cotangents, training=True):
    """Outputs of `fused_lstm` and the gradients of <outputs, cotangents>
    with respect to x, W, U, b, h0, c0."""
    x, kernel, recurrent, bias, h0, c0, mask = args
    if backend_is("tensorflow"):
        import tensorflow as tf

        diff = [tf.constant(v) for v in (x, kernel, recurrent, bias, h0, c0)]
        with tf.GradientTape() as tape:
            tape.watch(diff)
            outputs = fused_lstm.fused_lstm(*diff, mask, config, training)
            loss = sum(tf.reduce_sum(o * w) for o, w in zip(outputs, cotangents))
        grads = tape.gradient(loss, diff)
    elif backend_is("torch"):
        import torch

        diff = [torch.tensor(v, requires_grad=True) for v in (x, kernel, recurrent, bias, h0, c0)]
        outputs = fused_lstm.fused_lstm(*diff, mask, config, training)
        loss = sum((o * torch.from_numpy(w)).sum() for o, w in zip(outputs, cotangents))
        grads = torch.autograd.grad(loss, diff)
    else:
        import jax

        def loss_fn(*diff):
            outputs = fused_lstm.fused_lstm(*diff, mask, config, training)
            return sum((o * w).sum() for o, w in zip(outputs, cotangents)), outputs

        (_, outputs), grads = jax.value_and_grad(loss_fn, argnums=tuple(range(6)), has_aux=True)(
            x, kernel, recurrent, bias, h0, c0
        )
    return _np(outputs), _np(grads)


# (masked, zero_output_for_mask, masked_output_repeats_state)
MASK_CASES = [(False, False, False), (True, False, False), (True, True, False), (True, False, True)]


def _loop_inputs(rng, steps, batch, features, units):
    """x, W, U, b, h0, c0 for `fused_lstm`, float32."""
    shapes = [
        (steps, batch, features),
        (features, 4 * units),
        (units, 4 * units),
        (4 * units,),
        (batch, units),
        (batch, units),
    ]
    scales = [1.0, 1.0, 0.5, 1.0, 1.0, 1.0]
    return [(rng.normal(size=s) * k).astype("float32") for s, k in zip(shapes, scales)]


def _loop_config(**options):
    """The fused loop's configuration for sigmoid and tanh with a bias."""
    defaults = dict(
        sigma_g=keras.activations.sigmoid,
        sigma_c=keras.activations.tanh,
        use_bias=True,
        zero_output_for_mask=False,
        masked_output_repeats_state=False,
        return_sequences=False,
        unroll=False,
        manual_gradient=True,
        jit=True,
        sigmoid_as_tanh=True,
    )
    return fused_lstm.LoopConfig(**{**defaults, **options})


# (project_in_step, recompute_gates, sigmoid_as_tanh, checkpoint_every)
LOOP_OPTIONS = [(False, False, True, 0), (True, True, True, 0), (True, False, False, 0)]
LOOP_OPTIONS += [(True, True, True, 3), (False, False, True, 2)]


@pytest.mark.parametrize(
    "project_in_step, recompute_gates, sigmoid_as_tanh, checkpoint_every",
    LOOP_OPTIONS,
    ids=[
        "x W before, one tanh",
        "x W per step, gates recomputed",
        "x W per step, σ and tanh",
        "x W per step, checkpoints every 3 steps",
        "x W before, checkpoints every 2 steps",
    ],
)
@pytest.mark.parametrize("training", [True, False], ids=["training", "forward rerun"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize(
    "masked, zero_output_for_mask, masked_output_repeats_state",
    MASK_CASES,
    ids=["no mask", "mask", "mask + zero output", "mask + output repeats state"],
)
def test_manual_gradient_equals_autodiff(
    masked,
    return_sequences,
    zero_output_for_mask,
    masked_output_repeats_state,
    training,
    project_in_step,
    recompute_gates,
    sigmoid_as_tanh,
    checkpoint_every,
):
    options = (project_in_step, recompute_gates, sigmoid_as_tanh, checkpoint_every)
    if backend_is("torch") and (masked or not training or options != LOOP_OPTIONS[0]):
        pytest.skip(
            "torch's hand-written pass takes no mask (autograd differentiates "
            "those calls) and none of these options"
        )
    steps, batch, units = 6, 3, 4
    rng = np.random.default_rng(5)
    args = _loop_inputs(rng, steps, batch, features=2, units=units)
    mask = rng.random(size=(steps, batch, 1)) > 0.4 if masked else None
    out_shape = (steps, batch, units) if return_sequences else (batch, units)
    shapes = (out_shape, (batch, units), (batch, units))  # outputs, h_T, c_T
    cotangents = [rng.normal(size=s).astype("float32") for s in shapes]
    config = _loop_config(
        zero_output_for_mask=zero_output_for_mask,
        masked_output_repeats_state=masked_output_repeats_state,
        return_sequences=return_sequences,
        project_in_step=project_in_step,
        recompute_gates=recompute_gates,
        sigmoid_as_tanh=sigmoid_as_tanh,
        checkpoint_every=checkpoint_every,
    )
    # Automatic differentiation of the plain σ and tanh, every step.
    autodiff = config._replace(
        manual_gradient=False,
        jit=False,
        recompute_gates=False,
        sigmoid_as_tanh=False,
        checkpoint_every=0,
    )
    out_manual, grad_manual = _kernel_gradients(config, [*args, mask], cotangents, training)
    out_auto, grad_auto = _kernel_gradients(autodiff, [*args, mask], cotangents)
    assert _max_diff(out_manual, out_auto) <= 1e-6
    for g_manual, g_auto in zip(grad_manual, grad_auto):
        np.testing.assert_allclose(g_manual, g_auto, atol=2e-5, rtol=1e-5)


@pytest.mark.skipif(
    not backend_is("jax"), reason="JAX's custom_vjp tells which inputs it differentiates"
)
def test_weight_gradients_alone_skip_the_input_gradient_and_equal_autodiff():
    import jax

    rng = np.random.default_rng(9)
    x, kernel, recurrent, bias, h0, c0 = _loop_inputs(rng, steps=6, batch=3, features=2, units=4)
    config = _loop_config(masked_output_repeats_state=True, project_in_step=True)
    autodiff = config._replace(manual_gradient=False, sigmoid_as_tanh=False)

    def loss(config, x, kernel, recurrent, bias):
        outputs, h_t, c_t = fused_lstm.fused_lstm(x, kernel, recurrent, bias, h0, c0, None, config)
        return (outputs**2).sum() + (c_t * h_t).sum()

    def gradient(config, argnums):
        return jax.grad(functools.partial(loss, config), argnums=argnums)

    args = (x, kernel, recurrent, bias)
    manual = _np(gradient(config, (1, 2, 3))(*args))
    reference = _np(gradient(autodiff, (1, 2, 3))(*args))
    for g_manual, g_auto in zip(manual, reference, strict=True):
        np.testing.assert_allclose(g_manual, g_auto, atol=2e-5, rtol=1e-5)

    # The backward loop's step has one matrix product fewer, dz_t · Wᵀ.
    def products(argnums):
        return str(jax.make_jaxpr(gradient(config, argnums))(*args)).count("dot_general")

    assert products((1, 2, 3)) == products((0, 1, 2, 3)) - 1


@pytest.mark.skipif(not backend_is("torch"), reason="torch's autograd.Function sees which inputs")
def test_torch_weight_gradients_alone_equal_autodiff():
    import torch

    rng = np.random.default_rng(9)
    x, kernel, recurrent, bias, h0, c0 = _loop_inputs(rng, steps=6, batch=3, features=2, units=4)
    config = _loop_config(return_sequences=True, sigmoid_as_tanh=False)
    autodiff = config._replace(manual_gradient=False)

    def gradients(config):
        weights = [torch.tensor(v, requires_grad=True) for v in (kernel, recurrent, bias)]
        states = [torch.tensor(v) for v in (h0, c0)]
        outputs, h_t, c_t = fused_lstm.fused_lstm(torch.tensor(x), *weights, *states, None, config)
        loss = (outputs**2).sum() + (c_t * h_t).sum()
        return [g.numpy() for g in torch.autograd.grad(loss, weights)]

    for g_manual, g_auto in zip(gradients(config), gradients(autodiff), strict=True):
        np.testing.assert_allclose(g_manual, g_auto, atol=2e-5, rtol=1e-5)


@pytest.mark.parametrize(
    "activation, known",
    [("sigmoid", True), ("tanh", True), ("linear", True), ("relu", False), ("hard_sigmoid", False)],
)
def test_hand_written_derivatives_cover_smooth_activations(activation, known):
    assert fused_lstm.has_derivative(keras.activations.get(activation)) is known


# Which loop runs.


def test_default_layer_takes_the_fast_loop_of_its_backend():
    layer = SimpleLSTM(3)
    assert layer.fast_path_reason() is None
    assert layer.last_loop is None
    layer(np.ones((2, 4, 3), "float32"))
    assert layer.last_loop == FAST_LOOP


@pytest.mark.parametrize(
    "kwargs, reason", [({"unroll": True}, "unroll=True"), ({"use_cudnn": False}, "use_cudnn=False")]
)
def test_fused_loop_when_torchs_kernel_cannot_or_may_not_run(kwargs, reason):
    x = np.random.default_rng(1).normal(size=(2, 4, 3)).astype("float32")
    layer = SimpleLSTM(3, return_sequences=True, **kwargs)
    rnn = keras.layers.RNN(SimpleLSTMCell(3), return_sequences=True)
    _transfer(rnn, layer, x=x)
    np.testing.assert_allclose(_np(layer(x))[0], _np(rnn(x))[0], atol=1e-6, rtol=0)
    assert layer.last_loop == "fused"
    if backend_is("torch"):
        assert reason in layer.native_reason()
    else:
        assert "backend" in layer.native_reason()


@pytest.mark.skipif(not backend_is("torch"), reason="the choice of torch on a CPU")
def test_torch_trains_short_sequences_of_wide_layers_with_the_fused_loop():
    # At most units² / 4096 timesteps: 4 for 128 units. Predictions take
    # torch's kernel; both equal the built-in in outputs and gradients.
    units = 128
    layer = SimpleLSTM(units)
    assert loops.AUTO_LOOPS["torch", "cpu", "training"][0] is loops.FUSED_SHORT
    call = loops.LoopCall(training=True, masked=False, device="cpu", steps=4)
    assert loops.FUSED_SHORT.reason(layer, call) is None
    reason = loops.FUSED_SHORT.reason(layer, call._replace(steps=5))
    assert "at most units² / 4096 = 4 timesteps; steps=5" in reason
    x = np.random.default_rng(8).normal(size=(3, 4, 2)).astype("float32")
    builtin = keras.Sequential([keras.Input((4, 2)), keras.layers.LSTM(units)])
    ours = keras.Sequential([keras.Input((4, 2)), layer])
    _assert_fused_equals_builtin(ours, builtin, layer, x, training=True)
    ours.predict(x, verbose=0)
    assert layer.last_loop == "torch_lstm"
    longer = np.concatenate([x, x[:, :1]], axis=1)  # 5 steps
    layer(longer, training=True)
    assert layer.last_loop == "torch_lstm"


@pytest.mark.parametrize("dtype", ["int32", "bool"])
def test_integer_and_boolean_inputs_equal_float_inputs(dtype):
    x = (np.arange(30).reshape(2, 5, 3) % 2).astype(dtype)
    rnn = keras.layers.RNN(SimpleLSTMCell(4), return_sequences=True)
    ours = SimpleLSTM(4, return_sequences=True)
    _transfer(rnn, ours, x=x.astype("float32"))
    out = ours(x)
    assert ours.last_loop == FAST_LOOP
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_array_equal(_np(out)[0], _np(ours(x.astype("float32")))[0])
    np.testing.assert_allclose(_np(out)[0], _np(rnn(x))[0], atol=1e-6, rtol=0)


@pytest.mark.parametrize("variant", ["peephole", "diagonal_peephole", "layer_norm", "coupled"])
def test_cell_variants_fall_back_to_the_generic_loop(variant):
    x = np.random.default_rng(6).normal(size=(2, 5, 3)).astype("float32")
    layer = SimpleLSTM(4, variant=variant, return_sequences=True)
    rnn = keras.layers.RNN(SimpleLSTMCell(4, variant=variant), return_sequences=True)
    _transfer(rnn, layer, x=x)
    assert layer.variant == variant
    assert variant in layer.fast_path_reason()
    np.testing.assert_array_equal(_np(layer(x))[0], _np(rnn(x))[0])
    assert layer.last_loop == "generic"


def test_recurrent_dropout_runs_the_generic_loop_in_training_only():
    x = np.random.default_rng(7).normal(size=(3, 5, 2)).astype("float32")
    rates = dict(dropout=0.2, recurrent_dropout=0.3, seed=3)
    layer = SimpleLSTM(4, return_sequences=True, **rates)
    rnn = keras.layers.RNN(SimpleLSTMCell(4, **rates), return_sequences=True)
    _transfer(rnn, layer, x=x)
    assert "recurrent_dropout=0.3" in layer.fast_path_reason(training=True)
    assert layer.fast_path_reason(training=False) is None
    np.testing.assert_allclose(
        _np(layer(x, training=True))[0], _np(rnn(x, training=True))[0], atol=1e-6, rtol=0
    )
    assert layer.last_loop == "generic"
    np.testing.assert_allclose(_np(layer(x))[0], _np(rnn(x))[0], atol=1e-6, rtol=0)
    assert layer.last_loop == FAST_LOOP


@pytest.mark.parametrize(
    "use_cudnn, loop", [("auto", FAST_LOOP), (False, "fused")], ids=["auto", "fused"]
)
def test_input_dropout_on_the_fast_loops_uses_the_cells_seeded_mask(use_cudnn, loop):
    x = np.random.default_rng(8).normal(size=(6, 5, 3)).astype("float32")
    layer = SimpleLSTM(4, dropout=0.4, seed=11, return_sequences=True, use_cudnn=use_cudnn)
    rnn = keras.layers.RNN(SimpleLSTMCell(4, dropout=0.4, seed=11), return_sequences=True)
    builtin = keras.layers.LSTM(4, dropout=0.4, seed=11, return_sequences=True)
    _transfer(builtin, rnn, layer, x=x)
    dropped = _np(layer(x, training=True))[0]
    assert layer.last_loop == loop
    np.testing.assert_allclose(dropped, _np(rnn(x, training=True))[0], atol=1e-6, rtol=0)
    np.testing.assert_allclose(dropped, _np(builtin(x, training=True))[0], atol=1e-6, rtol=0)
    assert np.max(np.abs(dropped - _np(layer(x))[0])) > 1e-3  # dropout did act


def test_use_fused_false_runs_the_generic_loop():
    layer = SimpleLSTM(3, use_fused=False)
    assert layer.fast_path_reason() == "use_fused=False"
    layer(np.ones((2, 4, 3), "float32"))
    assert layer.last_loop == "generic"


def test_half_precision_runs_the_generic_loop():
    keras.config.set_dtype_policy("mixed_float16")
    x = np.random.default_rng(9).normal(size=(2, 5, 3)).astype("float32")
    layer = SimpleLSTM(4)
    rnn = keras.layers.RNN(SimpleLSTMCell(4))
    _transfer(rnn, layer, x=x)
    assert "float16" in layer.fast_path_reason()
    np.testing.assert_array_equal(_np(layer(x))[0], _np(rnn(x))[0])
    assert layer.last_loop == "generic"


@pytest.mark.parametrize(
    "kwargs, training, masked, reason",
    [
        ({}, False, False, None),
        ({"use_cudnn": False}, False, False, "use_cudnn=False"),
        ({"activation": "relu"}, False, False, "activation='tanh'"),
        ({"recurrent_activation": "hard_sigmoid"}, False, False, "'sigmoid'"),
        ({"unroll": True}, False, False, "unroll=True"),
        ({"recurrent_dropout": 0.2}, True, False, "recurrent_dropout=0.2"),
        ({"recurrent_dropout": 0.2}, False, False, None),
        ({"dropout": 0.2}, True, False, None),
        ({"variant": "peephole"}, False, False, "variant='peephole'"),
        ({"dtype": "float64"}, False, False, "compute dtype='float64'"),
        ({"implementation": 1}, False, False, None),
    ],
)
def test_cudnn_selection(monkeypatch, kwargs, training, masked, reason):
    monkeypatch.setattr(accelerator, "device_kind", lambda: "gpu")
    got = SimpleLSTM(3, **kwargs).cudnn_reason(training=training, masked=masked)
    if reason is None:
        assert got is None
    else:
        assert reason in got


@pytest.mark.parametrize(
    "kwargs, masked, reasons",
    [
        # Expected reason on (tensorflow, jax, torch); None: cuDNN runs.
        ({"use_bias": False}, False, ("use_bias=True", "use_bias=True", None)),
        ({}, True, (None, "TensorFlow only", "takes no mask")),
        (
            {"return_sequences": True},
            True,
            ("zero_output_for_mask == return_sequences", "TensorFlow only", "takes no mask"),
        ),
        ({"return_sequences": True, "zero_output_for_mask": True}, True, (None, "mask", "mask")),
    ],
)
def test_cudnn_selection_per_backend(monkeypatch, kwargs, masked, reasons):
    # Keras's cuDNN functions need a bias and (JAX) take no mask; torch's
    # kernel takes has_biases=False, and a mask would need packed sequences.
    monkeypatch.setattr(accelerator, "device_kind", lambda: "gpu")
    backend = keras.backend.backend()
    reason = dict(zip(("tensorflow", "jax", "torch"), reasons))[backend]
    got = SimpleLSTM(3, **kwargs).cudnn_reason(masked=masked)
    if reason is None:
        assert got is None
    else:
        assert reason in got


def test_cudnn_needs_a_gpu():
    assert SimpleLSTM(3).cudnn_reason() == "no GPU is visible"


@pytest.mark.parametrize(
    "backend, device, training, inference",
    [
        # The converter loop declines outside model.export (test_export_model.py).
        ("tensorflow", "cpu", ("fused", "generic"), ("converter", "fused", "generic")),
        (
            "tensorflow",
            "gpu",
            ("cudnn", "fused", "generic"),
            ("converter", "cudnn", "fused", "generic"),
        ),
        ("jax", "cpu", ("fused", "generic"), ("fused", "generic")),
        # measured faster than cuDNN on an H200
        ("jax", "gpu", ("fused", "generic"), ("fused", "generic")),
        # the fused loop for short sequences of wide layers (FUSED_SHORT)
        (
            "torch",
            "cpu",
            ("fused", "torch_lstm", "fused", "generic"),
            ("torch_lstm", "fused", "generic"),
        ),
        ("torch", "gpu", ("torch_lstm", "fused", "generic"), ("torch_lstm", "fused", "generic")),
    ],
)
def test_auto_loop_order_per_backend_device_and_mode(backend, device, training, inference):
    for mode, names in (("training", training), ("inference", inference)):
        assert tuple(loop.name for loop in loops.AUTO_LOOPS[backend, device, mode]) == names


@pytest.mark.skipif(backend_is("torch"), reason="torch's kernel runs on any device")
def test_cudnn_unavailable_falls_back_to_the_fused_loop(monkeypatch):
    # The backend's cuDNN function refuses to run without a GPU even when the
    # layer believes one is there; the layer then takes the fused loop.
    monkeypatch.setattr(accelerator, "device_kind", lambda: "gpu")
    layer = SimpleLSTM(3)
    layer(np.ones((2, 4, 3), "float32"))
    assert layer.last_loop == "fused"


def test_use_cudnn_true_without_cudnn_raises():
    layer = SimpleLSTM(3, use_cudnn=True)
    with pytest.raises(ValueError, match="use_cudnn=True.*no GPU is visible"):
        layer(np.ones((2, 4, 3), "float32"))


def test_use_cudnn_true_with_the_generic_loop_raises():
    layer = SimpleLSTM(3, use_cudnn=True, variant="coupled")
    with pytest.raises(ValueError, match="use_cudnn=True.*variant='coupled'"):
        layer(np.ones((2, 4, 3), "float32"))


# Weights, config and serialization.


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"use_bias": False},
        {"variant": "peephole"},
        {"variant": "layer_norm", "norm_epsilon": 0.01},
    ],
)
def test_weights_and_config_match_rnn_cell(kwargs):
    rnn = keras.layers.RNN(SimpleLSTMCell(4, **kwargs), return_sequences=True)
    layer = SimpleLSTM(4, return_sequences=True, **kwargs)
    x = np.ones((2, 3, 5), "float32")
    rnn(x)
    layer(x)
    assert [(w.name, tuple(w.shape)) for w in layer.weights] == [
        (w.name, tuple(w.shape)) for w in rnn.weights
    ]
    cell_config = {k: v for k, v in rnn.cell.get_config().items() if k != "name"}
    ours_cell_config = {k: v for k, v in layer.cell.get_config().items() if k != "name"}
    assert ours_cell_config == cell_config
    config = layer.get_config()
    for key, value in rnn.get_config().items():
        if key not in ("cell", "name"):
            assert config[key] == value, key
    for key, value in cell_config.items():
        if key not in ("trainable", "dtype"):
            assert config[key] == value, key


def test_config_round_trip():
    layer = SimpleLSTM(
        6,
        activation="relu",
        dropout=0.1,
        seed=4,
        go_backwards=True,
        return_state=True,
        kernel_regularizer="l2",
        activity_regularizer="l1",
        use_cudnn=False,
        variant="coupled",
        implementation=1,
        name="forecaster",
    )
    config = layer.get_config()
    restored = SimpleLSTM.from_config(config)
    assert restored.get_config() == config
    assert restored.variant == "coupled"
    assert restored.cell.implementation == 1
    assert restored.units == 6 and restored.go_backwards and restored.use_cudnn is False
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert isinstance(again, SimpleLSTM)
    assert again.get_config() == config


def test_keras_file_save_and_load(tmp_path):
    x = np.random.default_rng(10).normal(size=(2, 5, 3)).astype("float32")
    model = keras.Sequential(
        [keras.Input((5, 3)), SimpleLSTM(4, return_sequences=True), SimpleLSTM(2)]
    )
    expected = _np(model(x))[0]
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded.layers[0], SimpleLSTM)
    np.testing.assert_array_equal(_np(loaded(x))[0], expected)


@pytest.mark.skipif(
    backend_is("torch"),
    reason="Keras 3.15.1 exports no torch-backend LSTM to a SavedModel (the built-in fails alike)",
)
def test_export(tmp_path):
    tf = pytest.importorskip("tensorflow")  # the exported artifact is a TensorFlow SavedModel

    x = np.random.default_rng(11).normal(size=(2, 5, 3)).astype("float32")
    model = keras.Sequential([keras.Input((5, 3)), SimpleLSTM(4)])
    expected = _np(model(x))[0]
    model.export(str(tmp_path / "exported"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "exported"))
    np.testing.assert_allclose(reloaded.serve(x).numpy(), expected, atol=1e-6, rtol=0)


def test_bidirectional_equals_builtin():
    x = np.random.default_rng(12).normal(size=(2, 5, 3)).astype("float32")
    builtin = keras.layers.Bidirectional(keras.layers.LSTM(4, return_sequences=True))
    ours = keras.layers.Bidirectional(SimpleLSTM(4, return_sequences=True))
    _transfer(builtin, ours, x=x)
    out_ours, grad_ours = outputs_and_gradients(keras.Sequential([keras.Input((5, 3)), ours]), x)
    out_ref, grad_ref = outputs_and_gradients(keras.Sequential([keras.Input((5, 3)), builtin]), x)
    assert out_ours[0].shape == (2, 5, 8)
    assert scaled_diff(out_ref, out_ours) <= 1e-6
    assert scaled_diff(grad_ref, grad_ours) <= 1e-6
    assert ours.forward_layer.last_loop == ours.backward_layer.last_loop == FAST_LOOP


# Bad arguments.


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units=0"),
        ({"units": 3, "return_sequences": "yes"}, "return_sequences='yes'"),
        ({"units": 3, "go_backwards": 1}, "go_backwards=1"),
        ({"units": 3, "use_cudnn": "maybe"}, "use_cudnn='maybe'"),
        ({"units": 3, "use_fused": None}, "use_fused=None"),
        ({"units": 3, "dropout": 1.5}, "dropout=1.5"),
        ({"units": 3, "variant": "gru"}, "variant='gru'"),
        ({"units": 3, "colour": "blue"}, "colour"),
    ],
)
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SimpleLSTM(**kwargs)
