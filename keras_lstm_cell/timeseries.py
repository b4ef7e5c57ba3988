"""A daily (or other regular) series read from a CSV file, ready for windowing."""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import os

import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_DATASET = "seattle_weather.csv"  # NOAA, public domain; see data/*.md
DEFAULT_DATE_COLUMN = "date"
DEFAULT_TARGET = "temp_max"

# Tried in order; the first format that parses every row wins. CryptoDataDownload
# has used the first four over the years, the Seattle file uses YYYY/MM/DD.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %I-%p",
)
# Column names taken as the date column when `date_column` is not given.
DATE_COLUMN_NAMES = ("date", "datetime", "timestamp", "time")
# Column taken as the target when `target` is not given (price files).
TARGET_COLUMN_NAMES = ("close",)

DUPLICATE_POLICIES = ("error", "first", "last", "mean")
MISSING_POLICIES = ("error", "drop", "ffill", "interpolate")
GAP_POLICIES = ("error", "keep", "ffill", "interpolate")

_BANNER_MARK = "cryptodatadownload"


def default_dataset_path() -> str:
    """Path of the embedded Seattle weather CSV."""
    return str(importlib.resources.files("keras_lstm_cell") / "data" / DEFAULT_DATASET)


def _check_choice(name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(
            f"Expected `{name}` to be one of {', '.join(choices)}. Received: {name}={value!r}"
        )
    return value


def read_csv(path) -> tuple[pd.DataFrame, list[str]]:
    """Reads a CSV as text columns, skipping a CryptoDataDownload banner line.

    Returns the frame (every column as read, names stripped of spaces) and
    the notes on what was done to it.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise ValueError(
            f"Expected `csv` to be an existing CSV file. Received: csv={path!r} (no such file)"
        )
    try:
        with open(path, encoding="utf-8-sig") as f:
            first_line = f.readline()
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Expected `csv` to be a readable UTF-8 text file. Received: csv={path!r} ({e})"
        ) from e
    notes = []
    skiprows = 0
    if _BANNER_MARK in first_line.lower():
        skiprows = 1
        notes.append(f"skipped the banner line {first_line.strip()!r}")
    try:
        frame = pd.read_csv(
            path, skiprows=skiprows, dtype=str, encoding="utf-8-sig", keep_default_na=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Expected `csv` to be a comma-separated file with a header row. "
            f"Received: csv={path!r} ({str(e).strip()})"
        ) from e
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame, notes


def resolve_column(columns, name: str, argument: str, source: str) -> str:
    """Returns the column of `columns` equal to `name`, ignoring case."""
    matches = [c for c in columns if c.lower() == name.strip().lower()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ValueError(
            f"Expected `{argument}` to name a column of {source}, one of "
            f"{list(columns)} (case-insensitive). Received: {argument}={name!r}"
        )
    raise ValueError(
        f"Expected `{argument}` to match exactly one column of {source}, but "
        f"{matches} differ only by case. Received: {argument}={name!r}"
    )


def _find_by_names(columns, names):
    for name in names:
        for column in columns:
            if column.lower() == name:
                return column
    return None


def parse_dates(values: pd.Series, column: str, source: str) -> pd.DatetimeIndex:
    """Parses a date column given as text or Unix timestamps (s or ms)."""
    text = values.astype(str).str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all():
        # CryptoDataDownload's `unix` columns hold seconds in old files and
        # milliseconds in newer ones.
        unit = "ms" if numeric.abs().max() > 1e11 else "s"
        return pd.DatetimeIndex(pd.to_datetime(numeric, unit=unit))
    for date_format in DATE_FORMATS:
        try:
            return pd.DatetimeIndex(pd.to_datetime(text, format=date_format))
        except (ValueError, TypeError):
            continue
    try:
        return pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"))
    except (ValueError, TypeError):
        pass
    parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    bad = text[parsed.isna()]
    example = bad.iloc[0] if len(bad) else text.iloc[0]
    raise ValueError(
        f"Expected column {column!r} of {source} to hold dates such as "
        f"2019-05-20, 5/20/2019 or 2019-05-20 23:00:00. Received: {example!r} "
        f"({len(bad)} unparsable rows)"
    )


def _is_numeric(text: pd.Series) -> bool:
    values = pd.to_numeric(text, errors="coerce")
    return bool((values.notna() | text.isna()).all() and values.notna().any())


def _to_numeric(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    text = frame[column]
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & text.notna() & (text.astype(str).str.strip() != "")
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        raise ValueError(
            f"Expected column {column!r} of {source} to be numeric. Received: "
            f"{text.iloc[first]!r} in data row {first + 1} "
            f"({int(bad.sum())} non-numeric rows)"
        )
    return values.astype("float64")


def infer_step(dates: pd.DatetimeIndex) -> pd.Timedelta:
    """The most common spacing between consecutive dates."""
    deltas = pd.Series(dates[1:] - dates[:-1])
    deltas = deltas[deltas > pd.Timedelta(0)]
    if deltas.empty:
        return pd.Timedelta(days=1)
    return deltas.mode().iloc[0]


# Holds arrays: compared by identity, not field by field.
@dataclasses.dataclass(frozen=True, eq=False)
class TimeSeries:
    """A regular series in ascending date order, with the columns a model uses.

    Reading a file sorts it by date and looks for three faults, each handled
    by an explicit policy whose default, `"error"`, refuses the file with a
    message naming the fault and the other choices:

    - duplicate dates (`duplicates`): `"first"`, `"last"` or `"mean"`;
    - missing values in the used columns (`missing`): `"drop"` the row,
      `"ffill"` (repeat the previous value) or `"interpolate"` (linear in
      time); rows that cannot be filled at the start are dropped;
    - gaps, i.e. missing dates on the grid of the most common spacing
      (`gaps`): `"keep"` (treat rows as consecutive steps, e.g. trading
      days), `"ffill"` or `"interpolate"` (insert the dates and fill them).

    What was done is kept in `notes`, one line each, and logged.

    Args:
        frame: Float64 `DataFrame` indexed by ascending unique dates; the
            columns are the model inputs, target first.
        target: Name of the target column, the first column of `frame`.
        source: Where the data came from, for messages.
        step: Spacing between consecutive rows (most common difference).
        notes: What reading and cleaning did to the data.
        date_column: Name of the date column in the file.

    Example:

    >>> series = TimeSeries.from_csv(default_dataset_path(), target="temp_max")
    >>> series.columns, len(series), str(series.step)
    (['temp_max'], 1461, '1 days 00:00:00')
    """

    frame: pd.DataFrame
    target: str
    source: str
    step: pd.Timedelta
    notes: tuple[str, ...] = ()
    date_column: str = DEFAULT_DATE_COLUMN

    def __len__(self) -> int:
        return len(self.frame)

    @property
    def columns(self) -> list[str]:
        return list(self.frame.columns)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.frame.index)

    @property
    def values(self) -> np.ndarray:
        """Inputs as a float64 array of shape `(time, columns)`."""
        return self.frame.to_numpy(dtype="float64")

    @property
    def target_values(self) -> np.ndarray:
        return self.frame[self.target].to_numpy(dtype="float64")

    @classmethod
    def default(cls, **kwargs) -> TimeSeries:
        """The embedded Seattle weather series (target `temp_max` by default)."""
        if kwargs.get("target") is None:
            kwargs["target"] = DEFAULT_TARGET
        if kwargs.get("date_column") is None:
            kwargs["date_column"] = DEFAULT_DATE_COLUMN
        series = cls.from_csv(default_dataset_path(), **kwargs)
        return dataclasses.replace(
            series, source=f"embedded {DEFAULT_DATASET} (NOAA Seattle 2012-2015)"
        )

    @classmethod
    def from_csv(
        cls,
        path,
        *,
        date_column: str | None = None,
        target: str | None = None,
        features=(),
        duplicates: str = "error",
        missing: str = "error",
        gaps: str = "error",
    ) -> TimeSeries:
        """Reads a CSV file, e.g. a CryptoDataDownload file as downloaded.

        Args:
            path: CSV file with a header row, optionally preceded by a
                CryptoDataDownload banner line; rows in any date order.
            date_column: Date column name (case-insensitive). Default: the
                first column named date, datetime, timestamp or time.
            target: Column to forecast (case-insensitive). Default: `close`,
                or the only numeric column.
            features: Further input columns; the target is always an input.
            duplicates: Policy for repeated dates, see the class docstring.
            missing: Policy for missing values.
            gaps: Policy for missing dates.
        """
        frame, notes = read_csv(path)
        return cls.from_frame(
            frame,
            source=os.fspath(path),
            date_column=date_column,
            target=target,
            features=features,
            duplicates=duplicates,
            missing=missing,
            gaps=gaps,
            notes=notes,
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        source: str = "the data",
        date_column: str | None = None,
        target: str | None = None,
        features=(),
        duplicates: str = "error",
        missing: str = "error",
        gaps: str = "error",
        notes=(),
    ) -> TimeSeries:
        """Like `from_csv`, for a `DataFrame` of text or numeric columns."""
        _check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
        _check_choice("missing", missing, MISSING_POLICIES)
        _check_choice("gaps", gaps, GAP_POLICIES)
        if isinstance(features, str):
            features = [f for f in features.split(",") if f.strip()]
        notes = list(notes)
        columns = list(frame.columns)
        if len(frame) == 0:
            raise ValueError(f"Expected {source} to have data rows. Received: a header only")

        if date_column is None:
            date_column = _find_by_names(columns, DATE_COLUMN_NAMES)
            if date_column is None:
                raise ValueError(
                    f"Expected `date_column` to name the date column of {source}, "
                    f"one of {columns}; none is called "
                    f"{'/'.join(DATE_COLUMN_NAMES)}. Received: date_column=None"
                )
        else:
            date_column = resolve_column(columns, date_column, "date_column", source)

        if target is None:
            target = _find_by_names(columns, TARGET_COLUMN_NAMES)
            if target is None:
                numeric = [c for c in columns if c != date_column and _is_numeric(frame[c])]
                if len(numeric) != 1:
                    raise ValueError(
                        f"Expected `target` to name the column to forecast, one "
                        f"of the numeric columns {numeric} of {source}. "
                        "Received: target=None"
                    )
                target = numeric[0]
        else:
            target = resolve_column(columns, target, "target", source)

        inputs = [target]
        for name in features:
            column = resolve_column(columns, name, "features", source)
            if column == date_column:
                raise ValueError(
                    f"Expected `features` to name value columns, not the date "
                    f"column. Received: features={list(features)!r}"
                )
            if column not in inputs:
                inputs.append(column)

        data = pd.DataFrame({c: _to_numeric(frame, c, source) for c in inputs}, index=frame.index)
        dates = parse_dates(frame[date_column], date_column, source)
        data.index = pd.DatetimeIndex(dates, name="date")
        if dates.isna().any():
            raise ValueError(
                f"Expected every row of {source} to have a date in column "
                f"{date_column!r}. Received: {int(dates.isna().sum())} empty dates"
            )

        if not data.index.is_monotonic_increasing:
            descending = data.index.is_monotonic_decreasing
            data = data.sort_index(kind="stable")
            order = "newest first" if descending else "out of order"
            notes.append(f"sorted {len(data)} rows by date (the file was {order})")

        data = _handle_duplicates(data, duplicates, source, notes)
        data = _handle_missing(data, missing, source, notes)
        step = infer_step(data.index)
        data = _handle_gaps(data, step, gaps, source, notes)

        for note in notes:
            logger.info("%s: %s", source, note)
        return cls(
            frame=data,
            target=target,
            source=source,
            step=step,
            notes=tuple(notes),
            date_column=date_column,
        )


def _handle_duplicates(data, policy, source, notes):
    repeated = data.index.duplicated(keep="first")
    count = int(repeated.sum())
    if count == 0:
        return data
    first = data.index[repeated][0].date()
    if policy == "error":
        raise ValueError(
            f"Expected unique dates in {source}. Received: {count} repeated "
            f"dates, first {first}. Choose duplicates='first', 'last' or 'mean' "
            "(--duplicates)"
        )
    if policy == "mean":
        data = data.groupby(level=0).mean()
    else:
        data = data[~data.index.duplicated(keep=policy)]
    notes.append(f"merged {count} repeated dates (first {first}) with {policy!r}")
    return data


def _handle_missing(data, policy, source, notes):
    counts = data.isna().sum()
    total = int(counts.sum())
    if total == 0:
        return data
    where = ", ".join(f"{c}: {int(n)}" for c, n in counts.items() if n)
    first = data.index[data.isna().any(axis=1)][0].date()
    if policy == "error":
        raise ValueError(
            f"Expected no missing values in the used columns of {source}. "
            f"Received: {total} missing ({where}), first on {first}. Choose "
            "missing='drop', 'ffill' or 'interpolate' (--missing)"
        )
    if policy == "ffill":
        data = data.ffill()
    elif policy == "interpolate":
        data = data.interpolate(method="time", limit_area="inside").ffill()
    before = len(data)
    data = data.dropna()
    dropped = before - len(data)
    done = {"drop": "dropped their rows", "ffill": "filled forward"}.get(
        policy, "interpolated them in time"
    )
    note = f"{total} missing values ({where}): {done}"
    if policy != "drop" and dropped:
        note += f"; dropped {dropped} leading rows that could not be filled"
    notes.append(note)
    return data


def _handle_gaps(data, step, policy, source, notes):
    if len(data) < 2:
        return data
    deltas = data.index[1:] - data.index[:-1]
    gap_rows = np.flatnonzero(deltas > step)
    if len(gap_rows) == 0:
        return data
    missing_steps = int(sum(round(deltas[i] / step) - 1 for i in gap_rows))
    first = data.index[gap_rows[0]].date()
    if policy == "error":
        raise ValueError(
            f"Expected one row every {step} in {source}. Received: "
            f"{len(gap_rows)} gaps, about {missing_steps} missing dates, first "
            f"after {first}. Choose gaps='keep', 'ffill' or 'interpolate' (--gaps)"
        )
    if policy == "keep":
        notes.append(
            f"kept {len(gap_rows)} gaps (first after {first}): rows are treated "
            "as consecutive steps"
        )
        return data
    grid = pd.date_range(data.index[0], data.index[-1], freq=step, name="date")
    off_grid = data.index.difference(grid)
    if len(off_grid):
        raise ValueError(
            f"Expected the dates of {source} to lie on a grid of {step} to fill "
            f"gaps. Received: {len(off_grid)} dates off it, first "
            f"{off_grid[0]}. Use gaps='keep'"
        )
    data = data.reindex(grid)
    if policy == "ffill":
        data = data.ffill()
    else:
        data = data.interpolate(method="time")
    notes.append(
        f"filled {missing_steps} missing dates in {len(gap_rows)} gaps (first "
        f"after {first}) with {policy!r}"
    )
    return data
