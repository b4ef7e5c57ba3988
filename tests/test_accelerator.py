"""The device and float32 precision reports, and the full-precision switch."""

import keras
import pytest
from conftest import backend_is

from keras_lstm_cell import accelerator
from keras_lstm_cell import verify


def _tf32_flags():
    """The backend's own TF32 settings, read directly."""
    if backend_is("tensorflow"):
        import tensorflow as tf

        return tf.config.experimental.tensor_float_32_execution_enabled()
    if backend_is("jax"):
        import jax

        return jax.config.jax_default_matmul_precision
    import torch

    return (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)


FULL = {"tensorflow": False, "jax": "highest", "torch": (False, False)}


def test_full_float32_precision_sets_and_restores_the_backend_flags():
    before = _tf32_flags()
    with accelerator.full_float32_precision():
        assert _tf32_flags() == FULL[keras.backend.backend()]
    assert _tf32_flags() == before


def test_full_float32_precision_restores_after_an_error():
    before = _tf32_flags()
    with pytest.raises(RuntimeError, match="inside"):
        with accelerator.full_float32_precision():
            raise RuntimeError("inside")
    assert _tf32_flags() == before


def test_device_and_precision_reports():
    with accelerator.full_float32_precision():
        full = accelerator.precision_name()
    if accelerator.device_kind() == "cpu":
        assert accelerator.device_name() == "cpu"
        assert accelerator.tf32_allowed() is False
        assert accelerator.precision_name() == full == "float32 (a CPU has no TF32)"
    else:
        assert accelerator.device_name().startswith("gpu (")
        assert full == "full float32 (TF32 off)"


def test_verify_header_names_backend_device_and_precision():
    with accelerator.full_float32_precision():
        header = verify.describe()
        precision = accelerator.precision_name()
    assert header == (
        f"backend={keras.backend.backend()}, device={accelerator.device_name()}, "
        f"precision={precision}"
    )


def test_verify_prints_the_header_and_the_tf32_row(capsys, monkeypatch):
    # One configuration keeps it short; the rows are the parity tests' rows.
    monkeypatch.setattr(verify, "GRID", verify.GRID[:1])
    assert verify.main([]) == 0
    out = capsys.readouterr().out
    assert f"backend={keras.backend.backend()}, device={accelerator.device_name()}" in out
    assert "| SimpleLSTM          | last output" in out
    assert "At the device's default precision" in out
    assert "(tolerance 0.002): yes" in out
    assert "all within tolerance" in out
