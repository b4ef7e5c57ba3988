"""Small runs of the forecasting tool, for its tests."""

from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import prepare_data


def tiny(**changes) -> ForecastConfig:
    """A small, quick configuration."""
    settings = dict(units=4, epochs=3, patience=5, batch_size=32, seed=3)
    settings.update(changes)
    return ForecastConfig(**settings)


def train(config, logdir, series, **kwargs):
    """`training.train` on an in-memory series, quietly."""
    return training.train(
        config, logdir=logdir, data=prepare_data(config, series), verbose=0, **kwargs
    )
