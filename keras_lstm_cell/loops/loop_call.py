from __future__ import annotations

from typing import NamedTuple


class LoopCall(NamedTuple):
    """What a loop's eligibility depends on besides the layer's options."""

    training: bool  # training mode: dropout acts, a backward pass may follow
    masked: bool  # a mask was passed
    device: str  # "cpu" or "gpu" (`accelerator.device_kind()`)
    steps: int | None = None  # the static number of timesteps, if known

    @property
    def mode(self) -> str:
        """`"training"` or `"inference"`, the mode key of `AUTO_LOOPS`."""
        return "training" if self.training else "inference"
