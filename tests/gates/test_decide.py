"""Blocker decision (P14, P15): combinations, override kinds and re-checks, give-up, audit EMF record."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from gate_testing import at, json_lines, load_event

from hands_off_gates import contract
from hands_off_gates import decide as decide_module
from hands_off_gates.decide import decide, override_audit_emf

NOW = at("2026-11-26T18:00:00Z")
STARTED = "2026-11-26T17:50:00Z"
STAGE = "Prod-2"
EXECUTION = "exec-1"
WRITER = "arn:aws:sts::111111111111:assumed-role/Developer/alice"

CLEAR: dict[str, Any] = {"clear": True, "label": "app", "reasons": [], "in_alarm": [], "checked": 2}
APP_ALARM: dict[str, Any] = {
    "clear": False,
    "label": "app",
    "reasons": ["app alarm 'orders-5xx' is in ALARM in us-east-1: too many errors"],
    "in_alarm": [{"name": "orders-5xx", "region": "us-east-1", "reason": "too many errors"}],
    "checked": 2,
}
ORG_ALARM: dict[str, Any] = {
    "clear": False,
    "label": "org",
    "reasons": ["org alarm 'org-dns' is in ALARM in eu-west-1: resolution failures"],
    "in_alarm": [{"name": "org-dns", "region": "eu-west-1", "reason": "resolution failures"}],
    "checked": 1,
}
OPEN: dict[str, Any] = {
    "open": True,
    "reason": "inside deployment window MON-FRI 09:00-17:00 America/Los_Angeles",
    "next_open": None,
    "closed_by": [],
}
CLOSED: dict[str, Any] = {
    "open": False,
    "reason": (
        "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; next opens 2026-11-27T17:00:00Z"
    ),
    "next_open": "2026-11-27T17:00:00Z",
    "closed_by": ["window"],
}
BLACKOUT: dict[str, Any] = {
    "open": False,
    "reason": "in blackout 'year-end freeze' until 2027-01-04T00:00:00Z; next opens 2027-01-04T17:00:00Z",
    "next_open": "2027-01-04T17:00:00Z",
    "closed_by": ["blackout"],
}
BLACKOUT_AND_CLOSED: dict[str, Any] = BLACKOUT | {"closed_by": ["blackout", "window"]}
CLOSED_UNTOLD: dict[str, Any] = {
    k: v for k, v in CLOSED.items() if k != "closed_by"
}  # a result that does not say why
NO_OVERRIDE: dict[str, Any] = {"active": False, "reason": "no override"}


def active(*scope: str, **changes: Any) -> dict[str, Any]:
    """An active override result for STAGE, as the override gate returns it."""
    result: dict[str, Any] = {
        "active": True,
        "author": WRITER,
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T20:00:00Z",
        "stages": [STAGE],
        "scope": list(scope),
        "reason": "override written by ...",
    }
    result.update(changes)
    return {k: v for k, v in result.items() if v is not None}


ALL = ("alarms", "org-alarms", "window", "blackout")


def run(
    app: Any = CLEAR,
    org: Any = CLEAR,
    window: Any = OPEN,
    override: Any = NO_OVERRIDE,
    started_at: Any = STARTED,
    max_wait: Any = 3600,
    **extra: Any,
) -> Any:
    params: dict[str, Any] = {"stage": STAGE, "execution_id": EXECUTION, **extra}
    return decide(
        app=app,
        org=org,
        window=window,
        override=override,
        started_at=started_at,
        now=params.pop("now", NOW),
        max_wait_seconds=max_wait,
        **params,
    )


@pytest.mark.parametrize(
    ("app", "org", "window", "override", "proceed", "override_used"),
    [
        (CLEAR, CLEAR, OPEN, NO_OVERRIDE, True, False),
        (APP_ALARM, CLEAR, OPEN, NO_OVERRIDE, False, False),
        (CLEAR, ORG_ALARM, OPEN, NO_OVERRIDE, False, False),
        (CLEAR, CLEAR, CLOSED, NO_OVERRIDE, False, False),
        (CLEAR, CLEAR, BLACKOUT, NO_OVERRIDE, False, False),
        (APP_ALARM, ORG_ALARM, CLOSED, NO_OVERRIDE, False, False),
        # "alarms" lifts the service's own alarms, and only those
        (APP_ALARM, CLEAR, OPEN, active("alarms"), True, True),
        (CLEAR, ORG_ALARM, OPEN, active("alarms"), False, False),
        (APP_ALARM, ORG_ALARM, OPEN, active("alarms"), False, False),
        (CLEAR, CLEAR, CLOSED, active("alarms"), False, False),
        (APP_ALARM, CLEAR, CLOSED, active("alarms"), False, False),
        # "org-alarms" lifts the organization-wide alarms, and only those
        (CLEAR, ORG_ALARM, OPEN, active("org-alarms"), True, True),
        (APP_ALARM, CLEAR, OPEN, active("org-alarms"), False, False),
        (APP_ALARM, ORG_ALARM, OPEN, active("alarms", "org-alarms"), True, True),
        # "window" lifts being outside the window, not a blackout
        (CLEAR, CLEAR, CLOSED, active("window"), True, True),
        (CLEAR, CLEAR, BLACKOUT, active("window"), False, False),
        (CLEAR, CLEAR, BLACKOUT_AND_CLOSED, active("window"), False, False),
        (APP_ALARM, CLEAR, OPEN, active("window"), False, False),
        # "blackout" lifts a blackout, not being outside the window
        (CLEAR, CLEAR, BLACKOUT, active("blackout"), True, True),
        (CLEAR, CLOSED, CLOSED, active("blackout"), False, False),
        (CLEAR, CLEAR, CLOSED, active("blackout"), False, False),
        (CLEAR, CLEAR, BLACKOUT_AND_CLOSED, active("window", "blackout"), True, True),
        # a window result that does not say what closes it needs both kinds
        (CLEAR, CLEAR, CLOSED_UNTOLD, active("window"), False, False),
        (CLEAR, CLEAR, CLOSED_UNTOLD, active("blackout"), False, False),
        (CLEAR, CLEAR, CLOSED_UNTOLD, active("window", "blackout"), True, True),
        # everything
        (APP_ALARM, ORG_ALARM, BLACKOUT_AND_CLOSED, active(*ALL), True, True),
        # an active override that is not needed is not "used"
        (CLEAR, CLEAR, OPEN, active(*ALL), True, False),
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


def test_override_reason_names_the_writer_and_what_was_bypassed() -> None:
    result = run(APP_ALARM, CLEAR, OPEN, active("alarms"))

    assert result["reason"] == (
        f"proceeding under override written by {WRITER} (says: alice) until 2026-11-26T20:00:00Z "
        "for Prod-2 (scope: alarms): hotfix INC-1234 — "
        "bypassing: app alarm 'orders-5xx' is in ALARM in us-east-1: too many errors"
    )
    assert result["bypassed"] == APP_ALARM["reasons"]


def test_partial_override_says_what_it_does_not_cover() -> None:
    result = run(APP_ALARM, ORG_ALARM, BLACKOUT_AND_CLOSED, active("alarms", "window"))

    assert result["blockers"] == [*ORG_ALARM["reasons"], BLACKOUT["reason"]]
    assert (
        "(scope: alarms, window): hotfix INC-1234 does not cover org-alarms or blackout" in result["reason"]
    )


def test_window_result_that_does_not_say_what_closes_it_is_explained() -> None:
    result = run(window=CLOSED_UNTOLD, override=active("window"))

    assert result["proceed"] is False
    assert "does not cover blackout" in result["reason"]
    assert (
        "the time-window result does not say whether the window or a blackout closes it" in result["reason"]
    )


# ------------------------------------------------------------------ alarm results checked


@pytest.mark.parametrize(
    "bad",
    [
        CLEAR | {"reasons": ["app alarm 'orders-5xx' is in ALARM in us-east-1"]},
        CLEAR | {"in_alarm": [{"name": "orders-5xx", "region": "us-east-1"}]},
        CLEAR | {"in_alarm": "orders-5xx"},
    ],
)
@pytest.mark.parametrize("field", ["app", "org"])
def test_alarm_result_clear_yet_listing_alarms_blocks(field: str, bad: dict[str, Any]) -> None:
    result = run(**{field: bad, "override": active(*ALL)})

    assert result["proceed"] is False
    assert result["override_used"] is False
    assert f"{field} alarm result" in result["reason"]
    assert "malformed" in result["reason"]


# ------------------------------------------------------------- the override re-checked


def test_override_expiring_at_this_instant_is_not_used() -> None:
    result = run(APP_ALARM, override=active("alarms", expires_at="2026-11-26T18:00:00Z"))

    assert result["proceed"] is False
    assert "override expired at 2026-11-26T18:00:00Z" in result["reason"]


def test_override_expiring_a_second_later_is_used() -> None:
    assert run(APP_ALARM, override=active("alarms", expires_at="2026-11-26T18:00:01Z"))["proceed"] is True


def test_override_that_expired_since_it_was_read_is_not_used() -> None:
    result = run(APP_ALARM, override=active(*ALL, expires_at="2026-11-26T17:59:00Z"))

    assert result["proceed"] is False
    assert "override expired at 2026-11-26T17:59:00Z" in result["reason"]


def test_override_beyond_the_maximum_lifetime_is_not_used() -> None:
    later = active("alarms", expires_at="2026-11-27T18:00:01Z")  # 24 h + 1 s

    assert run(APP_ALARM, override=active("alarms", expires_at="2026-11-27T18:00:00Z"))["proceed"] is True
    result = run(APP_ALARM, override=later)
    assert result["proceed"] is False
    assert "is more than 24 hours after now" in result["reason"]
    assert run(APP_ALARM, override=later, override_max_hours=25)["proceed"] is True


@pytest.mark.parametrize("bad", [0, 169, "24", True, 1.5])
def test_invalid_maximum_lifetime_blocks(bad: object) -> None:
    result = run(override_max_hours=bad)

    assert result["proceed"] is False
    assert "decide event invalid: override_max_hours: expected whole hours from 1 to 168" in result["reason"]


def test_override_is_not_judged_when_the_maximum_lifetime_is_invalid() -> None:
    result = run(APP_ALARM, ORG_ALARM, override=active("alarms"), override_max_hours=0)

    assert result["reason"] == (
        "blocked: decide event invalid: override_max_hours: expected whole hours from 1 to 168, got 0; "
        f"{APP_ALARM['reasons'][0]}; {ORG_ALARM['reasons'][0]}; waited 600 s of 3600 s — will re-check"
    )


def test_override_for_another_stage_is_not_used() -> None:
    result = run(APP_ALARM, override=active("alarms", stages=["Prod-3"]))

    assert result["proceed"] is False
    assert "override lifts nothing at Prod-2: it names stages Prod-3" in result["reason"]


def test_override_is_not_used_when_decide_is_not_told_the_stage() -> None:
    result = run(APP_ALARM, override=active("alarms"), stage=None)

    assert result["proceed"] is False
    assert "the gate did not say which stage it guards" in result["reason"]


def test_override_bound_to_this_execution_is_used() -> None:
    result = run(APP_ALARM, override=active("alarms", execution_id=EXECUTION))

    assert result["proceed"] is True
    assert "for Prod-2, execution exec-1 (scope: alarms)" in result["reason"]


@pytest.mark.parametrize(
    ("execution_id", "says"), [("exec-2", "not exec-2"), (None, "passed no execution id")]
)
def test_override_bound_to_another_execution_is_not_used(execution_id: Any, says: str) -> None:
    result = run(APP_ALARM, override=active("alarms", execution_id=EXECUTION), execution_id=execution_id)

    assert result["proceed"] is False
    assert "it is bound to pipeline execution exec-1" in result["reason"]
    assert says in result["reason"]


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("app", None),
        ("app", {"clear": "yes"}),
        ("org", {}),
        ("org", {"clear": False, "reasons": "x"}),
        ("window", None),
        ("window", {"open": 1}),
        ("window", CLOSED | {"closed_by": "window"}),
        ("window", CLOSED | {"closed_by": ["window", "lunch"]}),
        ("override", None),
        ("override", {"active": "true"}),
        ("override", active(*ALL, scope=None)),
        ("override", active(*ALL, scope=[])),
        ("override", active("everything")),
        ("override", active("alarms", "window", "alarm")),
        ("override", active(*ALL, expires_at="soon")),
        ("override", active(*ALL, author=None)),
        ("override", active(*ALL, author="")),
        ("override", active(*ALL, claimed_who=None)),
        ("override", active(*ALL, why=3)),
        ("override", active(*ALL, stages=None)),
        ("override", active(*ALL, stages=[])),
        ("override", active(*ALL, stages=STAGE)),
        ("override", active(*ALL, stages=[STAGE, 2])),
        ("override", active(*ALL, execution_id="")),
        ("override", active(*ALL, execution_id=4)),
    ],
)
def test_malformed_sub_result_blocks_even_with_override(field: str, bad: Any) -> None:
    kwargs: dict[str, Any] = {"app": CLEAR, "org": CLEAR, "window": OPEN, "override": active(*ALL)}
    kwargs[field] = bad

    result = run(**kwargs)

    assert result["proceed"] is False
    assert result["override_used"] is False
    assert "malformed" in result["reason"]


# -------------------------------------------------------------------------------- timing


def test_give_up_after_max_wait() -> None:
    assert run(APP_ALARM, started_at="2026-11-26T17:00:00Z")["give_up"] is True
    assert run(APP_ALARM, started_at="2026-11-26T17:00:01Z")["give_up"] is False
    assert "giving up" in run(APP_ALARM, started_at="2026-11-26T16:00:00Z")["reason"]


def test_never_gives_up_when_proceeding() -> None:
    assert run(started_at="2026-11-20T00:00:00Z")["give_up"] is False


def test_max_wait_zero_gives_up_at_once() -> None:
    assert run(window=CLOSED, max_wait=0)["give_up"] is True
    blocked = run(APP_ALARM, max_wait=0)
    assert (blocked["proceed"], blocked["give_up"]) == (False, True)


def test_max_wait_zero_lets_a_clear_gate_proceed() -> None:
    result = run(max_wait=0)

    assert (result["proceed"], result["give_up"]) == (True, False)
    assert result["blockers"] == []


@pytest.mark.parametrize(
    ("started_at", "max_wait"),
    [(None, 3600), ("2026-11-26T17:50:00", 3600), (STARTED, "3600"), (STARTED, -1), (STARTED, True)],
)
def test_malformed_timing_blocks_and_gives_up(started_at: Any, max_wait: Any) -> None:
    result = run(started_at=started_at, max_wait=max_wait)

    assert result["proceed"] is False
    assert result["give_up"] is True
    assert "decide event invalid" in result["reason"]


# ---------------------------------------------------------------------------- audit record


def test_override_emf_record_has_the_exact_shape() -> None:
    result = run(APP_ALARM, override=active("alarms", execution_id=EXECUTION))
    stamp = at("2026-11-26T18:00:00.123456Z")

    record = override_audit_emf(
        pipeline="orders",
        stage=STAGE,
        result=result,
        override=active("alarms", execution_id=EXECUTION),
        at=stamp,
    )

    assert record == {
        "_aws": {
            "Timestamp": 1795716000123,
            "CloudWatchMetrics": [
                {
                    "Namespace": contract.GATES_NAMESPACE,
                    "Dimensions": [["Pipeline", "Stage"]],
                    "Metrics": [{"Name": "OverrideUsed", "Unit": "Count"}],
                }
            ],
        },
        "Pipeline": "orders",
        "Stage": STAGE,
        "OverrideUsed": 1,
        "who": WRITER,
        "author": WRITER,
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T20:00:00Z",
        "scope": ["alarms"],
        "stages": [STAGE],
        "execution_id": EXECUTION,
        "bypassed": APP_ALARM["reasons"],
    }
    assert contract.GATES_NAMESPACE == "HandsOff/Gates"


def test_handler_emits_audit_log_and_emf_when_override_used(capsys: pytest.CaptureFixture[str]) -> None:
    event = load_event("decide_override_used.json")
    before = time.time() * 1000

    result = decide_module.handler(event, None)

    after = time.time() * 1000
    assert result["proceed"] is True
    assert result["override_used"] is True
    records = json_lines(capsys.readouterr().out)
    [emf] = [r for r in records if "_aws" in r]
    stamp = emf["_aws"]["Timestamp"]
    assert isinstance(stamp, int)
    assert before - 1000 <= stamp <= after + 1000  # epoch milliseconds, the wall clock
    override = event["override"]
    assert emf == {
        "_aws": {
            "Timestamp": stamp,
            "CloudWatchMetrics": [
                {
                    "Namespace": "HandsOff/Gates",
                    "Dimensions": [["Pipeline", "Stage"]],
                    "Metrics": [{"Name": "OverrideUsed", "Unit": "Count"}],
                }
            ],
        },
        "Pipeline": "orders",
        "Stage": "Prod-1",
        "OverrideUsed": 1,
        "who": override["author"],
        "author": override["author"],
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T20:00:00Z",
        "scope": ["alarms"],
        "stages": ["Prod-1"],
        "execution_id": None,
        "bypassed": result["bypassed"],
    }
    [audit] = [r for r in records if r.get("level") == "AUDIT"]
    assert {k: audit[k] for k in ("who", "author", "claimed_who", "why", "scope", "stages", "bypassed")} == {
        "who": override["author"],
        "author": override["author"],
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "scope": ["alarms"],
        "stages": ["Prod-1"],
        "bypassed": result["bypassed"],
    }
    assert audit["message"] == "deployment gate overridden for orders/Prod-1"


def test_handler_blocked_sample_event_gives_up_without_audit(capsys: pytest.CaptureFixture[str]) -> None:
    result = decide_module.handler(load_event("decide_blocked.json"), None)

    assert result["proceed"] is False
    assert result["give_up"] is True
    assert result["reason"] == (
        "blocked: org alarm 'org-critical-network' is in ALARM in eu-west-1: packet loss; "
        "outside deployment window MON-FRI 09:00-17:00 America/Los_Angeles; next opens 2026-11-27T17:00:00Z; "
        "override expired at 2026-11-26T01:00:00Z "
        "(written by arn:aws:iam::111111111111:user/bob, says bob: hotfix); "
        "waited 5400 s of 3600 s — giving up"
    )
    records = json_lines(capsys.readouterr().out)
    assert not [r for r in records if "_aws" in r or r.get("level") == "AUDIT"]


def test_handler_passes_stage_execution_and_lifetime_from_the_event() -> None:
    event = load_event("decide_override_used.json")
    event["override"] = event["override"] | {"execution_id": "exec-7", "expires_at": "2026-11-27T20:00:00Z"}

    assert decide_module.handler(event, None)["proceed"] is False  # no execution id, 26 h > 24 h
    event["execution_id"] = "exec-7"
    assert decide_module.handler(event, None)["proceed"] is False  # 26 h > 24 h
    event["override_max_hours"] = 26
    assert decide_module.handler(event, None)["proceed"] is True
    event["stage"] = "Prod-2"
    assert decide_module.handler(event, None)["proceed"] is False


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


def test_handler_that_crashes_fails_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def crash(**_: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(decide_module, "decide", crash)

    result = decide_module.handler(load_event("decide_override_used.json"), None)

    assert result == {
        "proceed": False,
        "give_up": True,
        "reason": "blocked: decide check failed (RuntimeError: boom) — giving up",
        "override_used": False,
        "blockers": ["decide check failed (RuntimeError: boom)"],
        "bypassed": [],
        "hotfix": False,
    }


def test_handler_invalid_now_fails_closed_with_the_reason() -> None:
    assert decide_module.handler({"now": "yesterday"}, None) == {
        "proceed": False,
        "give_up": True,
        "reason": (
            "blocked: decide event invalid: now: 'yesterday' is not an ISO-8601 date-time; "
            "write e.g. '2026-12-20T00:00:00Z' — giving up"
        ),
        "override_used": False,
        "blockers": [
            "decide event invalid: now: 'yesterday' is not an ISO-8601 date-time; "
            "write e.g. '2026-12-20T00:00:00Z'"
        ],
        "bypassed": [],
        "hotfix": False,
    }


# ------------------------------------------------------ exact reasons (mutation testing, issue 13)


def blocked_reason(*parts: str, wait: str = "waited 600 s of 3600 s — will re-check") -> str:
    return "blocked: " + "; ".join([*parts, wait])


def test_a_blocked_result_has_the_exact_shape() -> None:
    assert run(APP_ALARM) == {
        "proceed": False,
        "give_up": False,
        "reason": blocked_reason(APP_ALARM["reasons"][0]),
        "override_used": False,
        "blockers": APP_ALARM["reasons"],
        "bypassed": [],
        "hotfix": False,
    }


def test_a_clear_result_has_the_exact_shape() -> None:
    assert run() == {
        "proceed": True,
        "give_up": False,
        "reason": (
            "all gates clear: app alarms clear; org alarms clear; "
            "inside deployment window MON-FRI 09:00-17:00 America/Los_Angeles"
        ),
        "override_used": False,
        "blockers": [],
        "bypassed": [],
        "hotfix": False,
    }


@pytest.mark.parametrize(
    "window", [{"open": True}, {"open": True, "reason": 5}, {"open": True, "reason": None}]
)
def test_an_open_window_without_a_reason_says_window_open(window: dict[str, Any]) -> None:
    assert run(window=window)["reason"] == (
        "all gates clear: app alarms clear; org alarms clear; window open"
    )


@pytest.mark.parametrize(
    "window", [{"open": False}, {"open": False, "reason": 5}, {"open": False, "closed_by": []}]
)
def test_a_closed_window_without_a_reason_says_outside_the_window(window: dict[str, Any]) -> None:
    result = run(window=window)

    assert result["blockers"] == ["outside deployment window"]
    assert result["reason"] == blocked_reason("outside deployment window")


def test_an_override_bypassing_several_blockers_lists_them_on_one_line() -> None:
    result = run(APP_ALARM, ORG_ALARM, CLOSED, active("alarms", "org-alarms", "window"))

    assert result["bypassed"] == [*APP_ALARM["reasons"], *ORG_ALARM["reasons"], CLOSED["reason"]]
    assert result["reason"].endswith(
        " — bypassing: " + "; ".join([*APP_ALARM["reasons"], *ORG_ALARM["reasons"], CLOSED["reason"]])
    )
    assert result["blockers"] == []


@pytest.mark.parametrize(
    ("reasons", "blockers"),
    [
        (None, ["app alarms not clear (no reason given)"]),  # no "reasons" key at all
        ([], ["app alarms not clear (no reason given)"]),
        ([""], ["app alarms not clear (no reason given)"]),
        (["", "app alarm 'x' is in ALARM in us-east-1"], ["app alarm 'x' is in ALARM in us-east-1"]),
    ],
)
def test_an_alarm_result_not_clear_names_its_reasons_or_says_none_given(
    reasons: list[str] | None, blockers: list[str]
) -> None:
    app: dict[str, Any] = {"clear": False, "in_alarm": []}
    if reasons is not None:
        app["reasons"] = reasons

    result = run(app)

    assert result["blockers"] == blockers
    assert result["reason"] == blocked_reason(*blockers)


@pytest.mark.parametrize(
    ("field", "bad", "blocker"),
    [
        ("app", None, "app alarm result missing or malformed — blocking (fail closed)"),
        ("org", {}, "org alarm result missing or malformed — blocking (fail closed)"),
        (
            "app",
            CLEAR | {"in_alarm": [{"name": "x"}]},
            "app alarm result malformed (clear, yet it lists alarms) — blocking (fail closed)",
        ),
        ("window", None, "time-window result missing or malformed — blocking (fail closed)"),
        (
            "window",
            CLOSED | {"closed_by": ["window", "lunch"]},
            "time-window result malformed (closed_by: ['window', 'lunch'], expected a list drawn from "
            "window, blackout) — blocking (fail closed)",
        ),
        ("override", None, "override result missing or malformed — blocking (fail closed)"),
        (
            "override",
            active(*ALL, author=None),
            "override result malformed (author: expected a non-empty string, got None) — blocking",
        ),
        (
            "override",
            active(*ALL, claimed_who=""),
            "override result malformed (claimed_who: expected a non-empty string, got '') — blocking",
        ),
        (
            "override",
            active(*ALL, why=3),
            "override result malformed (why: expected a non-empty string, got 3) — blocking",
        ),
        (
            "override",
            active("everything"),
            "override result malformed (scope: expected a non-empty list drawn from "
            "alarms, org-alarms, window, blackout, hotfix) — blocking",
        ),
        (
            "override",
            active(*ALL, stages=[STAGE, 2]),
            "override result malformed (stages: expected a non-empty list of stage names, "
            "got ['Prod-2', 2]) — blocking",
        ),
        (
            "override",
            active(*ALL, execution_id=4),
            "override result malformed (execution_id: expected a pipeline execution id, got 4) — blocking",
        ),
        (
            "override",
            active(*ALL, expires_at="soon"),
            "override result malformed (expires_at: 'soon' is not an ISO-8601 date-time; "
            "write e.g. '2026-12-20T00:00:00Z') — blocking",
        ),
    ],
)
def test_a_malformed_sub_result_is_named_exactly(field: str, bad: Any, blocker: str) -> None:
    kwargs: dict[str, Any] = {"app": CLEAR, "org": CLEAR, "window": OPEN, "override": active(*ALL)}
    kwargs[field] = bad

    result = run(**kwargs)

    assert result["blockers"] == [blocker]
    assert result["reason"] == blocked_reason(blocker)


def test_an_inactive_override_adds_its_reason_unless_there_is_none() -> None:
    alarm = APP_ALARM["reasons"][0]

    assert run(APP_ALARM, override=NO_OVERRIDE)["reason"] == blocked_reason(alarm)
    assert run(APP_ALARM, override={"active": False})["reason"] == blocked_reason(alarm)
    assert run(APP_ALARM, override={"active": False, "reason": ""})["reason"] == blocked_reason(alarm)
    assert run(APP_ALARM, override={"active": False, "reason": "override expired at X"})[
        "reason"
    ] == blocked_reason(alarm, "override expired at X")


@pytest.mark.parametrize("stage", [None, "", 5])
def test_an_override_applies_to_no_stage_the_gate_did_not_name(stage: Any) -> None:
    result = run(APP_ALARM, override=active("alarms"), stage=stage)

    assert result["proceed"] is False
    assert result["reason"] == blocked_reason(
        APP_ALARM["reasons"][0], "override lifts nothing: the gate did not say which stage it guards"
    )


@pytest.mark.parametrize("execution_id", [None, "", 5])
def test_a_bound_override_applies_to_no_execution_the_gate_did_not_name(execution_id: Any) -> None:
    result = run(APP_ALARM, override=active("alarms", execution_id=EXECUTION), execution_id=execution_id)

    assert result["proceed"] is False
    assert result["reason"] == blocked_reason(
        APP_ALARM["reasons"][0],
        "override lifts nothing: it is bound to pipeline execution exec-1 "
        "and the gate passed no execution id",
    )


def test_the_untold_window_note_only_when_the_override_does_not_name_both_kinds() -> None:
    untold = (
        "the time-window result does not say whether the window or a blackout closes it, "
        "so only an override naming both lifts it"
    )
    text = active("window")
    window_only = run(window=CLOSED_UNTOLD, override=text)
    both = run(APP_ALARM, window=CLOSED_UNTOLD, override=active("window", "blackout"))
    told = run(window=CLOSED, override=active("alarms"))

    assert window_only["reason"].endswith(
        f"(scope: window): hotfix INC-1234 does not cover blackout; {untold}; "
        "waited 600 s of 3600 s — will re-check"
    )
    assert untold not in both["reason"]  # the window is lifted; only the app alarm blocks
    assert both["blockers"] == APP_ALARM["reasons"]
    assert both["reason"].endswith(
        "hotfix INC-1234 does not cover alarms; waited 600 s of 3600 s — will re-check"
    )
    assert untold not in told["reason"]  # the result says the window closes it
    assert told["reason"].endswith(
        "hotfix INC-1234 does not cover window; waited 600 s of 3600 s — will re-check"
    )


@pytest.mark.parametrize(
    ("started_at", "max_wait", "blocker"),
    [
        (
            STARTED,
            "3600",
            "decide event invalid: max_wait_seconds: expected a non-negative integer, got '3600'",
        ),
        (
            None,
            3600,
            "decide event invalid: started_at: expected an ISO-8601 string with an offset, got None",
        ),
        (
            at("2026-11-26T17:50:00Z").replace(tzinfo=None),
            3600,
            "decide event invalid: started_at: naive datetime; pass an aware one",
        ),
    ],
)
def test_malformed_timing_says_it_cannot_tell_how_long_it_waited(
    started_at: Any, max_wait: Any, blocker: str
) -> None:
    result = run(started_at=started_at, max_wait=max_wait)

    assert result["blockers"] == [blocker]
    assert result["reason"] == blocked_reason(blocker, wait="cannot tell how long it waited — giving up")
    assert result["give_up"] is True


def test_started_at_may_be_an_aware_datetime() -> None:
    result = run(APP_ALARM, started_at=at("2026-11-26T17:59:30+01:00"))  # 16:59:30Z

    assert result["reason"] == blocked_reason(
        APP_ALARM["reasons"][0], wait="waited 3630 s of 3600 s — giving up"
    )


@pytest.mark.parametrize("started_at", ["2026-11-26T18:00:00Z", "2026-11-26T18:05:00Z"])
def test_a_gate_that_has_not_waited_yet_says_0_seconds(started_at: str) -> None:
    result = run(APP_ALARM, started_at=started_at, max_wait=1)

    assert result["reason"] == blocked_reason(
        APP_ALARM["reasons"][0], wait="waited 0 s of 1 s — will re-check"
    )
    assert result["give_up"] is False


def test_the_audit_fields_of_a_missing_override_are_empty() -> None:
    record = override_audit_emf(
        pipeline="orders", stage=STAGE, result=run(), override=None, at=at("2026-11-26T18:00:00Z")
    )

    assert record["_aws"]["Timestamp"] == 1795716000000
    assert {
        key: record[key] for key in ("who", "author", "claimed_who", "why", "scope", "stages")
    } == dict.fromkeys(("who", "author", "claimed_who", "why", "scope", "stages"))


def test_handler_audit_line_names_the_gate_event_pipeline_and_stage(
    capsys: pytest.CaptureFixture[str],
) -> None:
    event = load_event("decide_override_used.json")

    result = decide_module.handler(event, None)

    [audit] = [r for r in json_lines(capsys.readouterr().out) if r.get("level") == "AUDIT"]
    override = event["override"]
    assert {k: v for k, v in audit.items() if k != "timestamp"} == {
        "level": "AUDIT",
        "message": "deployment gate overridden for orders/Prod-1",
        "service": "hands-off-gates",
        "gate": "decide",
        "event": "override_used",
        "pipeline": "orders",
        "stage": "Prod-1",
        "who": override["author"],
        "author": override["author"],
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T20:00:00Z",
        "scope": ["alarms"],
        "stages": ["Prod-1"],
        "execution_id": None,
        "bypassed": result["bypassed"],
    }


@pytest.mark.parametrize("pipeline", [None, "", 5])
def test_handler_audits_an_unnamed_pipeline_as_unknown(
    pipeline: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    event = load_event("decide_override_used.json")
    event["pipeline"] = pipeline

    assert decide_module.handler(event, None)["override_used"] is True

    records = json_lines(capsys.readouterr().out)
    [audit] = [r for r in records if r.get("level") == "AUDIT"]
    [emf] = [r for r in records if "_aws" in r]
    assert audit["message"] == "deployment gate overridden for unknown/Prod-1"
    assert (audit["pipeline"], audit["stage"]) == ("unknown", "Prod-1")
    assert (emf["Pipeline"], emf["Stage"]) == ("unknown", "Prod-1")


# ------------------------------------------------------------------------------- hotfix (issue 8)


def hotfix(**changes: Any) -> dict[str, Any]:
    return active("hotfix", **{"execution_id": EXECUTION, **changes})


def test_a_hotfix_lifts_the_app_alarms_and_arms_the_hotfix_exactly() -> None:
    result = run(APP_ALARM, override=hotfix())

    assert result == {
        "proceed": True,
        "give_up": False,
        "reason": (
            f"proceeding under override written by {WRITER} (says: alice) until 2026-11-26T20:00:00Z "
            f"for {STAGE}, execution {EXECUTION} (scope: hotfix): hotfix INC-1234 — hotfix: CodeDeploy "
            f"and the bake of {STAGE} ignore the copy's own alarms in execution {EXECUTION} — bypassing: "
            f"{APP_ALARM['reasons'][0]}"
        ),
        "override_used": True,
        "blockers": [],
        "bypassed": APP_ALARM["reasons"],
        "hotfix": True,
    }


def test_a_hotfix_with_nothing_to_bypass_still_arms_and_is_audited() -> None:
    result = run(override=hotfix())

    assert (result["proceed"], result["hotfix"], result["override_used"], result["bypassed"]) == (
        True,
        True,
        True,
        [],
    )
    assert result["reason"].endswith(
        f"— hotfix: CodeDeploy and the bake of {STAGE} ignore the copy's own alarms in execution {EXECUTION}"
    )


@pytest.mark.parametrize(
    ("org", "window", "blocker", "uncovered"),
    [
        (ORG_ALARM, OPEN, ORG_ALARM["reasons"][0], "org-alarms"),
        (CLEAR, CLOSED, CLOSED["reason"], "window"),
    ],
)
def test_a_hotfix_lifts_neither_org_alarms_nor_a_closed_window(
    org: Any, window: Any, blocker: str, uncovered: str
) -> None:
    result = run(APP_ALARM, org=org, window=window, override=hotfix())

    assert (result["proceed"], result["hotfix"], result["override_used"]) == (False, False, False)
    assert result["blockers"] == [blocker]  # the app alarm is lifted, this is not
    assert f"(scope: hotfix): hotfix INC-1234 does not cover {uncovered}; waited" in result["reason"]


def test_a_hotfix_for_another_execution_is_ignored() -> None:
    result = run(APP_ALARM, override=hotfix(execution_id="exec-0"))

    assert (result["proceed"], result["hotfix"]) == (False, False)
    assert "override lifts nothing: it is bound to pipeline execution exec-0, not exec-1" in result["reason"]


def test_a_hotfix_result_not_bound_to_an_execution_is_malformed() -> None:
    result = run(override=active("hotfix"))

    assert (result["proceed"], result["hotfix"]) == (False, False)
    assert result["blockers"] == [
        "override result malformed (scope: 'hotfix' needs an execution_id: a hotfix applies to one "
        'pipeline execution; add "execution_id": "<the execution shipping the fix>") — blocking'
    ]


def test_an_alarms_override_does_not_arm_a_hotfix() -> None:
    result = run(APP_ALARM, override=active("alarms"))

    assert (result["proceed"], result["override_used"], result["hotfix"]) == (True, True, False)


def test_a_hotfix_decision_is_audited_with_its_scope(capsys: pytest.CaptureFixture[str]) -> None:
    event = {
        "app": CLEAR,
        "org": CLEAR,
        "window": OPEN,
        "override": hotfix(),
        "started_at": STARTED,
        "now": "2026-11-26T18:00:00Z",
        "max_wait_seconds": 3600,
        "pipeline": "orders",
        "stage": STAGE,
        "execution_id": EXECUTION,
    }

    result = decide_module.handler(event, None)

    assert result["hotfix"] is True
    records = json_lines(capsys.readouterr().out)
    [audit] = [r for r in records if r.get("level") == "AUDIT"]
    assert audit["scope"] == ["hotfix"]
    assert audit["execution_id"] == EXECUTION
    [emf] = [r for r in records if "_aws" in r]
    assert emf["OverrideUsed"] == 1


def test_a_hotfix_names_every_blocker_it_bypasses() -> None:
    two = {**APP_ALARM, "reasons": ["app alarm 'a' is in ALARM", "app alarm 'b' is in ALARM"]}

    result = run(two, override=hotfix())

    assert result["reason"].endswith(" — bypassing: app alarm 'a' is in ALARM; app alarm 'b' is in ALARM")


# --------------------------------------------------- hotfix_override (the bake's re-check)


def test_hotfix_override_describes_a_hotfix_for_this_stage_and_execution() -> None:
    text = decide_module.hotfix_override(hotfix(), now=NOW, stage=STAGE, execution_id=EXECUTION)

    assert text == run(override=hotfix())["reason"].split("proceeding under ", 1)[1].split(" — hotfix")[0]


@pytest.mark.parametrize(
    ("override", "stage", "execution_id", "max_hours"),
    [
        (hotfix(), "Prod-1", EXECUTION, 24),  # another stage
        (hotfix(), STAGE, "exec-0", 24),  # another execution
        (hotfix(), STAGE, None, 24),  # the bake does not know its execution
        (hotfix(), None, EXECUTION, 24),  # nor its stage
        (active("alarms", execution_id=EXECUTION), STAGE, EXECUTION, 24),  # not a hotfix
        (active("hotfix"), STAGE, EXECUTION, 24),  # not bound: malformed
        (hotfix(expires_at="2026-11-26T18:00:00Z"), STAGE, EXECUTION, 24),  # expired now
        (hotfix(), STAGE, EXECUTION, 1),  # beyond the bake input's lifetime (expires at 20:00)
        (hotfix(), STAGE, EXECUTION, "24"),  # malformed lifetime
        ({"active": False, "reason": "no override"}, STAGE, EXECUTION, 24),
        ({"active": "yes"}, STAGE, EXECUTION, 24),
        (None, STAGE, EXECUTION, 24),
    ],
)
def test_hotfix_override_is_none_for_anything_else(
    override: Any, stage: Any, execution_id: Any, max_hours: Any
) -> None:
    assert (
        decide_module.hotfix_override(
            override, now=NOW, stage=stage, execution_id=execution_id, override_max_hours=max_hours
        )
        is None
    )


def test_hotfix_override_reads_the_lifetime_by_default_as_24_hours() -> None:
    late = hotfix(expires_at="2026-11-27T17:59:00Z")  # 23 h 59 min ahead
    assert decide_module.hotfix_override(late, now=NOW, stage=STAGE, execution_id=EXECUTION) is not None
    later = hotfix(expires_at="2026-11-27T18:01:00Z")
    assert decide_module.hotfix_override(later, now=NOW, stage=STAGE, execution_id=EXECUTION) is None
