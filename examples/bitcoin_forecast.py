"""Forecast bitcoin's next daily close with the settings of the classic LSTM tutorial.

Download a daily BTC/USD file from CryptoDataDownload
(https://www.cryptodatadownload.com/data/, e.g. Bitstamp or Coinbase, "Daily"),
keep it as downloaded (banner line, newest first, the odd missing day), then:

    python examples/bitcoin_forecast.py Bitstamp_BTCUSD_d.csv
    python examples/bitcoin_forecast.py Bitstamp_BTCUSD_d.csv --epochs 20 --gaps error
    python examples/bitcoin_forecast.py --resume    # continue the latest interrupted run
    python examples/bitcoin_forecast.py --help      # every flag of `keras-lstm-cell train`

The tutorial's hyperparameters are the defaults (window 7, batch 7, 256 units,
clip margin 4, learning rate 0.001, 200 epochs, 80/20 split); what changes is
how they are used: the clip is the optimizer's global-norm clip, the last 20%
of days are held out in time order, the scaling comes from the training days
only, and the model works on log returns, because a price that quadruples
after the training period is outside anything a level-scaled model has seen.
Days the exchange published nothing for are filled by linear interpolation
(up to 14 in a row; --gaps error refuses them) and never scored.

Each run is a new one, `runs/bitcoin_example-<date>-<time>`, so the script
runs any number of times in one folder; `--name` picks the name.
"""

import sys

from keras_lstm_cell.forecast import cli

CSV_PATH = "Bitstamp_BTCUSD_d.csv"  # the file, as downloaded, unless one is given
NAME_PREFIX = "bitcoin_example"  # runs/ and saved_models/ names start with this
TUTORIAL = {
    "date_column": "date",  # case-insensitive: "Date" in older files
    "target": "close",  # the daily close price
    "unit": "USD",
    "window": 7,  # tutorial: window_size = 7 days
    "batch_size": 7,  # tutorial: batch_size = 7 windows
    "units": 256,  # tutorial: hidden_layer = 256
    "global_clipnorm": 4.0,  # tutorial: clip_margin = 4 with tf.clip_by_global_norm
    "learning_rate": 0.001,  # tutorial: learning_rate = 0.001
    "epochs": 200,  # tutorial: epochs = 200; early stopping usually ends sooner
    "test_fraction": 0.2,  # tutorial: 80/20 split, here in time order
    "val_fraction": 0.1,  # taken from the 80%, for early stopping
    "transform": "log_return",  # prices scale multiplicatively; see the docstring
    "seed": 42,
}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and not argv[0].startswith("-"):  # the tutorial's `script.py FILE [flags]`
        argv = ["--csv", argv[0], *argv[1:]]
    return cli.main(
        ["train", *argv],
        defaults={"csv": CSV_PATH, **TUTORIAL},
        prog="bitcoin_forecast.py",
        name_prefix=NAME_PREFIX,
    )


if __name__ == "__main__":
    raise SystemExit(main())
