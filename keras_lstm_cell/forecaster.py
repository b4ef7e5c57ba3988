"""A trained network wrapped to take and return values in original units."""

from __future__ import annotations

import keras

from keras_lstm_cell.window_scaler import WindowScaler


class Forecaster(keras.Model):
    """Raw windows in, forecasts in original units out.

    Wraps a network trained on standardised windows (see `WindowScaler`) with
    the scaling on both sides, so that the exported graph needs nothing but
    TensorFlow: `serve(x)` takes the last `window` rows of the input columns,
    exactly as read from the CSV, and returns the next `horizon` target
    values. The network's weights are shared, not copied.

    Args:
        network: Keras model mapping `(batch, window, features)` standardised
            windows to `(batch, horizon)` standardised targets.
        scaler: The `WindowScaler` fitted on the training windows.
        **kwargs: Base `Model` arguments (`name`, ...).

    Call arguments:
        windows: Raw windows `(batch, window, features)`, target column at
            `scaler.target_index`.

    Example:

    >>> network = build_model(window=7, n_features=1, units=4)
    >>> scaler = WindowScaler("diff", 0, (1.0,), (2.0,), (0.0,), (2.0,))
    >>> Forecaster(network, scaler)(np.ones((3, 7, 1), "float32")).shape
    (3, 1)
    """

    def __init__(self, network: keras.Model, scaler: WindowScaler, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.scaler = scaler

    def call(self, windows):
        scaled = self.scaler.scale_inputs(windows)
        return self.scaler.unscale_targets(self.network(scaled, training=False), windows)
