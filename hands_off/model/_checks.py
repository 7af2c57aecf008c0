"""Private validation helpers shared by the model dataclasses."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from typing import TypeVar

from hands_off.model.errors import ConfigError

T = TypeVar("T")

# CodePipeline's rule for stage names (also safe in construct ids and CloudFormation names).
_NAME_PATTERN = re.compile(r"^[A-Za-z0-9.@\-_]{1,80}$")
# Longest repr of a bad value echoed in a message: enough to recognize it, still one short line.
_MAX_SHOWN = 60


def show(value: object, *, limit: int = _MAX_SHOWN) -> str:
    """``repr(value)`` cut to ``limit`` characters, for echoing a bad value in a message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def described(value: object) -> str:
    """``"int 3"``, ``"str 'x'"``, ``"None"``: a bad value's type and value, for messages."""
    if value is None:
        return "None"
    shown, kind = show(value), type(value).__name__
    return shown if shown.startswith(f"{kind}(") else f"{kind} {shown}"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].upper() in "AEIOU" else f"a {noun}"


def check_int(value: object, *, field: str, low: int, high: int | None = None, fix: str = "") -> int:
    """Return ``value`` if it is an ``int`` (not a ``bool``) in ``low..high``; else raise.

    ``high=None`` means no upper bound. The message echoes the bad value.
    """
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < low
        or (high is not None and value > high)
    ):
        span = f"from {low} to {high}" if high is not None else f"of at least {low}"
        hint = f"; {fix}" if fix else ""
        raise ConfigError(field, f"must be a whole number {span}, got {value!r}{hint}")
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


def check_sequence(
    value: object,
    *,
    field: str,
    item_type: type[T],
    example: str = "...",
    fix: str = "",
) -> tuple[T, ...]:
    """Return ``value`` as a tuple if it is a list or tuple (any sequence but a string) of
    ``item_type``; else raise ``ConfigError``.

    A string is rejected rather than iterated (``"acme-"`` would become five one-letter items),
    and so is a single ``item_type`` where a sequence belongs; the message shows how to wrap it,
    e.g. ``GatePolicy.windows: must be a tuple of TimeWindow, got one TimeWindow; wrap it:
    (TimeWindow(...),)``. Each element is checked too (``field[index]``). Lists are stored as
    tuples so frozen dataclasses stay hashable. Emptiness is left to the caller.

    Args:
        example: what stands inside the wrapping tuple of the message. Default: ``"..."``.
        fix: appended to the message when ``value`` is neither a sequence nor one item.
    """
    noun = item_type.__name__
    wanted = f"must be a tuple of {noun}"
    if isinstance(value, str | bytes | bytearray):
        wrapped = f"({show(value)},)" if item_type is str else f"({noun}({example}),)"
        raise ConfigError(
            field,
            f"{wanted}, got the string {show(value)} (it would be read one character at a time); "
            f"write a tuple: {wrapped}",
        )
    if isinstance(value, item_type):
        raise ConfigError(field, f"{wanted}, got one {noun}; wrap it: ({noun}({example}),)")
    if not isinstance(value, Sequence):
        hint = f"; {fix}" if fix else f", e.g. ({noun}({example}),)"
        raise ConfigError(field, f"{wanted}, got {described(value)}{hint}")
    result = tuple(value)
    for index, item in enumerate(result):
        if not isinstance(item, item_type):
            raise ConfigError(f"{field}[{index}]", f"must be {_article(noun)}, got {described(item)}")
    return result


def check_json_object(value: object, *, field: str) -> dict[str, object] | None:
    """``None``, or a ``dict`` that JSON can encode (a request body, an event): else one line.

    Raises:
        ConfigError: e.g. ``OrdersPipeline.canary_payload(): must be a dict of JSON values
            (str, int, float, bool, None, list, dict), got str '{"sku": 1}'; return the dict itself``.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        fix = "return the dict itself, not its JSON text" if isinstance(value, str) else "return a dict"
        raise ConfigError(field, f"must be a dict of JSON values, got {described(value)}; {fix}")
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            field,
            f"must be a dict of JSON values (str, int, float, bool, None, list, dict): {error}; "
            "convert dates and objects to strings or numbers",
        ) from None
    return value
