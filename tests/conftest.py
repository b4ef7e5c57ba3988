import os

# Quiet TensorFlow's C++ start-up logging; must be set before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402

from keras_lstm_cell import accelerator  # noqa: E402


def pytest_collection_modifyitems(config, items):
    """Tests marked `gpu` need a GPU visible to the Keras backend."""
    gpu_items = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu_items or accelerator.device_kind() == "gpu":
        return
    skip = pytest.mark.skip(reason=f"needs a GPU; {keras.backend.backend()} sees none")
    for item in gpu_items:
        item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from the same seed and the default dtype policy."""
    keras.utils.set_random_seed(0)
    policy = keras.config.dtype_policy()
    yield
    keras.config.set_dtype_policy(policy)
    keras.backend.clear_session()


def backend_is(name: str) -> bool:
    return keras.backend.backend() == name
