"""How a CSV file writes its fields and numbers, as spreadsheets and sites export them.

Spreadsheets in much of Europe write `Date;Temp` with decimal commas
(`12,5`); price sites quote numbers with thousands separators
(`"8,077.20"`). The separator is detected from the first lines, the number
format from the values; both can be forced.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

from keras_lstm_cell.forecast.config import DECIMALS
from keras_lstm_cell.forecast.config import SEPARATORS
from keras_lstm_cell.forecast.config import THOUSANDS

SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
SAMPLE_LINES = 50  # lines read to detect the separator

# (decimal, thousands) pairs tried in order when the values are not plain
# numbers; "1,234" is a thousand unless the file is `;`- or tab-separated.
_POINT_FORMATS = ((".", ","), (",", None), (",", "."), (".", " "), (",", " "), (".", "'"))
_COMMA_FORMATS = ((",", None), (",", "."), (".", ","), (",", " "), (".", " "), (".", "'"))


def detect_separator(lines: list[str]) -> str:
    """The separator that splits every sample line into the same number (> 1) of fields."""
    lines = [line.rstrip("\r\n") for line in lines if line.strip()]
    best, most = ",", 1
    for separator in SEPARATORS:
        counts = {
            len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=separator)
        }
        if len(counts) == 1 and (fields := counts.pop()) > most:
            best, most = separator, fields
    return best


def _pattern(decimal: str, thousands: str | None) -> re.Pattern:
    d = re.escape(decimal)
    whole = r"\d+" if thousands is None else rf"(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
    return re.compile(rf"[+-]?(?:{whole}(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?")


def number_format(
    columns: list[pd.Series], sep: str = ",", decimal=None, thousands=None
) -> tuple[str, str | None]:
    """`(decimal, thousands)` under which most value columns read as numbers.

    Plain numbers (`12.5`, `1e3`) give `(".", None)`. Otherwise each format
    is tried (thousands separators first in a comma-separated file, decimal
    commas first in a `;`- or tab-separated one) and the first that reads
    the most columns wins. A forced `decimal` or `thousands` keeps only the
    formats that use it.
    """
    texts = [column.dropna().astype(str).str.strip() for column in columns]
    texts = [text[text != ""] for text in texts]
    formats = [(".", None), *(_POINT_FORMATS if sep == "," else _COMMA_FORMATS)]
    formats += [(d, None) for d in DECIMALS if (d, None) not in formats]
    formats += [(d, t) for d in DECIMALS for t in THOUSANDS if d != t and (d, t) not in formats]
    best, most = None, -1
    for candidate in formats:
        if decimal not in (None, candidate[0]) or thousands not in (None, candidate[1]):
            continue
        pattern = _pattern(*candidate)
        numeric = sum(bool(len(t)) and bool(t.str.fullmatch(pattern).all()) for t in texts)
        if numeric > most:
            best, most = candidate, numeric
    return best


def to_plain_numbers(text: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    """`text` with the numbers of that format rewritten as `1234.5`; other values as they are."""
    if decimal == "." and thousands is None:
        return text
    stripped = text.astype(str).str.strip()
    matches = stripped.str.fullmatch(_pattern(decimal, thousands)) & text.notna()
    plain = stripped
    if thousands is not None:
        plain = plain.str.replace(thousands, "", regex=False)
    plain = plain.str.replace(decimal, ".", regex=False)
    return text.where(~matches, plain)


def shown_separator(sep: str) -> str:
    return f"{SEPARATOR_NAMES.get(sep, repr(sep))}-separated"
