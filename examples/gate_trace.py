"""See inside an LSTM: print every gate of a tiny cell, then draw the gates of a
trained forecaster.

Part 1 sets a one-unit `SimpleLSTMCell` to the scalar weights of a classic
hand-worked example (W = 0.5, 0.6, 0.7, 0.8 and U = 0.1, 0.2, 0.3, 0.4 for f,
i, c, o; no bias), runs the sequence 1, 2, 3 through it with
`keras_lstm_cell.gate_trace`, and prints f, i, c̃, c, o and h for each step, then
the prediction of a readout with weight 4.

Part 2 trains a small `keras.layers.RNN(SimpleLSTMCell(...))` to forecast
tomorrow's maximum temperature in Seattle from the last 30 days (the dataset
shipped with the package), traces one test window and saves a heat map of each
gate over time to `gate_trace.png` (or the path given as the first argument).

    python examples/gate_trace.py [output.png]
"""

import sys

import keras
import matplotlib
import numpy as np
import pandas as pd

from keras_lstm_cell import SimpleLSTMCell
from keras_lstm_cell.forecast.timeseries import default_dataset_path
from keras_lstm_cell.gate_trace import trace

matplotlib.use("Agg")  # draw to files only
import matplotlib.pyplot as plt  # noqa: E402

# Part 1: the hand-worked example.
W = {"f": 0.5, "i": 0.6, "c": 0.7, "o": 0.8}  # input weights
U = {"f": 0.1, "i": 0.2, "c": 0.3, "o": 0.4}  # recurrent weights
SEQUENCE = [1.0, 2.0, 3.0]  # x_1, x_2, x_3
READOUT_WEIGHT = 4.0  # y = 4 h_3
ROWS = {  # column of the trace -> label of the printed table
    "f": "Forget gate (f_t)",
    "i": "Input gate (i_t)",
    "c_tilde": "Candidate cell state (c̃_t)",
    "c": "Cell state (c_t)",
    "o": "Output gate (o_t)",
    "h": "Hidden state (h_t)",
}

# Part 2: a small forecaster.
TARGET = "temp_max"  # forecast this column, from its own past
WINDOW = 30  # days of history per sample
TRAIN_FRACTION = 0.8  # the earliest 80% trains; the rest is for the trace
UNITS = 8  # small enough to show every unit in the heat map
EPOCHS = 10  # a few seconds on a laptop CPU
BATCH_SIZE = 64
SEED = 0
OUTPUT = sys.argv[1] if len(sys.argv) > 1 else "gate_trace.png"
PANELS = ("f", "i", "o", "c_tilde", "c", "h")  # one heat map each

# --- Part 1 ---------------------------------------------------------------------
cell = SimpleLSTMCell(1)
cell.build((None, 1))
cell.set_gate_weights(
    {f"W_{g}": np.array([[w]]) for g, w in W.items()}
    | {f"U_{g}": np.array([[u]]) for g, u in U.items()}
    | {f"b_{g}": np.zeros(1) for g in W}
)
gates = trace(cell, np.array(SEQUENCE)[:, None])  # one sequence: (time, features)
table = gates.to_frame().pivot(index="step", columns="gate", values="value")
for step, row in table.iterrows():
    print(f"Time Step {step}:")
    for column, label in ROWS.items():
        print(f"  {label}: {row[column]:.3f}")
    print()
print(f"Predicted next value: {READOUT_WEIGHT * gates.h[0, -1, 0]:.3f}")
print()

# --- Part 2 ---------------------------------------------------------------------
keras.utils.set_random_seed(SEED)
weather = pd.read_csv(default_dataset_path())  # the Seattle data shipped with the package
series = weather[TARGET].to_numpy("float32")
split = int(len(series) * TRAIN_FRACTION)
mean, std = series[:split].mean(), series[:split].std()  # from training data only
scaled = (series - mean) / std


def windows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(samples, WINDOW, 1) histories and the (samples, 1) next values."""
    starts = range(len(values) - WINDOW)
    x = np.stack([values[s : s + WINDOW] for s in starts])[..., None]
    y = values[WINDOW:, None]
    return x, y


x_train, y_train = windows(scaled[:split])
x_test, y_test = windows(scaled[split:])
model = keras.Sequential(
    [
        keras.Input((WINDOW, 1)),
        keras.layers.RNN(SimpleLSTMCell(UNITS), name="lstm"),
        keras.layers.Dense(1),
    ]
)
model.compile(optimizer="adam", loss="mse")
model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, verbose=0)
test_rmse = model.evaluate(x_test, y_test, verbose=0) ** 0.5 * std
print(f"Test RMSE of the forecaster: {test_rmse:.2f} °C")

window = trace(model, x_test[:1], layer_name="lstm")  # one 30-day window
figure, axes = plt.subplots(len(PANELS), 1, figsize=(8, 12), sharex=True)
for ax, name in zip(axes, PANELS, strict=True):
    values = window.as_dict()[name][0]  # (time, units)
    gate_range = {"vmin": 0.0, "vmax": 1.0} if name in ("f", "i", "o") else {}
    picture = ax.imshow(
        values.T,
        aspect="auto",
        origin="lower",
        extent=(0.5, WINDOW + 0.5, -0.5, UNITS - 0.5),  # steps from 1, as in trace
        **gate_range,
    )
    ax.set_ylabel(f"{name}\nunit")
    figure.colorbar(picture, ax=ax)
axes[-1].set_xlabel("day of the window")
axes[0].set_title(f"Gates of RNN(SimpleLSTMCell({UNITS})) over one test window")
figure.tight_layout()
figure.savefig(OUTPUT)
print(f"Heat maps of {', '.join(PANELS)} saved to {OUTPUT}")
