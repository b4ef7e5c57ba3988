"""A regular series (daily, business-daily, monthly, hourly, ...) read from a CSV file."""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import os
import re

import numpy as np
import pandas as pd

from keras_lstm_cell._checks import check_choice
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell.forecast import csv_format
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast.config import DEFAULT_MAX_GAP
from keras_lstm_cell.forecast.config import DUPLICATE_POLICIES
from keras_lstm_cell.forecast.config import GAP_POLICIES
from keras_lstm_cell.forecast.config import MISSING_POLICIES
from keras_lstm_cell.forecast.config import SEPARATORS
from keras_lstm_cell.forecast.config import check_number_format
from keras_lstm_cell.forecast.config import check_separator

logger = logging.getLogger(__name__)

DEFAULT_DATASET = "seattle_weather.csv"  # NOAA, public domain; see datasets/*.md
DEFAULT_DATE_COLUMN = "date"
DEFAULT_TARGET = "temp_max"
# Units of the embedded data's columns (datasets/seattle_weather.md).
DEFAULT_UNITS = {"precipitation": "mm", "temp_max": "°C", "temp_min": "°C", "wind": "m/s"}
# The model computes in float32 (largest value 3.4e38); values this large
# would overflow its scaling, so reading stops there.
MAX_ABS_VALUE = 1e30

# Tried in order; the first format that parses every row wins. CryptoDataDownload
# has used the first four over the years, the Seattle file uses YYYY/MM/DD.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y",
    "%m/%d/%Y %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%d %I-%p",
    "%d.%m.%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y %H:%M:%S",
    "%b %d, %Y",  # CoinMarketCap's "Dec 04, 2019"
)
# Column names taken as the date column when `date_column` is not given.
DATE_COLUMN_NAMES = ("date", "datetime", "timestamp", "time", "month")
# Column taken as the target when `target` is not given (price files).
TARGET_COLUMN_NAMES = ("close",)
# Trailing marks of footnotes in column names ("Close**" on CoinMarketCap).
_FOOTNOTE_MARKS = "*"

_BANNER_MARK = "cryptodatadownload"


def default_dataset_path() -> str:
    """Path of the embedded Seattle weather CSV."""
    return str(importlib.resources.files("keras_lstm_cell.forecast") / "datasets" / DEFAULT_DATASET)


def read_csv(path, sep: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Reads a CSV as text columns, skipping a CryptoDataDownload banner line.

    The separator (`,`, `;`, tab or `|`) is detected unless `sep` is given.
    Returns the frame (every column as read, names stripped of spaces; its
    `attrs["sep"]` is the separator) and the notes on what was done to it.
    """
    path = os.fspath(path)
    sep = check_separator(sep)
    if not os.path.isfile(path):
        why = "a directory" if os.path.isdir(path) else "no such file"
        raise ValueError(
            f"Expected `csv` to be an existing CSV file. Received: csv={path!r} ({why})"
        )
    try:
        with open(path, encoding="utf-8-sig") as f:
            lines = [f.readline() for _ in range(csv_format.SAMPLE_LINES + 1)]
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Expected `csv` to be a readable UTF-8 text file. Received: csv={path!r} ({e})"
        ) from e
    notes = []
    skiprows = 0
    if _BANNER_MARK in lines[0].lower():
        skiprows = 1
        notes.append(f"skipped the banner line {lines[0].strip()!r}")
    if sep is None:
        sep = csv_format.detect_separator(lines[skiprows:])
        if sep != ",":
            notes.append(f"read as a {csv_format.shown_separator(sep)} file")
    try:
        frame = pd.read_csv(
            path, sep=sep, skiprows=skiprows, dtype=str, encoding="utf-8-sig", keep_default_na=True
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise ValueError(
            f"Expected `csv` to be a {csv_format.shown_separator(sep)} file with a header row "
            f"(choose the separator with --sep). Received: csv={path!r} ({str(e).strip()})"
        ) from e
    frame.columns = [str(c).strip() for c in frame.columns]
    frame.attrs["sep"] = sep
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
            f"{_separator_hint(list(columns))}"
        )
    raise ValueError(
        f"Expected `{argument}` to match exactly one column of {source}, but "
        f"{matches} differ only by case. Received: {argument}={name!r}"
    )


def _find_by_names(columns, names):
    for name in names:
        for column in columns:
            if column.lower().rstrip(_FOOTNOTE_MARKS) == name:
                return column
    return None


def _separator_hint(columns) -> str:
    """Why a file may have been read as one column: another separator."""
    if len(columns) != 1:
        return ""
    for sep in SEPARATORS:
        if sep in columns[0]:
            return f"; the file looks {csv_format.shown_separator(sep)}: pass --sep {sep!r}"
    return ""


def _single_zone(parsed: pd.DatetimeIndex, column: str, notes) -> pd.DatetimeIndex:
    """Dates with one UTC offset, as the local dates they name."""
    if parsed.tz is None:
        return parsed
    if notes is not None:
        notes.append(f"dates of column {column!r} carry the time zone {parsed.tz}; used as local")
    return parsed.tz_localize(None)


def _mixed_zones(text: pd.Series, column: str, source: str) -> ValueError:
    offsets = text.str.extract(r"([+-]\d\d:?\d\d|Z)$", expand=False)
    first = offsets.dropna().iloc[0] if offsets.notna().any() else None
    other = text[offsets != first]
    examples = f"{text.iloc[0]!r} and {other.iloc[0]!r}" if len(other) else repr(text.iloc[0])
    return ValueError(
        f"Expected column {column!r} of {source} to hold dates of one time zone. "
        f"Received: different UTC offsets, e.g. {examples}; convert them to one zone"
    )


def _same_format(text: pd.Series, example: str) -> pd.Series:
    """Which values parse with the first of `DATE_FORMATS` that parses `example`."""
    for date_format in DATE_FORMATS:
        if pd.notna(pd.to_datetime(example, format=date_format, errors="coerce")):
            return pd.to_datetime(text, format=date_format, errors="coerce").notna()
    # Not one of ours: compare the layout of digits and separators.
    return text.str.replace(r"\d", "0", regex=True) == re.sub(r"\d", "0", example)


def parse_dates(values: pd.Series, column: str, source: str, notes=None) -> pd.DatetimeIndex:
    """Parses a date column given as text or Unix timestamps (s or ms).

    Every row must use the same format, one of `DATE_FORMATS` or ISO 8601,
    and the same time zone, if any. `notes`, a list, receives what was done.
    """
    text = values.astype(str).str.strip()
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all():
        # CryptoDataDownload's `unix` columns hold seconds in old files and
        # milliseconds in newer ones.
        unit = "ms" if numeric.abs().max() > 1e11 else "s"
        return pd.DatetimeIndex(pd.to_datetime(numeric, unit=unit))
    for date_format in (*DATE_FORMATS, "ISO8601"):
        try:
            parsed = pd.DatetimeIndex(pd.to_datetime(text, format=date_format))
        except (ValueError, TypeError) as e:
            if "Mixed timezones" in str(e):
                raise _mixed_zones(text, column, source) from None
            continue
        return _single_zone(parsed, column, notes)
    try:
        parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    except (ValueError, TypeError) as e:
        if "Mixed timezones" in str(e):
            raise _mixed_zones(text, column, source) from None
        raise
    bad = parsed.isna().to_numpy()
    if not bad.any():
        # Every row is a date, but not all in one format: day and month
        # could be read either way, so no guess is made.
        bad = ~_same_format(text, text.iloc[0]).to_numpy()
        row = int(np.flatnonzero(bad)[0]) if bad.any() else 0
        raise ValueError(
            f"Expected column {column!r} of {source} to hold dates in one format, "
            f"such as 2019-05-20, 5/20/2019 or 20.05.2019. Received: {text.iloc[0]!r} "
            f"(data row 1) and {text.iloc[row]!r} (data row {row + 1}) in different formats"
        )
    row = int(np.flatnonzero(bad)[0])
    raise ValueError(
        f"Expected column {column!r} of {source} to hold dates such as "
        f"2019-05-20, 5/20/2019 or 2019-05-20 23:00:00. Received: {text.iloc[row]!r} "
        f"in data row {row + 1} ({int(bad.sum())} unparsable rows)"
    )


def _is_numeric(text: pd.Series) -> bool:
    values = pd.to_numeric(text, errors="coerce")
    return bool((values.notna() | text.isna()).all() and values.notna().any())


def _to_numeric(frame: pd.DataFrame, column: str, source: str) -> pd.Series:
    """The column as float64; refuses text, infinities and values over `MAX_ABS_VALUE`."""
    text = frame[column]
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna() & text.notna() & (text.astype(str).str.strip() != "")
    if bad.any():
        first = bad.to_numpy().nonzero()[0][0]
        value = str(text.iloc[first])
        hint = (
            "; if it is a number, give its format with --decimal and --thousands"
            if re.fullmatch(r"[\d\s.,'+-]+", value.strip()) and re.search(r"\d", value)
            else ""
        )
        raise ValueError(
            f"Expected column {column!r} of {source} to be numeric. Received: "
            f"{value!r} in data row {first + 1} ({int(bad.sum())} non-numeric rows){hint}"
        )
    values = values.astype("float64")
    # NaN is a missing value (the `missing` policy); inf and huge values are errors.
    too_large = ~(values.abs() <= MAX_ABS_VALUE) & values.notna()
    if too_large.any():
        first = too_large.to_numpy().nonzero()[0][0]
        raise ValueError(
            f"Expected finite values of at most {MAX_ABS_VALUE:g} in magnitude in "
            f"column {column!r} of {source}. Received: {text.iloc[first]!r} in data "
            f"row {first + 1} ({int(too_large.sum())} such rows)"
        )
    return values


def infer_step(dates: pd.DatetimeIndex) -> pd.Timedelta:
    """The most common spacing between consecutive dates (a month is 28 to 31 days)."""
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
    by an explicit policy; `"error"` refuses the file with a message naming
    the fault and the other choices:

    - duplicate dates (`duplicates`, default `"error"`): `"first"`, `"last"`
      or `"mean"`;
    - missing values in the used columns (`missing`, default `"error"`):
      `"drop"` the row, `"ffill"` (repeat the previous value) or
      `"interpolate"` (linear in time); rows that cannot be filled at the
      start are dropped;
    - gaps, i.e. missing dates on the grid of the series' frequency `freq`
      (`gaps`, default `"interpolate"`): `"interpolate"` (insert the dates and
      fill them linearly in time) or `"ffill"`, for gaps of at most `max_gap`
      missing rows (a longer gap is refused), or `"keep"` (treat rows as
      consecutive steps). An exchange that published nothing for a few days
      leaves such gaps in real price files; a holiday is a one-row gap of
      business-day ("B") data, whose weekends are not gaps.

    The frequency is a pandas offset alias ("D", "B", "W-SUN", "MS", "QS-JAN",
    "h", ...), inferred from the dates (`frequency.infer_frequency`) unless
    given; dates that fit no frequency, or not the given one, are refused.

    What was done is kept in `notes`, one line each, and logged; the dates
    that were filled in are kept in `filled` as `(first, last)` ranges.

    Args:
        frame: Float64 `DataFrame` indexed by ascending unique dates; the
            columns are the model inputs, target first.
        target: Name of the target column, the first column of `frame`.
        source: Where the data came from, for messages.
        step: Most common spacing between consecutive rows (for readers of
            older exports; `freq` is the calendar).
        notes: What reading and cleaning did to the data.
        date_column: Name of the date column in the file.
        filled: Ranges `(first, last)` of dates inserted to fill gaps, as
            ISO date strings.
        freq: Pandas frequency alias of the rows, e.g. "D", "B" or "MS".

    Example:

    >>> series = TimeSeries.from_csv(default_dataset_path(), target="temp_max")
    >>> series.columns, len(series), series.freq
    (['temp_max'], 1461, 'D')
    """

    frame: pd.DataFrame
    target: str
    source: str
    step: pd.Timedelta
    notes: tuple[str, ...] = ()
    date_column: str = DEFAULT_DATE_COLUMN
    filled: tuple[tuple[str, str], ...] = ()
    freq: str = "D"

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

    def next_dates(self, count: int) -> pd.DatetimeIndex:
        """The `count` dates after the last row, on the series' calendar."""
        return frequency.next_dates(self.dates[-1], self.freq, count)

    @property
    def filled_mask(self) -> np.ndarray:
        """`(time,)` bool: rows inserted to fill a gap."""
        mask = np.zeros(len(self), dtype=bool)
        for first, last in self.filled:
            mask |= (self.dates >= pd.Timestamp(first)) & (self.dates <= pd.Timestamp(last))
        return mask

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
        gaps: str = "interpolate",
        max_gap: int = DEFAULT_MAX_GAP,
        freq: str | None = None,
        sep: str | None = None,
        decimal: str | None = None,
        thousands: str | None = None,
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
            max_gap: Longest gap, in missing rows, that `gaps` fills.
            freq: Pandas frequency alias of the rows; `None` to infer it.
            sep: Field separator; `None` to detect `,`, `;`, tab or `|`.
            decimal: Decimal mark of the numbers, `.` or `,`; `None` to detect.
            thousands: Thousands separator (`,`, `.`, space or `'`);
                `None` to detect.
        """
        frame, notes = read_csv(path, sep=sep)
        return cls.from_frame(
            frame,
            source=os.fspath(path),
            date_column=date_column,
            target=target,
            features=features,
            duplicates=duplicates,
            missing=missing,
            gaps=gaps,
            max_gap=max_gap,
            freq=freq,
            decimal=decimal,
            thousands=thousands,
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
        gaps: str = "interpolate",
        max_gap: int = DEFAULT_MAX_GAP,
        freq: str | None = None,
        decimal: str | None = None,
        thousands: str | None = None,
        notes=(),
    ) -> TimeSeries:
        """Like `from_csv`, for a `DataFrame` of text or numeric columns.

        The frame's `attrs["sep"]`, if any, is the separator it was read with
        (a `;` makes decimal commas the likelier number format).
        """
        check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
        check_choice("missing", missing, MISSING_POLICIES)
        check_choice("gaps", gaps, GAP_POLICIES)
        max_gap = check_positive_int("max_gap", max_gap)
        offset = None if freq is None else frequency.to_frequency(freq)
        decimal, thousands = check_number_format(decimal, thousands)
        if isinstance(features, str):
            features = [f for f in features.split(",") if f.strip()]
        notes = list(notes)
        if len(frame) == 0:
            raise ValueError(f"Expected {source} to have data rows. Received: a header only")

        date_column = _choose_date_column(frame, source, date_column)
        frame = _read_numbers(frame, date_column, decimal, thousands, notes)
        inputs = _choose_inputs(frame, source, date_column, target, features)
        target = inputs[0]
        data = pd.DataFrame({c: _to_numeric(frame, c, source) for c in inputs}, index=frame.index)
        dates = parse_dates(frame[date_column], date_column, source, notes)
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
        offset = _frequency(data.index, offset, source)
        data, filled = _handle_gaps(data, offset, gaps, max_gap, source, notes)

        for note in notes:
            logger.info("%s: %s", source, note)
        return cls(
            frame=data,
            target=target,
            source=source,
            step=step,
            notes=tuple(notes),
            date_column=date_column,
            filled=filled,
            freq=frequency.alias(offset),
        )


def _choose_date_column(frame, source, date_column) -> str:
    """The date column, by name or detected."""
    columns = list(frame.columns)
    if date_column is not None:
        return resolve_column(columns, date_column, "date_column", source)
    found = _find_by_names(columns, DATE_COLUMN_NAMES)
    if found is None:
        raise ValueError(
            f"Expected `date_column` to name the date column of {source}, "
            f"one of {columns}; none is called "
            f"{'/'.join(DATE_COLUMN_NAMES)}. Received: date_column=None{_separator_hint(columns)}"
        )
    return found


def _read_numbers(frame, date_column, decimal, thousands, notes) -> pd.DataFrame:
    """The frame with numbers written as `1,234.5` or `12,5` rewritten as `1234.5`."""
    texts = [
        c for c in frame.columns if c != date_column and not pd.api.types.is_numeric_dtype(frame[c])
    ]
    decimal, thousands = csv_format.number_format(
        [frame[c] for c in texts], frame.attrs.get("sep", ","), decimal, thousands
    )
    if (decimal, thousands) == (".", None):
        return frame
    frame = frame.copy()
    for column in texts:
        frame[column] = csv_format.to_plain_numbers(frame[column], decimal, thousands)
    written = "12" + (thousands or "") + "345" + decimal + "6"
    notes.append(f"read numbers written as {written} (decimal {decimal!r})")
    return frame


def _choose_inputs(frame, source, date_column, target, features) -> list[str]:
    """The input columns, target first, by name or detected."""
    columns = list(frame.columns)
    if target is None:
        target = _find_by_names(columns, TARGET_COLUMN_NAMES)
        if target is None:
            numeric = [c for c in columns if c != date_column and _is_numeric(frame[c])]
            if len(numeric) != 1:
                raise ValueError(
                    f"Expected `target` to name the column to forecast, one "
                    f"of the numeric columns {numeric} of {source}. "
                    "Received: target=None"
                    + ("; no column reads as numbers as written" if not numeric else "")
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
    return inputs


def _frequency(dates: pd.DatetimeIndex, offset, source: str) -> pd.DateOffset:
    """`offset` once every date is on its grid, or the inferred frequency."""
    if offset is not None:
        off = frequency.off_grid(dates, offset)
        if len(off):
            raise ValueError(
                f"Expected the dates of {source} on the calendar of "
                f"freq={frequency.alias(offset)!r} from {_shown_date(dates[0])} on. Received: "
                f"{len(off)} dates off it, first {_shown_date(off[0])} ({off[0]:%A})"
            )
        return offset
    alias, why = frequency.infer_frequency(dates)
    if alias is None:
        raise ValueError(
            f"Expected the dates of {source} to follow one frequency (days, business "
            f"days, weeks, months, quarters, years, hours, minutes). Received: {why}; "
            "resample the file, or give the calendar with --freq"
        )
    return frequency.to_frequency(alias)


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


def _shown_date(timestamp: pd.Timestamp) -> str:
    return str(timestamp.date()) if timestamp == timestamp.normalize() else str(timestamp)


def _handle_gaps(data, offset, policy, max_gap, source, notes):
    """Fills (or keeps, or refuses) missing dates; returns the data and the filled ranges."""
    if len(data) < 2:
        return data, ()
    grid = frequency.grid(data.index[0], data.index[-1], offset)
    positions = grid.get_indexer(data.index)  # every date is on the grid
    missing_after = np.diff(positions) - 1  # per row, dates missing before the next
    gap_rows = np.flatnonzero(missing_after > 0)
    if len(gap_rows) == 0:
        return data, ()
    missing = [int(missing_after[i]) for i in gap_rows]  # per gap
    # (first, last) missing date of each gap
    ranges = [(grid[positions[i] + 1], grid[positions[i + 1] - 1]) for i in gap_rows]
    shown = ", ".join(
        _shown_date(a) if a == b else f"{_shown_date(a)} .. {_shown_date(b)}" for a, b in ranges[:3]
    )
    shown += f" and {len(ranges) - 3} more" if len(ranges) > 3 else ""
    if policy == "error":
        raise ValueError(
            f"Expected a row for every date of frequency {frequency.describe(offset.freqstr)} in "
            f"{source}. Received: {len(gap_rows)} gaps, {sum(missing)} missing dates ({shown}). "
            "Choose gaps='interpolate', 'ffill' or 'keep' (--gaps)"
        )
    if policy == "keep":
        notes.append(f"kept {len(gap_rows)} gaps ({shown}): rows are treated as consecutive steps")
        return data, ()
    longest = int(np.argmax(missing))
    if missing[longest] > max_gap:
        first, last = ranges[longest]
        raise ValueError(
            f"Expected gaps of at most max_gap={max_gap} missing rows in {source} "
            f"to fill them. Received: {missing[longest]} missing dates "
            f"{_shown_date(first)} .. {_shown_date(last)}; raise --max-gap, or "
            "choose gaps='keep' (--gaps keep)"
        )
    data = data.reindex(grid)
    data = data.ffill() if policy == "ffill" else data.interpolate(method="time")
    how = "repeating the last value" if policy == "ffill" else "linear interpolation in time"
    notes.append(f"filled {sum(missing)} missing dates in {len(gap_rows)} gaps ({shown}) by {how}")
    return data, tuple((_shown_date(a), _shown_date(b)) for a, b in ranges)
