"""Panels of many series with known structure, for the tests of the global forecaster."""

import numpy as np
import pandas as pd

SEASON = 24
NOISE = 0.03  # of the level
TREND = 0.004  # of the level per hour, up or down: seasonal naive lags a day behind
SCALES = (1.0, 10.0, 1e2, 1e3, 1e4, 1e5)


def hourly_panel(count: int = 12, seed: int = 0) -> pd.DataFrame:
    """Hourly series at scales 1 .. 1e5: a daily cycle of a phase of their own, a
    trend up or down, and noise of `NOISE` times their level; lengths 150 .. 260."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(count):
        n = 150 + 10 * k
        t = np.arange(n)
        cycle = np.sin(2 * np.pi * (t + 3 * k) / SEASON) + 0.5 * np.sin(4 * np.pi * t / SEASON)
        trend = (-1) ** k * TREND * 10 * t
        y = SCALES[k % len(SCALES)] * (10 + 2 * cycle + trend + rng.normal(0, 10 * NOISE, n))
        ds = pd.date_range("2021-01-01", periods=n, freq="h") + pd.Timedelta(hours=k)
        frames.append(pd.DataFrame({"unique_id": f"s{k:02d}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)
