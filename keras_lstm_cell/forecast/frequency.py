"""The calendar of a series: its pandas frequency, its season, its next dates.

A frequency is a pandas offset alias ("D", "B", "W-SUN", "MS", "QS-JAN",
"YS-JAN", "h", "15min", ...). It is inferred as the offset whose grid, from
the first date to the last, holds every date and misses the fewest points:
business-day data lies on the grid of "B" with only its holidays missing,
while "D" would miss every weekend too. `pd.infer_freq` is not used: it
gives up on any gap.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

# Calendar offsets tried besides the series' smallest spacing, in order of
# preference when two grids explain the dates equally well. Weeks, quarters
# and years are anchored on the first date (its weekday or month).
_CALENDAR = ("B", "W", "MS", "ME", "BMS", "BME", "QS", "QE", "YS", "YE")
_WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# Grids finer than this many points are not built (a nanosecond grid over years).
MAX_GRID_POINTS = 10_000_000
# A frequency is inferred only if its grid misses at most this share of its
# points: more is a sign of the wrong calendar (trading hours on an hourly
# grid), which --freq can still impose.
MAX_MISSING_SHARE = 0.5

# The season of each kind of offset with n = 1, in steps: a week of days or
# of business days, a year of weeks, months or quarters; yearly data has
# none (1: seasonal naive is persistence).
_SEASONS = (
    (pd.offsets.BusinessDay, 5),
    (pd.offsets.Day, 7),
    (pd.offsets.Week, 52),
    (pd.offsets.MonthBegin, 12),
    (pd.offsets.MonthEnd, 12),
    (pd.offsets.BusinessMonthBegin, 12),
    (pd.offsets.BusinessMonthEnd, 12),
    (pd.offsets.QuarterBegin, 4),
    (pd.offsets.QuarterEnd, 4),
    (pd.offsets.YearBegin, 1),
    (pd.offsets.YearEnd, 1),
)
_NAMES = (
    (pd.offsets.BusinessDay, "business days"),
    (pd.offsets.Day, "calendar days"),
    (pd.offsets.Week, "weeks"),
    (pd.offsets.MonthBegin, "month starts"),
    (pd.offsets.MonthEnd, "month ends"),
    (pd.offsets.BusinessMonthBegin, "first business days of the month"),
    (pd.offsets.BusinessMonthEnd, "last business days of the month"),
    (pd.offsets.QuarterBegin, "quarter starts"),
    (pd.offsets.QuarterEnd, "quarter ends"),
    (pd.offsets.YearBegin, "year starts"),
    (pd.offsets.YearEnd, "year ends"),
    (pd.offsets.Hour, "hours"),
    (pd.offsets.Minute, "minutes"),
    (pd.offsets.Second, "seconds"),
)


def to_frequency(freq, argument: str = "freq") -> pd.DateOffset:
    """The pandas offset of alias `freq`, or a `ValueError` naming it."""
    try:
        offset = to_offset(freq)
    except (ValueError, TypeError) as e:
        # pandas >= 2.2 renamed "M", "H", "T", "A", ... and says so.
        hint = re.search(r"(Did you mean \S+\?|Please use '[^']+' instead)", str(e))
        hint = hint.group(1).replace("Please use", "use") if hint else ""
        raise ValueError(
            f"Expected `{argument}` to be a pandas frequency alias such as D, B, W-SUN, MS, "
            f"QS, YS, h or 15min. Received: {argument}={freq!r}" + (f" ({hint})" if hint else "")
        ) from None
    if offset is None or offset.n <= 0:
        raise ValueError(
            f"Expected `{argument}` to be a forward frequency such as D or MS. "
            f"Received: {argument}={freq!r}"
        )
    return offset


def alias(offset: pd.DateOffset) -> str:
    """The alias pandas prints for `offset`, e.g. "W-SUN", "QS-JAN", "15min"."""
    return offset.freqstr


def describe(freq: str) -> str:
    """A few words for a frequency alias, e.g. "B (business days)"."""
    offset = to_frequency(freq)
    name = next((name for kind, name in _NAMES if isinstance(offset, kind)), None)
    if name is None:
        return freq
    return f"{freq} ({'every ' + str(offset.n) + ' ' if offset.n > 1 else ''}{name})"


def default_season(freq: str) -> int:
    """Seasonal-naive period in steps for a frequency alias.

    7 for days, 5 for business days, 52 for weeks, 12 for months, 4 for
    quarters, 1 for years (seasonal naive becomes persistence); a day of
    hours (24 for "h", 12 for "2h"), an hour of minutes (60 for "min", 4
    for "15min") and a minute of seconds. A multiple of a step that does not
    divide its season gives 1.
    """
    offset = to_frequency(freq)
    period = next((season for kind, season in _SEASONS if isinstance(offset, kind)), None)
    if period is None:  # a fixed span: hours, minutes, seconds, ...
        step = pd.Timedelta(offset)
        # Hours repeat daily, minutes hourly, seconds every minute.
        span = next(
            span
            for least, span in (("1h", "1D"), ("1min", "1h"), ("0s", "1min"))
            if step >= pd.Timedelta(least)
        )
        ratio = pd.Timedelta(span) / step
        return int(ratio) if ratio >= 1 and ratio == int(ratio) else 1
    return period // offset.n if period % offset.n == 0 else 1


def grid(start: pd.Timestamp, end: pd.Timestamp, offset: pd.DateOffset) -> pd.DatetimeIndex:
    """Every date of `offset`'s calendar from `start` to `end`."""
    return pd.date_range(start, end, freq=offset, name="date")


def next_dates(last: pd.Timestamp, freq: str, count: int) -> pd.DatetimeIndex:
    """The `count` dates after `last` on `freq`'s calendar (Friday + 1 "B" is Monday)."""
    offset = to_frequency(freq)
    return pd.DatetimeIndex([last + offset * (k + 1) for k in range(count)], name="date")


def off_grid(dates: pd.DatetimeIndex, offset: pd.DateOffset) -> pd.DatetimeIndex:
    """The dates that are not on `offset`'s grid from the first date on."""
    size = _grid_size(dates, offset)
    if size > MAX_GRID_POINTS:
        raise ValueError(
            f"Expected `freq` to give at most {MAX_GRID_POINTS:,} steps from the first date "
            f"to the last. Received: freq={alias(offset)!r}, about {size:,.0f} steps"
        )
    return dates.difference(grid(dates[0], dates[-1], offset))


def infer_frequency(dates: pd.DatetimeIndex) -> tuple[str | None, str]:
    """`(alias, why)`: the frequency of ascending unique `dates`.

    The alias is `None` when no frequency fits; `why` then says what was
    found, for a message.
    """
    if len(dates) < 2:
        return "D", "one date only: taken as daily"
    best = None  # (missing, order, alias)
    for order, offset in enumerate(_candidates(dates)):
        if _grid_size(dates, offset) > MAX_GRID_POINTS:
            continue
        points = grid(dates[0], dates[-1], offset)
        if len(points) < len(dates) or not dates.isin(points).all():
            continue
        missing = len(points) - len(dates)
        if best is None or missing < best[0]:
            best = (missing, order, alias(offset), len(points))
    if best is None:
        spacing = _smallest_spacing(dates)
        return None, f"no regular calendar holds every date (smallest spacing {spacing})"
    missing, _, name, points = best
    if missing > MAX_MISSING_SHARE * points:
        return None, (
            f"the closest calendar, {name}, would miss {missing} of its {points} dates; "
            f"pass --freq {name} to use it anyway"
        )
    return name, f"{missing} of {points} dates missing"


def _candidates(dates: pd.DatetimeIndex) -> list[pd.DateOffset]:
    first = dates[0]
    offsets = []
    for name in _CALENDAR:
        if name == "W":
            name = f"W-{_WEEKDAYS[first.weekday()]}"
        elif name in ("QS", "QE"):
            # Quarters that start (or end) in the first date's month.
            month = (first.month - 1) % 3 + (10 if name == "QE" else 1)
            name = f"{name}-{_MONTHS[month - 1]}"
        elif name in ("YS", "YE"):
            name = f"{name}-{_MONTHS[first.month - 1]}"
        offsets.append(to_offset(name))
    # Last: on a tie, a week beats seven days.
    spacing = _smallest_spacing(dates)
    if spacing % pd.Timedelta(days=1) == pd.Timedelta(0):
        offsets.append(to_offset(f"{spacing.days}D"))
    elif spacing % pd.Timedelta(seconds=1) == pd.Timedelta(0):
        offsets.append(to_offset(spacing))
    return offsets


def _smallest_spacing(dates: pd.DatetimeIndex) -> pd.Timedelta:
    return pd.Timedelta(np.diff(dates.to_numpy()).min())


def _grid_size(dates: pd.DatetimeIndex, offset: pd.DateOffset) -> float:
    """About how many points `offset`'s grid has over `dates` (exact for fixed steps)."""
    span = dates[-1] - dates[0]
    try:
        step = pd.Timedelta(offset)
    except (ValueError, TypeError):  # a calendar offset: at least a day per step
        step = pd.Timedelta(days=offset.n)
    return span / step + 1
