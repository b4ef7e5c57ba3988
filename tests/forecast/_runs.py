"""Small runs of the forecasting tool, for its tests."""

import dataclasses
import errno
import os
import signal
import time

from keras_lstm_cell.forecast import training
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.timeseries import TimeSeries


def first_days(count: int = 150) -> TimeSeries:
    """The first days of the embedded data (150: 4 training steps per epoch)."""
    series = TimeSeries.default()
    return dataclasses.replace(series, frame=series.frame.iloc[:count])


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


def terminate_after_two_epochs(process, history, seconds: float) -> str:
    """Sends SIGTERM to `process` once `history` (a history.csv) holds two
    epochs, or after `seconds`; returns its stderr once it has ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        if history.is_file() and len(history.read_text().splitlines()) >= 3:
            break
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGTERM)
    return process.communicate(timeout=60)[1]


class FullDisk:
    """A file object on a disk with no room left: every write fails with ENOSPC."""

    def __init__(self, handle):
        self.handle = handle

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        os.close(self.handle)

    def write(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
