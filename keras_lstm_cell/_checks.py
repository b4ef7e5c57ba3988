"""Argument checks shared by the package.

Each check raises `ValueError` naming the argument, what was expected and
what was received, as Keras's own layers do ("Received: units=0"), and
returns the value in its plain Python type.
"""

from __future__ import annotations

import math

import numpy as np


def is_int(value) -> bool:
    """Whether `value` is an integer (Python or NumPy), not a bool."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, (int, np.integer))


def is_number(value) -> bool:
    """Whether `value` is a real number (Python or NumPy), not a bool."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(
        value, (int, float, np.integer, np.floating)
    )


def check_positive_int(name: str, value) -> int:
    if not is_int(value) or value <= 0:
        raise ValueError(f"Expected `{name}` to be a positive integer. Received: {name}={value!r}")
    return int(value)


def check_non_negative_int(name: str, value) -> int:
    if not is_int(value) or value < 0:
        raise ValueError(
            f"Expected `{name}` to be a non-negative integer. Received: {name}={value!r}"
        )
    return int(value)


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"Expected `{name}` to be True or False. Received: {name}={value!r}")
    return bool(value)


def check_positive_number(name: str, value) -> float:
    """A finite number above 0: infinity and NaN are refused too."""
    if not is_number(value) or not math.isfinite(value) or not value > 0:
        raise ValueError(
            f"Expected `{name}` to be a finite positive number. Received: {name}={value!r}"
        )
    return float(value)


def check_choice(name: str, value, choices) -> str:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(
            f"Expected `{name}` to be one of {', '.join(choices)}. Received: {name}={value!r}"
        )
    return value
