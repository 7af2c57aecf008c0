"""Waivers from code, a dict, or a TOML file (``[tool.hands-off.waivers]`` in ``pyproject.toml``).

Example (``pyproject.toml``, or any TOML file passed as ``--waivers``)::

    [tool.hands-off.waivers.HO-W3]
    orders-application = "Prod-3 is one region until the 2027 expansion"

    [tool.hands-off.waivers.HO-W6]
    "*" = "all-at-once is fine for this internal tool"   # every pipeline
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hands_off.check.rule import Waiver

__all__ = ["load_waivers", "waivers_from_mapping"]


def waivers_from_mapping(waivers: Mapping[str, Mapping[str, str]]) -> tuple[Waiver, ...]:
    """``{rule: {pipeline or "*": reason}}`` → waivers.

    Example::

        waivers_from_mapping({"HO-W3": {"orders-application": "one region until 2027"}})

    Raises:
        ValueError: for a malformed entry, naming it and the expected shape.
    """
    found: list[Waiver] = []
    for rule, pipelines in waivers.items():
        if not isinstance(pipelines, Mapping):
            raise ValueError(f'waivers.{rule}: expected a table of pipeline = "reason", got {pipelines!r}')
        for pipeline, reason in pipelines.items():
            if not isinstance(reason, str):
                raise ValueError(f"waivers.{rule}.{pipeline}: the reason must be a string, got {reason!r}")
            found.append(Waiver(rule=rule, pipeline=pipeline, reason=reason))
    return tuple(found)


def load_waivers(path: Path) -> tuple[Waiver, ...]:
    """The waivers of a TOML file: its ``[tool.hands-off.waivers]`` table, else its top-level
    ``[waivers]`` table (none if it has neither).

    Raises:
        OSError: if the file cannot be read.
        ValueError: if it is not TOML or a waiver is malformed (the message names the file).
    """
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{path}: not valid TOML ({err})") from None
    table = data.get("tool", {}).get("hands-off", {}).get("waivers", data.get("waivers", {}))
    if not isinstance(table, Mapping):
        raise ValueError(f"{path}: waivers must be a table of rule ids, e.g. [tool.hands-off.waivers.HO-W3]")
    try:
        return waivers_from_mapping(table)
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
