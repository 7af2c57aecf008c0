"""Private validation helpers shared by the model dataclasses."""

from __future__ import annotations

import math
import re

from hands_off.model.errors import ConfigError

# CodePipeline's rule for stage names (also safe in construct ids and CloudFormation names).
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9.@\-_]{1,80}$")


def check_int(value: object, *, field: str, low: int, high: int, fix: str = "") -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in ``low..high``; else raise."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        hint = f"; {fix}" if fix else ""
        raise ConfigError(field, f"must be a whole number from {low} to {high}, got {value!r}{hint}")
    return value


def check_float(
    value: object,
    *,
    field: str,
    low: float,
    high: float,
    low_inclusive: bool = True,
    fix: str = "",
) -> float:
    """Return ``value`` as a float if it is a finite number in range; else raise ``ConfigError``."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, int | float)
        and math.isfinite(value)
        and (low <= value if low_inclusive else low < value)
        and value <= high
    )
    if not ok:
        bracket = "[" if low_inclusive else "("
        hint = f"; {fix}" if fix else ""
        raise ConfigError(field, f"must be a number in {bracket}{low}, {high}], got {value!r}{hint}")
    assert isinstance(value, int | float)
    return float(value)


def check_name(value: object, *, field: str) -> str:
    """Return ``value`` if it is a valid stage/wave name (CodePipeline stage-name rule)."""
    if not isinstance(value, str) or not _NAME_PATTERN.fullmatch(value):
        raise ConfigError(
            field,
            f"{value!r} is not a valid stage name; use 1 to 80 characters from "
            "A-Z a-z 0-9 . @ - _ (e.g. 'Prod-1')",
        )
    return value
