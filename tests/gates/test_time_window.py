"""Time-window gate (P15, X6): DST, midnight crossing, blackouts, next_open, validation."""

from __future__ import annotations

import copy
import time as time_module
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

import pytest
from gate_testing import at, json_lines, load_event

from hands_off_gates import time_window
from hands_off_gates.gate_common import GateConfigError
from hands_off_gates.time_window import evaluate_window, is_open_at, parse_window_config


def config(*windows: dict[str, Any], blackouts: list[dict[str, Any]] | None = None) -> Any:
    return parse_window_config({"windows": list(windows), "blackouts": blackouts or []})


def window(days: str, start: str, end: str, tz: str) -> dict[str, Any]:
    return {"days": days.split(","), "start": start, "end": end, "timezone": tz}


WEEKDAYS = "MON,TUE,WED,THU,FRI"


# ------------------------------------------------------------------ DST transitions

# (config window, instant UTC, expected open, expected next_open)
DST_CASES = [
    # America/Los_Angeles spring forward 2026-03-08: 02:00 PST -> 03:00 PDT at 10:00Z.
    pytest.param(
        window("SUN", "01:30", "03:00", "America/Los_Angeles"),
        "2026-03-08T09:29:00Z",
        False,
        "2026-03-08T09:30:00Z",
        id="LA-spring-before-0130PST",
    ),
    pytest.param(
        window("SUN", "01:30", "03:00", "America/Los_Angeles"),
        "2026-03-08T09:45:00Z",
        True,
        "2026-03-08T09:45:00Z",
        id="LA-spring-0145PST-open",
    ),
    pytest.param(
        # 03:00 PDT: the window lasted only 30 real minutes that day.
        window("SUN", "01:30", "03:00", "America/Los_Angeles"),
        "2026-03-08T10:00:00Z",
        False,
        "2026-03-15T08:30:00Z",
        id="LA-spring-0300PDT-closed",
    ),
    pytest.param(
        # 02:30 does not exist that day: the window opens at the jump (03:00 PDT).
        window("SUN", "02:30", "04:00", "America/Los_Angeles"),
        "2026-03-08T09:59:00Z",
        False,
        "2026-03-08T10:00:00Z",
        id="LA-spring-start-in-gap",
    ),
    pytest.param(
        window("SUN", "02:30", "04:00", "America/Los_Angeles"),
        "2026-03-08T10:59:00Z",
        True,
        "2026-03-08T10:59:00Z",
        id="LA-spring-start-in-gap-open-until-0400PDT",
    ),
    pytest.param(
        window(WEEKDAYS, "09:00", "17:00", "America/Los_Angeles"),
        "2026-03-07T02:00:00Z",  # Fri 18:00 PST
        False,
        "2026-03-09T16:00:00Z",
        id="LA-spring-monday-opens-at-PDT",
    ),
    # America/Los_Angeles fall back 2026-11-01: 02:00 PDT -> 01:00 PST at 09:00Z.
    pytest.param(
        # 01:00 first occurrence (PDT, 08:00Z) to 03:00 PST (11:00Z): 3 real hours.
        window("SUN", "01:00", "03:00", "America/Los_Angeles"),
        "2026-11-01T09:30:00Z",
        True,
        "2026-11-01T09:30:00Z",
        id="LA-fall-repeated-hour-open",
    ),
    pytest.param(
        window("SUN", "01:00", "03:00", "America/Los_Angeles"),
        "2026-11-01T07:59:00Z",
        False,
        "2026-11-01T08:00:00Z",
        id="LA-fall-opens-at-first-0100",
    ),
    pytest.param(
        window("SUN", "01:00", "03:00", "America/Los_Angeles"),
        "2026-11-01T11:00:00Z",
        False,
        "2026-11-08T09:00:00Z",
        id="LA-fall-closes-at-0300PST",
    ),
    pytest.param(
        # An end in the repeated hour takes its first occurrence (01:30 PDT = 08:30Z).
        window("SUN", "00:00", "01:30", "America/Los_Angeles"),
        "2026-11-01T09:15:00Z",
        False,
        "2026-11-08T08:00:00Z",
        id="LA-fall-end-first-occurrence",
    ),
    pytest.param(
        window(WEEKDAYS, "09:00", "17:00", "America/Los_Angeles"),
        "2026-10-31T12:00:00Z",
        False,
        "2026-11-02T17:00:00Z",
        id="LA-fall-monday-opens-at-PST",
    ),
    # Europe/London spring forward 2026-03-29: 01:00 GMT -> 02:00 BST at 01:00Z.
    pytest.param(
        window("SUN", "01:15", "03:00", "Europe/London"),
        "2026-03-29T00:59:00Z",
        False,
        "2026-03-29T01:00:00Z",
        id="London-spring-start-in-gap",
    ),
    pytest.param(
        window("SUN", "01:15", "03:00", "Europe/London"),
        "2026-03-29T02:00:00Z",
        False,
        "2026-04-05T00:15:00Z",
        id="London-spring-closes-0300BST",
    ),
    pytest.param(
        window(WEEKDAYS, "09:00", "17:00", "Europe/London"),
        "2026-03-27T18:00:00Z",
        False,
        "2026-03-30T08:00:00Z",
        id="London-spring-monday-opens-at-BST",
    ),
    # Europe/London fall back 2026-10-25: 02:00 BST -> 01:00 GMT at 01:00Z.
    pytest.param(
        window("SUN", "01:00", "02:00", "Europe/London"),
        "2026-10-25T01:30:00Z",
        True,
        "2026-10-25T01:30:00Z",
        id="London-fall-0130GMT-open",
    ),
    pytest.param(
        window("SUN", "01:00", "02:00", "Europe/London"),
        "2026-10-25T02:00:00Z",
        False,
        "2026-11-01T01:00:00Z",
        id="London-fall-closes-0200GMT",
    ),
    pytest.param(
        window(WEEKDAYS, "09:00", "17:00", "Europe/London"),
        "2026-10-23T17:00:00Z",
        False,
        "2026-10-26T09:00:00Z",
        id="London-fall-monday-opens-at-GMT",
    ),
    # Australia/Sydney DST ends 2026-04-05: 03:00 AEDT -> 02:00 AEST at 04-04 16:00Z.
    pytest.param(
        # 02:00 first occurrence (AEDT, 15:00Z) to 03:00 AEST (17:00Z).
        window("SUN", "02:00", "03:00", "Australia/Sydney"),
        "2026-04-04T16:30:00Z",
        True,
        "2026-04-04T16:30:00Z",
        id="Sydney-april-repeated-hour-open",
    ),
    pytest.param(
        window("SUN", "02:00", "03:00", "Australia/Sydney"),
        "2026-04-04T14:59:00Z",
        False,
        "2026-04-04T15:00:00Z",
        id="Sydney-april-opens-0200AEDT",
    ),
    pytest.param(
        window("SUN", "02:00", "03:00", "Australia/Sydney"),
        "2026-04-04T17:00:00Z",
        False,
        "2026-04-11T16:00:00Z",
        id="Sydney-april-closes-0300AEST",
    ),
    # Australia/Sydney DST starts 2026-10-04: 02:00 AEST -> 03:00 AEDT at 10-03 16:00Z.
    pytest.param(
        window("SUN", "02:30", "04:00", "Australia/Sydney"),
        "2026-10-03T15:59:00Z",
        False,
        "2026-10-03T16:00:00Z",
        id="Sydney-october-start-in-gap",
    ),
    pytest.param(
        window("SUN", "02:30", "04:00", "Australia/Sydney"),
        "2026-10-03T16:59:00Z",
        True,
        "2026-10-03T16:59:00Z",
        id="Sydney-october-open-until-0400AEDT",
    ),
    pytest.param(
        # A window swallowed whole by the gap does not open that day.
        window("SUN", "02:00", "02:45", "Australia/Sydney"),
        "2026-10-03T15:00:00Z",
        False,
        "2026-10-10T15:00:00Z",
        id="Sydney-october-window-inside-gap-skipped",
    ),
    pytest.param(
        window(WEEKDAYS, "09:00", "17:00", "Australia/Sydney"),
        "2026-10-02T08:00:00Z",
        False,
        "2026-10-04T22:00:00Z",
        id="Sydney-october-monday-opens-at-AEDT",
    ),
]


@pytest.mark.parametrize(("raw_window", "now", "is_open", "next_open"), DST_CASES)
def test_dst_transitions(raw_window: dict[str, Any], now: str, is_open: bool, next_open: str) -> None:
    decision = evaluate_window(config(raw_window), at(now))

    assert decision["open"] is is_open, decision["reason"]
    assert decision["next_open"] == next_open


# ---------------------------------------------------------------- midnight crossing

FRIDAY_NIGHT = window("FRI", "22:00", "02:00", "America/Los_Angeles")


@pytest.mark.parametrize(
    ("local_instant", "is_open"),
    [
        ("2026-11-27T21:59:00-08:00", False),  # Fri 21:59
        ("2026-11-27T22:00:00-08:00", True),  # Fri 22:00
        ("2026-11-28T01:00:00-08:00", True),  # Sat 01:00 belongs to Friday's window
        ("2026-11-28T02:00:00-08:00", False),  # end is exclusive
        ("2026-11-28T23:00:00-08:00", False),  # Sat 23:00: Saturday is not in days
    ],
)
def test_window_across_midnight_belongs_to_its_start_day(local_instant: str, is_open: bool) -> None:
    decision = evaluate_window(config(FRIDAY_NIGHT), at(local_instant))

    assert decision["open"] is is_open


def test_window_across_midnight_next_open_is_next_friday() -> None:
    decision = evaluate_window(config(FRIDAY_NIGHT), at("2026-11-28T23:00:00-08:00"))

    assert decision["next_open"] == "2026-12-05T06:00:00Z"
    assert "outside deployment window FRI 22:00-02:00 America/Los_Angeles" in decision["reason"]


# ------------------------------------------------------------------------ blackouts

YEAR_END = {"start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z", "reason": "year-end freeze"}


def test_blackout_across_year_end_closes_and_next_open_is_after_it() -> None:
    cfg = config(window(WEEKDAYS, "09:00", "17:00", "Europe/London"), blackouts=[YEAR_END])

    decision = evaluate_window(cfg, at("2026-12-28T10:00:00Z"))  # a Monday, in hours

    assert decision["open"] is False
    assert "in blackout 'year-end freeze' until 2027-01-05T00:00:00Z" in decision["reason"]
    assert decision["next_open"] == "2027-01-05T09:00:00Z"  # Tue 09:00 GMT


def test_blackout_with_no_windows_reopens_at_its_end() -> None:
    decision = evaluate_window(config(blackouts=[YEAR_END]), at("2026-12-31T23:59:00Z"))

    assert decision["open"] is False
    assert decision["next_open"] == "2027-01-05T00:00:00Z"


def test_blackout_end_is_exclusive_and_start_inclusive() -> None:
    cfg = config(blackouts=[YEAR_END])

    assert is_open_at(cfg, at("2026-12-19T23:59:59Z"))
    assert not is_open_at(cfg, at("2026-12-20T00:00:00Z"))
    assert is_open_at(cfg, at("2027-01-05T00:00:00Z"))


def test_next_open_beyond_14_days_is_null() -> None:
    decision = evaluate_window(config(blackouts=[YEAR_END]), at("2026-12-20T00:00:00Z"))

    assert decision["open"] is False
    assert decision["next_open"] is None
    assert "no opening within 14 days" in decision["reason"]


def test_a_window_opening_exactly_14_days_ahead_is_next_open() -> None:
    """The horizon is inclusive: an opening at exactly now + 14 days is found, not null."""
    # GIVEN a Monday-morning window, and a freeze over it for 13 days from this Monday 09:00
    cfg = config(
        window("MON", "09:00", "10:00", "UTC"),
        blackouts=[{"start": "2026-11-23T09:00:00Z", "end": "2026-12-06T09:00:00Z", "reason": "freeze"}],
    )
    # WHEN asked at its start: the next Monday's window is frozen, the one after opens at +14 d
    decision = evaluate_window(cfg, at("2026-11-23T09:00:00Z"))

    assert decision["open"] is False
    assert decision["next_open"] == "2026-12-07T09:00:00Z"
    assert decision["reason"] == (
        "in blackout 'freeze' until 2026-12-06T09:00:00Z; next opens 2026-12-07T09:00:00Z"
    )


def test_a_blackout_ending_exactly_14_days_ahead_is_next_open() -> None:
    cfg = config(
        blackouts=[{"start": "2026-11-23T08:00:00Z", "end": "2026-12-07T09:00:00Z", "reason": "freeze"}]
    )

    decision = evaluate_window(cfg, at("2026-11-23T09:00:00Z"))

    assert decision["open"] is False
    assert decision["next_open"] == "2026-12-07T09:00:00Z"


def test_an_opening_one_second_past_14_days_is_beyond_the_horizon() -> None:
    cfg = config(
        blackouts=[{"start": "2026-11-23T08:00:00Z", "end": "2026-12-07T09:00:01Z", "reason": "freeze"}]
    )

    decision = evaluate_window(cfg, at("2026-11-23T09:00:00Z"))

    assert decision["next_open"] is None
    assert decision["reason"] == "in blackout 'freeze' until 2026-12-07T09:00:01Z; no opening within 14 days"


def test_adjacent_blackouts_are_allowed_and_chain() -> None:
    cfg = config(
        blackouts=[
            {"start": "2026-12-01T00:00:00Z", "end": "2026-12-02T00:00:00Z", "reason": "a"},
            {"start": "2026-12-02T00:00:00Z", "end": "2026-12-03T00:00:00Z", "reason": "b"},
        ]
    )

    assert evaluate_window(cfg, at("2026-12-01T12:00:00Z"))["next_open"] == "2026-12-03T00:00:00Z"


def test_next_open_skips_window_start_inside_blackout() -> None:
    cfg = config(
        window(WEEKDAYS, "09:00", "17:00", "UTC"),
        blackouts=[
            {"start": "2026-11-30T08:00:00Z", "end": "2026-11-30T10:30:00Z", "reason": "db migration"}
        ],
    )

    decision = evaluate_window(cfg, at("2026-11-28T12:00:00Z"))  # Saturday

    assert decision["next_open"] == "2026-11-30T10:30:00Z"


# ----------------------------------------------------------------------- open/closed


def test_empty_windows_is_always_open() -> None:
    decision = evaluate_window(config(), at("2026-11-26T03:17:00Z"))

    assert decision == {
        "open": True,
        "reason": "no deployment windows configured (any time allowed) and no blackout",
        "next_open": "2026-11-26T03:17:00Z",
        "closed_by": [],
    }


def test_open_reason_names_the_window() -> None:
    decision = evaluate_window(
        config(window(WEEKDAYS, "09:00", "17:00", "America/Los_Angeles")), at("2026-11-25T18:00:00Z")
    )

    assert decision["open"] is True
    assert decision["reason"] == "inside deployment window MON-FRI 09:00-17:00 America/Los_Angeles"


def test_closed_reason_says_window_and_next_open() -> None:
    decision = evaluate_window(
        config(window(WEEKDAYS, "09:00", "17:00", "America/Los_Angeles")), at("2026-11-27T02:00:00Z")
    )

    assert decision["reason"] == (
        "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; next opens 2026-11-27T17:00:00Z"
    )


def test_several_windows_in_several_time_zones_follow_the_sun() -> None:
    cfg = config(
        window(WEEKDAYS, "09:00", "11:00", "Australia/Sydney"),
        window(WEEKDAYS, "09:00", "11:00", "Europe/London"),
    )

    # Thu 2026-11-26 12:00Z: after London's window; Sydney's Friday window opens at Thu 22:00Z.
    assert evaluate_window(cfg, at("2026-11-26T12:00:00Z"))["next_open"] == "2026-11-26T22:00:00Z"


def test_naive_now_is_rejected() -> None:
    with pytest.raises(GateConfigError, match="now"):
        evaluate_window(config(), at("2026-11-26T00:00:00Z").replace(tzinfo=None))


def test_day_labels() -> None:
    assert config(window("SAT,MON,TUE,WED,SUN", "09:00", "10:00", "UTC")).windows[0].label == (
        "MON-WED,SAT-SUN 09:00-10:00 UTC"
    )
    all_days = "MON,TUE,WED,THU,FRI,SAT,SUN"
    assert config(window(all_days, "09:00", "10:00", "UTC")).windows[0].label.startswith("DAILY ")


# ----------------------------------------------------------------------- validation

VALID: dict[str, Any] = {
    "windows": [window(WEEKDAYS, "09:00", "17:00", "America/Los_Angeles")],
    "blackouts": [dict(YEAR_END)],
}


def _mutate(path: str, value: Any) -> dict[str, Any]:
    raw = copy.deepcopy(VALID)
    target: Any = raw
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return raw


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "hint"),
    [
        (
            "windows.0.timezone",
            "America/Los_Angles",
            "windows[0].timezone",
            "did you mean 'America/Los_Angeles'",
        ),
        ("windows.0.timezone", "", "windows[0].timezone", "IANA"),
        ("windows.0.timezone", 5, "windows[0].timezone", "expected an IANA time zone name"),
        ("windows.0.timezone", ["UTC"], "windows[0].timezone", "expected an IANA time zone name"),
        ("windows.0.timezone", None, "windows[0].timezone", "expected an IANA time zone name"),
        ("windows.0.start", "9:00", "windows[0].start", "HH:MM"),
        ("windows.0.end", "24:00", "windows[0].end", "HH:MM"),
        ("windows.0.start", "09:60", "windows[0].start", "HH:MM"),
        ("windows.0.days", ["MON", "FUN"], "windows[0].days[1]", "not a day"),
        ("windows.0.days", [], "windows[0].days", "at least one day"),
        ("windows.0.days", "MON", "windows[0].days", "expected a list"),
        ("windows.0.end", "09:00", "windows[0].end", "equals start"),
        ("windows.0.timezone", _DELETE, "windows[0].timezone", "missing"),
        ("windows.0.strat", "09:00", "windows[0].strat", "unknown key"),
        ("windows.0", "MON 09:00", "windows[0]", "expected an object"),
        ("windows", _DELETE, "windows", "missing"),
        ("windows", {}, "windows", "expected a list"),
        ("blackouts.0", "year-end", "blackouts[0]", "expected an object"),
        ("blackouts.0.end", "2026-12-19T00:00:00Z", "blackouts[0].end", "not after start"),
        ("blackouts.0.end", "2026-12-20T00:00:00Z", "blackouts[0].end", "not after start"),
        ("blackouts.0.start", "2026-12-20T00:00:00", "blackouts[0].start", "no UTC offset"),
        ("blackouts.0.end", "next year", "blackouts[0].end", "not an ISO-8601"),
        ("blackouts.0.reason", "", "blackouts[0].reason", "say why"),
        ("blackouts.0.until", "x", "blackouts[0].until", "unknown key"),
        ("blackouts", None, "blackouts", "expected a list"),
        (
            "blackouts.1",
            {"start": "2027-01-01T00:00:00Z", "end": "2027-01-10T00:00:00Z", "reason": "q1 planning"},
            "blackouts[1]",
            "overlaps blackouts[0]",
        ),
        ("blackout", [], "blackout", "unknown key"),
    ],
)
def test_every_config_error_names_the_field(path: str, value: Any, field: str, hint: str) -> None:
    raw = _mutate(path, value) if not path.startswith("blackouts.1") else _append_blackout(value)

    with pytest.raises(GateConfigError) as caught:
        parse_window_config(raw)

    assert caught.value.field == field
    assert hint in caught.value.message
    assert str(caught.value).startswith(f"{field}: ")


def _append_blackout(value: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(VALID)
    raw["blackouts"].append(value)
    return raw


def test_config_must_be_an_object() -> None:
    with pytest.raises(GateConfigError, match=r"^window: "):
        parse_window_config(["MON"])


def test_days_are_case_insensitive_and_deduplicated() -> None:
    cfg = config(window("mon,MON,Tue", "09:00", "17:00", "UTC"))

    assert cfg.windows[0].days == frozenset({0, 1})


# -------------------------------------------------------------------------- handler


def test_handler_with_sample_event(capsys: pytest.CaptureFixture[str]) -> None:
    event = load_event("time_window_business_hours.json")

    result = time_window.handler(event, None)

    # Thu 2026-11-26 17:00 PST: after hours; Friday opens 09:00 PST = 17:00Z.
    assert result == {
        "open": False,
        "reason": (
            "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; "
            "next opens 2026-11-27T17:00:00Z"
        ),
        "next_open": "2026-11-27T17:00:00Z",
        "closed_by": ["window"],
    }
    logs = json_lines(capsys.readouterr().out)
    assert logs[-1]["gate"] == "time_window"
    assert logs[-1]["open"] is False


def test_handler_invalid_config_fails_closed() -> None:
    result = time_window.handler(load_event("time_window_invalid.json"), None)

    assert result["open"] is False
    assert result["next_open"] is None
    assert result["reason"].startswith("time-window config invalid: windows[0].timezone: ")


@pytest.mark.parametrize("timezone", [5, 5.5, True, ["Europe/London"], {"name": "UTC"}])
def test_handler_non_string_timezone_is_a_config_error_not_a_crash(timezone: Any) -> None:
    """A configuration error (closed, naming the field), never a TypeError caught as a crash."""
    event = {
        "window": {"windows": [{"days": ["MON"], "start": "09:00", "end": "17:00", "timezone": timezone}]},
        "now": "2026-11-23T12:00:00Z",
    }

    result = time_window.handler(event, None)

    assert result == {
        "open": False,
        "reason": (
            "time-window config invalid: windows[0].timezone: expected an IANA time zone name such as "
            f"'Europe/London', got {timezone!r}"
        ),
        "next_open": None,
    }


def test_handler_fails_closed_when_evaluating_crashes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The catch-all: an unexpected error answers closed and says what broke."""

    def crash(config: Any, now: datetime) -> Any:
        raise RuntimeError("zoneinfo exploded")

    monkeypatch.setattr(time_window, "evaluate_window", crash)

    result = time_window.handler({"window": {"windows": []}, "now": "2026-11-23T12:00:00Z"}, None)

    assert result == {
        "open": False,
        "reason": "time-window check failed (RuntimeError: zoneinfo exploded)",
        "next_open": None,
    }
    [record] = json_lines(capsys.readouterr().out)
    assert record["level"] == "ERROR"


@pytest.mark.parametrize(
    ("event", "prefix"),
    [
        ({"window": {"windows": []}, "now": "2026-11-26T00:00:00"}, "time-window event invalid: now: "),
        ({"now": "2026-11-26T00:00:00Z"}, "time-window config invalid: window: "),
        ("not an object", "time-window event invalid: event: "),
    ],
)
def test_handler_malformed_event_fails_closed(event: Any, prefix: str) -> None:
    result = time_window.handler(event, None)

    assert result["open"] is False
    assert result["reason"].startswith(prefix)


def test_handler_uses_wall_clock_without_now() -> None:
    before = datetime.now(UTC)
    result = time_window.handler({"window": {"windows": []}}, None)
    after = datetime.now(UTC)

    assert result["open"] is True
    assert result["next_open"] is not None
    assert before <= at(result["next_open"]) <= after


def test_a_closed_result_says_what_closes_it() -> None:
    """decide lifts a closed window only with the override kinds that match (window, blackout)."""
    weekdays = window(WEEKDAYS, "09:00", "17:00", "UTC")
    freeze = {"start": "2026-11-20T00:00:00Z", "end": "2026-12-01T00:00:00Z", "reason": "freeze"}
    both = evaluate_window(config(weekdays, blackouts=[freeze]), at("2026-11-28T12:00:00Z"))
    only_blackout = evaluate_window(config(weekdays, blackouts=[freeze]), at("2026-11-26T12:00:00Z"))
    only_window = evaluate_window(config(weekdays), at("2026-11-28T12:00:00Z"))
    assert both["closed_by"] == ["blackout", "window"]
    assert only_blackout["closed_by"] == ["blackout"]
    assert only_window["closed_by"] == ["window"]


# ------------------------------------------------- exact messages, labels and log levels

_DAY_LIST = "MON, TUE, WED, THU, FRI, SAT, SUN"


def _config_error(raw: Any) -> GateConfigError:
    with pytest.raises(GateConfigError) as caught:
        parse_window_config(raw)
    return caught.value


@pytest.mark.parametrize(
    ("raw", "field", "message"),
    [
        (None, "window", "expected an object with 'windows' and 'blackouts', got nothing"),
        ([], "window", "expected an object with 'windows' and 'blackouts', got list"),
        (
            {"blackouts": []},
            "windows",
            'missing; list the allowed windows, or write "windows": [] to allow any time',
        ),
        ({"windows": "MON"}, "windows", "expected a list, got str"),
        ({"windows": None}, "windows", "expected a list, got nothing"),
        ({"windows": [], "blackouts": {}}, "blackouts", "expected a list, got dict"),
        ({"windows": ["MON"]}, "windows[0]", "expected an object, got str"),
        ({"windows": [None]}, "windows[0]", "expected an object, got nothing"),
        ({"windows": [], "blackouts": [7]}, "blackouts[0]", "expected an object, got int"),
        ({"windows": [], "extra": 1}, "extra", "unknown key; expected one of blackouts, windows"),
        (
            {"windows": [{**window("MON", "09:00", "17:00", "UTC"), "zone": "UTC"}]},
            "windows[0].zone",
            "unknown key; expected one of days, end, start, timezone",
        ),
        (
            {"windows": [{"days": ["MON"], "start": "09:00", "end": "17:00"}]},
            "windows[0].timezone",
            'missing; a window looks like {"days": ["MON", "FRI"], "start": "09:00", '
            '"end": "17:00", "timezone": "Europe/London"}',
        ),
        (
            {"windows": [{"days": [], "start": "09:00", "end": "17:00", "timezone": "UTC"}]},
            "windows[0].days",
            "empty; list at least one day (MON..SUN) or remove the window",
        ),
        (
            {"windows": [{"days": "MON", "start": "09:00", "end": "17:00", "timezone": "UTC"}]},
            "windows[0].days",
            "expected a list, got str",
        ),
        (
            {"windows": [{"days": ["MON", 5], "start": "09:00", "end": "17:00", "timezone": "UTC"}]},
            "windows[0].days[1]",
            f"5 is not a day; use one of {_DAY_LIST}",
        ),
        (
            {"windows": [{"days": ["MONDAY"], "start": "09:00", "end": "17:00", "timezone": "UTC"}]},
            "windows[0].days[0]",
            f"'MONDAY' is not a day; use one of {_DAY_LIST}",
        ),
        (
            {"windows": [{"days": ["MON"], "start": 900, "end": "17:00", "timezone": "UTC"}]},
            "windows[0].start",
            "900 is not a 24-hour HH:MM time; write e.g. '09:00' or '22:30'",
        ),
        (
            {"windows": [{"days": ["MON"], "start": "09:00", "end": None, "timezone": "UTC"}]},
            "windows[0].end",
            "None is not a 24-hour HH:MM time; write e.g. '09:00' or '22:30'",
        ),
        (
            {"windows": [window("MON", "09:00", "09:00", "UTC")]},
            "windows[0].end",
            "equals start '09:00': a window needs a length (end before start "
            "crosses midnight); for 'any time' use an empty \"windows\" list",
        ),
        (
            {"windows": [window("MON", "09:00", "17:00", "Europe/Londn")]},
            "windows[0].timezone",
            "'Europe/Londn' is not a known IANA time zone (did you mean 'Europe/London'?)",
        ),
        (
            {"windows": [window("MON", "09:00", "17:00", "qqqqqqqqqqqqqqqq")]},
            "windows[0].timezone",
            "'qqqqqqqqqqqqqqqq' is not a known IANA time zone (e.g. 'America/Los_Angeles')",
        ),
    ],
)
def test_config_errors_name_the_field_and_say_exactly_what_is_wrong(
    raw: Any, field: str, message: str
) -> None:
    error = _config_error(raw)

    assert (error.field, error.message) == (field, message)
    assert str(error) == f"{field}: {message}"


def _blackout(start: str, end: str, reason: str = "freeze") -> dict[str, Any]:
    return {"start": start, "end": end, "reason": reason}


@pytest.mark.parametrize(
    ("blackouts", "field", "message"),
    [
        (
            [_blackout("2026-12-20T00:00:00Z", "2026-12-19T00:00:00+00:00")],
            "blackouts[0].end",
            "'2026-12-19T00:00:00+00:00' is not after start '2026-12-20T00:00:00Z'; "
            "a blackout must end after it starts",
        ),
        (
            [_blackout("2026-12-20T00:00:00Z", "2026-12-20T01:00:00+01:00")],
            "blackouts[0].end",
            "'2026-12-20T01:00:00+01:00' is not after start '2026-12-20T00:00:00Z'; "
            "a blackout must end after it starts",
        ),
        (
            [_blackout("2026-12-20T00:00:00Z", "2026-12-21T00:00:00Z", reason="  ")],
            "blackouts[0].reason",
            "missing; say why deployments are frozen (e.g. 'year-end freeze')",
        ),
        (
            [{"start": "2026-12-20T00:00:00Z", "end": "2026-12-21T00:00:00Z"}],
            "blackouts[0].reason",
            "missing; say why deployments are frozen (e.g. 'year-end freeze')",
        ),
        (
            [
                _blackout("2027-01-01T00:00:00Z", "2027-01-10T00:00:00Z", "first"),
                _blackout("2027-03-01T00:00:00Z", "2027-03-05T00:00:00Z", "second"),
                _blackout("2027-01-05T00:00:00Z", "2027-01-15T00:00:00Z", "third"),
            ],
            "blackouts[2]",
            "overlaps blackouts[0] ('first'); merge them into one blackout",
        ),
    ],
)
def test_blackout_errors_are_exact(blackouts: list[dict[str, Any]], field: str, message: str) -> None:
    error = _config_error({"windows": [], "blackouts": blackouts})

    assert (error.field, error.message) == (field, message)


def test_blackouts_listed_out_of_order_without_overlap_are_accepted() -> None:
    """Overlap is judged in time order, not list order."""
    cfg = config(
        blackouts=[
            _blackout("2027-03-01T00:00:00Z", "2027-03-05T00:00:00Z", "spring"),
            _blackout("2027-01-01T00:00:00Z", "2027-01-10T00:00:00Z", "new year"),
            _blackout("2027-02-01T00:00:00Z", "2027-02-02T00:00:00Z", "audit"),
        ]
    )

    assert [b.reason for b in cfg.blackouts] == ["spring", "new year", "audit"]
    assert is_open_at(cfg, at("2027-01-20T00:00:00Z")) is True
    assert is_open_at(cfg, at("2027-03-02T00:00:00Z")) is False


def test_naive_now_error_is_exact() -> None:
    with pytest.raises(GateConfigError) as caught:
        evaluate_window(config(), at("2026-11-26T00:00:00Z").replace(tzinfo=None))

    assert (caught.value.field, caught.value.message) == (
        "now",
        "naive datetime; pass an aware datetime (e.g. UTC)",
    )


def test_now_whose_zone_gives_no_offset_is_naive() -> None:
    """A tzinfo whose utcoffset() is None makes the datetime naive too."""

    class NoOffset(tzinfo):
        def utcoffset(self, dt: datetime | None) -> timedelta | None:
            return None

        def dst(self, dt: datetime | None) -> timedelta | None:
            return None

        def tzname(self, dt: datetime | None) -> str | None:
            return None

    with pytest.raises(GateConfigError) as caught:
        evaluate_window(config(), datetime(2026, 11, 26, 12, tzinfo=NoOffset()))

    assert caught.value.field == "now"
    assert caught.value.message == "naive datetime; pass an aware datetime (e.g. UTC)"


def test_closed_reason_lists_every_window_in_plural() -> None:
    cfg = config(window("MON", "09:00", "10:00", "UTC"), window("TUE,THU", "22:00", "02:00", "Asia/Tokyo"))

    decision = evaluate_window(cfg, at("2026-11-28T12:00:00Z"))  # Saturday

    assert decision["reason"] == (
        "outside deployment windows MON 09:00-10:00 UTC, TUE,THU 22:00-02:00 Asia/Tokyo; "
        "next opens 2026-11-30T09:00:00Z"
    )


def test_closed_reason_with_a_blackout_and_no_opening_in_the_horizon() -> None:
    cfg = config(
        window("MON", "09:00", "10:00", "UTC"),
        blackouts=[_blackout("2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z", "year-end freeze")],
    )

    decision = evaluate_window(cfg, at("2026-11-28T12:00:00Z"))

    assert decision == {
        "open": False,
        "reason": (
            "in blackout 'year-end freeze' until 2027-01-01T00:00:00Z; "
            "outside deployment window MON 09:00-10:00 UTC; no opening within 14 days"
        ),
        "next_open": None,
        "closed_by": ["blackout", "window"],
    }


def test_open_reason_names_the_window_that_started_first() -> None:
    """Overlapping windows: the reason names the one that opened earliest and contains now."""
    short = window("MON", "09:00", "12:00", "UTC")
    long = window("MON", "08:00", "18:00", "UTC")

    decision = evaluate_window(config(short, long), at("2026-11-30T10:00:00Z"))

    assert decision["reason"] == "inside deployment window MON 08:00-18:00 UTC"


def test_open_reason_ignores_a_window_that_just_closed() -> None:
    """At the exact end of one window (exclusive) the reason names the one still open."""
    morning = window("MON", "08:00", "10:00", "UTC")
    late = window("MON", "09:00", "12:00", "UTC")

    decision = evaluate_window(config(morning, late), at("2026-11-30T10:00:00Z"))

    assert decision["open"] is True
    assert decision["reason"] == "inside deployment window MON 09:00-12:00 UTC"


@pytest.mark.parametrize(
    ("decision", "level"),
    [
        ({"open": True, "reason": "", "next_open": "2026-11-30T10:00:00Z"}, "INFO"),
        ({"open": True, "reason": "", "next_open": None}, "INFO"),
        ({"open": False, "reason": "", "next_open": "2026-11-30T10:00:00Z"}, "INFO"),
        ({"open": False, "reason": "", "next_open": None}, "WARN"),
    ],
)
def test_log_level_warns_only_when_nothing_opens(decision: Any, level: str) -> None:
    assert time_window._level(decision) == level


@pytest.mark.parametrize(
    ("window_config", "level"),
    [
        ({"windows": []}, "INFO"),
        ({"windows": [window("MON", "09:00", "10:00", "UTC")]}, "INFO"),
        (
            {
                "windows": [],
                "blackouts": [_blackout("2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z")],
            },
            "WARN",
        ),
    ],
)
def test_handler_logs_at_the_decisions_level(
    window_config: dict[str, Any], level: str, capsys: pytest.CaptureFixture[str]
) -> None:
    time_window.handler({"window": window_config, "now": "2026-11-28T12:00:00Z"}, None)

    assert json_lines(capsys.readouterr().out)[-1]["level"] == level


@pytest.fixture
def host_zone(monkeypatch: pytest.MonkeyPatch) -> Any:
    """Set the host's local time zone (TZ) for one test, then restore it."""

    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time_module.tzset()

    yield set_zone
    monkeypatch.undo()
    time_module.tzset()


def test_the_host_time_zone_does_not_matter(host_zone: Any) -> None:
    """Local dates are taken in the window's zone, never the host's (here UTC-12 vs UTC+14)."""
    cfg = config(window("MON", "00:00", "01:00", "Pacific/Kiritimati"))
    instant = at("2026-11-30T00:30:00+14:00")  # Monday 00:30 in Kiritimati, Saturday in UTC-12
    host_zone("Etc/GMT+12")

    assert is_open_at(cfg, instant) is True
    assert evaluate_window(cfg, instant)["open"] is True
