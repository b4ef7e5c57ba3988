"""Forecast tomorrow's maximum temperature in Seattle with an LSTM.

Uses the NOAA Seattle daily weather (2012-2015) shipped with the package, so it
runs offline:

    python examples/weather_forecast.py
    python examples/weather_forecast.py --epochs 10 --window 7
    tensorboard --logdir runs

The model sees the last 14 days of four columns and forecasts temp_max for
the next day; the test year is scored against persistence (tomorrow = today)
and the weekly seasonal-naive forecast. Every flag of `keras-lstm-cell train`
works here (`--help`); these settings are the defaults. Each run is a new one,
`runs/weather_example-<date>-<time>`, unless `--name` is given.
"""

import sys

from keras_lstm_cell.forecast import cli

NAME_PREFIX = "weather_example"  # runs/ and saved_models/ names start with this
SETTINGS = {
    "target": "temp_max",  # °C, the column to forecast
    "features": ("temp_min", "precipitation", "wind"),  # further inputs, by column name
    "window": 14,  # days the model sees
    "horizon": 1,  # days ahead
    "transform": "diff",  # inputs and target relative to the window's last value
    "units": 32,  # LSTM units
    "epochs": 100,  # upper bound; early stopping ends sooner
    "patience": 10,  # epochs without validation improvement before stopping
    "global_clipnorm": 1.0,  # clip the global gradient norm, as tf.clip_by_global_norm
    "seed": 42,
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    return cli.main(
        ["train", *argv], defaults=SETTINGS, prog="weather_forecast.py", name_prefix=NAME_PREFIX
    )


if __name__ == "__main__":
    raise SystemExit(main())
