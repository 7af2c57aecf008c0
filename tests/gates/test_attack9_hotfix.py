"""Attack 9 on the hotfix ``arm`` override check (hands-off-orders-hotfix invoked directly).

The caller may invoke the function with any event but cannot write
``/hands-off/orders-application/override``. Tests named ``test_bypass_*`` FAIL on the code they
were written against (each is a way to arm without an override in force now); tests named
``test_held_*`` are attempts that were correctly refused and pass.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from codedeploy_fake import FakeCodeDeploy
from gate_testing import (
    HOTFIX_NOW,
    ORDERS_EAST_GROUP,
    ORDERS_OVERRIDE,
    ORDERS_READER,
    WRITER,
    FakeSsm,
    hotfix_override_value,
)

from hands_off_gates import hotfix as hotfix_module
from hands_off_gates.contract import OVERRIDE_MAX_HOURS_LIMIT

NOW, PARAMETER, READER, EAST = HOTFIX_NOW, ORDERS_OVERRIDE, ORDERS_READER, ORDERS_EAST_GROUP


@pytest.fixture(autouse=True)
def _shared_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-hotfix")


@pytest.fixture
def cd() -> FakeCodeDeploy:
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod")
    return fake


def event(**changes: Any) -> dict[str, Any]:
    base = {
        "action": "arm",
        "groups": [EAST],
        "pipeline": "orders-application",
        "stage": "Prod-2",
        "execution_id": "exec-1",
        "override_parameter": PARAMETER,
        "override_max_hours": 24,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not _DROP}


_DROP = object()


def invoke(ev: dict[str, Any], cd: FakeCodeDeploy, ssm: FakeSsm) -> Any:
    """The real clock is NOW: the attacker controls only the event."""
    return hotfix_module.handler(
        ev, None, clock=lambda: NOW, clients={"codedeploy": cd.factory, "ssm": ssm.factory}
    )


def assert_not_armed(result: Any, cd: FakeCodeDeploy) -> None:
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is True, result
    assert cd.updates() == [], result
    assert result["ok"] is False, result


# --- bypasses (FAIL on 1b0f878) -------------------------------------------------------------


def test_bypass_event_now_revives_an_expired_hotfix_override(cd: FakeCodeDeploy) -> None:
    """HIGH. The gate wrapper judges at the event's ``now`` (meant for tests and replays). An
    override that expired yesterday (last week, last year: any hotfix override still sitting in
    the parameter) is 'active' again when the direct caller sends a ``now`` before its expiry."""
    expired = NOW - timedelta(days=30)
    ssm = FakeSsm(hotfix_override_value(expired - timedelta(hours=2)), name=PARAMETER)

    result = invoke(event(now=(expired - timedelta(hours=1)).isoformat()), cd, ssm)

    assert_not_armed(result, cd)


@pytest.mark.xfail(
    strict=True,
    reason="open (attack 9, medium): override_max_hours still comes from the event; the fix is a "
    "limit the function does not take from its caller (its configuration, or the verified gate input)",
)
def test_bypass_event_override_max_hours_accepts_an_expiry_beyond_the_pipelines_limit(
    cd: FakeCodeDeploy,
) -> None:
    """MEDIUM. The pipeline's override_max_hours (24 by default) refuses an override written to
    last 150 h; the direct caller sends ``override_max_hours: 168`` and it is in force."""
    ssm = FakeSsm(
        hotfix_override_value(NOW, expires_at=(NOW + timedelta(hours=150)).isoformat()), name=PARAMETER
    )
    refused = invoke(event(), cd, ssm)
    assert_not_armed(refused, cd)

    result = invoke(event(override_max_hours=OVERRIDE_MAX_HOURS_LIMIT), cd, ssm)

    assert_not_armed(result, cd)


@pytest.mark.xfail(
    strict=True,
    reason="open (attack 9, medium-high): the groups come from the event; the fix is the stage's "
    "groups from the function's configuration or the verified gate input, not from its caller",
)
def test_bypass_groups_of_another_stage_armed_under_this_stages_override(cd: FakeCodeDeploy) -> None:
    """MEDIUM-HIGH. The override names stage Prod-2, but ``groups`` come from the event: any of
    orders' groups (another stage's account and region, reached through orders' own gate-reader
    there) passes foreign_groups and is armed under Prod-2's override, e.g. while another
    execution is deploying at Prod-3."""
    cd.add_group("eu-west-1", "orders-prod3", "orders-prod3")
    prod3 = {
        "region": "eu-west-1",
        "role_arn": "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader",
        "application": "orders-prod3",
        "deployment_group": "orders-prod3",
        "own_alarms": ["orders-prod3-health"],
    }
    ssm = FakeSsm(hotfix_override_value(NOW), name=PARAMETER)  # stages: ["Prod-2"]

    result = invoke(event(groups=[prod3]), cd, ssm)

    assert cd.enabled("eu-west-1", "orders-prod3", "orders-prod3") is True, result


# --- held (pass) -------------------------------------------------------------------------


def test_held_control_an_active_override_arms_with_the_writer(cd: FakeCodeDeploy) -> None:
    ssm = FakeSsm(hotfix_override_value(NOW), name=PARAMETER)
    result = invoke(event(), cd, ssm)
    assert result["ok"] is True
    assert result["author"] == WRITER
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is False


@pytest.mark.parametrize(
    "changes",
    [
        {"action": "ARM"},
        {"action": " arm"},
        {"action": ["arm"]},
        {"action": "disarm"},  # needs no override but only turns rollback on
        {"pipeline": "orders-application/"},
        {"pipeline": "Orders-application", "override_parameter": "/hands-off/Orders-application/override"},
        {
            "pipeline": "orders-applicat\u0456on",
            "override_parameter": "/hands-off/orders-applicat\u0456on/override",
        },
        {"override_parameter": PARAMETER + "/"},
        {"override_parameter": [PARAMETER]},
        {"override_parameter": _DROP},
        {"pipeline": ["orders-application"]},
        {"pipeline": None},
        {"stage": ["Prod-2"]},
        {"stage": "Prod-3"},
        {"stage": _DROP},
        {"execution_id": "exec-2"},
        {"execution_id": None},
        {"execution_id": ["exec-1"]},
        {"override_max_hours": 0},
        {"override_max_hours": True},
        {"override_max_hours": "168"},
        {"override_max_hours": 10**9},
        {"override_max_hours": 1.5},
        {"groups": [{**EAST, "role_arn": "arn:aws:iam::222222222222:role/hands-off-catalog-gate-reader"}]},
        {"groups": [{**EAST, "role_arn": None}]},
        {"groups": []},
        {"groups": {"0": EAST}},
    ],
)
def test_held_malformed_or_foreign_arm_events_change_nothing(
    cd: FakeCodeDeploy, changes: dict[str, Any]
) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod")
    # an override in force for exec-1 / Prod-2 exists: only the event is wrong
    ssm = FakeSsm(hotfix_override_value(NOW), name=PARAMETER)
    result = invoke(event(**changes), cd, ssm)
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is True, result
    assert cd.updates() == [], result


@pytest.mark.parametrize(
    "ssm_kwargs",
    [
        {"version": "3"},
        {"version": True},
        {"history": [[(1, "x"), (2, WRITER)]]},  # version read missing from history
        {"history": [[(3, None)]]},
        {"history": [[(3, "   ")]]},
        {"history_error": RuntimeError("throttled")},
    ],
)
def test_held_unattributable_override_changes_nothing(cd: FakeCodeDeploy, ssm_kwargs: dict[str, Any]) -> None:
    ssm = FakeSsm(hotfix_override_value(NOW), name=PARAMETER, **ssm_kwargs)
    assert_not_armed(invoke(event(), cd, ssm), cd)


def test_held_event_author_is_never_audited(cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str]) -> None:
    ssm = FakeSsm(hotfix_override_value(NOW), name=PARAMETER)
    result = invoke(event(override={"active": True, "author": "mallory"}, author="mallory", why="x"), cd, ssm)
    assert result["author"] == WRITER
    assert "mallory" not in capsys.readouterr().out
