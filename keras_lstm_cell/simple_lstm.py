from __future__ import annotations

import logging

import keras
from keras import activations
from keras import ops
from keras import regularizers
from keras import tree
from keras.saving import register_keras_serializable

# `keras.layers.LSTM` reaches cuDNN through these backend functions; Keras does
# not export them publicly.
from keras.src import backend as keras_backend

from keras_lstm_cell import _fast_lstm
from keras_lstm_cell import _tf_inference_loop
from keras_lstm_cell import accelerator
from keras_lstm_cell._checks import check_bool
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

logger = logging.getLogger(__name__)

# Constructor arguments that belong to the layer itself; any other keyword
# argument is passed on to `SimpleLSTMCell`.
_LAYER_KWARGS = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim")
# Keys of `Layer.get_config()`, which the cell's config repeats.
_BASE_CONFIG_KEYS = ("name", "trainable", "dtype")
_FUSED_DTYPES = ("float32", "float64")
_BACKENDS = ("tensorflow", "jax", "torch")
# The loops `use_cudnn="auto"` tries, in this order, per (backend, device); the
# first that can run this configuration runs (README, Speed). "cudnn" is cuDNN
# through Keras's backend (TensorFlow, JAX) or torch's LSTM kernel on a CUDA
# device; "native" is torch's LSTM kernel on the CPU; "fused" is `_fast_lstm`.
AUTO_LOOPS = {
    ("tensorflow", "cpu"): ("fused",),
    # Not measured (no TensorFlow on the GPU machine): as keras.layers.LSTM.
    ("tensorflow", "gpu"): ("cudnn", "fused"),
    ("jax", "cpu"): ("fused",),
    # H200, JAX 0.11.2: the fused loop trained in 0.43-0.68x cuDNN's time on
    # three shapes of four and 1.01x on the fourth.
    ("jax", "gpu"): ("fused",),
    # 2-core CPU: torch's kernel trained in 0.47x keras.layers.LSTM's time on
    # (64, 30, 5, 64), the fused loop in 0.94x, the generic loop in 1.54x.
    ("torch", "cpu"): ("native", "fused"),
    # H200, torch 2.11: the built-in's cuDNN trained in 0.13-0.19x the time
    # of the generic loop.
    ("torch", "gpu"): ("cudnn", "fused"),
}


def _gpu_available() -> bool:
    return accelerator.device_kind() == "gpu"


@register_keras_serializable(package="keras_lstm_cell")
class SimpleLSTM(keras.layers.RNN):
    """The `SimpleLSTMCell` LSTM as one fast layer.

    Computes exactly what `keras.layers.RNN(SimpleLSTMCell(units))` computes,
    with the same weights (`kernel`, `recurrent_kernel`, `bias`, in the gate
    order of `keras.layers.LSTM`) and the same config, but runs the time loop
    in one of four ways, whichever is fastest where it runs (`AUTO_LOOPS`:
    cuDNN first on a GPU with TensorFlow or torch, the fused loop with JAX and
    on a CPU, torch's LSTM kernel on a CPU with torch):

    1. **cuDNN**, on a GPU, when the configuration allows it:
       `activation="tanh"`, `recurrent_activation="sigmoid"`, float32,
       `unroll=False`, no recurrent dropout in training; on TensorFlow and
       JAX also `use_bias=True`. On TensorFlow and JAX it runs through
       Keras's backend function as `keras.layers.LSTM` does; the layer
       reverses the inputs itself for `go_backwards`, so a backend that
       returns the outputs of a backward pass in another order (Keras 3.15.1's
       JAX function does) cannot reorder them. With a mask, only TensorFlow
       takes cuDNN: for right-padded sequences (checked on the data; other
       masks take the fused loop) and `zero_output_for_mask ==
       return_sequences` (cuDNN's outputs at padded steps are zeros). On
       torch it runs torch's own LSTM kernel on the layer's weights.
    2. **Native**, on torch on a CPU: torch's own LSTM kernel
       (`torch._VF.lstm`, what `torch.nn.LSTM` runs) on the layer's weights,
       for the options cuDNN takes (`use_bias=False` included), in float32
       or float64, without a mask; gradients flow through torch's autograd.
    3. **Fused**: the input projection `x_t · W` of every step as one matrix
       product before the loop, one recurrent product `h_{t-1} · U` per step,
       the gate arithmetic of `lstm_equations`, and, on TensorFlow and JAX, a
       hand-written backward pass through time whose weight gradients are
       single products over all steps (for the `tanh`, `sigmoid` and linear
       activations; others, and torch, are differentiated automatically). On
       TensorFlow both loops are compiled with XLA, and outside training
       (`predict`, `evaluate`) the forward loop keeps no gates for a backward
       pass; a gradient through such a call recomputes them. Input dropout
       uses the cell's seeded mask, one per sequence.
    4. **Generic**: `keras.layers.RNN`'s loop over the cell, for everything
       else (a cell `variant`, recurrent dropout in training, a compute dtype
       other than float32/float64, or `use_fused=False`).

    `fast_path_reason()` tells why the generic loop would run,
    `cudnn_reason()` and `native_reason()` why those loops would not, and
    `last_loop` records which loop the last call traced (`"cudnn"`,
    `"native"`, `"fused"` or `"generic"`).

    Reference:
        - [Hochreiter & Schmidhuber, 1997](
          https://doi.org/10.1162/neco.1997.9.8.1735)
        - [Long short-term memory, Wikipedia](
          https://en.wikipedia.org/wiki/Long_short-term_memory)

    Args:
        units: Positive integer, dimensionality of `h` and `c`.
        activation: σ_c and σ_h. Default: `"tanh"`.
        recurrent_activation: σ_g, the gate activation. Default: `"sigmoid"`.
        use_bias: Whether the gates have biases. Default: `True`.
        kernel_initializer: Initializer for `kernel`. Default:
            `"glorot_uniform"`.
        recurrent_initializer: Initializer for `recurrent_kernel`. Default:
            `"orthogonal"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        unit_forget_bias: If `True`, add 1 to the forget-gate bias at
            initialization. Default: `True`.
        kernel_regularizer: Regularizer for `kernel`.
        recurrent_regularizer: Regularizer for `recurrent_kernel`.
        bias_regularizer: Regularizer for `bias`.
        activity_regularizer: Regularizer for the layer's output.
        kernel_constraint: Constraint for `kernel`.
        recurrent_constraint: Constraint for `recurrent_kernel`.
        bias_constraint: Constraint for `bias`.
        dropout: Float in [0, 1). Fraction of the inputs dropped, one mask
            per sequence, in training only. Default: 0.
        recurrent_dropout: Float in [0, 1). Fraction of `h_{t-1}` dropped, in
            training only; it runs the generic loop. Default: 0.
        seed: Integer seed for the dropout masks.
        return_sequences: Whether to return every output or only the last.
            Default: `False`.
        return_state: Whether to return the final `h` and `c` as well.
            Default: `False`.
        go_backwards: If `True`, process the sequence backwards and return
            the reversed sequence. Default: `False`.
        stateful: If `True`, the final states of a batch are the initial
            states of the next. Default: `False`.
        unroll: If `True`, unroll the time loop (needs a static length).
            Masked steps are treated as with `unroll=False`, Keras's
            documented semantics; Keras 3.15's own unrolled loops treat some
            masks otherwise (masked leading steps output zeros rather than
            the initial state, `zero_output_for_mask` is ignored on JAX, and
            with `go_backwards` TensorFlow zeroes unreversed steps), so
            there `RNN(SimpleLSTMCell(units), unroll=True)` differs.
            Default: `False`.
        zero_output_for_mask: If `True`, masked steps output zeros; otherwise
            they repeat the previous output. Default: `False`.
        use_cudnn: `"auto"` (the fastest loop measured where the layer runs,
            `AUTO_LOOPS`), `True` (cuDNN, or a `ValueError` when it cannot
            run) or `False` (neither cuDNN nor torch's LSTM kernel, as
            `keras.layers.LSTM(use_cudnn=False)` skips its backend function:
            the fused loop when it can run). Default: `"auto"`.
        use_fused: If `False`, always run the generic loop. Default: `True`.
        **kwargs: Base `Layer` arguments (`name`, `dtype`, `trainable`) and
            any other `SimpleLSTMCell` argument, such as `variant`.

    Call arguments:
        sequences: A 3D tensor `(batch, timesteps, features)`.
        initial_state: List of the initial `[h, c]`, each `(batch, units)`.
            `None` means zeros (or the stored states if `stateful`).
        mask: Boolean tensor `(batch, timesteps)`; `False` skips a step.
        training: Whether dropout is applied.

    Example:

    >>> layer = SimpleLSTM(4, return_sequences=True, return_state=True)
    >>> outputs, h, c = layer(np.ones((2, 7, 3), "float32"))
    >>> outputs.shape, h.shape, c.shape
    ((2, 7, 4), (2, 4), (2, 4))
    >>> layer.last_loop, layer.fast_path_reason()
    ('fused', None)
    """

    def __init__(
        self,
        units: int,
        activation="tanh",
        recurrent_activation="sigmoid",
        use_bias: bool = True,
        kernel_initializer="glorot_uniform",
        recurrent_initializer="orthogonal",
        bias_initializer="zeros",
        unit_forget_bias: bool = True,
        kernel_regularizer=None,
        recurrent_regularizer=None,
        bias_regularizer=None,
        activity_regularizer=None,
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
        stateful: bool = False,
        unroll: bool = False,
        zero_output_for_mask: bool = False,
        use_cudnn="auto",
        use_fused: bool = True,
        **kwargs,
    ):
        for name, value in (
            ("return_sequences", return_sequences),
            ("return_state", return_state),
            ("go_backwards", go_backwards),
            ("stateful", stateful),
            ("unroll", unroll),
            ("zero_output_for_mask", zero_output_for_mask),
            ("use_fused", use_fused),
        ):
            check_bool(name, value)
        if use_cudnn not in ("auto", True, False):
            raise ValueError(
                "Expected `use_cudnn` to be one of 'auto', True, False. "
                f"Received: use_cudnn={use_cudnn!r}"
            )
        layer_kwargs = {k: v for k, v in kwargs.items() if k in _LAYER_KWARGS}
        cell_kwargs = {k: v for k, v in kwargs.items() if k not in _LAYER_KWARGS}
        cell = SimpleLSTMCell(
            units,
            activation=activation,
            recurrent_activation=recurrent_activation,
            use_bias=use_bias,
            kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias,
            kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seed,
            dtype=layer_kwargs.get("dtype"),
            trainable=layer_kwargs.get("trainable", True),
            name="simple_lstm_cell",
            **cell_kwargs,
        )
        super().__init__(
            cell,
            return_sequences=return_sequences,
            return_state=return_state,
            go_backwards=go_backwards,
            stateful=stateful,
            unroll=unroll,
            zero_output_for_mask=zero_output_for_mask,
            activity_regularizer=activity_regularizer,
            **layer_kwargs,
        )
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.use_cudnn = use_cudnn
        self.use_fused = use_fused
        self.last_loop: str | None = None
        if (
            keras.backend.backend() == "tensorflow"
            and use_cudnn in ("auto", True)
            and self.cudnn_reason() is None
        ):
            # cuDNN ops cannot be compiled with XLA.
            self.supports_jit = False

    def fast_path_reason(self, training: bool = False) -> str | None:
        """Why the generic `keras.layers.RNN` loop would run, or `None` when a
        fast loop (cuDNN, native or fused) runs."""
        backend = keras.backend.backend()
        variant = getattr(self.cell, "variant", "standard")
        if not self.use_fused:
            return "use_fused=False"
        if backend not in _BACKENDS:
            return f"the fast loops support {', '.join(_BACKENDS)}; backend={backend!r}"
        if variant != "standard":
            return f"the fast loops compute the standard LSTM; variant={variant!r}"
        compute_dtype = self.cell.compute_dtype
        if compute_dtype not in _FUSED_DTYPES or self.cell.variable_dtype != compute_dtype:
            return (
                "the fast loops compute in float32 or float64 with weights of "
                f"the same dtype; compute dtype={compute_dtype!r}, variable "
                f"dtype={self.cell.variable_dtype!r}"
            )
        if training and self.cell.recurrent_dropout > 0.0:
            return (
                "recurrent dropout acts inside the loop; "
                f"recurrent_dropout={self.cell.recurrent_dropout}"
            )
        return None

    def _kernel_reason(self, training: bool) -> str | None:
        """Why neither cuDNN nor torch's LSTM kernel can compute this layer."""
        cell = self.cell
        if cell.activation is not activations.tanh:
            return "the LSTM kernels need activation='tanh'"
        if cell.recurrent_activation is not activations.sigmoid:
            return "the LSTM kernels need recurrent_activation='sigmoid'"
        if self.unroll:
            return "the LSTM kernels do not unroll; unroll=True"
        if training and cell.recurrent_dropout > 0.0:
            return (
                "the LSTM kernels have no recurrent dropout; "
                f"recurrent_dropout={cell.recurrent_dropout}"
            )
        return None

    def cudnn_reason(self, training: bool = False, masked: bool = False) -> str | None:
        """Why cuDNN would not run, or `None` when it does (on a GPU; on
        TensorFlow a mask must also be right-padded, which is checked on the
        data)."""
        cell = self.cell
        backend = keras.backend.backend()
        if self.use_cudnn is False:
            return "use_cudnn=False"
        if getattr(cell, "variant", "standard") != "standard":
            return f"cuDNN computes the standard LSTM; variant={cell.variant!r}"
        reason = self._kernel_reason(training)
        if reason is not None:
            return reason
        if not cell.use_bias and backend != "torch":
            return "Keras's cuDNN function needs use_bias=True"
        if cell.compute_dtype != "float32":
            # Keras 3.15.1's JAX cuDNN function fails in the backward pass in
            # float64, and half precision runs the generic loop.
            return f"cuDNN runs float32 here; compute dtype={cell.compute_dtype!r}"
        if masked and backend != "tensorflow":
            return f"cuDNN takes a mask on TensorFlow only; backend={backend!r}"
        if masked and self.zero_output_for_mask != self.return_sequences:
            return (
                "with a mask, cuDNN outputs zeros at padded steps; it needs "
                "zero_output_for_mask == return_sequences"
            )
        if not _gpu_available():
            return "no GPU is visible"
        return None

    def native_reason(self, training: bool = False, masked: bool = False) -> str | None:
        """Why torch's LSTM kernel would not run on the CPU, or `None` when
        it does."""
        backend = keras.backend.backend()
        if backend != "torch":
            return f"torch's LSTM kernel runs on the torch backend; backend={backend!r}"
        if self.use_cudnn is False:
            # As keras.layers.LSTM(use_cudnn=False) skips torch's kernel on a CPU too.
            return "use_cudnn=False"
        if _gpu_available():
            return "on a GPU, torch's LSTM kernel is cuDNN (cudnn_reason)"
        if getattr(self.cell, "variant", "standard") != "standard":
            return f"torch's LSTM kernel computes the standard LSTM; variant={self.cell.variant!r}"
        reason = self._kernel_reason(training)
        if reason is not None:
            return reason
        if masked:
            return "torch's LSTM kernel takes no mask here"
        return None

    def _candidate_loops(self, training: bool, masked: bool) -> tuple[str, ...]:
        """The fast loops to try for this call, in order; none: generic."""
        if self.fast_path_reason(training) is not None:
            if self.use_cudnn is True:
                raise ValueError(
                    "use_cudnn=True, but cuDNN cannot run this layer: "
                    f"{self.fast_path_reason(training)}. Received: use_cudnn=True"
                )
            return ()
        if self.use_cudnn is True:
            reason = self.cudnn_reason(training, masked)
            if reason is not None:
                raise ValueError(
                    f"use_cudnn=True, but cuDNN cannot run this layer: {reason}. "
                    "Pass use_cudnn='auto' to take the fastest loop that can run it. "
                    "Received: use_cudnn=True"
                )
            return ("cudnn",)
        device = "gpu" if _gpu_available() else "cpu"
        runnable = {
            "cudnn": lambda: self.cudnn_reason(training, masked) is None,
            "native": lambda: self.native_reason(training, masked) is None,
            "fused": lambda: True,
        }
        return tuple(
            loop for loop in AUTO_LOOPS[keras.backend.backend(), device] if runnable[loop]()
        )

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if tree.is_nested(mask):
            mask = mask[0]
        training = bool(training)
        if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(sequences.dtype)):
            # As the cell casts integer inputs (and the LSTM kernels need floats).
            sequences = ops.cast(sequences, self.cell.compute_dtype)
        if self.stateful and keras.backend.backend() == "torch":
            # Copies, as Keras's own loop takes: the layer overwrites its state
            # variables in place after the call, and torch's autograd keeps
            # h0, c0 for the backward pass.
            initial_state = [ops.copy(s) for s in initial_state]
        for loop in self._candidate_loops(training, masked=mask is not None):
            if loop == "cudnn":
                try:
                    result = self._cudnn_loop(sequences, initial_state, mask, training)
                except NotImplementedError as e:
                    if self.use_cudnn is True:
                        raise ValueError(
                            "use_cudnn=True, but cuDNN is not available here "
                            f"({e or 'the backend declined'}). Received: use_cudnn=True"
                        ) from e
                    logger.debug("cuDNN is not available here; trying the next loop")
                    continue
            elif loop == "native":
                result = self._torch_kernel_loop(sequences, initial_state, training)
            else:
                result = self._fused_loop(sequences, initial_state, mask, training)
            self.last_loop = loop
            return result
        self.last_loop = "generic"
        return super().inner_loop(sequences, initial_state, mask, training=training)

    def _dropped_inputs(self, sequences, training):
        """Inputs times the cell's dropout mask, the same mask at every step."""
        if not (training and self.cell.dropout > 0.0):
            return sequences
        dp_mask = self.cell.get_dropout_mask(sequences[:, 0, :])  # (B, D)
        return sequences * ops.expand_dims(dp_mask, axis=1)

    def _fused_loop(self, sequences, initial_state, mask, training):
        cell = self.cell
        x = ops.transpose(self._dropped_inputs(sequences, training), (1, 0, 2))
        if mask is not None:
            mask = ops.expand_dims(ops.transpose(ops.cast(mask, "bool")), -1)
        if self.go_backwards:
            x = ops.flip(x, axis=0)  # (T, B, D)
            mask = None if mask is None else ops.flip(mask, axis=0)  # (T, B, 1)
        bias = cell.bias if cell.use_bias else ops.zeros((4 * cell.units,), x.dtype)
        weights = tuple(
            ops.convert_to_tensor(w) for w in (cell.kernel, cell.recurrent_kernel, bias)
        )
        if (
            keras.backend.backend() == "tensorflow"
            and not training
            and mask is None
            and _tf_inference_loop.in_export_trace()
        ):
            # A loop the LiteRT and ONNX converters read (model.export).
            outputs, h, c = _tf_inference_loop.inference_lstm(
                x, *weights, initial_state[0], initial_state[1], self._loop_config()
            )
        else:
            outputs, h, c = _fast_lstm.fused_lstm(
                x,
                *weights,
                initial_state[0],
                initial_state[1],
                mask,
                self._loop_config(),
                training=training,
            )
        if self.return_sequences:
            last_output = outputs[-1]
            outputs = ops.transpose(outputs, (1, 0, 2))  # (B, T, H)
        else:
            last_output = outputs
            outputs = ops.expand_dims(outputs, axis=1)  # (B, 1, H)
        return last_output, outputs, [h, c]

    def _loop_config(self) -> _fast_lstm.LoopConfig:
        cell = self.cell
        # torch differentiates the loop with its autograd.
        manual = (
            keras.backend.backend() != "torch"
            and _fast_lstm.has_derivative(cell.activation)
            and _fast_lstm.has_derivative(cell.recurrent_activation)
        )
        return _fast_lstm.LoopConfig(
            sigma_g=cell.recurrent_activation,
            sigma_c=cell.activation,
            use_bias=cell.use_bias,
            zero_output_for_mask=self.zero_output_for_mask,
            masked_output_repeats_state=keras.backend.backend() == "jax",
            return_sequences=self.return_sequences,
            unroll=self.unroll,
            manual_gradient=manual,
            # XLA removes most of the per-step cost of small ops on CPU; it
            # cannot differentiate the loop, so only with the manual gradient.
            jit=manual,
        )

    def _cudnn_loop(self, sequences, initial_state, mask, training):
        if keras.backend.backend() == "torch":
            return self._torch_kernel_loop(sequences, initial_state, training)
        cell = self.cell

        def run():
            inputs = self._dropped_inputs(sequences, training)
            go_backwards = self.go_backwards
            if go_backwards and mask is None:
                # Reversed here, not by the backend: Keras 3.15.1's JAX
                # function returns a backward pass's sequence in input order,
                # unlike its generic loop and its TensorFlow function. (With a
                # mask, TensorFlow reverses each sequence within its length.)
                inputs, go_backwards = ops.flip(inputs, axis=1), False
            return keras_backend.lstm(
                inputs,
                initial_state[0],
                initial_state[1],
                mask,
                kernel=cell.kernel,
                recurrent_kernel=cell.recurrent_kernel,
                bias=cell.bias,
                activation=cell.activation,
                recurrent_activation=cell.recurrent_activation,
                return_sequences=self.return_sequences,
                go_backwards=go_backwards,
                unroll=self.unroll,
            )

        if mask is None or keras.backend.backend() != "tensorflow":
            return run()
        # cuDNN reads a mask as sequence lengths: any other mask takes the
        # fused loop, decided on the data.
        import tensorflow as tf

        present = tf.cast(mask, "bool")
        lengths = tf.reduce_sum(tf.cast(present, "int32"), axis=1)
        right_padded = tf.reduce_all(
            tf.equal(present, tf.sequence_mask(lengths, maxlen=tf.shape(mask)[1]))
        )
        usable = tf.logical_and(right_padded, tf.reduce_all(lengths > 0))
        return tf.cond(
            usable,
            run,
            lambda: self._fused_loop(sequences, initial_state, mask, training),
        )

    def _torch_kernel_loop(self, sequences, initial_state, training):
        """torch's own LSTM kernel (cuDNN on a CUDA device) on the layer's weights."""
        import torch

        cell = self.cell
        inputs = self._dropped_inputs(sequences, training)  # (B, T, D)
        if self.go_backwards:
            inputs = torch.flip(inputs, dims=(1,))
        # torch keeps W and U transposed, (4H, D) and (4H, H), in the same gate
        # order (i, f, g = c̃, o), and adds two biases: b and zeros.
        params = [ops.transpose(cell.kernel), ops.transpose(cell.recurrent_kernel)]
        if cell.use_bias:
            bias = ops.convert_to_tensor(cell.bias)
            params += [bias, torch.zeros_like(bias)]
        h0, c0 = (ops.expand_dims(s, 0) for s in initial_state)  # (1, B, H)
        outputs, h, c = torch._VF.lstm(
            inputs,
            (h0, c0),
            [p.contiguous() for p in params],
            cell.use_bias,  # has_biases
            1,  # num_layers
            0.0,  # dropout between layers
            torch.is_grad_enabled(),  # train: cuDNN keeps what its backward pass needs
            False,  # bidirectional
            True,  # batch_first
        )  # outputs (B, T, H); h, c (1, B, H)
        last_output = outputs[:, -1]
        if not self.return_sequences:
            outputs = ops.expand_dims(last_output, axis=1)
        return last_output, outputs, [h[0], c[0]]

    @property
    def units(self):
        return self.cell.units

    @property
    def activation(self):
        return self.cell.activation

    @property
    def recurrent_activation(self):
        return self.cell.recurrent_activation

    @property
    def use_bias(self):
        return self.cell.use_bias

    @property
    def unit_forget_bias(self):
        return self.cell.unit_forget_bias

    @property
    def kernel_initializer(self):
        return self.cell.kernel_initializer

    @property
    def recurrent_initializer(self):
        return self.cell.recurrent_initializer

    @property
    def bias_initializer(self):
        return self.cell.bias_initializer

    @property
    def kernel_regularizer(self):
        return self.cell.kernel_regularizer

    @property
    def recurrent_regularizer(self):
        return self.cell.recurrent_regularizer

    @property
    def bias_regularizer(self):
        return self.cell.bias_regularizer

    @property
    def kernel_constraint(self):
        return self.cell.kernel_constraint

    @property
    def recurrent_constraint(self):
        return self.cell.recurrent_constraint

    @property
    def bias_constraint(self):
        return self.cell.bias_constraint

    @property
    def dropout(self):
        return self.cell.dropout

    @property
    def recurrent_dropout(self):
        return self.cell.recurrent_dropout

    @property
    def seed(self):
        return self.cell.seed

    @property
    def variant(self):
        return getattr(self.cell, "variant", "standard")

    def get_config(self):
        cell_config = {
            k: v for k, v in self.cell.get_config().items() if k not in _BASE_CONFIG_KEYS
        }
        config = super().get_config()
        del config["cell"]
        return {
            **config,
            **cell_config,
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "use_cudnn": self.use_cudnn,
            "use_fused": self.use_fused,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
