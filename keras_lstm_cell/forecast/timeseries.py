"""A regular series (daily, business-daily, monthly, hourly, ...) read from a CSV file."""

from __future__ import annotations

import dataclasses
import importlib.resources
import logging
import os
import re
import shlex

import numpy as np
import pandas as pd

from keras_lstm_cell._checks import check_choice
from keras_lstm_cell._checks import check_positive_int
from keras_lstm_cell._checks import is_int
from keras_lstm_cell.forecast import csv_format
from keras_lstm_cell.forecast import frequency
from keras_lstm_cell.forecast.config import DEFAULT_MAX_GAP
from keras_lstm_cell.forecast.config import DUPLICATE_POLICIES
from keras_lstm_cell.forecast.config import GAP_POLICIES
from keras_lstm_cell.forecast.config import MISSING_POLICIES
from keras_lstm_cell.forecast.config import SEPARATORS
from keras_lstm_cell.forecast.config import check_date_format
from keras_lstm_cell.forecast.config import check_na_values
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

# Times of day a date may carry, after a space.
_TIMES = ("", " %H:%M", " %H:%M:%S")
# Formats read without `date_format`. Each that parses every row is a reading
# of the column; day-first and month-first ones (01/02/2020) can both parse
# a file whose days are all 12 or less, and then the reading on a regular
# calendar is taken. CryptoDataDownload has used %Y-%m-%d, %m/%d/%Y and
# %Y-%m-%d %I-%p over the years, the Seattle file uses %Y/%m/%d, the UCI air
# quality file %d/%m/%Y.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    *(f"%m/%d/%Y{time}" for time in _TIMES),
    *(f"%d/%m/%Y{time}" for time in _TIMES),
    "%Y/%m/%d",
    "%Y-%m-%d %I-%p",
    *(f"%d.%m.%Y{time}" for time in _TIMES),
    *(f"%d-%m-%Y{time}" for time in _TIMES),
    *(f"%m-%d-%Y{time}" for time in _TIMES),
    "%b %d, %Y",  # CoinMarketCap's "Dec 04, 2019"
)
# Column names taken as the date column when `date_column` is not given.
DATE_COLUMN_NAMES = ("date", "datetime", "timestamp", "time", "month")
# Column taken as the target when `target` is not given (price files).
TARGET_COLUMN_NAMES = ("close",)
# Names of a column of times of day joined to the date column beside it
# (the UCI air quality file's "Date;Time").
TIME_COLUMN_NAMES = ("time", "hour")
# 18:00:00, 18:00, 18.00.00 (the UCI file) or a bare hour 18.
_TIME_OF_DAY = r"(\d{1,2})(?:[:.](\d\d)(?:[:.](\d\d))?)?"
# pandas's name for a column whose header is empty.
_UNNAMED = r"Unnamed: \d+"
# Trailing marks of footnotes in column names ("Close**" on CoinMarketCap).
_FOOTNOTE_MARKS = "*"

_BANNER_MARK = "cryptodatadownload"


def default_dataset_path() -> str:
    """Path of the embedded Seattle weather CSV."""
    return str(importlib.resources.files("keras_lstm_cell.forecast") / "datasets" / DEFAULT_DATASET)


def read_csv(
    path, sep: str | None = None, keep_default_na: bool = True
) -> tuple[pd.DataFrame, list[str]]:
    """Reads a CSV as text columns, skipping a CryptoDataDownload banner line.

    The separator (`,`, `;`, tab or `|`) is detected unless `sep` is given.
    `keep_default_na=False` keeps every field as text (an id "NA" stays
    "NA"; an empty field is "").
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
            path,
            sep=sep,
            skiprows=skiprows,
            dtype=str,
            encoding="utf-8-sig",
            keep_default_na=keep_default_na,
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


def _data_row(values: pd.Series, position: int) -> int:
    """The 1-based data row of `values`' row at `position`: its label when the
    rows are numbered (empty rows dropped keep the numbers of the file)."""
    label = values.index[position]
    return int(label) + 1 if is_int(label) else position + 1


def _order(date_format: str) -> str:
    """How `date_format` writes day and month: "day first" or "month first"."""
    if "%d" in date_format and "%m" in date_format:
        return "day first" if date_format.index("%d") < date_format.index("%m") else "month first"
    return "as written"


def _parse_format(text: pd.Series, date_format: str, errors: str = "raise") -> pd.DatetimeIndex:
    """`text` parsed with one format; a mix of UTC offsets is refused by the caller."""
    return pd.DatetimeIndex(pd.to_datetime(text, format=date_format, errors=errors))


def _readings(text: pd.Series) -> dict[str, pd.DatetimeIndex]:
    """Every different reading of `text` by one of `DATE_FORMATS` that parses each row."""
    present = text.dropna()
    if present.empty:
        return {}
    example = present.iloc[0]
    readings = {}
    for date_format in DATE_FORMATS:
        # One value first: most formats fail on it, cheaply.
        if pd.isna(pd.to_datetime(example, format=date_format, errors="coerce")):
            continue
        try:
            parsed = _parse_format(text, date_format)
        except (ValueError, TypeError):
            continue
        if not any(parsed.equals(other) for other in readings.values()):
            readings[date_format] = parsed
    return readings


def _choose_reading(readings, text, column, source, notes) -> pd.DatetimeIndex:
    """The one reading whose dates follow a regular calendar (day or month first)."""
    calendars = {
        date_format: frequency.infer_frequency(parsed.dropna().unique().sort_values())[0]
        for date_format, parsed in readings.items()
    }
    regular = [date_format for date_format, alias in calendars.items() if alias is not None]
    example = text.dropna().iloc[0]
    if len(regular) == 1:
        chosen = regular[0]
        others = " or ".join(_order(f) for f in readings if f != chosen)
        if notes is not None:
            notes.append(
                f"read dates {example} .. as {_order(chosen)} ({chosen}): {others} "
                "they follow no regular calendar"
            )
        return readings[chosen]
    shown = " and ".join(
        f"{_order(f)} ({'calendar ' + alias if alias else 'no regular calendar'})"
        for f, alias in calendars.items()
    )
    suggested = next((f for f in readings if _order(f) == "day first"), next(iter(readings)))
    raise ValueError(
        f"Expected dates whose day and month order is clear in column {column!r} of "
        f"{source}. Received: {example!r} .. reads as {shown}; give the format with "
        f"--date-format, e.g. --date-format {shlex.quote(suggested)}"
    )


def _with_format(text, date_format, column, source) -> pd.DatetimeIndex:
    """`text` parsed with the given `date_format`; a row that does not match is refused."""
    try:
        parsed = _parse_format(text, date_format, errors="coerce")
    except (ValueError, TypeError) as e:
        if "Mixed timezones" in str(e):
            raise _mixed_zones(text, column, source) from None
        # A bad directive, e.g. "%Q".
        raise ValueError(
            "Expected `date_format` to be a strftime format such as '%d/%m/%Y'. "
            f"Received: date_format={date_format!r} ({str(e).splitlines()[0]})"
        ) from None
    # An empty date is refused later, with or without a format.
    bad = np.flatnonzero(parsed.isna() & text.notna().to_numpy())
    if len(bad):
        raise ValueError(
            f"Expected the dates of column {column!r} of {source} in "
            f"date_format={date_format!r} (--date-format). Received: {text.iloc[bad[0]]!r} in "
            f"data row {_data_row(text, bad[0])} ({len(bad)} rows that do not match it)"
        )
    return parsed


def _format_mix(text: pd.Series, column: str, source: str) -> ValueError:
    """Why no one format reads every row of `text`, each row being some date."""
    # (formats, rows): which of our formats reads which row.
    known = (
        np.array([_parse_format(text, f, errors="coerce").notna() for f in DATE_FORMATS])
        | text.isna().to_numpy()
    )
    unknown = np.flatnonzero(~known.any(axis=0))
    if len(unknown):
        row = unknown[0]
        return ValueError(
            f"Expected column {column!r} of {source} to hold dates such as 2019-05-20, "
            f"5/20/2019, 20/05/2019 or 20.05.2019, or dates of a format given with "
            f"--date-format. Received: {text.iloc[row]!r} in data row "
            f"{_data_row(text, row)} ({len(unknown)} rows in other formats); give their "
            "format with --date-format, e.g. --date-format '%d %b %Y' for 20 May 2019"
        )
    # Two rows that no one format reads both; rows read by the same formats
    # are alike, so one of each kind is tried.
    _, kinds = np.unique(known.T, axis=0, return_index=True)
    for row in sorted(kinds):
        apart = np.flatnonzero(~known[known[:, row]].any(axis=0))
        if len(apart):
            first, other = sorted((row, int(apart[0])))
            return ValueError(
                f"Expected column {column!r} of {source} to hold dates in one format, "
                f"such as 2019-05-20, 5/20/2019 or 20.05.2019. Received: "
                f"{text.iloc[first]!r} (data row {_data_row(text, first)}) and "
                f"{text.iloc[other]!r} (data row {_data_row(text, other)}) in different formats"
            )
    return ValueError(
        f"Expected column {column!r} of {source} to hold dates in one format, such as "
        f"2019-05-20, 5/20/2019 or 20.05.2019. Received: {text.iloc[0]!r} .. where "
        "no one format reads every row; give it with --date-format"
    )


def parse_dates(
    values: pd.Series, column: str, source: str, notes=None, date_format: str | None = None
) -> pd.DatetimeIndex:
    """Parses a date column given as text or Unix timestamps (s or ms).

    Every row must use the same format, `date_format` if given, else one of
    `DATE_FORMATS` or ISO 8601, and the same time zone, if any. When both a
    day-first and a month-first format read every row, the reading whose
    dates follow a regular calendar is taken, and a file where both do is
    refused. `notes`, a list, receives what was done.
    """
    text = values.astype(str).str.strip()
    if date_format is not None:
        return _single_zone(_with_format(text, date_format, column, source), column, notes)
    numeric = pd.to_numeric(text, errors="coerce")
    if numeric.notna().all():
        # CryptoDataDownload's `unix` columns hold seconds in old files and
        # milliseconds in newer ones.
        unit = "ms" if numeric.abs().max() > 1e11 else "s"
        return pd.DatetimeIndex(pd.to_datetime(numeric, unit=unit))
    readings = _readings(text)
    if len(readings) > 1:
        return _choose_reading(readings, text, column, source, notes)
    if readings:
        return next(iter(readings.values()))
    try:
        return _single_zone(_parse_format(text, "ISO8601"), column, notes)
    except (ValueError, TypeError) as e:
        if "Mixed timezones" in str(e):
            raise _mixed_zones(text, column, source) from None
    try:
        parsed = pd.to_datetime(text, format="mixed", errors="coerce")
    except (ValueError, TypeError) as e:
        if "Mixed timezones" in str(e):
            raise _mixed_zones(text, column, source) from None
        raise
    bad = parsed.isna().to_numpy()
    if not bad.any():
        raise _format_mix(text, column, source)
    row = int(np.flatnonzero(bad)[0])
    raise ValueError(
        f"Expected column {column!r} of {source} to hold dates such as "
        f"2019-05-20, 5/20/2019 or 2019-05-20 23:00:00. Received: {text.iloc[row]!r} "
        f"in data row {_data_row(text, row)} ({int(bad.sum())} unparsable rows)"
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
            f"{value!r} in data row {_data_row(text, first)} ({int(bad.sum())} non-numeric "
            f"rows){hint}"
        )
    values = values.astype("float64")
    # NaN is a missing value (the `missing` policy); inf and huge values are errors.
    too_large = ~(values.abs() <= MAX_ABS_VALUE) & values.notna()
    if too_large.any():
        first = too_large.to_numpy().nonzero()[0][0]
        raise ValueError(
            f"Expected finite values of at most {MAX_ABS_VALUE:g} in magnitude in "
            f"column {column!r} of {source}. Received: {text.iloc[first]!r} in data "
            f"row {_data_row(text, first)} ({int(too_large.sum())} such rows)"
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

    Dates are read as `parse_dates` says (day or month first, or
    `date_format`), with the times of day of a time column joined to them;
    fields equal to one of `na_values` ("-200", "NA") are missing values.
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
    that were filled in, inserted into a gap or whose missing values were
    filled (`missing="ffill"` or `"interpolate"`), are kept in `filled` as
    `(first, last)` ranges: their forecasts are not scored, and windows see
    them as the last observed row before them (`data.model_inputs`).

    Args:
        frame: Float64 `DataFrame` indexed by ascending unique dates; the
            columns are the model inputs, target first.
        target: Name of the target column, the first column of `frame`.
        source: Where the data came from, for messages.
        step: Most common spacing between consecutive rows (for readers of
            older exports; `freq` is the calendar).
        notes: What reading and cleaning did to the data.
        date_column: Name of the date column in the file.
        filled: Ranges `(first, last)` of dates filled in (inserted into a
            gap, or with missing values filled), as ISO date strings.
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
        date_format: str | None = None,
        time_column: str | None = None,
        na_values=(),
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
            date_format: Strftime format of the date column, e.g.
                `"%d/%m/%Y"`; `None` to detect it (see `parse_dates`).
            time_column: Column of times of day (18:00:00, 18:00, 18.00.00
                or a bare hour 18) to join to the dates; `None` to join a
                column named time or hour beside a date column that has no
                times of its own.
            na_values: Codes that mean a missing value, e.g. `("-200", "NA")`
                or `"-200,NA"`; a numeric code matches numerically equal
                values (`-200` matches `-200.0` and `-200,0`). Such values
                are handled by `missing`, as empty fields are.
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
            date_format=date_format,
            time_column=time_column,
            na_values=na_values,
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
        date_format: str | None = None,
        time_column: str | None = None,
        na_values=(),
        notes=(),
    ) -> TimeSeries:
        """Like `from_csv`, for a `DataFrame` of text or numeric columns.

        The frame's `attrs["sep"]`, if any, is the separator it was read with
        (a `;` makes decimal commas the likelier number format). Rows whose
        every field is empty, and empty columns without a name ("Unnamed: 15",
        as pandas names them), are dropped, as spreadsheets leave them at the
        end of a file; rows keep their numbers in messages.
        """
        check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
        check_choice("missing", missing, MISSING_POLICIES)
        check_choice("gaps", gaps, GAP_POLICIES)
        max_gap = check_positive_int("max_gap", max_gap)
        offset = None if freq is None else frequency.to_frequency(freq)
        decimal, thousands = check_number_format(decimal, thousands)
        date_format = check_date_format(date_format)
        na_values = check_na_values(na_values)
        if isinstance(features, str):
            features = [f for f in features.split(",") if f.strip()]
        notes = list(notes)
        # Positions as labels, so that messages give the file's row numbers
        # after empty rows are dropped.
        frame = _drop_empty(frame.reset_index(drop=True), notes)
        if len(frame) == 0:
            raise ValueError(f"Expected {source} to have data rows. Received: a header only")

        date_column = _choose_date_column(frame, source, date_column)
        dates = parse_dates(frame[date_column], date_column, source, notes, date_format)
        dates, time_column = _join_times(frame, dates, date_column, time_column, source, notes)
        not_values = [c for c in (date_column, time_column) if c is not None]
        values = [c for c in frame.columns if c not in not_values]
        # Codes are looked for before numbers are read ("NA" would hide the
        # number format) and after ("-200,0" reads as -200 only then).
        frame, coded = _coded_missing(frame, values, na_values)
        frame = _read_numbers(frame, not_values, decimal, thousands, notes)
        frame, coded_after = _coded_missing(frame, values, na_values)
        inputs = _choose_inputs(frame, source, not_values, target, features)
        target = inputs[0]
        if na_values:
            notes.append(_coded_note(na_values, (coded | coded_after)[inputs]))
        data = pd.DataFrame({c: _to_numeric(frame, c, source) for c in inputs}, index=frame.index)
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
        data, imputed = _handle_missing(data, missing, source, notes)
        step = infer_step(data.index)
        offset = _frequency(data.index, offset, source)
        data, filled = _handle_gaps(data, offset, gaps, max_gap, source, notes)
        filled = tuple(sorted(filled + imputed, key=lambda r: pd.Timestamp(r[0])))

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


def _blank(values: pd.Series) -> pd.Series:
    """Which fields are empty: missing or only spaces."""
    return values.isna() | (values.astype(str).str.strip() == "")


def _drop_empty(frame: pd.DataFrame, notes) -> pd.DataFrame:
    """`frame` without rows whose every field is empty, nor empty unnamed columns.

    Spreadsheets export both at the end of a file: `;;;;` rows and a `;;`
    at the end of every line (the UCI air quality file has both).
    """
    attrs = dict(frame.attrs)
    blank = pd.DataFrame({c: _blank(frame[c]) for c in frame.columns}, index=frame.index)
    unnamed = [c for c in frame.columns if re.fullmatch(_UNNAMED, str(c)) and blank[c].all()]
    if unnamed and len(unnamed) < len(frame.columns):
        frame = frame.drop(columns=unnamed)
        blank = blank.drop(columns=unnamed)
        notes.append(f"dropped {len(unnamed)} empty columns without a name ({', '.join(unnamed)})")
    empty = blank.all(axis=1).to_numpy()
    if empty.any() and not empty.all():
        rows = frame.index[empty] + 1
        shown = ", ".join(str(r) for r in rows[:3]) + (
            f" and {len(rows) - 3} more" if len(rows) > 3 else ""
        )
        frame = frame[~empty]
        notes.append(f"dropped {len(rows)} empty rows (data rows {shown})")
    frame.attrs.update(attrs)
    return frame


def _times_of_day(values: pd.Series) -> tuple[pd.TimedeltaIndex, np.ndarray]:
    """`(offsets, bad)`: times written 18:00:00, 18:00, 18.00.00 or 18 as offsets
    from midnight, and which rows are not such a time."""
    if pd.api.types.is_numeric_dtype(values):
        # Hours as numbers: 18 or 18.0, not 18.5.
        values = values.map(lambda v: f"{v:g}")
    parts = values.astype(str).str.strip().str.extract(f"^{_TIME_OF_DAY}$").astype(float)
    hours, minutes, seconds = (parts[i] for i in range(3))
    bad = (
        hours.isna()
        | (hours > 23)
        | (minutes.fillna(0) > 59)
        | (seconds.fillna(0) > 59)
        | values.isna()
    ).to_numpy()
    total = hours * 3600 + minutes.fillna(0) * 60 + seconds.fillna(0)
    return pd.TimedeltaIndex(pd.to_timedelta(total.where(~bad), unit="s")), bad


def _time_column_beside(columns: list, date_column: str) -> str | None:
    """The column named like `TIME_COLUMN_NAMES` next to the date column, if any."""
    at = columns.index(date_column)
    for column in columns[at + 1 : at + 2] + columns[max(at - 1, 0) : at]:
        if str(column).strip().lower() in TIME_COLUMN_NAMES:
            return column
    return None


def _join_times(frame, dates, date_column, time_column, source, notes):
    """`(dates, time_column)`: the dates with the times of day of the time
    column added, and its name; the dates as they are and `None` without one."""
    columns = list(frame.columns)
    given = time_column is not None
    if given:
        time_column = resolve_column(columns, time_column, "time_column", source)
        if time_column == date_column:
            raise ValueError(
                f"Expected `time_column` to name a column other than the date column "
                f"{date_column!r}. Received: time_column={time_column!r}"
            )
    else:
        time_column = _time_column_beside(columns, date_column)
        if time_column is None:
            return dates, None
    timed = np.flatnonzero((dates != dates.normalize()) & dates.notna())
    if len(timed):
        if not given:  # a full date and time already: the column is a value
            return dates, None
        raise ValueError(
            f"Expected dates without a time of day in column {date_column!r} of {source} "
            f"to join the times of column {time_column!r}. Received: "
            f"{frame[date_column].iloc[timed[0]]!r} in data row "
            f"{_data_row(frame[date_column], timed[0])}"
        )
    offsets, bad = _times_of_day(frame[time_column])
    bad = np.flatnonzero(bad)
    if len(bad):
        value = frame[time_column].iloc[bad[0]]
        row = _data_row(frame[time_column], bad[0])
        if not given:
            notes.append(
                f"did not join column {time_column!r} to the dates: {value!r} in data row "
                f"{row} is not a time of day"
            )
            return dates, None
        raise ValueError(
            f"Expected times of day such as 18:00:00, 18:00, 18.00.00 or 18 in column "
            f"{time_column!r} of {source}. Received: {value!r} in data row {row} "
            f"({len(bad)} such rows)"
        )
    dates = dates + offsets
    notes.append(
        f"joined the times of column {time_column!r} to the dates of column "
        f"{date_column!r} (first {_shown_date(dates.min())})"
    )
    return dates, time_column


def _coded_missing(frame, columns, codes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`(frame, coded)`: `frame` with the fields of `columns` equal to one of
    `codes` made missing, and a bool frame of where they were."""
    coded = pd.DataFrame(False, index=frame.index, columns=columns)
    if not codes:
        return frame, coded
    words = {code.lower() for code in codes}
    numbers = pd.to_numeric(pd.Series(codes, dtype=object), errors="coerce").dropna().to_numpy()
    frame = frame.copy()
    for column in columns:
        text = frame[column].astype(str).str.strip()
        found = text.str.lower().isin(words) & frame[column].notna()
        if len(numbers):
            found |= pd.to_numeric(text, errors="coerce").isin(numbers)
        if found.any():
            coded[column] = found.to_numpy()
            frame[column] = frame[column].where(~found)
    return frame, coded


def _coded_note(codes, coded: pd.DataFrame) -> str:
    """What `na_values` found in the used columns, for `notes`."""
    counts = coded.sum()
    total = int(counts.sum())
    shown = ", ".join(codes)
    if total == 0:
        return f"found no values coded {shown} (na_values) in the used columns"
    where = ", ".join(f"{c}: {int(n)}" for c, n in counts.items() if n)
    return f"read {total} values coded {shown} as missing ({where})"


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


def _read_numbers(frame, not_values, decimal, thousands, notes) -> pd.DataFrame:
    """The frame with numbers written as `1,234.5` or `12,5` rewritten as `1234.5`."""
    texts = [
        c
        for c in frame.columns
        if c not in not_values and not pd.api.types.is_numeric_dtype(frame[c])
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


def _choose_inputs(frame, source, not_values, target, features) -> list[str]:
    """The input columns, target first, by name or detected; `not_values` are
    the date column and the time column, if any."""
    columns = list(frame.columns)
    if target is None:
        target = _find_by_names(columns, TARGET_COLUMN_NAMES)
        if target is None:
            numeric = [c for c in columns if c not in not_values and _is_numeric(frame[c])]
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
        if target in not_values[1:]:
            raise ValueError(
                f"Expected `target` to name a value column, not the time column {target!r} "
                f"joined to the dates. Received: target={target!r}"
            )

    inputs = [target]
    for name in features:
        column = resolve_column(columns, name, "features", source)
        if column in not_values:
            which = "date column" if column == not_values[0] else "time column"
            raise ValueError(
                f"Expected `features` to name value columns, not the {which} "
                f"{column!r}. Received: features={list(features)!r}"
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
    """Drops or fills missing values; returns the data and the `(first, last)`
    ranges of consecutive rows whose values were filled."""
    counts = data.isna().sum()
    total = int(counts.sum())
    if total == 0:
        return data, ()
    incomplete = data.isna().any(axis=1)
    where = ", ".join(f"{c}: {int(n)}" for c, n in counts.items() if n)
    first = _shown_date(data.index[data.isna().any(axis=1)][0])
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
    if policy == "drop":
        return data, ()
    kept = incomplete.reindex(data.index).to_numpy()  # (rows,) filled rows that remain
    # Runs of consecutive filled rows, as (first, last) dates.
    edges = np.flatnonzero(np.diff(np.concatenate([[0], kept.astype(int), [0]])))
    ranges = tuple(
        (_shown_date(data.index[a]), _shown_date(data.index[b - 1]))
        for a, b in zip(edges[::2], edges[1::2])
    )
    return data, ranges


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
