"""`python -m keras_lstm_cell`: the `keras-lstm-cell` command."""

from keras_lstm_cell.forecast.cli import main

raise SystemExit(main())
