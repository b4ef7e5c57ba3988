from __future__ import annotations

import functools

import keras
import numpy as np
from keras import activations
from keras import backend
from keras import constraints
from keras import initializers
from keras import ops
from keras import regularizers
from keras.layers import Layer
from keras.saving import register_keras_serializable

# `keras.layers.RNN` creates one dropout mask per sequence, before its loop, only
# for cells that inherit this mixin; Keras does not export it publicly, and it
# is what `keras.layers.LSTMCell` itself uses.
from keras.src.layers.rnn.dropout_rnn_cell import DropoutRNNCell

from keras_lstm_cell._checks import check_bool
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell._checks import is_int
from keras_lstm_cell.equations import GateValues
from keras_lstm_cell.equations import layer_norm
from keras_lstm_cell.equations import lstm_equations
from keras_lstm_cell.equations import split_preactivations
from keras_lstm_cell.gate_layout import WIKIPEDIA_ORDER
from keras_lstm_cell.gate_layout import check_weight_dict
from keras_lstm_cell.gate_layout import gate_slice
from keras_lstm_cell.gate_layout import join_columns
from keras_lstm_cell.gate_layout import split_columns
from keras_lstm_cell.variant import VARIANT_SPECS
from keras_lstm_cell.variant import VARIANTS


def _get_activation(name: str, value):
    try:
        return activations.get(value)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"Expected `{name}` to be a Keras activation name or callable "
            f"(e.g. 'tanh', 'sigmoid', None). Received: {name}={value!r}"
        ) from e


def _get(module, name: str, value):
    try:
        return module.get(value)
    except (ValueError, TypeError) as e:
        raise ValueError(f"Could not interpret `{name}`. Received: {name}={value!r}") from e


def _check_rate(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ValueError(f"Expected `{name}` to be a float in [0, 1). Received: {name}={value!r}")
    if not 0.0 <= float(value) < 1.0:
        raise ValueError(f"Expected `{name}` to be a float in [0, 1). Received: {name}={value}")
    return float(value)


@register_keras_serializable(package="keras_lstm_cell")
class SimpleLSTMCell(Layer, DropoutRNNCell):
    """An LSTM cell that reads like the Wikipedia equations.

    One step of the forget-gate LSTM, with gates named as on Wikipedia
    (σ_g = `recurrent_activation`, σ_c = σ_h = `activation`):

        f_t = σ_g(W_f x_t + U_f h_{t-1} + b_f)
        i_t = σ_g(W_i x_t + U_i h_{t-1} + b_i)
        o_t = σ_g(W_o x_t + U_o h_{t-1} + b_o)
        c̃_t = σ_c(W_c x_t + U_c h_{t-1} + b_c)
        c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
        h_t = o_t ⊙ σ_h(c_t)

    The weights are stored fused in Keras's gate order (i, f, c, o), with the
    same names and shapes as `keras.layers.LSTMCell`: `kernel (input_dim,
    4 * units)`, `recurrent_kernel (units, 4 * units)`, `bias (4 * units,)`.
    `set_weights(keras.layers.LSTM(...).get_weights())` therefore works with
    no conversion, and the outputs are equal. `gate_weights()` shows the same
    weights per gate, with Wikipedia's names and `W x` orientation.

    Use it inside `keras.layers.RNN` (or `SimpleLSTM` for the fast layer).

    `variant` selects another LSTM; the default `"standard"` is the cell above.

    - `"peephole"`, Wikipedia's peephole LSTM: the gates read c_{t-1} in place
      of h_{t-1}, and the cell input has no recurrent term. `recurrent_kernel`
      gives way to `peephole_kernel (units, 3 * units)`, the U blocks of i, f
      and o, in that order:

          f_t = σ_g(W_f x_t + U_f c_{t-1} + b_f)      (i_t, o_t likewise)
          c_t = f_t ⊙ c_{t-1} + i_t ⊙ σ_c(W_c x_t + b_c)
          h_t = o_t ⊙ σ_h(c_t)

    - `"diagonal_peephole"`, Gers & Schmidhuber's peephole connections as in
      the former `tf.keras.experimental.PeepholeLSTMCell`: the standard cell
      plus one weight vector per gate on the cell state, P_i, P_f, P_o
      (`input_gate_peephole_weights`, `forget_gate_peephole_weights`,
      `output_gate_peephole_weights`, each `(units,)`):

          f_t = σ_g(W_f x_t + U_f h_{t-1} + P_f ⊙ c_{t-1} + b_f)  (i_t likewise)
          c_t = f_t ⊙ c_{t-1} + i_t ⊙ c̃_t
          o_t = σ_g(W_o x_t + U_o h_{t-1} + P_o ⊙ c_t + b_o)
          h_t = o_t ⊙ σ_h(c_t)

    - `"layer_norm"`, computed as TensorFlow Addons' `LayerNormLSTMCell`
      computes it at inference (dropout aside, see below): layer
      normalisation of the fused `(4 * units)` products W x_t and U h_{t-1}
      before they are summed, and of the cell state, whose normalised value
      is carried to the next step:

          z_t = LN_x(W x_t) + LN_h(U h_{t-1}) + b     (split into i, f, c, o)
          c_t = LN_c(f_t ⊙ c_{t-1} + i_t ⊙ c̃_t)

      with LN(v) = γ ⊙ (v - mean(v)) / sqrt(var(v) + norm_epsilon) + β and
      weights `kernel_norm_gamma`, `kernel_norm_beta`, `recurrent_norm_gamma`,
      `recurrent_norm_beta` `(4 * units,)`, `state_norm_gamma`,
      `state_norm_beta` `(units,)`, initialized to γ = 1, β = 0. In
      training, dropout follows `keras.layers.LSTMCell`: with
      `recurrent_dropout > 0`, one mask per gate on x_t and on h_{t-1},
      where TensorFlow Addons used one mask on each for all gates, so
      training-time outputs with recurrent dropout differ from its cell's.
    - `"coupled"`, the coupled input and forget gate: i_t = 1 - f_t. With no
      input gate of its own, `kernel`, `recurrent_kernel` and `bias` hold the
      f, c and o blocks only, in that order (`3 * units` columns).

    Reference:
        - [Long short-term memory, Wikipedia](
          https://en.wikipedia.org/wiki/Long_short-term_memory)
        - [Gers, Schmidhuber & Cummins, 2000](
          https://doi.org/10.1162/089976600300015015)
        - [Gers & Schmidhuber, 2000, Recurrent nets that time and count](
          https://doi.org/10.1109/IJCNN.2000.861302) (peephole connections)
        - [Ba, Kiros & Hinton, 2016, Layer normalization](
          https://arxiv.org/abs/1607.06450)
        - [Greff et al., 2017, LSTM: A search space odyssey](
          https://doi.org/10.1109/TNNLS.2016.2582924) (coupled gates)

    Args:
        units: Positive integer, dimensionality of `h` and `c`.
        activation: σ_c and σ_h. Default: `"tanh"`. `None` means linear.
        recurrent_activation: σ_g, the gate activation. Default: `"sigmoid"`.
        use_bias: Whether the gates have biases `b`. Default: `True`.
        kernel_initializer: Initializer for `kernel` (the `W` blocks).
            Default: `"glorot_uniform"`.
        recurrent_initializer: Initializer for `recurrent_kernel` (the `U`
            blocks). Default: `"orthogonal"`.
        bias_initializer: Initializer for `bias`. Default: `"zeros"`.
        unit_forget_bias: If `True`, add 1 to the forget-gate bias at
            initialization (Jozefowicz et al., 2015). Default: `True`.
        kernel_regularizer: Regularizer for `kernel`. Default: `None`.
        recurrent_regularizer: Regularizer for `recurrent_kernel`.
        bias_regularizer: Regularizer for `bias`.
        kernel_constraint: Constraint for `kernel`.
        recurrent_constraint: Constraint for `recurrent_kernel`.
        bias_constraint: Constraint for `bias`.
        dropout: Float in [0, 1). Fraction of the inputs `x_t` dropped, with
            one mask per sequence, in training only. Default: 0.
        recurrent_dropout: Float in [0, 1). Fraction of `h_{t-1}` dropped,
            with one mask per sequence (per gate), in training only.
        seed: Integer seed for the dropout masks.
        variant: One of `"standard"`, `"peephole"`, `"diagonal_peephole"`,
            `"layer_norm"`, `"coupled"` (above). Default: `"standard"`. For
            `"peephole"`, the `recurrent_*` arguments apply to
            `peephole_kernel` and recurrent dropout drops c_{t-1} as the
            gates read it.
        norm_epsilon: ε of the `"layer_norm"` variant. Default: `1e-3`.
        implementation: `1` or `2`, accepted as `keras.layers.LSTMCell`
            accepts it, so that code written for it runs unchanged; it has no
            effect here (kept in the config). Default: `2`. In Keras,
            `implementation=1` computes the gates in four products instead of
            one, with the same values, and with `dropout` in training draws
            one input mask per gate; this cell draws one input mask for all
            gates, as `implementation=2` does.
        **kwargs: Base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `x_t`, a 2D tensor `(batch, input_dim)`. Integer and boolean
            inputs are cast to the compute dtype, as `keras.layers.LSTM` does.
        states: `[h_{t-1}, c_{t-1}]`, each `(batch, units)`.
        training: Whether dropout is applied.

    Example:

    >>> cell = SimpleLSTMCell(4)
    >>> rnn = keras.layers.RNN(cell, return_sequences=True, return_state=True)
    >>> outputs, h, c = rnn(np.ones((2, 7, 3), "float32"))
    >>> outputs.shape, h.shape, c.shape
    ((2, 7, 4), (2, 4), (2, 4))
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
        kernel_constraint=None,
        recurrent_constraint=None,
        bias_constraint=None,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        seed: int | None = None,
        variant: str = "standard",
        norm_epsilon: float = 1e-3,
        implementation: int = 2,
        **kwargs,
    ):
        check_positive_int("units", units)
        if seed is not None and not is_int(seed):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        if not isinstance(variant, str) or variant not in VARIANTS:
            raise ValueError(
                f"Expected `variant` to be one of {VARIANTS}. Received: variant={variant!r}"
            )
        if (
            isinstance(norm_epsilon, bool)
            or not isinstance(norm_epsilon, (int, float, np.integer, np.floating))
            or not 0 < norm_epsilon < float("inf")
        ):
            raise ValueError(
                "Expected `norm_epsilon` to be a finite positive float. "
                f"Received: norm_epsilon={norm_epsilon!r}"
            )
        if isinstance(implementation, bool) or implementation not in (1, 2):
            raise ValueError(
                "Expected `implementation` to be 1 or 2. "
                f"Received: implementation={implementation!r}"
            )
        super().__init__(**kwargs)
        self.units = int(units)
        self.implementation = int(implementation)
        self.variant = variant
        self.norm_epsilon = float(norm_epsilon)
        # What the variant changes in the standard cell (`variant.py`).
        self._spec = VARIANT_SPECS[variant]
        self.activation = _get_activation("activation", activation)
        self.recurrent_activation = _get_activation("recurrent_activation", recurrent_activation)
        self.use_bias = check_bool("use_bias", use_bias)
        self.kernel_initializer = _get(initializers, "kernel_initializer", kernel_initializer)
        self.recurrent_initializer = _get(
            initializers, "recurrent_initializer", recurrent_initializer
        )
        self.bias_initializer = _get(initializers, "bias_initializer", bias_initializer)
        self.unit_forget_bias = check_bool("unit_forget_bias", unit_forget_bias)
        self.kernel_regularizer = _get(regularizers, "kernel_regularizer", kernel_regularizer)
        self.recurrent_regularizer = _get(
            regularizers, "recurrent_regularizer", recurrent_regularizer
        )
        self.bias_regularizer = _get(regularizers, "bias_regularizer", bias_regularizer)
        self.kernel_constraint = _get(constraints, "kernel_constraint", kernel_constraint)
        self.recurrent_constraint = _get(constraints, "recurrent_constraint", recurrent_constraint)
        self.bias_constraint = _get(constraints, "bias_constraint", bias_constraint)
        self.dropout = _check_rate("dropout", dropout)
        self.recurrent_dropout = _check_rate("recurrent_dropout", recurrent_dropout)
        # Keras's LSTMCell draws one mask per gate once recurrent dropout is on
        # (Gal & Ghahramani); doing the same keeps seeded masks identical.
        if self.recurrent_dropout > 0.0:
            self.dropout_mask_count = len(self._spec.gates)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed=seed)
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                "Expected the cell input to have rank 2, (batch, input_dim), i.e. "
                "a rank-3 (batch, time, input_dim) sequence for the RNN layer. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                "Expected the last input dimension (input_dim) to be known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.input_dim = int(input_dim)
        spec = self._spec
        fused = len(spec.gates) * self.units  # 4H, or 3H when coupled
        self.kernel = self.add_weight(
            shape=(self.input_dim, fused),
            name="kernel",
            initializer=self.kernel_initializer,
            regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.recurrent_kernel = None  # the peephole cell's U is `peephole_kernel`
        recurrent = self.add_weight(
            shape=(self.units, len(spec.recurrent_gates) * self.units),
            name=spec.recurrent_weight,
            initializer=self.recurrent_initializer,
            regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint,
        )
        setattr(self, spec.recurrent_weight, recurrent)
        if self.use_bias:
            self.bias = self.add_weight(
                shape=(fused,),
                name="bias",
                initializer=self._initialize_bias,
                regularizer=self.bias_regularizer,
                constraint=self.bias_constraint,
            )
        else:
            self.bias = None
        for extra in spec.extra_weights:
            weight = self.add_weight(
                shape=(fused if extra.per_gate else self.units,),
                name=extra.name,
                initializer=extra.initializer or self.kernel_initializer,
            )
            setattr(self, extra.name, weight)

    def _initialize_bias(self, shape, dtype=None):
        if not self.unit_forget_bias:
            return self.bias_initializer(shape, dtype=dtype)
        # Same draws as keras.layers.LSTMCell: b_i, then ones for b_f, then b_c, b_o
        # (the coupled cell has no b_i: ones for b_f, then b_c, b_o).
        before = self._spec.gates.index("f")
        after = len(self._spec.gates) - before - 1
        blocks = []
        if before:
            blocks.append(self.bias_initializer((before * self.units,), dtype=dtype))
        blocks.append(ops.ones((self.units,), dtype=dtype))
        if after:
            blocks.append(self.bias_initializer((after * self.units,), dtype=dtype))
        return ops.concatenate(blocks)

    def _check_inputs(self, inputs):
        if len(inputs.shape) != 2:
            raise ValueError(
                "Expected the cell input to have rank 2, (batch, input_dim). "
                f"Received: inputs.shape={tuple(inputs.shape)}"
            )
        if inputs.shape[-1] is not None and inputs.shape[-1] != self.input_dim:
            raise ValueError(
                f"Expected input_dim={self.input_dim}, the size the cell was built "
                f"with. Received: inputs.shape={tuple(inputs.shape)}"
            )
        dtype = backend.standardize_dtype(inputs.dtype)
        if not (backend.is_float_dtype(dtype) or backend.is_int_dtype(dtype) or dtype == "bool"):
            raise ValueError(
                "Expected floating-point, integer or boolean inputs. "
                f"Received: inputs.dtype={dtype}"
            )

    def preactivations(self, inputs, h_prev, training=False, c_prev=None):
        """`z_g = W_g x_t + U_g h_{t-1} + b_g` for every gate, fused `(B, 4H)`.

        The variants change the sum (see the class docstring): `"peephole"`
        reads `c_prev` (required there) in place of `h_prev` for f, i and o,
        and c̃ has no recurrent term; `"layer_norm"` normalises `W x` and
        `U h` before adding them; `"coupled"` returns `(B, 3H)` for f, c, o.
        """
        self._require_built("preactivations")
        spec = self._spec
        recurrent_input = self._recurrent_input(h_prev, c_prev)
        wx, ur = self._products(inputs, recurrent_input, training)
        if spec.layer_norm:
            wx = layer_norm(wx, self.kernel_norm_gamma, self.kernel_norm_beta, self.norm_epsilon)
            ur = layer_norm(
                ur,
                self.recurrent_norm_gamma,
                self.recurrent_norm_beta,
                self.norm_epsilon,
            )
        if spec.recurrent_gates != spec.gates:
            # A zero block for each gate without a recurrent term (the peephole
            # cell's c̃) keeps U r in z's fused layout.
            ur_gates = split_preactivations(ur, spec.recurrent_gates)
            zeros = ops.zeros_like(ur_gates[spec.recurrent_gates[0]])
            ur = ops.concatenate([ur_gates.get(g, zeros) for g in spec.gates], axis=-1)
        z = ops.add(wx, ur)
        if self.use_bias:
            z = ops.add(z, self.bias)
        return z  # (B, 4H); (B, 3H) when coupled

    def _recurrent_input(self, h_prev, c_prev):
        """What the recurrent weight multiplies: h_{t-1}, or c_{t-1} (peephole)."""
        if self._spec.recurrent_input == "h":
            return h_prev
        if c_prev is None:
            raise ValueError(
                f"The {self.variant} variant's gates read c_{{t-1}}: expected "
                "`c_prev`, a (batch, units) tensor. Received: c_prev=None"
            )
        return c_prev

    def _products(self, inputs, recurrent_input, training):
        """`(W x_t, U r_{t-1})`, fused, with the dropout masks applied in training."""
        gates, recurrent_gates = self._spec.gates, self._spec.recurrent_gates
        recurrent_kernel = getattr(self, self._spec.recurrent_weight)
        x_masks = self.get_dropout_mask(inputs) if training else None
        r_masks = self.get_recurrent_dropout_mask(recurrent_input) if training else None
        if x_masks is None and r_masks is None:
            # One product per weight, in keras.layers.LSTMCell's order of
            # operations, so the two agree to the last bit.
            return ops.matmul(inputs, self.kernel), ops.matmul(recurrent_input, recurrent_kernel)
        if self.recurrent_dropout == 0.0:
            return (
                ops.matmul(inputs * x_masks, self.kernel),
                ops.matmul(recurrent_input, recurrent_kernel),
            )
        # One mask per gate, as keras.layers.LSTMCell with recurrent dropout.
        x_masks = x_masks if x_masks is not None else [None] * len(gates)
        wx_blocks, ur_blocks = [], []
        for k, gate in enumerate(gates):
            x_k = inputs if x_masks[k] is None else inputs * x_masks[k]
            cols = gate_slice(gate, self.units, gates)
            wx_blocks.append(ops.matmul(x_k, self.kernel[:, cols]))
        for gate in recurrent_gates:
            r_k = recurrent_input * r_masks[gates.index(gate)]
            cols = gate_slice(gate, self.units, recurrent_gates)
            ur_blocks.append(ops.matmul(r_k, recurrent_kernel[:, cols]))
        return ops.concatenate(wx_blocks, axis=-1), ops.concatenate(ur_blocks, axis=-1)

    def gates(self, inputs, states, training=False) -> GateValues:
        """All of f, i, o, c̃, c, h for one step; `call` returns h and (h, c)."""
        self._require_built("gates")
        self._check_inputs(inputs)
        if not backend.is_float_dtype(backend.standardize_dtype(inputs.dtype)):
            # keras.layers.LSTMCell's products promote integers the same way.
            inputs = ops.cast(inputs, self.compute_dtype)
        h_prev, c_prev = states[0], states[1]
        z = self.preactivations(inputs, h_prev, training=training, c_prev=c_prev)
        spec = self._spec
        peephole = {gate: getattr(self, name) for gate, name in spec.peepholes}
        normalize_c = None
        if spec.layer_norm:
            normalize_c = functools.partial(
                layer_norm,
                gamma=self.state_norm_gamma,
                beta=self.state_norm_beta,
                epsilon=self.norm_epsilon,
            )
        return lstm_equations(
            split_preactivations(z, spec.gates),
            c_prev,
            sigma_g=self.recurrent_activation,
            sigma_c=self.activation,
            sigma_h=self.activation,
            peephole=peephole or None,
            coupled=spec.coupled,
            normalize_c=normalize_c,
        )

    def call(self, inputs, states, training=False):
        g = self.gates(inputs, states, training=training)
        return g.h, [g.h, g.c]

    def get_initial_state(self, batch_size=None):
        return [ops.zeros((batch_size, d), dtype=self.compute_dtype) for d in self.state_size]

    def gate_weights(self) -> dict[str, np.ndarray]:
        """All weights, Wikipedia-named: `W_f (units, input_dim)`,
        `U_f (units, units)`, `b_f (units,)`, and likewise for i, o, c.

        Per variant: `"peephole"` has U_f, U_i, U_o (acting on c_{t-1}) and no
        U_c; `"coupled"` has no W_i, U_i, b_i; `"diagonal_peephole"` adds the
        vectors P_f, P_i, P_o; `"layer_norm"` adds its gains and shifts under
        their weight names (`kernel_norm_gamma (4 * units,)`, ...).
        """
        self._require_built("gate_weights")
        layout = self._weight_layout()
        blocks = {}
        for prefix, variable, order in layout:
            if order is not None:
                value = ops.convert_to_numpy(variable)
                for gate, block in split_columns(value, self.units, order).items():
                    blocks[f"{prefix}_{gate}"] = block.T  # W x orientation
        out = {}
        for gate in WIKIPEDIA_ORDER:
            for prefix, _, order in layout:
                if order is not None and gate in order:
                    out[f"{prefix}_{gate}"] = blocks[f"{prefix}_{gate}"]
        for key, variable, order in layout:
            if order is None:
                out[key] = ops.convert_to_numpy(variable)
        return out

    def set_gate_weights(self, weights: dict[str, np.ndarray]) -> None:
        """Sets the weights from a dict shaped like `gate_weights()` returns."""
        self._require_built("set_gate_weights")
        layout = self._weight_layout()
        expected = {}
        for key, variable, order in layout:
            if order is None:
                expected[key] = tuple(variable.shape)
            else:
                shape = (self.units, *variable.shape[:-1])  # W x orientation
                expected |= {f"{key}_{gate}": shape for gate in order}
        arrays = check_weight_dict(weights, expected, dtype=self.kernel.dtype)
        for key, variable, order in layout:
            if order is None:
                variable.assign(arrays[key])
            else:
                blocks = {gate: arrays[f"{key}_{gate}"].T for gate in order}
                variable.assign(join_columns(blocks, order))

    def _weight_layout(self) -> list[tuple[str, object, tuple[str, ...] | None]]:
        """`(name, variable, gate order)` for every weight. A fused weight has
        its gate order and is shown per gate as `{name}_{gate}`; the others
        (order `None`) are shown whole."""
        spec = self._spec
        layout = [
            ("W", self.kernel, spec.gates),
            ("U", getattr(self, spec.recurrent_weight), spec.recurrent_gates),
        ]
        if self.use_bias:
            layout.append(("b", self.bias, spec.gates))
        layout += [(extra.key, getattr(self, extra.name), None) for extra in spec.extra_weights]
        return layout

    def _require_built(self, method: str) -> None:
        if not self.built:
            raise ValueError(
                f"`{method}()` needs the cell's weights, which exist once the cell "
                "is built: call it on data or call `cell.build((batch, input_dim))` "
                "first. Received: an unbuilt cell"
            )

    def get_config(self):
        config = {
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "recurrent_activation": activations.serialize(self.recurrent_activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "unit_forget_bias": self.unit_forget_bias,
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
            "variant": self.variant,
            "norm_epsilon": self.norm_epsilon,
            "implementation": self.implementation,
        }
        return {**super().get_config(), **config}
