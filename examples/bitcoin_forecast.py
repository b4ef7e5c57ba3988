"""Forecast bitcoin's next daily close with the settings of the classic LSTM tutorial.

Download a daily BTC/USD file from CryptoDataDownload
(https://www.cryptodatadownload.com/data/, e.g. Bitstamp or Coinbase, "Daily"),
keep it as downloaded (banner line, newest first), then:

    python examples/bitcoin_forecast.py Bitstamp_BTCUSD_d.csv

The tutorial's hyperparameters are kept (window 7, batch 7, 256 units, clip
margin 4, learning rate 0.001, 200 epochs, 80/20 split); what changes is how
they are used: the clip is the optimizer's global-norm clip, the last 20% of
days are held out in time order, the scaling comes from the training days only,
and the model works on log returns, because a price that quadruples after the
training period is outside anything a level-scaled model has seen.
"""

import sys

from keras_lstm_cell import forecasting
from keras_lstm_cell.forecast_config import ForecastConfig

CSV_PATH = sys.argv[1] if len(sys.argv) > 1 else "Bitstamp_BTCUSD_d.csv"
DATE_COLUMN = "date"  # case-insensitive: "Date" in older files
TARGET = "close"  # the daily close price, USD
WINDOW = 7  # tutorial: window_size = 7 days
BATCH_SIZE = 7  # tutorial: batch_size = 7 windows
UNITS = 256  # tutorial: hidden_layer = 256
GLOBAL_CLIPNORM = 4.0  # tutorial: clip_margin = 4 with tf.clip_by_global_norm
LEARNING_RATE = 0.001  # tutorial: learning_rate = 0.001
EPOCHS = 200  # tutorial: epochs = 200; early stopping usually ends sooner
TEST_FRACTION = 0.2  # tutorial: 80/20 split, here in time order
VAL_FRACTION = 0.1  # taken from the 80%, for early stopping
TRANSFORM = "log_return"  # prices scale multiplicatively; see the module docstring
GAPS = "error"  # a daily crypto file has every day; "ffill" if yours does not
SEED = 42
LOGDIR = "runs/bitcoin_example"
EXPORT_DIR = "saved_models/bitcoin_example"

config = ForecastConfig(
    csv=CSV_PATH,
    date_column=DATE_COLUMN,
    target=TARGET,
    window=WINDOW,
    batch_size=BATCH_SIZE,
    units=UNITS,
    global_clipnorm=GLOBAL_CLIPNORM,
    learning_rate=LEARNING_RATE,
    epochs=EPOCHS,
    test_fraction=TEST_FRACTION,
    val_fraction=VAL_FRACTION,
    transform=TRANSFORM,
    gaps=GAPS,
    seed=SEED,
)
run = forecasting.train(config, logdir=LOGDIR, export_dir=EXPORT_DIR, verbose=2)

test = run.record["data"]["parts"]["test"]
print(f"Test days {test['first_target_date']} .. {test['last_target_date']}, USD:")
print(run.evaluation.table())
print(run.evaluation.verdict())
print(f"Plot: {run.plot_path}; SavedModel: {EXPORT_DIR}")
