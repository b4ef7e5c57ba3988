"""The LSTM variants of SimpleLSTMCell: reference agreement, gradients, golden
values, weights, serialization, wrappers and export."""

import keras
import numpy as np
import pytest
from conftest import backend_is

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.equations import VARIANTS
from keras_lstm_cell.equations import layer_norm
from keras_lstm_cell.gate_trace import trace
from keras_lstm_cell.reference import lstm_forward
from keras_lstm_cell.verify import outputs_and_gradients

NEW_VARIANTS = [v for v in VARIANTS if v != "standard"]
BATCH, STEPS, FEATURES, UNITS = 2, 5, 3, 4


def _np(value):
    return keras.ops.convert_to_numpy(value)


def _random_gate_weights(cell, seed=0):
    """Random weights for every key of `cell.gate_weights()`; gains near 1."""
    rng = np.random.default_rng(seed)
    weights = {}
    for key, value in cell.gate_weights().items():
        noise = rng.normal(scale=0.5, size=value.shape)
        weights[key] = 1.0 + 0.4 * noise if key.endswith("gamma") else noise
    return weights


def _rnn(variant, dtype="float32", **kwargs):
    cell = SimpleLSTMCell(UNITS, variant=variant, dtype=dtype, **kwargs)
    rnn = keras.layers.RNN(cell, return_sequences=True, dtype=dtype)
    rnn.build((None, STEPS, FEATURES))
    cell.set_gate_weights(_random_gate_weights(cell))
    return rnn


def _inputs(seed=1, dtype="float32"):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(BATCH, STEPS, FEATURES)).astype(dtype)


# --- arguments --------------------------------------------------------------


@pytest.mark.parametrize("variant", ["lstm", "Peephole", "", 3, None])
def test_unknown_variant_is_rejected(variant):
    with pytest.raises(ValueError, match=r"`variant`.*Received: variant="):
        SimpleLSTMCell(3, variant=variant)


@pytest.mark.parametrize("norm_epsilon", [0, -1e-3, "small", True, float("inf"), float("nan")])
def test_bad_norm_epsilon_is_rejected(norm_epsilon):
    with pytest.raises(ValueError, match=r"`norm_epsilon`.*Received: norm_epsilon="):
        SimpleLSTMCell(3, variant="layer_norm", norm_epsilon=norm_epsilon)


# --- weights ----------------------------------------------------------------

H, D = UNITS, FEATURES
EXPECTED_WEIGHTS = {
    "standard": [("kernel", (D, 4 * H)), ("recurrent_kernel", (H, 4 * H)), ("bias", (4 * H,))],
    "peephole": [("kernel", (D, 4 * H)), ("peephole_kernel", (H, 3 * H)), ("bias", (4 * H,))],
    "diagonal_peephole": [
        ("kernel", (D, 4 * H)),
        ("recurrent_kernel", (H, 4 * H)),
        ("bias", (4 * H,)),
        ("input_gate_peephole_weights", (H,)),
        ("forget_gate_peephole_weights", (H,)),
        ("output_gate_peephole_weights", (H,)),
    ],
    "layer_norm": [
        ("kernel", (D, 4 * H)),
        ("recurrent_kernel", (H, 4 * H)),
        ("bias", (4 * H,)),
        ("kernel_norm_gamma", (4 * H,)),
        ("kernel_norm_beta", (4 * H,)),
        ("recurrent_norm_gamma", (4 * H,)),
        ("recurrent_norm_beta", (4 * H,)),
        ("state_norm_gamma", (H,)),
        ("state_norm_beta", (H,)),
    ],
    "coupled": [("kernel", (D, 3 * H)), ("recurrent_kernel", (H, 3 * H)), ("bias", (3 * H,))],
}
EXPECTED_GATE_WEIGHT_KEYS = {
    "standard": {f"{m}_{g}" for m in "WUb" for g in "fioc"},
    "peephole": {f"{m}_{g}" for m in "Wb" for g in "fioc"} | {"U_f", "U_i", "U_o"},
    "diagonal_peephole": {f"{m}_{g}" for m in "WUb" for g in "fioc"} | {"P_f", "P_i", "P_o"},
    "layer_norm": {f"{m}_{g}" for m in "WUb" for g in "fioc"}
    | {name for name, _ in EXPECTED_WEIGHTS["layer_norm"][3:]},
    "coupled": {f"{m}_{g}" for m in "WUb" for g in "foc"},
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_weights_are_created_in_build_with_clear_names(variant):
    cell = SimpleLSTMCell(UNITS, variant=variant)
    assert cell.weights == []
    cell.build((None, FEATURES))
    assert [(w.name, tuple(w.shape)) for w in cell.weights] == EXPECTED_WEIGHTS[variant]
    assert set(cell.gate_weights()) == EXPECTED_GATE_WEIGHT_KEYS[variant]


@pytest.mark.parametrize("variant", VARIANTS)
def test_initial_values(variant):
    cell = SimpleLSTMCell(UNITS, variant=variant)
    cell.build((None, FEATURES))
    w = cell.gate_weights()
    np.testing.assert_array_equal(w["b_f"], np.ones(UNITS))  # unit_forget_bias
    for gate in "oc":
        np.testing.assert_array_equal(w[f"b_{gate}"], np.zeros(UNITS))
    for key, value in w.items():
        if key.endswith("gamma"):
            np.testing.assert_array_equal(value, 1.0)
        elif key.endswith("beta"):
            np.testing.assert_array_equal(value, 0.0)


@pytest.mark.parametrize("variant", VARIANTS)
def test_gate_weights_round_trip_and_layout(variant):
    cell = _rnn(variant).cell
    new = _random_gate_weights(cell, seed=7)
    cell.set_gate_weights(new)
    for key, value in cell.gate_weights().items():
        np.testing.assert_allclose(value, new[key], rtol=1e-6)
    # W_f is the forget block of the fused kernel, in the W x orientation.
    order = ("f", "c", "o") if variant == "coupled" else ("i", "f", "c", "o")
    k = order.index("f")
    kernel = _np(cell.kernel)
    np.testing.assert_array_equal(
        kernel[:, k * UNITS : (k + 1) * UNITS].T, new["W_f"].astype("float32")
    )


@pytest.mark.parametrize(
    "variant, key, match",
    [
        ("peephole", "U_c", r"Unexpected gate weights \['U_c'\]"),
        ("peephole", "-U_f", r"Missing gate weights \['U_f'\]"),
        ("diagonal_peephole", "-P_o", r"Missing gate weights \['P_o'\]"),
        ("layer_norm", "-state_norm_beta", r"Missing gate weights \['state_norm_beta'\]"),
        ("coupled", "W_i", r"Unexpected gate weights \['W_i'\]"),
    ],
)
def test_set_gate_weights_names_the_bad_key(variant, key, match):
    cell = _rnn(variant).cell
    weights = cell.gate_weights()
    if key.startswith("-"):
        del weights[key[1:]]
    else:
        weights[key] = weights["W_f"] if key.startswith("W") else weights["U_o"]
    with pytest.raises(ValueError, match=match):
        cell.set_gate_weights(weights)


@pytest.mark.parametrize("variant", NEW_VARIANTS)
def test_set_gate_weights_checks_extra_weight_shapes(variant):
    cell = _rnn(variant).cell
    weights = cell.gate_weights()
    key = sorted(set(weights) - EXPECTED_GATE_WEIGHT_KEYS["standard"]) or ["W_f"]
    weights[key[0]] = np.zeros(7)
    with pytest.raises(ValueError, match=rf"Expected `{key[0]}` to have shape"):
        cell.set_gate_weights(weights)


# --- the equations -------------------------------------------------------------

REFERENCE_GRID = [
    (variant, activation, with_state)
    for variant in VARIANTS
    for activation, with_state in (("tanh", False), (None, True))
]


@pytest.mark.parametrize("variant, activation, with_state", REFERENCE_GRID)
def test_every_gate_matches_float64_numpy_reference(variant, activation, with_state):
    # JAX runs in float32 unless x64 is enabled, and Keras's float64 products
    # are float32 on JAX and torch: compare to float32 precision there.
    dtype, atol = ("float64", 1e-12) if backend_is("tensorflow") else ("float32", 1e-5)
    rnn = _rnn(variant, dtype=dtype, activation=activation)
    x = _inputs(dtype=dtype)
    rng = np.random.default_rng(2)
    state = [rng.normal(size=(BATCH, UNITS)).astype(dtype) for _ in "hc"] if with_state else None
    gates = trace(rnn, x, initial_state=state)
    h0, c0 = state if with_state else (None, None)
    expected = lstm_forward(
        x, rnn.cell.gate_weights(), h0, c0, activation=activation, variant=variant
    )
    for name, value in gates.as_dict().items():
        np.testing.assert_allclose(value, expected[name], rtol=0, atol=atol, err_msg=name)
    np.testing.assert_allclose(_np(rnn(x, initial_state=state)), expected["h"], atol=atol)


def test_standard_variant_still_equals_keras_lstm_exactly():
    x = _inputs()
    builtin = keras.layers.LSTM(5, return_sequences=True, use_cudnn=False)  # its own loop
    ours = keras.layers.RNN(SimpleLSTMCell(5, variant="standard"), return_sequences=True)
    builtin(x)
    ours(x)
    ours.set_weights(builtin.get_weights())
    assert np.max(np.abs(_np(ours(x)) - _np(builtin(x)))) == 0.0


def test_peephole_gates_read_c_not_h():
    """With the same c_0, the peephole cell ignores h_0; the others do not."""
    x = _inputs()
    rng = np.random.default_rng(3)
    c0 = rng.normal(size=(BATCH, UNITS)).astype("float32")
    h0_a, h0_b = (rng.normal(size=(BATCH, UNITS)).astype("float32") for _ in "ab")
    for variant in VARIANTS:
        rnn = _rnn(variant)
        a = _np(rnn(x, initial_state=[h0_a, c0]))
        b = _np(rnn(x, initial_state=[h0_b, c0]))
        if variant == "peephole":
            np.testing.assert_array_equal(a, b)
        else:
            assert np.max(np.abs(a - b)) > 1e-3, variant


def test_coupled_input_gate_is_one_minus_forget_gate():
    gates = trace(_rnn("coupled"), _inputs())
    np.testing.assert_array_equal(gates.i, 1.0 - gates.f)


def test_layer_norm_golden_values_of_tensorflow_addons():
    """TensorFlow Addons' LayerNormLSTMCell test (`test_cell_output`): every
    weight 0.5, epsilon 1e-12."""
    const = keras.initializers.Constant(0.5)
    cell = SimpleLSTMCell(
        2,
        variant="layer_norm",
        kernel_initializer=const,
        recurrent_initializer=const,
        bias_initializer=const,
        norm_epsilon=1e-12,
    )
    x = np.ones((1, 3), "float32")
    h0 = np.array([[0.2, 0.3]], "float32")
    c0 = np.array([[0.0, 0.1]], "float32")
    h, (h1, c1) = cell(x, [h0, c0])
    np.testing.assert_allclose(_np(h), [[-0.47406167, 0.47406143]], rtol=1e-5)
    np.testing.assert_allclose(_np(h1), [[-0.47406167, 0.47406143]], rtol=1e-5)
    np.testing.assert_allclose(_np(c1), [[-1.0, 1.0]], rtol=1e-5)


def test_layer_norm_preactivations_normalise_fused_products_separately():
    """Random weights make W x and U h vary across the 4H columns, so the test
    tells fused normalisation of each product from per-gate or joint ones."""
    rng = np.random.default_rng(7)
    cell = SimpleLSTMCell(UNITS, variant="layer_norm")
    cell.build((None, FEATURES))
    weights = cell.gate_weights()  # gains 1, shifts 0, as initialized
    for key in weights:
        if "_norm_" not in key:  # W, U, b
            weights[key] = rng.normal(size=weights[key].shape)
    cell.set_gate_weights(weights)
    x = rng.normal(size=(BATCH, FEATURES)).astype("float32")
    h = rng.normal(size=(BATCH, UNITS)).astype("float32")
    kernel, recurrent, bias = (_np(w) for w in (cell.kernel, cell.recurrent_kernel, cell.bias))
    expected = (
        _np(keras.layers.LayerNormalization(epsilon=1e-3)(x @ kernel))
        + _np(keras.layers.LayerNormalization(epsilon=1e-3)(h @ recurrent))
        + bias
    )
    np.testing.assert_allclose(_np(cell.preactivations(x, h)), expected, atol=1e-6, rtol=0)


def test_layer_norm_equals_keras_layer_normalization():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(6, 12)).astype("float32") * 3.0 + 1.0
    reference = keras.layers.LayerNormalization(epsilon=1e-3)
    reference.build(x.shape)
    gamma, beta = rng.normal(size=(2, 12)).astype("float32")
    reference.set_weights([gamma, beta])
    np.testing.assert_allclose(_np(layer_norm(x, gamma, beta, 1e-3)), _np(reference(x)), atol=1e-5)


# --- gradients ----------------------------------------------------------------


@pytest.mark.skipif(not backend_is("tensorflow"), reason="uses tf.GradientTape")
@pytest.mark.parametrize("variant", VARIANTS)
def test_gradients_match_central_finite_differences(variant):
    import tensorflow as tf

    rnn = _rnn(variant, dtype="float64")
    x = tf.Variable(_inputs(dtype="float64"))
    probe = np.random.default_rng(5).normal(size=(BATCH, STEPS, UNITS))

    def loss():
        return tf.reduce_sum(rnn(x) * probe)

    with tf.GradientTape() as tape:
        value = loss()
    variables = [x, *rnn.cell.weights]
    grads = tape.gradient(value, variables)
    rng = np.random.default_rng(6)
    eps = 1e-6
    for variable, grad in zip(variables, grads, strict=True):
        assert grad is not None, variable.name  # every weight is used
        grad = _np(grad)
        flat = rng.choice(int(np.prod(variable.shape)), size=3, replace=False)
        for index in zip(*np.unravel_index(flat, tuple(variable.shape)), strict=True):
            original = _np(variable).copy()
            plus, minus = original.copy(), original.copy()
            plus[index] += eps
            minus[index] -= eps
            variable.assign(plus)
            up = float(loss())
            variable.assign(minus)
            down = float(loss())
            variable.assign(original)
            numeric = (up - down) / (2 * eps)
            assert abs(grad[index] - numeric) <= 1e-6 * max(1.0, abs(numeric)), (
                variable.name,
                index,
                grad[index],
                numeric,
            )


def _reference_loss(x, weights, variant, probe):
    return float(np.sum(lstm_forward(x, weights, variant=variant)["h"] * probe))


@pytest.mark.parametrize("variant", VARIANTS)
def test_float32_autodiff_matches_finite_differences_of_the_reference(variant):
    """On every backend: the gradients its autodiff takes through the cell in
    float32, against central differences of the float64 NumPy reference."""
    rnn = _rnn(variant)
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), rnn])
    x = _inputs()
    outputs, grads = outputs_and_gradients(model, x, cotangent_seed=9)
    # outputs_and_gradients differentiates sum(outputs * N(0, 1) draws of this seed).
    probe = np.random.default_rng(9).normal(size=outputs[0].shape).astype("float32")
    # The weight gradients in the Wikipedia layout: the cell's own layout map,
    # applied to the fused gradients as if they were weights.
    weights = rnn.cell.gate_weights()
    saved = [_np(v).copy() for v in rnn.cell.trainable_variables]
    for variable, grad in zip(rnn.cell.trainable_variables, grads[1:], strict=True):
        variable.assign(grad)
    weight_grads = rnn.cell.gate_weights()
    for variable, value in zip(rnn.cell.trainable_variables, saved, strict=True):
        variable.assign(value)

    x64 = x.astype("float64")
    weights64 = {key: value.astype("float64") for key, value in weights.items()}
    rng = np.random.default_rng(7)
    eps = 1e-6
    checked = [("x", x64, grads[0])] + [(k, weights64[k], weight_grads[k]) for k in weights64]
    for name, array, grad in checked:
        for flat in rng.choice(array.size, size=min(3, array.size), replace=False):
            index = np.unravel_index(flat, array.shape)
            original = array[index]
            array[index] = original + eps
            up = _reference_loss(x64, weights64, variant, probe)
            array[index] = original - eps
            down = _reference_loss(x64, weights64, variant, probe)
            array[index] = original
            numeric = (up - down) / (2 * eps)
            assert abs(grad[index] - numeric) <= 1e-5 * max(1.0, abs(numeric)), (
                name,
                index,
                float(grad[index]),
                numeric,
            )


# --- wrappers, serialization, export ------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS)
def test_bidirectional_halves_match_reference(variant):
    x = _inputs()
    layer = keras.layers.Bidirectional(
        keras.layers.RNN(SimpleLSTMCell(UNITS, variant=variant), return_sequences=True)
    )
    layer(x)
    assert layer.backward_layer.cell.variant == variant  # rebuilt from config
    for seed, half in enumerate((layer.forward_layer, layer.backward_layer)):
        half.cell.set_gate_weights(_random_gate_weights(half.cell, seed=seed))
    out = _np(layer(x))
    forward = lstm_forward(x, layer.forward_layer.cell.gate_weights(), variant=variant)
    backward = lstm_forward(x[:, ::-1], layer.backward_layer.cell.gate_weights(), variant=variant)
    np.testing.assert_allclose(out[..., :UNITS], forward["h"], atol=1e-5)
    np.testing.assert_allclose(out[..., UNITS:], backward["h"][:, ::-1], atol=1e-5)


@pytest.mark.parametrize("variant", VARIANTS)
def test_config_round_trip(variant):
    cell = SimpleLSTMCell(3, variant=variant, norm_epsilon=1e-5, activation=None)
    config = cell.get_config()
    assert config["variant"] == variant
    assert config["norm_epsilon"] == 1e-5
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert isinstance(restored, SimpleLSTMCell)
    assert restored.get_config() == config


def _forecaster(variant):
    return keras.Sequential(
        [
            keras.Input((STEPS, FEATURES)),
            keras.layers.RNN(SimpleLSTMCell(UNITS, variant=variant), name="lstm"),
            keras.layers.Dense(1),
        ]
    )


@pytest.mark.parametrize("variant", NEW_VARIANTS)
def test_trains_saves_and_loads(variant, tmp_path):
    x = _inputs()
    y = x.sum(axis=(1, 2))[:, None]
    model = _forecaster(variant)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    before = [_np(w).copy() for w in model.layers[0].weights]
    model.fit(x, y, epochs=1, verbose=0)
    for name_weight, old in zip(model.layers[0].weights, before, strict=True):
        assert np.max(np.abs(_np(name_weight) - old)) > 0, name_weight.name  # trained
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.get_layer("lstm").cell.variant == variant
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.skipif(not backend_is("tensorflow"), reason="SavedModel needs TensorFlow")
@pytest.mark.parametrize("variant", VARIANTS)
def test_saved_model_export_serves_predictions(variant, tmp_path):
    import tensorflow as tf

    model = _forecaster(variant)
    model.get_layer("lstm").cell.set_gate_weights(
        _random_gate_weights(model.get_layer("lstm").cell)
    )
    x = _inputs()
    model.export(str(tmp_path / "export"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "export"))  # kept alive for serve
    served = reloaded.serve(x)
    np.testing.assert_allclose(_np(served), model.predict(x, verbose=0), atol=1e-6)


@pytest.mark.parametrize("variant", NEW_VARIANTS)
def test_dropout_applies_in_training_only(variant):
    rnn = _rnn(variant, dropout=0.3, recurrent_dropout=0.3, seed=2)
    x = _inputs()
    plain = _np(rnn(x))
    np.testing.assert_array_equal(plain, _np(rnn(x, training=False)))
    assert np.max(np.abs(_np(rnn(x, training=True)) - plain)) > 1e-3


@pytest.mark.parametrize("variant", VARIANTS)
def test_dropout_mask_is_reused_at_every_step(variant):
    """With input dropout only and constant inputs, a sequence whose one
    feature is dropped at step 1 has it dropped at every step: its outputs
    equal the all-dropped run or the all-kept run, never a mix."""
    x = np.ones((64, STEPS, 1), "float32")
    cell = SimpleLSTMCell(UNITS, variant=variant, dropout=0.5, seed=5)
    rnn = keras.layers.RNN(cell, return_sequences=True)
    rnn.build((None, STEPS, 1))
    cell.set_gate_weights(_random_gate_weights(cell))
    out = _np(rnn(x, training=True))
    plain = keras.layers.RNN(SimpleLSTMCell(UNITS, variant=variant), return_sequences=True)
    plain.build((None, STEPS, 1))
    plain.set_weights(rnn.get_weights())
    dropped = _np(plain(np.zeros_like(x)))
    kept = _np(plain(x * 2.0))  # inverted dropout scales kept inputs by 1/(1-p)
    is_dropped = np.all(np.isclose(out, dropped, atol=1e-6), axis=(1, 2))
    is_kept = np.all(np.isclose(out, kept, atol=1e-6), axis=(1, 2))
    assert np.all(is_dropped | is_kept)
    assert 10 < is_dropped.sum() < 54


@pytest.mark.parametrize("variant", NEW_VARIANTS)
def test_simple_lstm_layer_takes_the_variant(variant):
    simple_lstm = pytest.importorskip("keras_lstm_cell.simple_lstm")
    layer = simple_lstm.SimpleLSTM(UNITS, variant=variant, return_sequences=True)
    x = _inputs()
    layer(x)
    assert layer.cell.variant == variant
    layer.cell.set_gate_weights(_random_gate_weights(layer.cell))
    expected = lstm_forward(x, layer.cell.gate_weights(), variant=variant)
    np.testing.assert_allclose(_np(layer(x)), expected["h"], atol=1e-5)
