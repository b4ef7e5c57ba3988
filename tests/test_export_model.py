"""export_model: every LSTM layer as the native LiteRT / ONNX op, each file run
in the runtime users run it in and compared with model.predict."""

import keras
import numpy as np
import onnx
import pytest
from ai_edge_litert.interpreter import Interpreter
from onnxruntime import InferenceSession

from keras_lstm_cell import SimpleLSTM
from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell import export_model
from keras_lstm_cell.equations import VARIANTS

STEPS, FEATURES, UNITS = 5, 3, 4
SUFFIX = {"litert": ".tflite", "onnx": ".onnx"}
LAYERS = {
    "RNN(SimpleLSTMCell)": lambda **kw: keras.layers.RNN(SimpleLSTMCell(UNITS), **kw),
    "SimpleLSTM": lambda **kw: SimpleLSTM(UNITS, **kw),
    "keras.layers.LSTM": lambda **kw: keras.layers.LSTM(UNITS, **kw),
}
# Each architecture: (builder from a layer factory, how many LSTMs it holds).
ARCHITECTURES = {
    "last_output": (lambda lstm: [lstm()], 1),
    "sequences": (lambda lstm: [lstm(return_sequences=True)], 1),
    "stacked": (lambda lstm: [lstm(return_sequences=True), lstm()], 2),
    "go_backwards": (lambda lstm: [lstm(return_sequences=True, go_backwards=True)], 1),
    "bidirectional": (
        lambda lstm: [keras.layers.Bidirectional(lstm(return_sequences=True))],
        2,
    ),
}
# The variants the native ops compute (peepholes: LiteRT's cell_to_* weights,
# ONNX's P; coupled gates: LiteRT's CIFG, ONNX's input_forget), in native LSTM directions per
# model below; the others run unrolled: builtin ops, no loop.
NATIVE_VARIANTS = {
    "onnx": ("diagonal_peephole", "coupled"),
    "litert": ("diagonal_peephole", "coupled"),
}
VARIANT_LSTMS = 3  # a Bidirectional and a go_backwards layer


def _model(layers):
    # Dense(2) after the LSTMs: the other layers are converted too.
    return keras.Sequential([keras.Input((STEPS, FEATURES)), *layers, keras.layers.Dense(2)])


def _windows(batch, seed=1):
    return np.random.default_rng(seed).normal(size=(batch, STEPS, FEATURES)).astype("float32")


def _litert_ops_and_outputs(path, batches):
    interpreter = Interpreter(model_path=str(path))
    interpreter.allocate_tensors()
    ops = [op["op_name"] for op in interpreter._get_ops_details()]
    runner = interpreter.get_signature_runner()
    # Copies: the runner's outputs are views of the interpreter's buffers.
    outputs = [np.array(next(iter(runner(**{_only_input(runner): x}).values()))) for x in batches]
    return ops, outputs


def _only_input(runner):
    (name,) = runner.get_input_details()
    return name


def _onnx_ops_and_outputs(path, batches):
    session = InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outputs = [session.run(None, {name: x})[0] for x in batches]
    return onnx.load(str(path)).graph.node, outputs


def _check_file(fmt, path, model, native_lstms):
    """The file's ops hold `native_lstms` native LSTMs (and no loop), and it
    computes model.predict on windows other than the export's probe, twice in
    a row (LiteRT's fused op keeps states between invocations)."""
    if fmt == "litert":
        batches = [_windows(1, seed) for seed in (1, 2, 1)]
        ops, outputs = _litert_ops_and_outputs(path, batches)
        assert ops.count("UNIDIRECTIONAL_SEQUENCE_LSTM") == native_lstms
        assert not [op for op in ops if op.startswith("Flex") or op == "WHILE"]
    else:
        batches = [_windows(3, 1), _windows(5, 2)]  # any batch size
        nodes, outputs = _onnx_ops_and_outputs(path, batches)
        directions = [
            2 if any(a.name == "direction" and a.s == b"bidirectional" for a in n.attribute) else 1
            for n in nodes
            if n.op_type == "LSTM"
        ]
        assert sum(directions) == native_lstms
        assert not [n.op_type for n in nodes if n.op_type in ("Loop", "Scan")]
    for x, got in zip(batches, outputs):
        np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=0, atol=1e-5)


@pytest.mark.parametrize("fmt", ["litert", "onnx"])
@pytest.mark.parametrize("layer", list(LAYERS))
@pytest.mark.parametrize("architecture", list(ARCHITECTURES))
def test_native_lstm_op_equal_to_predict(fmt, layer, architecture, tmp_path):
    build, lstms = ARCHITECTURES[architecture]
    model = _model(build(LAYERS[layer]))
    path = tmp_path / f"model{SUFFIX[fmt]}"
    diff = export_model(model, path, format=fmt)
    assert 0 <= diff <= 1e-5
    _check_file(fmt, path, model, native_lstms=lstms)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # nothing else left


@pytest.mark.parametrize("fmt", ["litert", "onnx"])
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "standard"])
def test_variant_native_or_unrolled_equal_to_predict(fmt, variant, tmp_path):
    model = _model(
        [
            keras.layers.Bidirectional(SimpleLSTM(UNITS, variant=variant, return_sequences=True)),
            SimpleLSTM(UNITS, variant=variant, go_backwards=True),
        ]
    )
    path = tmp_path / f"model{SUFFIX[fmt]}"
    export_model(model, path, format=fmt)
    native = VARIANT_LSTMS if variant in NATIVE_VARIANTS[fmt] else 0
    _check_file(fmt, path, model, native_lstms=native)
    if native and fmt == "litert":
        interpreter = Interpreter(model_path=str(path))
        interpreter.allocate_tensors()
        lstms = [
            op["inputs"]
            for op in interpreter._get_ops_details()
            if op["op_name"] == "UNIDIRECTIONAL_SEQUENCE_LSTM"
        ]
        # Inputs 1, 5, 12: the input gate's weights and bias (absent: CIFG);
        # 9, 10, 11: the peephole weights.
        for inputs in lstms:
            if variant == "coupled":
                assert [inputs[k] for k in (1, 5, 12)] == [-1, -1, -1]
            else:
                assert min(inputs[k] for k in (9, 10, 11)) >= 0


@pytest.mark.parametrize("fmt", ["litert", "onnx"])
def test_cell_as_step_model_streams_like_the_layer(fmt, tmp_path):
    """A step model (x_t, h, c) -> (h, c) over the layer's own cell, exported
    and run step by step with explicit state, equals the layer's sequence."""
    layer = keras.layers.RNN(SimpleLSTMCell(UNITS), return_sequences=True)
    x = _windows(1)
    expected = keras.ops.convert_to_numpy(layer(x))  # (1, T, H)
    x_t = keras.Input((FEATURES,), name="x_t")
    h = keras.Input((UNITS,), name="h")
    c = keras.Input((UNITS,), name="c")
    _, (h_next, c_next) = layer.cell(x_t, [h, c])
    step = keras.Model([x_t, h, c], [h_next, c_next])
    path = tmp_path / f"step{SUFFIX[fmt]}"
    export_model(step, path, format=fmt)

    if fmt == "litert":
        run = Interpreter(model_path=str(path)).get_signature_runner()

        def run_step(inputs):
            out = run(**inputs)
            return [np.array(out[k]) for k in sorted(out)]  # output_0 = h, output_1 = c
    else:
        session = InferenceSession(str(path), providers=["CPUExecutionProvider"])

        def run_step(inputs):
            return session.run(None, inputs)

    state = {"h": np.zeros((1, UNITS), "float32"), "c": np.zeros((1, UNITS), "float32")}
    streamed = []
    for t in range(STEPS):
        state["h"], state["c"] = run_step({"x_t": x[:, t], **state})
        streamed.append(state["h"])
    np.testing.assert_allclose(np.stack(streamed, axis=1), expected, rtol=0, atol=1e-5)


def test_litert_batch_size_is_fixed_in_the_file(tmp_path):
    model = _model([SimpleLSTM(UNITS)])
    path = tmp_path / "model.tflite"
    export_model(model, path, format="litert", batch_size=4)
    runner = Interpreter(model_path=str(path)).get_signature_runner()
    x = _windows(4)
    (got,) = runner(**{_only_input(runner): x}).values()
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=0, atol=1e-5)


def _masked_model():
    return keras.Sequential(
        [keras.Input((STEPS, FEATURES)), keras.layers.Masking(), SimpleLSTM(UNITS)]
    )


def _embedding_model():
    return keras.Sequential(
        [keras.Input((STEPS,)), keras.layers.Embedding(10, 3, mask_zero=True), SimpleLSTM(UNITS)]
    )


def _stateful_model():
    inputs = keras.Input((STEPS, FEATURES), batch_size=1)
    return keras.Model(inputs, keras.layers.LSTM(UNITS, stateful=True)(inputs))


@pytest.mark.parametrize("fmt", ["litert", "onnx"])
@pytest.mark.parametrize(
    "build, match",
    [
        (_masked_model, "'masking'.*Masking"),
        (_embedding_model, "'embedding'.*mask_zero=True"),
        (_stateful_model, "'lstm'.*stateful=True"),
    ],
)
def test_unexportable_layers_refused_and_nothing_written(fmt, build, match, tmp_path):
    keep = tmp_path / "notes.txt"
    keep.write_text("not the tool's")
    with pytest.raises(ValueError, match=match):
        export_model(build(), tmp_path / f"model{SUFFIX[fmt]}", format=fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert keep.read_text() == "not the tool's"


@pytest.mark.parametrize("fmt", ["litert", "onnx"])
def test_file_differing_from_predict_is_removed(fmt, tmp_path):
    path = tmp_path / f"model{SUFFIX[fmt]}"
    path.write_bytes(b"an earlier export")
    with pytest.raises(ValueError, match="other numbers than model.predict.*removed"):
        # No float32 file equals predict to 1e-30 (its products round).
        export_model(_model([SimpleLSTM(UNITS)]), path, format=fmt, tolerance=1e-30)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert path.read_bytes() == b"an earlier export"  # replaced only on success


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"format": "litert", "filepath_name": "model.onnx"}, "ending in '.tflite'"),
        ({"format": "litert", "batch_size": 0}, "batch_size=0"),
        ({"format": "onnx", "tolerance": -1.0}, "tolerance=-1.0"),
        ({"format": "onnx", "batch_size": 2}, r"Unexpected keyword arguments \['batch_size'\]"),
    ],
)
def test_bad_arguments(kwargs, match, tmp_path):
    kwargs = dict(kwargs)
    name = kwargs.pop("filepath_name", "model" + SUFFIX[kwargs["format"]])
    with pytest.raises(ValueError, match=match):
        export_model(_model([SimpleLSTM(UNITS)]), tmp_path / name, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_subclassed_model_refused(tmp_path):
    class Forecaster(keras.Model):
        def __init__(self):
            super().__init__()
            self.lstm = SimpleLSTM(UNITS)

        def call(self, x):
            return self.lstm(x)

    model = Forecaster()
    model(_windows(1))
    with pytest.raises(ValueError, match="Sequential or functional.*Forecaster"):
        export_model(model, tmp_path / "model.onnx", format="onnx")


def test_other_formats_go_to_keras_export(tmp_path):
    model = _model([SimpleLSTM(UNITS)])
    export_model(model, tmp_path / "saved", format="tf_saved_model", verbose=False)
    import tensorflow as tf

    x = _windows(2)
    loaded = tf.saved_model.load(str(tmp_path / "saved"))  # held: it owns the variables
    got = loaded.serve(x)
    np.testing.assert_allclose(got, model.predict(x, verbose=0), rtol=0, atol=1e-5)


def _keras_export_ops_and_outputs(fmt, path, batches):
    """Runs a file of Keras's own `model.export` on each batch, the
    interpreter's input resized to it; returns its op types and outputs."""
    if fmt == "onnx":
        nodes, outputs = _onnx_ops_and_outputs(path, batches)
        return [n.op_type for n in nodes], outputs
    interpreter = Interpreter(model_path=str(path))
    (detail,) = interpreter.get_input_details()
    outputs = []
    for x in batches:
        interpreter.resize_tensor_input(detail["index"], x.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(detail["index"], x)
        interpreter.invoke()
        outputs.append(
            np.array(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]))
        )
    return [op["op_name"] for op in interpreter._get_ops_details()], outputs


# Keras's own model.export of SimpleLSTM: (layers, steps, batch size of the
# export's input_signature (None: Keras's own signature, a dynamic batch size),
# the native ops expected per format). The native ops where
# they compute the layer; LiteRT's fused op needs a fixed batch size and is
# taken up to 10 steps from zero states (the converter clips the cell state at
# ±10, which |c_t| < t never reaches); a loop of builtin ops otherwise.
NATIVE = {"onnx": "LSTM", "litert": "UNIDIRECTIONAL_SEQUENCE_LSTM"}
LOOP = {"onnx": "Loop", "litert": "WHILE"}
KERAS_EXPORTS = {
    "last_output": (lambda: [SimpleLSTM(UNITS)], STEPS, None, {"onnx": 1, "litert": 0}),
    "batch 1": (lambda: [SimpleLSTM(UNITS)], STEPS, 1, {"onnx": 1, "litert": 1}),
    "batch 1, sequences, go_backwards": (
        lambda: [SimpleLSTM(UNITS, return_sequences=True, go_backwards=True)],
        STEPS,
        1,
        {"onnx": 1, "litert": 1},
    ),
    "batch 2, stacked": (
        lambda: [SimpleLSTM(UNITS, return_sequences=True), SimpleLSTM(UNITS, use_bias=False)],
        STEPS,
        2,
        {"onnx": 2, "litert": 2},
    ),
    "batch 1, 12 steps": (lambda: [SimpleLSTM(UNITS)], 12, 1, {"onnx": 1, "litert": 0}),
    "variant": (
        lambda: [SimpleLSTM(UNITS, variant="coupled")],
        STEPS,
        None,
        {"onnx": 0, "litert": 0},
    ),
}


@pytest.mark.parametrize("fmt", ["litert", "onnx"])
@pytest.mark.parametrize("case", list(KERAS_EXPORTS))
def test_keras_model_export_of_simple_lstm_writes_the_native_op(fmt, case, tmp_path):
    """Keras's own `model.export` (not export_model): the file loads in the
    standard runtime (no Flex ops), holds the native op where it computes the
    layer, and computes model.predict for any batch size it takes,
    invocation after invocation."""
    build, steps, batch, native = KERAS_EXPORTS[case]
    model = keras.Sequential([keras.Input((steps, FEATURES)), *build(), keras.layers.Dense(2)])
    rng = np.random.default_rng(7)
    for weight in model.weights:  # large weights: cell states beyond ±1
        weight.assign(rng.normal(scale=1.5, size=weight.shape).astype("float32"))
    sizes = (batch,) * 3 if batch else (3, 1, 3)
    batches = [rng.normal(size=(b, steps, FEATURES)).astype("float32") for b in sizes]
    expected = [model.predict(x, verbose=0) for x in batches]
    path = tmp_path / f"model{SUFFIX[fmt]}"
    signature = [keras.InputSpec(shape=(batch, steps, FEATURES), dtype="float32")]
    model.export(str(path), format=fmt, verbose=False, input_signature=signature)
    ops, outputs = _keras_export_ops_and_outputs(fmt, path, batches)
    assert ops.count(NATIVE[fmt]) == native[fmt]
    assert (LOOP[fmt] in ops) == (native[fmt] == 0)
    assert not [op for op in ops if op.startswith("Flex") or op == "PartitionedCall"]
    for got, want in zip(outputs, expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5)
