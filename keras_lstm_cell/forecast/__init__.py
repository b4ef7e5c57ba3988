"""Forecasting with an LSTM: the application behind `keras-lstm-cell train`.

Built on the package's layers, never the other way round. Its pieces, by
concept: `config` (every setting), `timeseries` (reading a CSV), `frequency`
(its calendar), `csv_format` (separators and number formats), `windows`
(`make_windows`, `window_dataset`), `scaler`, `baselines`, `metrics`,
`evaluation`, `data` (`ForecastData`), `model` (`build_model`, `Forecaster`),
`panel` (many series in a long frame), `global_network` and `lstm_forecaster`
(`LSTMForecaster`: one LSTM across many series, in memory), `global_runs`
(the commands' runs on a long CSV),
`callbacks`, `plotting`, `record` (`RunRecord`, run.json), `resume`,
`backtest` (walk-forward backtests), `files` (safe writes), `export` (the
export format: SavedModel and forecast.json), `serving` (`load_export`,
`next_forecast`, `evaluate_export`), `runtimes` (TensorFlow, LiteRT, ONNX
Runtime), `distribute`
(`get_strategy`, `split_cpu`, `replica_batch_size`), `training` (`train`) and `cli`.
"""

from keras_lstm_cell.forecast.backtest import Backtest
from keras_lstm_cell.forecast.backtest import backtest
from keras_lstm_cell.forecast.config import ForecastConfig
from keras_lstm_cell.forecast.data import ForecastData
from keras_lstm_cell.forecast.data import prepare_data
from keras_lstm_cell.forecast.distribute import get_strategy
from keras_lstm_cell.forecast.distribute import replica_batch_size
from keras_lstm_cell.forecast.distribute import split_cpu
from keras_lstm_cell.forecast.evaluation import ForecastEvaluation
from keras_lstm_cell.forecast.lstm_forecaster import LSTMForecaster
from keras_lstm_cell.forecast.metrics import conformal_offsets
from keras_lstm_cell.forecast.model import Forecaster
from keras_lstm_cell.forecast.model import build_model
from keras_lstm_cell.forecast.record import RunRecord
from keras_lstm_cell.forecast.serving import evaluate_export
from keras_lstm_cell.forecast.serving import load_export
from keras_lstm_cell.forecast.serving import next_forecast
from keras_lstm_cell.forecast.timeseries import TimeSeries
from keras_lstm_cell.forecast.training import ForecastRun
from keras_lstm_cell.forecast.training import train
from keras_lstm_cell.forecast.windows import make_windows
from keras_lstm_cell.forecast.windows import window_dataset

__all__ = [
    "Backtest",
    "ForecastConfig",
    "ForecastData",
    "ForecastEvaluation",
    "ForecastRun",
    "Forecaster",
    "LSTMForecaster",
    "RunRecord",
    "TimeSeries",
    "backtest",
    "build_model",
    "conformal_offsets",
    "evaluate_export",
    "get_strategy",
    "load_export",
    "make_windows",
    "next_forecast",
    "prepare_data",
    "replica_batch_size",
    "split_cpu",
    "train",
    "window_dataset",
]
