"""Adam that records the global gradient norm before clipping."""

from __future__ import annotations

import keras
from keras import ops
from keras.saving import register_keras_serializable


@register_keras_serializable(package="keras_lstm_cell")
class MonitoredAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` that keeps statistics of the raw gradient norm.

    Each step computes the global norm `sqrt(sum_k ||g_k||^2)` of the
    gradients as they arrive, before `clipnorm`, `global_clipnorm` or
    `clipvalue` act, and accumulates its sum, its maximum and the number of
    steps in three optimizer variables. A callback reads them (see
    `gradient_norm_stats`) and starts a new period with
    `reset_gradient_norm_stats`. The update itself is Adam's, unchanged:
    `global_clipnorm=c` rescales the gradients by `min(1, c / norm)`, exactly
    as `tf.clip_by_global_norm`.

    Args:
        **kwargs: Arguments of `keras.optimizers.Adam` (`learning_rate`,
            `global_clipnorm`, `clipnorm`, `clipvalue`, ...).

    Example:

    >>> optimizer = MonitoredAdam(learning_rate=1e-3, global_clipnorm=1.0)
    >>> w = keras.Variable([0.0, 0.0])
    >>> optimizer.apply([ops.convert_to_tensor([3.0, 4.0])], [w])
    >>> optimizer.gradient_norm_stats()
    {'mean': 5.0, 'max': 5.0, 'steps': 1}
    """

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._norm_sum = self.add_variable((), name="gradient_norm_sum")
        self._norm_max = self.add_variable((), name="gradient_norm_max")
        self._norm_steps = self.add_variable((), name="gradient_norm_steps")

    def apply(self, grads, trainable_variables=None):
        present = [g for g in grads if g is not None]
        super().apply(grads, trainable_variables)
        if not present:
            return
        norm = ops.sqrt(
            ops.sum(ops.stack([ops.sum(ops.square(ops.cast(g, "float32"))) for g in present]))
        )
        self._norm_sum.assign_add(norm)
        self._norm_max.assign(ops.maximum(self._norm_max, norm))
        self._norm_steps.assign_add(1.0)

    def gradient_norm_stats(self) -> dict:
        """Mean and maximum raw gradient norm since the last reset."""
        if not self.built:
            return {"mean": float("nan"), "max": float("nan"), "steps": 0}
        steps = int(ops.convert_to_numpy(self._norm_steps))
        total = float(ops.convert_to_numpy(self._norm_sum))
        return {
            "mean": total / steps if steps else float("nan"),
            "max": float(ops.convert_to_numpy(self._norm_max)) if steps else float("nan"),
            "steps": steps,
        }

    def reset_gradient_norm_stats(self):
        if self.built:
            for variable in (self._norm_sum, self._norm_max, self._norm_steps):
                variable.assign(ops.zeros((), dtype=variable.dtype))
