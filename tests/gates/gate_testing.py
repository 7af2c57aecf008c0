"""Helpers shared by the gate tests (importable: conftest puts this folder on sys.path)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent / "events"


def at(text: str) -> datetime:
    """An aware datetime from ISO-8601 (``Z`` allowed)."""
    parsed = datetime.fromisoformat(text)
    assert parsed.tzinfo is not None
    return parsed


def load_event(name: str) -> dict[str, Any]:
    """A sample event from ``tests/gates/events``."""
    data = json.loads((EVENTS_DIR / name).read_text())
    assert isinstance(data, dict)
    return data


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every stdout line parsed as JSON (each log line must be one JSON object)."""
    records = []
    for line in text.splitlines():
        if line.strip():
            record = json.loads(line)
            assert isinstance(record, dict)
            records.append(record)
    return records
