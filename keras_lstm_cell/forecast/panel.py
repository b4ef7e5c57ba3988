"""Many series in one long frame, as Nixtla's libraries take them: read, checked, cut.

A long frame has a row per (series, date): `unique_id`, `ds` (dates, or
integer positions) and `y` (the value). `Panel.from_frame` checks it once and
keeps the values of all series in one float64 array, series after series,
with their offsets, so that a batch of windows from any series is one
gather (`Panel.windows`), and millions of windows never exist at once.

Window `e` of a series holds its rows `e - window, ..., e - 1` as inputs and
rows `e, ..., e + horizon - 1` as targets. A window that starts before the
series repeats the series' first value (left padding), so series shorter
than the window are forecast too.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from keras_lstm_cell._checks import is_int
from keras_lstm_cell.forecast import frequency

ID_COL, TIME_COL, TARGET_COL = "unique_id", "ds", "y"
_SHOWN_IDS = 5  # ids named in a message


def _shown(ids) -> str:
    ids = list(ids)
    more = f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else ""
    return f"{[str(i) for i in ids[:_SHOWN_IDS]]}{more}"


# Holds arrays: compared by identity, not field by field.
@dataclasses.dataclass(frozen=True, eq=False)
class Panel:
    """Series of one calendar, their values side by side.

    Args:
        ids: The series' ids, in the order of the values, as given.
        values: Float64 `(total rows,)`: every series' values in time order,
            series after series.
        starts: Int64 `(series + 1,)`: series `k` is `values[starts[k] :
            starts[k + 1]]`.
        last: Each series' last `ds` (a `pd.Timestamp` or an integer).
        freq: The pandas frequency alias of the dates, or the integer step of
            integer `ds`.
    """

    ids: tuple
    values: np.ndarray
    starts: np.ndarray
    last: tuple
    freq: str | int

    @classmethod
    def from_frame(
        cls,
        df,
        *,
        id_col: str = ID_COL,
        time_col: str = TIME_COL,
        target_col: str = TARGET_COL,
        freq=None,
    ) -> Panel:
        """Reads a long `DataFrame` (or one series as a `pandas.Series` indexed
        by date), sorted by id and date; refuses what cannot be forecast.

        A missing column, a repeated `(id, ds)`, a non-finite or non-numeric
        value, dates off the series' calendar (a gap) or a frequency that
        differs between series raise a `ValueError` naming the column or the
        ids. `freq`, a pandas alias (dates) or an integer step (integer `ds`),
        is inferred when `None`.
        """
        frame = _long_frame(df, id_col, time_col, target_col)
        values = pd.to_numeric(frame[target_col], errors="coerce").to_numpy("float64")
        bad = ~np.isfinite(values)
        if bad.any():
            ids = pd.unique(frame[id_col][bad])
            raise ValueError(
                f"Expected finite numbers in column {target_col!r}. Received: "
                f"{int(bad.sum())} missing, non-numeric or infinite values in series "
                f"{_shown(ids)}; fill or drop them first"
            )
        dates = frame[time_col]
        integer = pd.api.types.is_integer_dtype(dates)
        if not integer:
            try:
                dates = pd.to_datetime(dates)
            except (ValueError, TypeError) as e:
                raise ValueError(
                    f"Expected column {time_col!r} to hold dates or integers. Received: "
                    f"{str(e).splitlines()[0]}"
                ) from None
        frame = frame.assign(**{time_col: dates}).sort_values([id_col, time_col], kind="stable")
        repeated = frame.duplicated([id_col, time_col])
        if repeated.any():
            ids = pd.unique(frame[id_col][repeated])
            raise ValueError(
                f"Expected one row per ({id_col}, {time_col}). Received: "
                f"{int(repeated.sum())} repeated dates in series {_shown(ids)}"
            )
        values = pd.to_numeric(frame[target_col]).to_numpy("float64")
        groups = frame.groupby(id_col, sort=False)[time_col]
        sizes = groups.size()
        starts = np.concatenate([[0], np.cumsum(sizes.to_numpy())]).astype("int64")
        freq = _integer_step(groups, freq, time_col) if integer else _calendar(groups, freq)
        return cls(
            ids=tuple(sizes.index),
            values=values,
            starts=starts,
            last=tuple(groups.last()),
            freq=freq,
        )

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)

    def series(self, k: int) -> np.ndarray:
        return self.values[self.starts[k] : self.starts[k + 1]]

    def windows(self, series, ends, window: int, horizon: int = 0):
        """Windows of `series[i]` ending before row `ends[i]`: inputs
        `(B, window)` and, with `horizon`, targets `(B, horizon)`."""
        series = np.asarray(series, dtype="int64")
        ends = np.asarray(ends, dtype="int64")
        offsets = self.starts[series][:, None]
        rows = np.maximum(ends[:, None] + np.arange(-window, 0), 0)  # (B, W), left-padded
        x = self.values[offsets + rows]
        if not horizon:
            return x
        return x, self.values[offsets + ends[:, None] + np.arange(horizon)]

    def future(self, k: int, horizon: int) -> list:
        """The `horizon` dates (or positions) after series `k`'s last one."""
        last = self.last[k]
        if isinstance(self.freq, str):
            return list(frequency.next_dates(last, self.freq, horizon))
        return [last + self.freq * (step + 1) for step in range(horizon)]

    def dates(self, k: int) -> list:
        """Every date (or position) of series `k`."""
        count, last = int(self.lengths[k]), self.last[k]
        step = frequency.to_frequency(self.freq) if isinstance(self.freq, str) else self.freq
        return [last - step * (count - 1 - row) for row in range(count)]

    def to_frame(
        self, id_col: str = ID_COL, time_col: str = TIME_COL, target_col: str = TARGET_COL
    ) -> pd.DataFrame:
        """The panel as a long frame, a row per series and date, in its order."""
        return pd.DataFrame(
            {
                id_col: np.repeat(np.asarray(self.ids, dtype=object), self.lengths),
                time_col: [d for k in range(len(self)) for d in self.dates(k)],
                target_col: self.values,
            }
        )

    def head(self, rows: np.ndarray) -> Panel:
        """The panel cut to the first `rows[k]` values of each series (at least 1)."""
        rows = np.asarray(rows, dtype="int64")
        keep = np.concatenate(
            [np.arange(self.starts[k], self.starts[k] + rows[k]) for k in range(len(self))]
        )
        starts = np.concatenate([[0], np.cumsum(rows)]).astype("int64")
        last = tuple(self.dates(k)[rows[k] - 1] for k in range(len(self)))
        return dataclasses.replace(self, values=self.values[keep], starts=starts, last=last)


def _long_frame(df, id_col: str, time_col: str, target_col: str) -> pd.DataFrame:
    """`df` as a long frame with the three columns, or one `Series` made one."""
    if isinstance(df, pd.Series):
        if not isinstance(df.index, pd.DatetimeIndex) and not pd.api.types.is_integer_dtype(
            df.index
        ):
            raise ValueError(
                "Expected a `pandas.Series` indexed by dates or integers. "
                f"Received: an index of {df.index.dtype}"
            )
        name = df.name if df.name is not None else "series"
        return pd.DataFrame({id_col: name, time_col: df.index, target_col: df.to_numpy()})
    if not isinstance(df, pd.DataFrame):
        raise ValueError(
            "Expected a long `pandas.DataFrame` (columns unique_id, ds, y) or a "
            f"`pandas.Series`. Received: {type(df).__name__}"
        )
    named = {"id_col": id_col, "time_col": time_col, "target_col": target_col}
    missing = [f"{column!r} ({arg})" for arg, column in named.items() if column not in df.columns]
    if missing:
        raise ValueError(
            f"Expected the columns {id_col!r}, {time_col!r} and {target_col!r} in `df`. "
            f"Received: columns {list(map(str, df.columns))}, without {', '.join(missing)}"
        )
    if len(df) == 0:
        raise ValueError("Expected rows in `df`. Received: an empty frame")
    return df[[id_col, time_col, target_col]]


def _integer_step(groups, freq, time_col: str) -> int:
    steps = groups.diff().dropna()
    if freq is None:
        freq = int(steps.min()) if len(steps) else 1
    if not is_int(freq) or freq <= 0:
        raise ValueError(
            f"Expected `freq` to be a positive integer step for integer {time_col!r}. "
            f"Received: freq={freq!r}"
        )
    off = steps != freq
    if off.any():
        raise ValueError(
            f"Expected integer {time_col!r} in steps of {freq}, with no gaps. Received: other "
            f"steps in series {_shown(pd.unique(steps.index[off].map(_group_of(groups))))}"
        )
    return int(freq)


def _group_of(groups):
    # Row label -> its series' id.
    owner = {}
    for key, index in groups.groups.items():
        for label in index:
            owner[label] = key
    return owner.__getitem__


def _calendar(groups, freq) -> str:
    """The one frequency alias of every series' dates, checked: given, or
    inferred from the first series and checked on the others."""
    offset = None if freq is None else frequency.to_frequency(freq)
    off, others = [], {}
    for key, dates in groups:
        index = pd.DatetimeIndex(dates)
        if offset is None:
            alias, _ = frequency.infer_frequency(index)
            if alias is None:
                off.append(key)
                continue
            offset = frequency.to_frequency(alias)
        if not _on_grid(index, offset):
            alias, _ = frequency.infer_frequency(index)
            if (
                freq is None
                and alias is not None
                and _on_grid(index, frequency.to_frequency(alias))
            ):
                others.setdefault(alias, []).append(key)
            else:
                off.append(key)
    if off:
        given = "" if freq is None else f" of freq={freq!r}"
        raise ValueError(
            f"Expected each series' dates on one regular calendar{given}, with no gaps. "
            f"Received: series {_shown(off)} off it; fill their gaps, or give `freq`"
        )
    if others:
        shown = ", ".join(f"{alias} ({_shown(ids)})" for alias, ids in others.items())
        raise ValueError(
            f"Expected every series on one calendar, {frequency.alias(offset)} as the first. "
            f"Received: {shown}; give `freq`"
        )
    return frequency.alias(offset)


def _on_grid(index: pd.DatetimeIndex, offset) -> bool:
    """Whether `index` is every date of `offset`'s calendar from its first to its last."""
    grid = frequency.grid(index[0], index[-1], offset)
    return len(grid) == len(index) and bool((grid == index).all())
