"""Security review of the hotfix override (issue 8): attempts to get a deployment through that
should be blocked, or to leave CodeDeploy alarm rollback off when it should be on.

Handler level (pure functions with the clock and clients injected; CodeDeploy answered by
``codedeploy_fake.FakeCodeDeploy``, CloudWatch by a tiny in-memory fake). Every test asserts the
SAFE behaviour: a test that fails today demonstrates a finding (see its docstring); the others are
regression tests for attacks that held.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError
from codedeploy_fake import FakeCodeDeploy
from gate_testing import hotfix_override_value

from hands_off_gates.bake import evaluate_bake
from hands_off_gates.decide import decide, hotfix_override
from hands_off_gates.hotfix import HotfixTarget, alarm_rollback_off, set_hotfix
from hands_off_gates.override import evaluate_override

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
READER_A = "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader"
READER_B = "arn:aws:iam::333333333333:role/hands-off-orders-gate-reader"
AUTHOR = "arn:aws:sts::111111111111:assumed-role/Dev/alice"
EAST = {
    "region": "us-east-1",
    "role_arn": READER_A,
    "application": "orders-prod",
    "deployment_group": "orders-prod",
    "own_alarms": ["orders-prod-health"],
}
WEST = {**EAST, "region": "us-west-2", "role_arn": READER_B}
WHO = {"pipeline": "orders-application", "stage": "Prod-2", "execution_id": "exec-1"}


def _override_value(**fields: Any) -> str:
    return hotfix_override_value(NOW, **fields)


def _override(**fields: Any) -> Any:
    return evaluate_override(
        _override_value(**fields), NOW, stage="Prod-2", author=AUTHOR, execution_id="exec-1"
    )


def _decide(override: Any, *, stage: str = "Prod-2", execution_id: str | None = "exec-1") -> Any:
    firing = {
        "clear": False,
        "reasons": ["app alarm 'orders-prod-health' is in ALARM in us-east-1"],
        "in_alarm": [{"name": "orders-prod-health", "region": "us-east-1", "reason": "x"}],
    }
    return decide(
        app=firing,
        org={"clear": True, "reasons": [], "in_alarm": []},
        window={"open": True, "reason": "window open"},
        override=override,
        started_at=NOW - timedelta(seconds=10),
        now=NOW,
        max_wait_seconds=3600,
        stage=stage,
        execution_id=execution_id,
    )


class FakeCloudWatch:
    """DescribeAlarms answering each named alarm with ``state``."""

    def __init__(self, state: str = "ALARM") -> None:
        self.state = state

    def describe_alarms(self, **params: Any) -> dict[str, Any]:
        names = params.get("AlarmNames") or []
        return {
            "MetricAlarms": [
                {"AlarmName": n, "StateValue": self.state, "StateReason": "fault rate high"} for n in names
            ],
            "CompositeAlarms": [],
        }


def _bake(cd: FakeCodeDeploy, override: Any, *, now: datetime = NOW, **extra: Any) -> Any:
    checks = [
        {
            "region": g["region"],
            "role_arn": g["role_arn"],
            "alarm_names": g["own_alarms"],
            "alarm_name_prefixes": [],
        }
        for g in (EAST,)
    ]
    return evaluate_bake(
        checks=checks,
        traffic=None,
        started_at=(now - timedelta(seconds=120)).isoformat(),
        now=now,
        bake_seconds=60,
        min_requests=0,
        client_factory=lambda region, role: FakeCloudWatch(),
        hotfix_groups=[EAST],
        stage="Prod-2",
        execution_id="exec-1",
        override=override,
        codedeploy=cd.factory,
        **extra,
    )


@pytest.fixture
def cd() -> FakeCodeDeploy:
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod")
    fake.add_group("us-west-2", "orders-prod", "orders-prod")
    return fake


# ------------------------------------------------------------------- FINDINGS (fail today)


def test_a_half_armed_stage_is_disarmed_again_when_the_gate_fails_closed(cd: FakeCodeDeploy) -> None:
    """FINDING (medium): two copies in a stage; the first group is turned off, the second cannot
    be (AccessDenied, throttled past the deadline, an unreachable account). The gate fails
    closed (HotfixAlarmsUnset, nothing deployed) but leaves the first group's alarm rollback OFF:
    nothing turns it back on, and the stage's OnFailure rollback execution skips the gate and the
    bake (see tests/synth/test_hotfix_attack.py), so it stays off until a later standard execution
    reaches this stage's gate. Fix: when arming fails, turn back on every group it turned off
    (best effort, in the same call) before returning ok=False."""
    cd.fail[("us-west-2", "UpdateDeploymentGroup")] = "AccessDeniedException"

    result = set_hotfix("arm", [EAST, WEST], cd.factory, author=AUTHOR, **WHO)

    assert result["ok"] is False
    assert "could not be turned off (AccessDeniedException)" in result["reason"]
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is True, (
        "a failed arm left us-east-1's CodeDeploy alarm rollback off"
    )


# ------------------------------------------------------------------- attempts that held


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"stages": ["prod-2"]}, "stage names are matched exactly (case)"),
        ({"stages": ["Prod-20"]}, "no prefix match"),
        ({"stages": ["Prod-1", "Prod-3"]}, "another stage"),
        ({"stages": "Prod-2"}, "stages must be a list"),
        ({"stages": [["Prod-2"]]}, "nested list"),
        ({"scope": ["Hotfix"]}, "unknown kind (case) invalidates the whole override"),
        ({"scope": "hotfix"}, "scope must be a list"),
        ({"scope": ["hotfix "]}, "kinds are not stripped"),
        ({"execution_id": "EXEC-1"}, "execution ids are matched exactly (case)"),
        ({"execution_id": ["exec-1"]}, "execution_id must be a string"),
        ({"execution_id": 1}, "execution_id must be a string"),
        ({"execution_id": ""}, "an empty execution_id is rejected"),
        ({"execution_id": None}, "hotfix without an execution id"),
        ({"execution_id": "exec-1,exec-2"}, "no list-in-a-string"),
        ({"execution_id": "*"}, "no wildcard"),
        ({"expires_at": NOW.isoformat()}, "expired at its expiry instant"),
        ({"expires_at": (NOW + timedelta(hours=25)).isoformat()}, "beyond override_max_hours"),
        ({"expires_at": "2026-11-27T18:00:00"}, "naive expiry"),
    ],
)
def test_override_tricks_neither_lift_the_gate_nor_arm_a_hotfix(fields: dict[str, Any], why: str) -> None:
    result = _decide(_override(**fields))

    assert result["proceed"] is False, why
    assert result["hotfix"] is False, why


@pytest.mark.parametrize(
    "fields",
    [
        {"stages": [" Prod-2 ", "Prod-2"]},  # stripped and de-duplicated
        {"scope": ["hotfix", "hotfix"]},
        {"execution_id": " exec-1 "},  # stripped: still exactly this execution
    ],
)
def test_benign_variants_still_bind_to_exactly_this_stage_and_execution(fields: dict[str, Any]) -> None:
    override = _override(**fields)
    assert _decide(override)["hotfix"] is True
    assert _decide(override, stage="Prod-3")["hotfix"] is False
    assert _decide(override, execution_id="exec-2")["hotfix"] is False
    assert _decide(override, execution_id=None)["hotfix"] is False


def test_hotfix_lifts_only_own_alarms_never_org_alarms_or_window() -> None:
    override = _override()
    result = decide(
        app={"clear": True, "reasons": [], "in_alarm": []},
        org={"clear": False, "reasons": ["org alarm 'org-critical' in ALARM"], "in_alarm": []},
        window={"open": False, "reason": "blackout", "closed_by": ["blackout"]},
        override=override,
        started_at=NOW,
        now=NOW,
        max_wait_seconds=3600,
        stage="Prod-2",
        execution_id="exec-1",
    )
    assert (result["proceed"], result["hotfix"]) == (False, False)


@pytest.mark.parametrize(
    "forged",
    [
        # a hand-written override *result* (e.g. a tampered task output) is re-checked, not trusted
        {
            "active": True,
            "author": AUTHOR,
            "claimed_who": "a",
            "why": "w",
            "stages": ["Prod-2"],
            "scope": ["hotfix"],
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
        },  # unbound
        {
            "active": True,
            "author": AUTHOR,
            "claimed_who": "a",
            "why": "w",
            "stages": ["Prod-2"],
            "scope": ["hotfix"],
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
            "execution_id": "exec-2",
        },
        {
            "active": True,
            "author": AUTHOR,
            "claimed_who": "a",
            "why": "w",
            "stages": ["Prod-2"],
            "scope": ["hotfix"],
            "expires_at": (NOW + timedelta(days=30)).isoformat(),
            "execution_id": "exec-1",
        },
        {
            "active": True,
            "author": AUTHOR,
            "claimed_who": "a",
            "why": "w",
            "stages": "Prod-2",
            "scope": ["hotfix"],
            "expires_at": (NOW + timedelta(hours=1)).isoformat(),
            "execution_id": "exec-1",
        },
        {"active": "true", "scope": ["hotfix"], "execution_id": "exec-1"},
    ],
)
def test_a_forged_override_result_is_no_hotfix_at_the_gate_or_the_bake(forged: dict[str, Any]) -> None:
    assert _decide(forged)["hotfix"] is False
    assert hotfix_override(forged, now=NOW, stage="Prod-2", execution_id="exec-1") is None


def test_an_override_bound_to_one_execution_is_no_hotfix_for_the_bake_of_another(cd: FakeCodeDeploy) -> None:
    cd.groups[("us-east-1", "orders-prod", "orders-prod")]["alarmConfiguration"]["enabled"] = False
    override = evaluate_override(
        _override_value(execution_id="exec-1"), NOW, stage="Prod-2", author=AUTHOR, execution_id="exec-1"
    )
    result = evaluate_bake(
        checks=[{"region": "us-east-1", "role_arn": READER_A, "alarm_names": ["orders-prod-health"]}],
        traffic=None,
        started_at=(NOW - timedelta(seconds=120)).isoformat(),
        now=NOW,
        bake_seconds=60,
        min_requests=0,
        client_factory=lambda region, role: FakeCloudWatch(),
        hotfix_groups=[EAST],
        stage="Prod-2",
        execution_id="exec-2",  # the result was read for exec-1, replayed in exec-2's bake
        override=override,
        codedeploy=cd.factory,
    )
    assert result["status"] == "FAILED"


def test_a_hotfix_that_expires_mid_bake_stops_lifting(cd: FakeCodeDeploy) -> None:
    cd.groups[("us-east-1", "orders-prod", "orders-prod")]["alarmConfiguration"]["enabled"] = False
    override = _override(expires_at=(NOW + timedelta(minutes=5)).isoformat())

    assert _bake(cd, override)["status"] == "DONE"  # while it lasts
    later = _bake(cd, override, now=NOW + timedelta(minutes=5))  # at its expiry instant
    assert later["status"] == "FAILED"
    assert "orders-prod-health" in later["reason"]


def test_a_hotfix_whose_group_is_on_lifts_nothing_in_the_bake(cd: FakeCodeDeploy) -> None:
    """An override written after the gate passed without it (groups turned on) lifts nothing."""
    assert _bake(cd, _override())["status"] == "FAILED"


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "AccessDeniedException", "DeploymentGroupDoesNotExistException"]
)
def test_a_group_the_bake_cannot_read_lifts_nothing(cd: FakeCodeDeploy, code: str) -> None:
    cd.groups[("us-east-1", "orders-prod", "orders-prod")]["alarmConfiguration"]["enabled"] = False
    cd.fail[("us-east-1", "GetDeploymentGroup")] = code

    result = _bake(cd, _override())

    assert result["status"] == "FAILED"
    assert "orders-prod-health" in result["reason"]


def test_an_ecs_copy_without_a_group_fails_the_arm_closed_and_lifts_nothing() -> None:
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod")
    ecs = {**WEST, "application": "orders-ecs", "deployment_group": "orders-ecs"}

    armed = set_hotfix("arm", [EAST, ecs], fake.factory, author=AUTHOR, **WHO)

    assert armed["ok"] is False
    assert "DeploymentGroupDoesNotExistException" in armed["reason"]
    target = HotfixTarget(
        region="us-west-2",
        application="orders-ecs",
        deployment_group="orders-ecs",
        own_alarms=("orders-ecs-health",),
        role_arn=READER_B,
    )
    assert alarm_rollback_off(target, fake.factory) is False


@pytest.mark.parametrize("action", ["arm", "disarm", "restore"])
@pytest.mark.parametrize("code", ["ThrottlingException", "AccessDeniedException"])
@pytest.mark.parametrize("operation", ["GetDeploymentGroup", "UpdateDeploymentGroup"])
def test_throttled_or_denied_group_calls_fail_every_action_closed(
    cd: FakeCodeDeploy, action: str, code: str, operation: str
) -> None:
    if action != "arm":
        cd.groups[("us-east-1", "orders-prod", "orders-prod")]["alarmConfiguration"]["enabled"] = False
    cd.fail[("us-east-1", operation)] = code

    result = set_hotfix(action, [EAST], cd.factory, author=AUTHOR, **WHO)

    assert result["ok"] is False
    assert code in result["reason"]


@pytest.mark.parametrize("action", ["arm", "disarm", "restore"])
def test_an_account_the_reader_role_cannot_reach_fails_closed(action: str) -> None:
    def unreachable(region: str | None, role_arn: str | None) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized"}}, "AssumeRole")

    result = set_hotfix(action, [EAST], unreachable, author=AUTHOR, **WHO)

    assert result["ok"] is False
    assert "AccessDenied" in result["reason"]


def test_a_hanging_group_fails_the_arm_closed() -> None:
    fake = FakeCodeDeploy(hang=0.5)
    fake.add_group("us-east-1", "orders-prod", "orders-prod")

    result = set_hotfix("arm", [EAST], fake.factory, author=AUTHOR, deadline=0.1, **WHO)

    assert result["ok"] is False
    assert "DeadlineExceeded" in result["reason"] or "deadline" in result["reason"].lower()


@pytest.mark.parametrize("ignore", [True, False])
def test_arm_then_restore_keeps_the_alarm_list_and_ignore_poll_alarm_failure(ignore: bool) -> None:
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod", ignore_poll_alarm_failure=ignore)
    before = json.loads(json.dumps(fake.groups[("us-east-1", "orders-prod", "orders-prod")]))

    assert set_hotfix("arm", [EAST], fake.factory, author=AUTHOR, **WHO)["ok"] is True
    assert set_hotfix("restore", [EAST], fake.factory, **WHO)["ok"] is True

    assert fake.groups[("us-east-1", "orders-prod", "orders-prod")] == before
    for _, _, params in fake.updates():
        assert set(params) == {"applicationName", "currentDeploymentGroupName", "alarmConfiguration"}


def test_a_group_with_no_alarms_is_left_as_it_is() -> None:
    """No alarm to watch: CodeDeploy stops on nothing either way; arming reports ok, restore
    changes nothing (CodeDeploy rejects enabled=true with an empty list)."""
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod", alarms=())

    assert set_hotfix("arm", [EAST], fake.factory, author=AUTHOR, **WHO)["ok"] is True
    assert set_hotfix("restore", [EAST], fake.factory, **WHO)["ok"] is True


def test_restore_and_disarm_turn_every_group_of_the_stage_back_on(cd: FakeCodeDeploy) -> None:
    assert set_hotfix("arm", [EAST, WEST], cd.factory, author=AUTHOR, **WHO)["ok"] is True
    assert set_hotfix("restore", [EAST, WEST], cd.factory, **WHO)["ok"] is True
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")
    assert cd.enabled("us-west-2", "orders-prod", "orders-prod")
    assert set_hotfix("arm", [EAST, WEST], cd.factory, author=AUTHOR, **WHO)["ok"] is True
    assert set_hotfix("disarm", [EAST, WEST], cd.factory, **WHO)["ok"] is True
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")
    assert cd.enabled("us-west-2", "orders-prod", "orders-prod")
