"""The runtimes an export runs in: TensorFlow, LiteRT and ONNX Runtime.

Each opens a model and offers `serve(windows)`, raw windows
`(batch, window, features)` in, forecasts `(batch, horizon)` out, as the
SavedModel's `serve` function does; `serve` below runs any of them on many
windows and refuses what is not finite. The LiteRT interpreter
(`ai-edge-litert`) and `onnxruntime` are imported only when a file is opened
or written, and a missing one is a `ModuleNotFoundError` that says what to
install.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import re
import sys
import tempfile

import numpy as np

from keras_lstm_cell.forecast.model import PREDICT_BATCH

TENSORFLOW, LITERT, ONNX = "tensorflow", "litert", "onnx"
RUNTIMES = (TENSORFLOW, LITERT, ONNX)
# What running each file needs, and writing it too: {runtime: {module: pip package}}.
# The LiteRT converter is TensorFlow's; the ONNX one is tf2onnx's.
_TO_RUN = {LITERT: {"ai_edge_litert": "ai-edge-litert"}, ONNX: {"onnxruntime": "onnxruntime"}}
_TO_WRITE = {ONNX: {"tf2onnx": "tf2onnx", "onnx": "onnx"}}
_NAMES = {TENSORFLOW: "TensorFlow", LITERT: "LiteRT", ONNX: "ONNX Runtime"}
# Lines that native code writes to stderr to inform, not to warn of a fault:
# LiteRT's ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU."),
# TensorFlow's C++ log lines of severity INFO and WARNING ("I0000 00:00:...",
# "W0000 ...", the converter's "Ignored output_format."), and absl's note
# before its logging starts.
_NOTES = re.compile(
    rb"INFO: |[IW]\d{4} \d\d:\d\d:\d+\.\d+ "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
)
# Of those, what a failure still shows: its warnings may say why.
_INFO = re.compile(rb"INFO: |I\d{4} \d\d:\d\d:\d+\.\d+ ")


def runtime_name(runtime: str) -> str:
    """How a runtime is called in messages: `"LiteRT"` for `"litert"`."""
    return _NAMES[runtime]


def check_installed(runtimes, *, writing: bool = False) -> None:
    """Raises `ModuleNotFoundError`, saying what to pip install, unless the
    packages that running (and, with `writing`, writing) the files of
    `runtimes` needs are there."""
    needed = {}
    for runtime in runtimes:
        needed.update(_TO_RUN.get(runtime, {}))
        if writing:
            needed.update(_TO_WRITE.get(runtime, {}))
    missing = [
        package for module, package in needed.items() if importlib.util.find_spec(module) is None
    ]
    if missing:
        raise ModuleNotFoundError(
            f"Expected the packages of {', '.join(runtime_name(r) for r in runtimes)} "
            f"installed. Received: no {', '.join(missing)}; pip install {' '.join(missing)}"
            + (" (or pass --no-runtime-exports)" if writing else "")
        )


@contextlib.contextmanager
def native_notes_dropped():
    """Keeps the notes that LiteRT and TensorFlow's converter write off stderr.

    Their C++ code writes straight to file descriptor 2, where neither
    Python's logging nor `TF_CPP_MIN_LOG_LEVEL` (which LiteRT ignores)
    reaches, and a command that succeeds should leave stderr empty. For the
    block, descriptor 2 points at a temporary file; afterwards the lines
    written there go to the real stderr, except the notes (`_NOTES`) after
    a success and the INFO lines (`_INFO`) after an exception. Other
    threads' writes during the block are delayed, not lost. With
    `TF_CPP_MIN_LOG_LEVEL=0`, the user asked for every line: nothing is
    redirected.
    """
    if os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable descriptor 2 (embedded)
        yield
        return
    dropped = _NOTES
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        except BaseException:
            dropped = _INFO
            raise
        finally:
            with contextlib.suppress(OSError, ValueError):
                sys.stderr.flush()  # Python's own writes of the block, into the file
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [line for line in captured.readlines() if not dropped.match(line)]
            if kept:
                os.write(2, b"".join(kept))


def _import(runtime: str, module: str):
    check_installed([runtime])
    return importlib.import_module(module)


class _LiteRTModel:
    # The file's batch size is fixed (the fused LSTM op needs one): windows
    # go through in batches of that size, the last one padded.
    def __init__(self, content: bytes):
        module = _import(LITERT, "ai_edge_litert.interpreter")
        with native_notes_dropped():  # its XNNPACK delegate announces itself
            interpreter = module.Interpreter(model_content=content)
            interpreter.allocate_tensors()
        (self._input,) = interpreter.get_input_details()
        (self._output,) = interpreter.get_output_details()
        self._interpreter = interpreter
        self.input_shape = tuple(int(n) for n in self._input["shape"][1:])
        self.output_shape = tuple(int(n) for n in self._output["shape"][1:])

    def serve(self, windows: np.ndarray) -> np.ndarray:
        batch = int(self._input["shape"][0])
        outputs = []
        for start in range(0, len(windows), batch):
            chunk = windows[start : start + batch]
            padded = np.concatenate([chunk, np.repeat(chunk[-1:], batch - len(chunk), axis=0)])
            self._interpreter.set_tensor(self._input["index"], padded)
            self._interpreter.invoke()
            outputs.append(self._interpreter.get_tensor(self._output["index"])[: len(chunk)])
        return np.concatenate(outputs, axis=0)


class _OnnxModel:
    def __init__(self, content: bytes):
        onnxruntime = _import(ONNX, "onnxruntime")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # errors only, not its optimizer's notes
        self._session = onnxruntime.InferenceSession(
            content, options, providers=["CPUExecutionProvider"]
        )
        (self._input,) = self._session.get_inputs()
        (self._output,) = self._session.get_outputs()
        # A dimension ONNX leaves open (the batch) is a name, not a number.
        self.input_shape = tuple(self._input.shape[1:])
        self.output_shape = tuple(self._output.shape[1:])

    def serve(self, windows: np.ndarray) -> np.ndarray:
        return self._session.run([self._output.name], {self._input.name: windows})[0]


def open_model(runtime: str, content: bytes):
    """The LiteRT or ONNX model in `content` (a file's bytes), ready to `serve`.

    Its `input_shape` and `output_shape` are those of one window and one
    forecast (without the batch).
    """
    return {LITERT: _LiteRTModel, ONNX: _OnnxModel}[runtime](content)


def serve(model, windows: np.ndarray) -> np.ndarray:
    """Runs `model.serve` on raw windows, in batches.

    Raises `ValueError` for windows with non-finite values and for forecasts
    that are not finite: a NaN is never returned as a forecast.
    """
    windows = np.asarray(windows, dtype="float64")
    if not np.isfinite(windows).all() or np.abs(windows).max(initial=0) > np.finfo("float32").max:
        raise ValueError(
            "Expected windows of finite float32 values. Received: values that are "
            "not finite or too large for float32"
        )
    windows = windows.astype("float32")
    outputs = [
        np.asarray(model.serve(windows[i : i + PREDICT_BATCH]))
        for i in range(0, len(windows), PREDICT_BATCH)
    ]
    forecasts = np.concatenate(outputs, axis=0).astype("float64")
    if not np.isfinite(forecasts).all():
        raise ValueError(
            "Expected finite forecasts from the model. Received: "
            f"{int((~np.isfinite(forecasts)).sum())} values that are not finite; its "
            "inputs are outside anything it can compute with"
        )
    return forecasts
