"""`LSTMForecaster`: one LSTM across many series, on panels of known structure."""

import os

import keras
import numpy as np
import pandas as pd
import pytest
from _panels import SEASON
from _panels import hourly_panel as _panel

from keras_lstm_cell.forecast.baselines import seasonal_naive
from keras_lstm_cell.forecast.global_network import build_global_network
from keras_lstm_cell.forecast.lstm_forecaster import LSTMForecaster
from keras_lstm_cell.forecast.windows import make_windows

HORIZON = 12


def _split(df: pd.DataFrame, horizon: int = HORIZON):
    last = df.groupby("unique_id").cumcount(ascending=False) < horizon
    return df[~last], df[last]


@pytest.fixture(scope="module")
def fitted():
    train, test = _split(_panel())
    model = LSTMForecaster(
        horizon=HORIZON,
        level=[80],
        units=16,
        epochs=20,
        batch_size=32,
        windows_per_series=64,
        seed=1,
    ).fit(train)
    return model, train, test


def _mase(frame: pd.DataFrame, train: pd.DataFrame, column: str) -> float:
    """Mean over series of MAE / in-sample MAE of seasonal naive (M4's MASE)."""
    scores = []
    for key, rows in frame.groupby("unique_id"):
        history = train.loc[train["unique_id"] == key, "y"].to_numpy()
        scale = np.mean(np.abs(history[SEASON:] - history[:-SEASON]))
        scores.append(np.mean(np.abs(rows["y"] - rows[column])) / scale)
    return float(np.mean(scores))


def test_one_model_beats_seasonal_naive_on_series_of_any_scale(fitted):
    model, train, test = fitted
    forecast = model.predict()
    assert list(forecast.columns) == ["unique_id", "ds", "lstm", "lstm-lo-80", "lstm-hi-80"]
    merged = forecast.merge(test, on=["unique_id", "ds"], validate="one_to_one")
    assert len(merged) == len(test) == 12 * HORIZON  # the dates after each series' end
    last_season = train.groupby("unique_id").tail(SEASON).groupby("unique_id")["y"]
    merged["naive"] = np.concatenate(
        [values.to_numpy()[:HORIZON] for _, values in last_season]
    )  # seasonal naive: the same hours a day before
    ours, naive = _mase(merged, train, "lstm"), _mase(merged, train, "naive")
    assert ours < 0.6 * naive, (ours, naive)  # it follows the trends
    inside = (merged["lstm-lo-80"] <= merged["y"]) & (merged["y"] <= merged["lstm-hi-80"])
    assert 0.5 < inside.mean() <= 1.0  # 144 values: a loose check of calibration


def test_a_series_times_a_constant_is_forecast_times_that_constant(fitted):
    """Equal to float32 rounding in units of each series' level."""
    model, train, _ = fitted
    columns = ["lstm", "lstm-lo-80", "lstm-hi-80"]
    level = train.groupby("unique_id")["y"].apply(lambda y: y.abs().mean())
    forecast = model.predict(train)
    per_level = level[forecast["unique_id"]].to_numpy()[:, None]
    scaled = model.predict(train.assign(y=train["y"] * 1000.0))
    np.testing.assert_allclose(
        scaled[columns].to_numpy() / 1000.0 / per_level,
        forecast[columns].to_numpy() / per_level,
        atol=1e-5,
    )


def test_a_series_never_seen_is_forecast_and_the_exports_agree(fitted, tmp_path):
    """A new series (another id, level and phase), through `predict(df=...)`
    and through the exported LiteRT and ONNX files, run in their runtimes."""
    import onnxruntime
    from ai_edge_litert.interpreter import Interpreter

    model, _, _ = fitted
    new = _panel(count=1, seed=7).assign(unique_id="new", y=lambda f: f["y"] * 3.7 + 5.0)
    forecast = model.predict(new)
    assert forecast["unique_id"].eq("new").all()
    assert forecast["ds"].iloc[0] == new["ds"].iloc[-1] + pd.Timedelta(hours=1)
    window = new["y"].to_numpy()[-model.window :].astype("float32")[None, :, None]
    expected = forecast[["lstm", "lstm-lo-80", "lstm-hi-80"]].to_numpy()  # (H, 3)

    model.export(tmp_path / "f.tflite", format="litert")
    interpreter = Interpreter(model_path=str(tmp_path / "f.tflite"))
    interpreter.allocate_tensors()
    interpreter.set_tensor(interpreter.get_input_details()[0]["index"], window)
    interpreter.invoke()
    litert = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])[0]
    np.testing.assert_allclose(litert, expected, rtol=1e-5)

    model.export(tmp_path / "f.onnx", format="onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "f.onnx"))
    onnx = session.run(None, {session.get_inputs()[0].name: window})[0][0]
    np.testing.assert_allclose(onnx, expected, rtol=1e-5)


def test_cross_validation_sees_nothing_after_its_cutoffs(fitted):
    model, train, _ = fitted
    settings = {**model.get_config(), "epochs": 1, "windows_per_series": 8}
    forecaster = LSTMForecaster(**settings)
    cv = forecaster.cross_validation(train, n_windows=2, step_size=6, refit=False)
    assert list(cv.columns) == ["unique_id", "ds", "cutoff", "y", "lstm", "lstm-lo-80",
                                "lstm-hi-80"]  # fmt: skip
    assert len(cv) == 2 * 12 * HORIZON
    for (key, cutoff), rows in cv.groupby(["unique_id", "cutoff"]):
        history = train[train["unique_id"] == key].set_index("ds")["y"]
        assert rows["ds"].tolist() == list(
            pd.date_range(cutoff + pd.Timedelta(hours=1), periods=HORIZON, freq="h")
        )
        np.testing.assert_array_equal(rows["y"], history[rows["ds"]].to_numpy())
    cutoffs = sorted(cv["cutoff"].unique())
    # The last cutoff leaves `horizon` values; the first is 6 rows before.
    assert (
        cv.groupby("unique_id")["cutoff"]
        .max()
        .eq(train.groupby("unique_id")["ds"].max() - pd.Timedelta(hours=HORIZON))
        .all()
    )
    assert len(cutoffs) == 2 * 12
    # A probe: every value after the first cutoffs changes, their forecasts do not.
    first = cv.groupby("unique_id")["cutoff"].transform("min") == cv["cutoff"]
    first_cutoff = cv[first].groupby("unique_id")["cutoff"].first()
    later = train["ds"] > train["unique_id"].map(first_cutoff)
    changed = train.assign(y=np.where(later, train["y"] * 5 + 100, train["y"]))
    again = LSTMForecaster(**settings).cross_validation(changed, 2, step_size=6, refit=False)
    np.testing.assert_allclose(again[first]["lstm"], cv[first]["lstm"], rtol=1e-6)
    assert not np.allclose(again[~first]["lstm"], cv[~first]["lstm"])


def test_save_and_load_give_the_same_forecasts(fitted, tmp_path):
    model, train, _ = fitted
    model.save(tmp_path / "model")
    assert sorted(os.listdir(tmp_path / "model")) == [
        "arrays.npz",
        "forecaster.json",
        "model.keras",
    ]
    loaded = LSTMForecaster.load(tmp_path / "model")
    pd.testing.assert_frame_equal(loaded.predict(), model.predict(), rtol=1e-6)
    pd.testing.assert_frame_equal(loaded.predict(train.head(400)), model.predict(train.head(400)))
    with pytest.raises(ValueError, match="new or empty directory"):
        model.save(tmp_path / "model")


def test_load_runs_no_code_from_the_folder(fitted, tmp_path):
    """A model file with a Lambda layer (Python code) is refused on load."""
    model, _, _ = fitted
    model.save(tmp_path / "model")
    inputs = keras.Input((model.window, 1))
    outputs = keras.layers.Lambda(lambda x: x[:, -HORIZON:, 0] * 2)(inputs)
    keras.Model(inputs, outputs).save(tmp_path / "model" / "model.keras")
    with pytest.raises(ValueError, match="Lambda"):
        LSTMForecaster.load(tmp_path / "model")


def test_one_series_as_a_pandas_series():
    days = pd.date_range("2020-01-06", periods=120, freq="D")
    values = pd.Series(50 + 10 * np.sin(2 * np.pi * np.arange(120) / 7), index=days, name="load")
    model = LSTMForecaster(horizon=7, units=4, epochs=1, windows_per_series=16).fit(values)
    assert model.season == 7 and model.window == 14
    forecast = model.predict()
    assert forecast["unique_id"].eq("load").all()
    assert forecast["ds"].tolist() == list(pd.date_range("2020-05-05", periods=7, freq="D"))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.drop(columns="y"), r"without 'y' \(target_col\)"),
        (lambda f: f.rename(columns={"ds": "date"}), r"without 'ds' \(time_col\)"),
        (lambda f: pd.concat([f, f[f["unique_id"] == "s01"].head(2)]),
         r"one row per \(unique_id, ds\). Received: 2 repeated dates in series \['s01'\]"),
        (lambda f: f.assign(y=np.where(f.index == 5, np.nan, f["y"])),
         r"finite numbers in column 'y'. Received: 1 missing.*\['s00'\]"),
        (lambda f: f.assign(y=np.where(f.index == 200, np.inf, f["y"])),
         r"Received: 1 missing, non-numeric or infinite values in series \['s01'\]"),
        (lambda f: f.drop(index=[170]), r"series \['s01'\] off it"),
        (lambda f: f.groupby("unique_id").head(HORIZON), r"more than horizon=12 values"),
    ],
)  # fmt: skip
def test_bad_input_names_the_column_or_the_ids(change, message):
    frame = _panel(count=3)
    with pytest.raises(ValueError, match=message):
        LSTMForecaster(horizon=HORIZON, epochs=1).fit(change(frame))


def test_predict_before_fit_and_bad_settings():
    with pytest.raises(ValueError, match="call fit"):
        LSTMForecaster(horizon=3).predict()
    with pytest.raises(ValueError, match="Received: horizon=0"):
        LSTMForecaster(horizon=0)
    with pytest.raises(ValueError, match=r"in percent, such as \[80, 95\]"):
        LSTMForecaster(horizon=3, level=[0.8])


@pytest.mark.parametrize("window, season", [(48, 24), (10, 24), (8, 1), (30, 7)])
def test_an_untrained_network_is_seasonal_naive(window, season):
    """The head starts at zero: the forecasts are the package's seasonal naive
    (`baselines.seasonal_naive`, from the whole series) of each window."""
    horizon = 9
    series = np.random.default_rng(0).normal(50, 10, 80)
    x, _ = make_windows(series, series, window, horizon)  # (N, window, 1)
    network = build_global_network(window, horizon, season, units=4)
    # Without a whole season in the window, the last value: seasonal naive of period 1.
    expected = seasonal_naive(series, window, horizon, season if season <= window else 1)
    np.testing.assert_allclose(network.predict(x.astype("float32"), verbose=0), expected, rtol=1e-6)


def test_intervals_are_calibrated_on_the_last_values_only(fitted):
    """The calibration residuals are those of each series' last `horizon`
    values, forecast from the rows before them, over the window's seasonal
    spread, computed here with NumPy: not the validation windows (the
    `horizon` values before those), which chose the epoch."""
    model, train, _ = fitted
    rows = []
    for _, series in train.groupby("unique_id", sort=False):
        values = series["y"].to_numpy()
        x = values[-HORIZON - model.window : -HORIZON].astype("float32")
        forecast = model.network.predict(x[None, :, None], verbose=0)[0]
        level = np.mean(np.abs(x))
        spread = max(np.mean(np.abs(x[SEASON:] - x[:-SEASON])), 0.01 * level)
        rows.append((values[-HORIZON:] - forecast) / spread)
    np.testing.assert_allclose(model.residuals, np.stack(rows), rtol=1e-4, atol=1e-4)
