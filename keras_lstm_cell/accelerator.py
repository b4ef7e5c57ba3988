"""The device the Keras backend computes on, and its float32 matrix precision.

GPUs since NVIDIA's Ampere generation can run float32 matrix products in TF32,
which keeps 10 of float32's 23 mantissa bits (a relative rounding of
2^-11 ≈ 4.9e-4 per input). JAX and TensorFlow do so by default on such GPUs,
and torch does so in cuDNN's kernels, so two correct LSTM loops differ there
by ~1e-4 rather than ~1e-7. `full_float32_precision()` turns TF32 off for the
active backend, which is how `keras_lstm_cell.verify` and the parity tests
prove equality to 1e-6 on a GPU; a CPU has no TF32 and is unaffected.
"""

from __future__ import annotations

import contextlib
import warnings

import keras


def device_kind() -> str:
    """`"gpu"` when the Keras backend computes on a GPU, else `"cpu"`."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        # Visible devices, not logical ones: listing those would initialise
        # TensorFlow's devices, after which they cannot be configured.
        return "gpu" if tf.config.get_visible_devices("GPU") else "cpu"
    if backend == "jax":
        import jax

        return "gpu" if any(d.platform == "gpu" for d in jax.devices()) else "cpu"
    if backend == "torch":
        import torch

        # Keras's torch backend places tensors on the GPU whenever CUDA is up.
        return "gpu" if torch.cuda.is_available() else "cpu"
    return "cpu"


def device_name() -> str:
    """The device, for reports: `"cpu"` or `"gpu (<model>)"`."""
    backend = keras.backend.backend()
    if device_kind() == "cpu":
        return "cpu"
    if backend == "tensorflow":
        import tensorflow as tf

        details = tf.config.experimental.get_device_details(
            tf.config.list_physical_devices("GPU")[0]
        )
        return f"gpu ({details.get('device_name', 'unknown')})"
    if backend == "jax":
        import jax

        return f"gpu ({jax.devices()[0].device_kind})"
    import torch

    return f"gpu ({torch.cuda.get_device_name()})"


def tf32_allowed() -> bool:
    """Whether float32 matrix products may run in TF32 on the active backend
    (on a CPU they never do)."""
    if device_kind() == "cpu":
        return False
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.config.experimental.tensor_float_32_execution_enabled()
    if backend == "jax":
        import jax

        return jax.config.jax_default_matmul_precision not in ("highest", "float32")
    import torch

    return torch.backends.cuda.matmul.allow_tf32 or torch.backends.cudnn.allow_tf32


def precision_name() -> str:
    """The float32 matrix precision in effect, for reports."""
    if device_kind() == "cpu":
        return "float32 (a CPU has no TF32)"
    return "TF32 allowed (the device's default)" if tf32_allowed() else "full float32 (TF32 off)"


@contextlib.contextmanager
def full_float32_precision():
    """Runs float32 matrix products, cuDNN's included, at full precision on
    the active backend inside the block, and restores the setting after:
    JAX's default matmul precision "highest", TensorFlow's
    `enable_tensor_float_32_execution(False)`, torch's `allow_tf32 = False`
    for matmul and cuDNN."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        with jax.default_matmul_precision("highest"):
            yield
    elif backend == "tensorflow":
        import tensorflow as tf

        before = tf.config.experimental.tensor_float_32_execution_enabled()
        tf.config.experimental.enable_tensor_float_32_execution(False)
        try:
            yield
        finally:
            tf.config.experimental.enable_tensor_float_32_execution(before)
    elif backend == "torch":
        import torch

        before = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        _set_torch_tf32(False, False)
        try:
            yield
        finally:
            _set_torch_tf32(*before)
    else:
        yield


def _set_torch_tf32(matmul: bool, cudnn: bool) -> None:
    import torch

    with warnings.catch_warnings():
        # Newer torch versions may announce a replacement for these flags;
        # they still apply.
        warnings.simplefilter("ignore")
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn
