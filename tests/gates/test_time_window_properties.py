"""Property tests of the time-window gate (hypothesis): next_open is consistent and minimal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hands_off_gates.gate_common import GateConfigError, iso_utc
from hands_off_gates.time_window import DAYS, SEARCH_HORIZON, evaluate_window, is_open_at, parse_window_config

ZONES = [
    "UTC",
    "America/Los_Angeles",
    "Europe/London",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # 30-minute DST shift
    "America/St_Johns",  # -03:30 / -02:30
    "Asia/Kolkata",  # no DST, +05:30
]
FIXED_OFFSET_ZONES = ["UTC", "Asia/Kolkata", "Asia/Tokyo"]

hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
days = st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True)
instants = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@st.composite
def raw_windows(draw: st.DrawFn, zones: list[str] = ZONES) -> dict[str, Any]:
    start = draw(hhmm)
    end = draw(hhmm.filter(lambda e: e != start))
    return {"days": draw(days), "start": start, "end": end, "timezone": draw(st.sampled_from(zones))}


@st.composite
def raw_blackouts(draw: st.DrawFn) -> list[dict[str, Any]]:
    """0-2 non-overlapping minute-aligned blackouts."""
    count = draw(st.integers(0, 2))
    cursor = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 2 * 365 * 24 * 60)))
    result = []
    for i in range(count):
        cursor += timedelta(minutes=draw(st.integers(0, 20 * 24 * 60)))
        end = cursor + timedelta(minutes=draw(st.integers(1, 20 * 24 * 60)))
        result.append({"start": iso_utc(cursor), "end": iso_utc(end), "reason": f"freeze {i}"})
        cursor = end
    return result


configs = st.builds(
    lambda windows, blackouts: parse_window_config({"windows": windows, "blackouts": blackouts}),
    st.lists(raw_windows(), max_size=3),
    raw_blackouts(),
)

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)


@PROPERTY_SETTINGS
@given(cfg=configs, now=instants)
def test_open_means_next_open_is_now(cfg: Any, now: datetime) -> None:
    decision = evaluate_window(cfg, now)

    assert decision["open"] is is_open_at(cfg, now)
    if decision["open"]:
        assert decision["next_open"] == iso_utc(now)


@PROPERTY_SETTINGS
@given(cfg=configs, now=instants, fraction=st.floats(0, 1, exclude_max=True))
def test_closed_means_next_open_is_later_open_and_minimal(cfg: Any, now: datetime, fraction: float) -> None:
    decision = evaluate_window(cfg, now)
    if decision["open"]:
        return

    if decision["next_open"] is None:
        # Nothing opens within the horizon: any instant in it is closed.
        probe = now + SEARCH_HORIZON * fraction
        assert not is_open_at(cfg, probe)
        return
    next_open = datetime.fromisoformat(decision["next_open"])
    assert now < next_open <= now + SEARCH_HORIZON
    assert is_open_at(cfg, next_open)
    assert evaluate_window(cfg, next_open)["open"] is True
    probe = now + (next_open - now) * fraction
    if probe < next_open:
        assert not is_open_at(cfg, probe), f"open at {probe} before next_open {next_open}"


@PROPERTY_SETTINGS
@given(raw=raw_windows(FIXED_OFFSET_ZONES), now=instants)
def test_matches_wall_clock_oracle_without_dst(raw: dict[str, Any], now: datetime) -> None:
    """Where clocks never jump, the gate is the plain wall-clock rule."""
    cfg = parse_window_config({"windows": [raw]})
    local = now.astimezone(ZoneInfo(raw["timezone"]))
    wall = local.strftime("%H:%M")
    today = DAYS[local.weekday()] in raw["days"]
    yesterday = DAYS[(local.weekday() - 1) % 7] in raw["days"]
    if raw["start"] < raw["end"]:
        expected = today and raw["start"] <= wall < raw["end"]
    else:  # crosses midnight: the tail belongs to the previous day
        expected = (today and wall >= raw["start"]) or (yesterday and wall < raw["end"])

    assert is_open_at(cfg, now) is expected


@PROPERTY_SETTINGS
@given(cfg=configs, now=instants, zone=st.sampled_from(ZONES))
def test_decision_does_not_depend_on_how_now_is_written(cfg: Any, now: datetime, zone: str) -> None:
    assert evaluate_window(cfg, now) == evaluate_window(cfg, now.astimezone(ZoneInfo(zone)))


@PROPERTY_SETTINGS
@given(day_list=days, at=hhmm, zone=st.sampled_from(ZONES))
def test_zero_length_window_is_always_rejected(day_list: list[str], at: str, zone: str) -> None:
    """00:00-00:00 (or any start == end) is rejected: "always open" is an empty windows list."""
    with pytest.raises(GateConfigError, match="equals start") as caught:
        parse_window_config({"windows": [{"days": day_list, "start": at, "end": at, "timezone": zone}]})
    assert caught.value.field == "windows[0].end"


@PROPERTY_SETTINGS
@given(now=instants)
def test_no_windows_no_blackouts_is_always_open(now: datetime) -> None:
    decision = evaluate_window(parse_window_config({"windows": []}), now)

    assert decision["open"] is True
    assert decision["next_open"] == iso_utc(now)
