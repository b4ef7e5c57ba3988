"""Forecast tomorrow's maximum temperature in Seattle with an LSTM.

Uses the NOAA Seattle daily weather (2012-2015) shipped with the package, so it
runs offline:

    python examples/weather_forecast.py
    tensorboard --logdir runs/weather_example

The model sees the last WINDOW days of four columns and forecasts temp_max for
the next HORIZON days; the test year is scored against persistence (tomorrow
= today) and the weekly seasonal-naive forecast.
"""

from keras_lstm_cell import export
from keras_lstm_cell import forecasting
from keras_lstm_cell.forecast_config import ForecastConfig

TARGET = "temp_max"  # °C, the column to forecast
FEATURES = ("temp_min", "precipitation", "wind")  # further inputs, by column name
WINDOW = 14  # days the model sees
HORIZON = 1  # days ahead
TRANSFORM = "diff"  # inputs and target relative to the window's last value
UNITS = 32  # LSTM units
EPOCHS = 100  # upper bound; early stopping ends sooner
PATIENCE = 10  # epochs without validation improvement before stopping
GLOBAL_CLIPNORM = 1.0  # clip the global gradient norm, as tf.clip_by_global_norm
SEED = 42
LOGDIR = "runs/weather_example"
EXPORT_DIR = "saved_models/weather_example"

config = ForecastConfig(
    target=TARGET,
    features=FEATURES,
    window=WINDOW,
    horizon=HORIZON,
    transform=TRANSFORM,
    units=UNITS,
    epochs=EPOCHS,
    patience=PATIENCE,
    global_clipnorm=GLOBAL_CLIPNORM,
    seed=SEED,
)
run = forecasting.train(config, logdir=LOGDIR, export_dir=EXPORT_DIR, verbose=2)

print(run.evaluation.table())
print(run.evaluation.verdict())
print(f"Plot: {run.plot_path}")

forecast, _ = export.next_forecast(EXPORT_DIR)
for date, value in forecast[TARGET].items():
    print(f"{TARGET} forecast for {date.date()}: {value:.1f} °C")
