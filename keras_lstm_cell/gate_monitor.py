"""A Keras callback that shows a model's LSTM gates in TensorBoard."""

from __future__ import annotations

import logging
import os

import keras
import numpy as np

from keras_lstm_cell.gate_trace import TRACED
from keras_lstm_cell.gate_trace import find_lstm_layers
from keras_lstm_cell.gate_trace import layer_inputs
from keras_lstm_cell.gate_trace import trace

logger = logging.getLogger(__name__)

GATES = ("f", "i", "o")  # the sigmoid gates, whose saturation is logged
SATURATED_HIGH = 0.9  # a gate above this is (nearly) fully open
SATURATED_LOW = 0.1  # a gate below this is (nearly) shut
HEATMAP_SIZE = (6.0, 3.0)  # inches, at HEATMAP_DPI
HEATMAP_DPI = 80


class GateMonitor(keras.callbacks.Callback):
    """Logs the gates of a model's LSTM layers to TensorBoard while it trains.

    Every `every_n_epochs` epochs (after epochs 0, n, 2n, ..., counted from 0
    as Keras does), the callback traces a fixed probe batch through each
    monitored layer with `keras_lstm_cell.gate_trace` and writes, at step `epoch`:

    - scalars `<layer>/<g>/mean`, `<layer>/<g>/saturated_high` (the fraction
      of values above 0.9) and `<layer>/<g>/saturated_low` (below 0.1), for
      the gates g in f, i, o, over every sample, step and unit;
    - histograms `<layer>/<q>` for q in f, i, o, c_tilde, c, h;
    - an image `<layer>/forget_gate`: the forget gate as a heat map, time
      step by unit, averaged over the probe batch.

    Saturated gates pass gradients poorly: a forget gate stuck near 1
    remembers everything, one near 0 forgets every step.

    The monitored layers are the model's `keras.layers.RNN` / `SimpleLSTM`
    layers whose cell is a `SimpleLSTMCell`, and the halves of a
    `Bidirectional` one (named `"<name>/forward"`, `"<name>/backward"`), as
    `find_lstm_layers` lists them. The summaries are written with
    `tf.summary` on every Keras backend (TensorFlow is a dependency of this
    package), to `logdir` itself; give it a directory of its own, such as
    `logs/gates` beside the `keras.callbacks.TensorBoard` runs in `logs/`.

    Args:
        probe_inputs: Inputs for the model (e.g. a few validation windows,
            `(batch, time, features)`); they are traced as they are, every
            time.
        logdir: Directory for the TensorBoard event files.
        layer_names: Names of the layers to monitor. Default: all of them.
        every_n_epochs: Positive integer; log every this many epochs.
            Default: 1.

    Example:

    >>> monitor = GateMonitor(x_val[:32], "logs/gates")
    >>> model.fit(x, y, epochs=10, callbacks=[monitor])

    then `tensorboard --logdir logs`.
    """

    def __init__(self, probe_inputs, logdir, layer_names=None, every_n_epochs=1):
        super().__init__()
        if probe_inputs is None:
            raise ValueError(
                "Expected `probe_inputs`, a batch of model inputs to trace. "
                "Received: probe_inputs=None"
            )
        if not isinstance(logdir, (str, os.PathLike)) or not os.fspath(logdir):
            raise ValueError(
                "Expected `logdir` to be a non-empty path (str or os.PathLike). "
                f"Received: logdir={logdir!r}"
            )
        if layer_names is not None and (
            isinstance(layer_names, str)
            or not isinstance(layer_names, (list, tuple))
            or not all(isinstance(name, str) for name in layer_names)
            or not layer_names
        ):
            raise ValueError(
                "Expected `layer_names` to be None or a non-empty list of layer "
                f"names. Received: layer_names={layer_names!r}"
            )
        if (
            isinstance(every_n_epochs, bool)
            or not isinstance(every_n_epochs, (int, np.integer))
            or every_n_epochs <= 0
        ):
            raise ValueError(
                "Expected `every_n_epochs` to be a positive integer. "
                f"Received: every_n_epochs={every_n_epochs!r}"
            )
        self.probe_inputs = probe_inputs
        self.logdir = os.fspath(logdir)
        self.layer_names = None if layer_names is None else list(layer_names)
        self.every_n_epochs = int(every_n_epochs)
        self._layers = None
        self._writer = None

    def on_train_begin(self, logs=None):
        self._layers = self._monitored_layers()
        # Imported here, not at the top: on the JAX and torch backends the
        # package loads TensorFlow only when a monitor writes its summaries.
        import tensorflow as tf

        self._writer = tf.summary.create_file_writer(self.logdir)

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.every_n_epochs == 0:
            self._write(epoch)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _monitored_layers(self) -> dict:
        found = find_lstm_layers(self.model)
        if not found:
            raise ValueError(
                "GateMonitor expected the model to have an RNN or SimpleLSTM layer "
                "whose cell is a SimpleLSTMCell. Received: model "
                f"{self.model.name!r} with layers "
                f"{[layer.name for layer in self.model.layers]}"
            )
        if self.layer_names is None:
            return found
        unknown = [name for name in self.layer_names if name not in found]
        if unknown:
            raise ValueError(
                f"Expected `layer_names` among {sorted(found)}, the layers of model "
                f"{self.model.name!r} that run a SimpleLSTMCell. Received: "
                f"layer_names={self.layer_names!r} ({unknown} not found)"
            )
        return {name: found[name] for name in self.layer_names}

    def _write(self, step: int) -> None:
        import tensorflow as tf

        names = list(self._layers)
        outer_layers = [outer for _, outer in self._layers.values()]
        inputs = layer_inputs(self.model, outer_layers, self.probe_inputs)
        with self._writer.as_default(step=step):
            for name, (x, mask) in zip(names, inputs, strict=True):
                gates = trace(self._layers[name][0], x, mask=mask).as_dict()
                for g in GATES:
                    values = gates[g]
                    tf.summary.scalar(f"{name}/{g}/mean", float(np.mean(values)))
                    high = np.mean(values > SATURATED_HIGH)
                    low = np.mean(values < SATURATED_LOW)
                    tf.summary.scalar(f"{name}/{g}/saturated_high", float(high))
                    tf.summary.scalar(f"{name}/{g}/saturated_low", float(low))
                for q in TRACED:
                    tf.summary.histogram(f"{name}/{q}", gates[q].reshape(-1))
                forget = gates["f"].mean(axis=0)  # (T, H)
                image = forget_gate_heatmap(forget, title=f"{name}: forget gate")
                tf.summary.image(f"{name}/forget_gate", image[None])
        self._writer.flush()
        logger.debug("Logged the gates of %s at epoch %d", names, step)


def forget_gate_heatmap(forget: np.ndarray, title: str = "forget gate") -> np.ndarray:
    """A `(time, units)` array of gate values in [0, 1] drawn as a heat map,
    time across and units up; returns the RGBA image, `(height, width, 4)`
    uint8."""
    # The object-oriented interface draws off-screen, leaving pyplot's state alone.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=HEATMAP_SIZE, dpi=HEATMAP_DPI)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    steps, units = forget.shape
    picture = ax.imshow(
        forget.T,
        aspect="auto",
        origin="lower",
        vmin=0.0,
        vmax=1.0,
        cmap="viridis",
        interpolation="nearest",
        extent=(0.5, steps + 0.5, -0.5, units - 0.5),
    )
    fig.colorbar(picture, ax=ax)
    ax.set_xlabel("time step")
    ax.set_ylabel("unit")
    ax.set_title(title)
    fig.tight_layout()
    canvas.draw()
    return np.asarray(canvas.buffer_rgba()).copy()
