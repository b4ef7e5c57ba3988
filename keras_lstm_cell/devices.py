"""Choice of the TensorFlow device a run uses."""

from __future__ import annotations

import tensorflow as tf

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
    if choice not in ("auto", "cpu", "gpu"):
        raise ValueError(
            f"Expected `device` to be one of auto, cpu, gpu. Received: device={choice!r}"
        )
    if choice == "cpu":
        return "/CPU:0"
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "/GPU:0"
    if choice == "gpu":
        raise ValueError(NO_GPU_MESSAGE)
    return "/CPU:0"
