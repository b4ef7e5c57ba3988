from __future__ import annotations

import logging

import keras
from keras import ops
from keras import regularizers
from keras import tree
from keras.saving import register_keras_serializable

from keras_lstm_cell import accelerator
from keras_lstm_cell._checks import check_bool
from keras_lstm_cell.loops import AUTO_LOOPS
from keras_lstm_cell.loops import CONVERTER
from keras_lstm_cell.loops import CUDNN_LOOPS
from keras_lstm_cell.loops import FUSED
from keras_lstm_cell.loops import GENERIC
from keras_lstm_cell.loops import TORCH_LSTM
from keras_lstm_cell.loops import Loop
from keras_lstm_cell.loops import LoopCall
from keras_lstm_cell.simple_lstm_cell import SimpleLSTMCell

logger = logging.getLogger(__name__)

# Constructor arguments that belong to the layer itself; any other keyword
# argument is passed on to `SimpleLSTMCell`.
_LAYER_KWARGS = ("name", "dtype", "trainable", "autocast", "input_shape", "input_dim")
# Keys of `Layer.get_config()`, which the cell's config repeats.
_BASE_CONFIG_KEYS = ("name", "trainable", "dtype")


@register_keras_serializable(package="keras_lstm_cell")
class SimpleLSTM(keras.layers.RNN):
    """The `SimpleLSTMCell` LSTM as one fast layer.

    Computes exactly what `keras.layers.RNN(SimpleLSTMCell(units))` computes,
    with the same weights (`kernel`, `recurrent_kernel`, `bias`, in the gate
    order of `keras.layers.LSTM`) and the same config, but runs the time loop
    in one of four ways (`keras_lstm_cell.loops`, one module each), the
    fastest measured where it runs, per backend, device and mode
    (`AUTO_LOOPS`):

    1. **`"cudnn"`**, on a GPU with TensorFlow or JAX, through Keras's backend
       function as `keras.layers.LSTM` runs it: `activation="tanh"`,
       `recurrent_activation="sigmoid"`, `use_bias=True`, float32,
       `unroll=False`, no recurrent dropout in training. The layer reverses
       the inputs itself for `go_backwards`, so a backend that returns the
       outputs of a backward pass in another order (Keras 3.15.1's JAX
       function does) cannot reorder them. With a mask, only TensorFlow takes
       cuDNN: for right-padded sequences (checked on the data; other masks
       take the fused loop) and `zero_output_for_mask == return_sequences`.
    2. **`"torch_lstm"`**, on torch: torch's own LSTM kernel
       (`torch._VF.lstm`, what `torch.nn.LSTM` runs: cuDNN on a CUDA device,
       oneDNN's on a CPU in float32) on the layer's weights, for the same
       options (`use_bias=False` included; float64 on a CPU too), without a
       mask; gradients flow through torch's autograd.
    3. **`"fused"`**: one recurrent product `h_{t-1} · U` per step (the input
       projection `x_t · W` of every step as one product before the loop on
       torch; on TensorFlow and JAX, whose compiled CPU loops are faster
       computing it per step, inside each step), the gate arithmetic of
       `lstm_equations`, and a hand-written backward pass through time (for
       the `tanh`, `sigmoid` and linear activations; others, and masked
       calls on torch, are differentiated automatically). On a torch CPU it
       also trains short sequences of wide layers (at most units² / 4096
       timesteps), where it is faster than torch's kernel. On
       TensorFlow both loops are compiled with XLA, and outside training
       (`predict`, `evaluate`) the forward loop keeps no gates for a backward
       pass; a gradient through such a call recomputes them. Input dropout
       uses the cell's seeded mask, one per sequence.
    4. **`"generic"`**: `keras.layers.RNN`'s loop over the cell, for everything
       else (a cell `variant`, recurrent dropout in training, a compute dtype
       other than float32/float64, or `use_fused=False`), and where
       `AUTO_LOOPS` measured it fastest.

    `fast_path_reason()` tells why the generic loop would run,
    `cudnn_reason()` and `native_reason()` why cuDNN (torch's kernel on a
    GPU, with torch) and torch's kernel on a CPU would not, and `last_loop`
    records which loop the last call traced (`"cudnn"`, `"torch_lstm"`,
    `"fused"` or `"generic"`).

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
            `AUTO_LOOPS`), `True` (cuDNN, on torch its LSTM kernel on a GPU,
            or a `ValueError` when it cannot run) or `False` (neither cuDNN
            nor torch's LSTM kernel, as
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

    def fast_path_reason(self, training: bool = False, steps: int | None = None) -> str | None:
        """Why the generic `keras.layers.RNN` loop would run, or `None` when a
        fast loop (cuDNN, torch's kernel or fused) runs, for a call of
        `steps` timesteps (`None`: a length not known when tracing)."""
        call = self._loop_call(training, masked=False, steps=steps)
        reason = FUSED.reason(self, call)  # every fast loop needs what it needs
        if reason is None and self.use_cudnn == "auto" and self._loops(call)[0] is GENERIC:
            return (
                "keras.layers.RNN's loop is the fastest measured for "
                f"{call.mode} with {keras.backend.backend()} on a {call.device} "
                "(AUTO_LOOPS)"
            )
        return reason

    def cudnn_reason(self, training: bool = False, masked: bool = False) -> str | None:
        """Why cuDNN would not run, or `None` when it does (on a GPU; on
        TensorFlow a mask must also be right-padded, which is checked on the
        data)."""
        call = self._loop_call(training, masked)
        loop = CUDNN_LOOPS.get(keras.backend.backend(), CUDNN_LOOPS["tensorflow"])
        reason = loop.reason(self, call)
        if reason is None and call.device != "gpu":
            return "no GPU is visible"
        return reason

    def native_reason(self, training: bool = False, masked: bool = False) -> str | None:
        """Why torch's LSTM kernel would not run on the CPU, or `None` when
        it does."""
        call = self._loop_call(training, masked)
        reason = TORCH_LSTM.reason(self, call)
        if reason is None and call.device == "gpu":
            return "on a GPU, torch's LSTM kernel is cuDNN (cudnn_reason)"
        return reason

    def _loop_call(self, training: bool, masked: bool, steps: int | None = None) -> LoopCall:
        return LoopCall(
            training=bool(training), masked=masked, device=accelerator.device_kind(), steps=steps
        )

    def _loops(self, call: LoopCall) -> tuple[Loop, ...]:
        """The loops that can run this call, in the order to try them; the
        last always runs."""
        if self.use_cudnn is True:
            reason = self.cudnn_reason(call.training, call.masked)
            if reason is not None:
                raise ValueError(
                    f"use_cudnn=True, but cuDNN cannot run this layer: {reason}. "
                    "Pass use_cudnn='auto' to take the fastest loop that can run it. "
                    "Received: use_cudnn=True"
                )
            return (CUDNN_LOOPS[keras.backend.backend()],)
        if self.use_cudnn is False:
            # As keras.layers.LSTM(use_cudnn=False): its own loop, here the fused one.
            candidates = (CONVERTER, FUSED, GENERIC)
        else:
            key = (keras.backend.backend(), call.device, call.mode)
            candidates = AUTO_LOOPS.get(key, (GENERIC,))
        return tuple(loop for loop in candidates if loop.reason(self, call) is None)

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if tree.is_nested(mask):
            mask = mask[0]
        if not keras.backend.is_float_dtype(keras.backend.standardize_dtype(sequences.dtype)):
            # As the cell casts integer inputs (and the LSTM kernels need floats).
            sequences = ops.cast(sequences, self.cell.compute_dtype)
        if self.stateful and keras.backend.backend() == "torch":
            # Copies, as Keras's own loop takes: the layer overwrites its state
            # variables in place after the call, and torch's autograd keeps
            # h0, c0 for the backward pass.
            initial_state = [ops.copy(s) for s in initial_state]
        call = self._loop_call(training, masked=mask is not None, steps=sequences.shape[1])
        for loop in self._loops(call):
            try:
                result = loop.run(self, sequences, initial_state, mask, call.training)
            except NotImplementedError as e:
                if self.use_cudnn is True:
                    raise ValueError(
                        "use_cudnn=True, but cuDNN is not available here "
                        f"({e or 'the backend declined'}). Received: use_cudnn=True"
                    ) from e
                logger.debug("The %r loop declined (%s); trying the next one", loop.name, e)
                continue
            self.last_loop = loop.name
            return result
        raise RuntimeError("AUTO_LOOPS ends with the generic loop, which always runs")

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
