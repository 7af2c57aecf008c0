"""Blocker decision (P14, P15): combinations, override scopes, give-up, audit EMF record."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from gate_testing import at, json_lines, load_event

from hands_off_gates import decide as decide_module
from hands_off_gates.decide import decide

NOW = at("2026-11-26T18:00:00Z")
STARTED = "2026-11-26T17:50:00Z"

CLEAR = {"clear": True, "label": "app", "reasons": [], "in_alarm": [], "checked": 2}
APP_ALARM = {
    "clear": False,
    "label": "app",
    "reasons": ["app alarm 'orders-5xx' is in ALARM in us-east-1: too many errors"],
    "in_alarm": [{"name": "orders-5xx", "region": "us-east-1", "reason": "too many errors"}],
    "checked": 2,
}
ORG_ALARM = {
    "clear": False,
    "label": "org",
    "reasons": ["org alarm 'org-dns' is in ALARM in eu-west-1: resolution failures"],
    "in_alarm": [{"name": "org-dns", "region": "eu-west-1", "reason": "resolution failures"}],
    "checked": 1,
}
OPEN = {
    "open": True,
    "reason": "inside deployment window MON-FRI 09:00-17:00 America/Los_Angeles",
    "next_open": None,
}
CLOSED = {
    "open": False,
    "reason": (
        "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; next opens 2026-11-27T17:00:00Z"
    ),
    "next_open": "2026-11-27T17:00:00Z",
}
NO_OVERRIDE = {"active": False, "reason": "no override"}


def active(*scope: str) -> dict[str, Any]:
    return {
        "active": True,
        "who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T20:00:00Z",
        "scope": list(scope),
        "reason": "override by alice",
    }


def run(
    app: Any = CLEAR,
    org: Any = CLEAR,
    window: Any = OPEN,
    override: Any = NO_OVERRIDE,
    started_at: Any = STARTED,
    max_wait: Any = 3600,
) -> Any:
    return decide(
        app=app,
        org=org,
        window=window,
        override=override,
        started_at=started_at,
        now=NOW,
        max_wait_seconds=max_wait,
    )


BOTH = ("alarms", "window")


@pytest.mark.parametrize(
    ("app", "org", "window", "override", "proceed", "override_used"),
    [
        (CLEAR, CLEAR, OPEN, NO_OVERRIDE, True, False),
        (APP_ALARM, CLEAR, OPEN, NO_OVERRIDE, False, False),
        (CLEAR, ORG_ALARM, OPEN, NO_OVERRIDE, False, False),
        (CLEAR, CLEAR, CLOSED, NO_OVERRIDE, False, False),
        (APP_ALARM, ORG_ALARM, CLOSED, NO_OVERRIDE, False, False),
        # alarms-only override
        (APP_ALARM, CLEAR, OPEN, active("alarms"), True, True),
        (APP_ALARM, ORG_ALARM, OPEN, active("alarms"), True, True),
        (CLEAR, CLEAR, CLOSED, active("alarms"), False, False),
        (APP_ALARM, CLEAR, CLOSED, active("alarms"), False, False),
        # window-only override
        (CLEAR, CLEAR, CLOSED, active("window"), True, True),
        (APP_ALARM, CLEAR, OPEN, active("window"), False, False),
        (APP_ALARM, CLEAR, CLOSED, active("window"), False, False),
        # both
        (APP_ALARM, ORG_ALARM, CLOSED, active(*BOTH), True, True),
        (CLEAR, CLEAR, CLOSED, active(*BOTH), True, True),
        # an active override that is not needed is not "used"
        (CLEAR, CLEAR, OPEN, active(*BOTH), True, False),
    ],
)
def test_combinations(
    app: Any, org: Any, window: Any, override: Any, proceed: bool, override_used: bool
) -> None:
    result = run(app, org, window, override)

    assert result["proceed"] is proceed
    assert result["override_used"] is override_used
    assert result["give_up"] is False


def test_all_clear_reason() -> None:
    assert run()["reason"] == (
        "all gates clear: app alarms clear; org alarms clear; "
        "inside deployment window MON-FRI 09:00-17:00 America/Los_Angeles"
    )


def test_blocked_reason_lists_every_blocker_on_one_line() -> None:
    result = run(APP_ALARM, ORG_ALARM, CLOSED, {"active": False, "reason": "override ignored: who: missing"})

    assert result["reason"] == (
        "blocked: app alarm 'orders-5xx' is in ALARM in us-east-1: too many errors; "
        "org alarm 'org-dns' is in ALARM in eu-west-1: resolution failures; "
        "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; next opens 2026-11-27T17:00:00Z; "
        "override ignored: who: missing; "
        "waited 600 s of 3600 s — will re-check"
    )
    assert "\n" not in result["reason"]
    assert len(result["blockers"]) == 3


def test_override_reason_names_who_and_what_was_bypassed() -> None:
    result = run(APP_ALARM, CLEAR, OPEN, active("alarms"))

    assert result["reason"] == (
        "proceeding under override by alice until 2026-11-26T20:00:00Z (scope: alarms): hotfix INC-1234 — "
        "bypassing: app alarm 'orders-5xx' is in ALARM in us-east-1: too many errors"
    )
    assert result["bypassed"] == APP_ALARM["reasons"]


def test_partial_override_says_what_it_does_not_cover() -> None:
    result = run(APP_ALARM, CLEAR, CLOSED, active("alarms"))

    assert result["blockers"] == [CLOSED["reason"]]
    assert "(scope: alarms): hotfix INC-1234 does not cover window" in result["reason"]


def test_give_up_after_max_wait() -> None:
    assert run(APP_ALARM, started_at="2026-11-26T17:00:00Z")["give_up"] is True
    assert run(APP_ALARM, started_at="2026-11-26T17:00:01Z")["give_up"] is False
    assert "giving up" in run(APP_ALARM, started_at="2026-11-26T16:00:00Z")["reason"]


def test_never_gives_up_when_proceeding() -> None:
    assert run(started_at="2026-11-20T00:00:00Z")["give_up"] is False


def test_max_wait_zero_gives_up_at_once() -> None:
    assert run(window=CLOSED, max_wait=0)["give_up"] is True


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("app", None),
        ("app", {"clear": "yes"}),
        ("org", {}),
        ("org", {"clear": False, "reasons": "x"}),
        ("window", None),
        ("window", {"open": 1}),
        ("override", None),
        ("override", {"active": "true"}),
        ("override", {"active": True, "who": "a", "why": "b", "expires_at": "2026-11-26T20:00:00Z"}),
        ("override", {"active": True, "who": "a", "why": "b", "scope": ["alarms"], "expires_at": "soon"}),
        (
            "override",
            {
                "active": True,
                "who": "a",
                "why": "b",
                "scope": ["everything"],
                "expires_at": "2026-11-26T20:00:00Z",
            },
        ),
    ],
)
def test_malformed_sub_result_blocks_even_with_override(field: str, bad: Any) -> None:
    kwargs: dict[str, Any] = {"app": CLEAR, "org": CLEAR, "window": OPEN, "override": active(*BOTH)}
    kwargs[field] = bad

    result = run(**kwargs)

    assert result["proceed"] is False
    assert result["override_used"] is False
    assert "malformed" in result["reason"]


@pytest.mark.parametrize(
    ("started_at", "max_wait"),
    [(None, 3600), ("2026-11-26T17:50:00", 3600), (STARTED, "3600"), (STARTED, -1), (STARTED, True)],
)
def test_malformed_timing_blocks_and_gives_up(started_at: Any, max_wait: Any) -> None:
    result = run(started_at=started_at, max_wait=max_wait)

    assert result["proceed"] is False
    assert result["give_up"] is True
    assert "decide event invalid" in result["reason"]


def test_override_that_expired_since_it_was_read_is_not_used() -> None:
    expired = active(*BOTH) | {"expires_at": "2026-11-26T17:59:00Z"}

    result = run(APP_ALARM, override=expired)

    assert result["proceed"] is False
    assert "override expired at 2026-11-26T17:59:00Z" in result["reason"]


# -------------------------------------------------------------------------- handler


def test_handler_emits_audit_log_and_emf_when_override_used(capsys: pytest.CaptureFixture[str]) -> None:
    result = decide_module.handler(load_event("decide_override_used.json"), None)

    assert result["proceed"] is True
    assert result["override_used"] is True
    records = json_lines(capsys.readouterr().out)
    emf = [r for r in records if "_aws" in r]
    assert len(emf) == 1
    metrics = emf[0]["_aws"]["CloudWatchMetrics"][0]
    assert metrics["Namespace"] == "HandsOff/Gates"
    assert metrics["Metrics"] == [{"Name": "OverrideUsed", "Unit": "Count"}]
    assert metrics["Dimensions"] == [["Pipeline", "Stage"]]
    assert emf[0]["Pipeline"] == "orders"
    assert emf[0]["Stage"] == "prod-1"
    assert emf[0]["OverrideUsed"] == 1
    assert isinstance(emf[0]["_aws"]["Timestamp"], int)
    audit = [r for r in records if r.get("level") == "AUDIT"]
    assert len(audit) == 1
    assert audit[0]["who"] == "alice"
    assert audit[0]["why"] == "hotfix INC-1234"
    assert audit[0]["bypassed"] == result["bypassed"]


def test_handler_blocked_sample_event_gives_up_without_audit(capsys: pytest.CaptureFixture[str]) -> None:
    result = decide_module.handler(load_event("decide_blocked.json"), None)

    assert result["proceed"] is False
    assert result["give_up"] is True
    assert result["reason"] == (
        "blocked: org alarm 'org-critical-network' is in ALARM in eu-west-1: packet loss; "
        "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; next opens 2026-11-27T17:00:00Z; "
        "override expired at 2026-11-26T01:00:00Z (set by bob: hotfix); "
        "waited 5400 s of 3600 s — giving up"
    )
    records = json_lines(capsys.readouterr().out)
    assert not [r for r in records if "_aws" in r or r.get("level") == "AUDIT"]


def test_handler_no_emf_when_all_clear(capsys: pytest.CaptureFixture[str]) -> None:
    event = copy.deepcopy(load_event("decide_override_used.json"))
    event["app"] = CLEAR

    result = decide_module.handler(event, None)

    assert result["proceed"] is True
    assert result["override_used"] is False
    assert not [r for r in json_lines(capsys.readouterr().out) if "_aws" in r]


@pytest.mark.parametrize("event", [None, {}, {"now": "yesterday"}])
def test_handler_malformed_event_blocks(event: Any) -> None:
    result = decide_module.handler(event, None)

    assert result["proceed"] is False
    assert result["give_up"] is True
