"""Hotfix (issue 8): the gate turns the copies' CodeDeploy alarm rollback off for one execution,
makes sure it is on otherwise, and the bake turns it back on.

moto 5.2.5 has no ``UpdateDeploymentGroup``: these tests answer CodeDeploy with
``codedeploy_fake.FakeCodeDeploy`` (real botocore clients, requests validated against the
service model, answered in memory through botocore's ``before-call`` hook, as ``Stubber`` does).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from codedeploy_fake import FakeCodeDeploy
from gate_testing import WRITER as OVERRIDE_WRITER
from gate_testing import FakeSsm, hotfix_override_value, json_lines

from hands_off_gates import hotfix as hotfix_module
from hands_off_gates.hotfix import HotfixTarget, alarm_rollback_off, parse_hotfix_groups, set_hotfix

EAST = {
    "region": "us-east-1",
    "application": "orders-prod",
    "deployment_group": "orders-prod",
    "own_alarms": ["orders-prod-health"],
}
WEST = {**EAST, "region": "us-west-2"}
WHO = {"pipeline": "orders-application", "stage": "Prod-2", "execution_id": "exec-1"}
READER = "arn:aws:iam::222222222222:role/hands-off-orders-gate-reader"
WRITER = "arn:aws:iam::222222222222:role/hands-off-orders-hotfix-writer"


@pytest.fixture
def cd() -> FakeCodeDeploy:
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod")
    return fake


# ------------------------------------------------------------------------------------ arm


def test_arming_turns_alarm_rollback_off_and_keeps_the_alarm_list(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", ignore_poll_alarm_failure=True)

    result = set_hotfix("arm", [EAST], cd.factory, author="arn:aws:sts::1:assumed-role/Dev/alice", **WHO)

    assert result == {
        "ok": True,
        "action": "arm",
        "groups": ["orders-prod/orders-prod in us-east-1"],
        "changed": ["orders-prod/orders-prod in us-east-1"],
        "reason": "hotfix by arn:aws:sts::1:assumed-role/Dev/alice for orders-application Prod-2, "
        "execution exec-1: CodeDeploy alarm rollback off on 1 deployment group(s)",
        "author": "arn:aws:sts::1:assumed-role/Dev/alice",
    }
    # only alarmConfiguration is sent, with the alarm list and ignorePollAlarmFailure as read
    assert cd.updates() == [
        (
            "us-east-1",
            None,
            {
                "applicationName": "orders-prod",
                "currentDeploymentGroupName": "orders-prod",
                "alarmConfiguration": {
                    "enabled": False,
                    "ignorePollAlarmFailure": True,
                    "alarms": [{"name": "a-fault-rate"}, {"name": "a-latency-p99"}],
                },
            },
        )
    ]
    group = cd.groups[("us-east-1", "orders-prod", "orders-prod")]
    assert group["alarmConfiguration"]["alarms"] == [{"name": "a-fault-rate"}, {"name": "a-latency-p99"}]
    assert group["autoRollbackConfiguration"]["enabled"] is True  # untouched
    assert alarm_rollback_off(parse_hotfix_groups([EAST])[0], cd.factory)


def test_arming_names_the_why_when_given(cd: FakeCodeDeploy) -> None:
    result = set_hotfix("arm", [EAST], cd.factory, why="hotfix INC-1", **WHO)

    assert result["reason"].endswith("off on 1 deployment group(s) (hotfix INC-1)")
    assert result["author"] == "unknown"


def test_arming_a_group_already_off_is_ok_and_writes_nothing(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)

    result = set_hotfix("arm", [EAST], cd.factory, **WHO)

    assert (result["ok"], result["changed"], cd.updates()) == (True, [], [])


def test_arming_a_missing_group_fails_closed_naming_it(cd: FakeCodeDeploy) -> None:
    result = set_hotfix("arm", [EAST, WEST], cd.factory, **WHO)

    assert result["ok"] is False
    assert result["reason"] == (
        "deployment group orders-prod/orders-prod in us-west-2: alarm rollback could not be turned off "
        "(DeploymentGroupDoesNotExistException): DeploymentGroupDoesNotExistException: No Deployment "
        "Group found for name: orders-prod (application orders-prod, us-west-2) — hotfix not applied: "
        "CodeDeploy alarm rollback turned back on for the group(s) this call had turned off: "
        "orders-prod/orders-prod in us-east-1"
    )
    assert result["changed"] == []  # nothing left off
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")


def test_a_failed_arm_turns_back_on_each_group_it_turned_off_with_its_own_audit_line(
    cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str]
) -> None:
    cd.add_group("us-west-2", "orders-prod", "orders-prod")
    cd.add_group("eu-west-1", "orders-prod", "orders-prod")
    cd.fail[("eu-west-1", "GetDeploymentGroup")] = "AccessDeniedException"
    west = {**EAST, "region": "us-west-2", "role_arn": READER}

    result = set_hotfix(
        "arm", [EAST, west, {**EAST, "region": "eu-west-1"}], cd.factory, author="alice", **WHO
    )

    assert (result["ok"], result["changed"]) == (False, [])
    assert result["reason"].endswith(
        " — hotfix not applied: CodeDeploy alarm rollback turned back on for the group(s) this call had "
        "turned off: orders-prod/orders-prod in us-east-1, orders-prod/orders-prod in us-west-2"
    )
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")
    assert cd.enabled("us-west-2", "orders-prod", "orders-prod")
    # turned off, then back on, each through its own region and role, keeping the alarm list
    sent = [(r, role, p["alarmConfiguration"]) for r, role, p in cd.updates()]
    alarms = [{"name": "a-fault-rate"}, {"name": "a-latency-p99"}]
    assert sorted(sent[:2], key=str) == [
        ("us-east-1", None, {"enabled": False, "ignorePollAlarmFailure": False, "alarms": alarms}),
        ("us-west-2", WRITER, {"enabled": False, "ignorePollAlarmFailure": False, "alarms": alarms}),
    ]
    assert sorted(sent[2:], key=str) == [
        ("us-east-1", None, {"enabled": True, "ignorePollAlarmFailure": False, "alarms": alarms}),
        ("us-west-2", WRITER, {"enabled": True, "ignorePollAlarmFailure": False, "alarms": alarms}),
    ]
    lines = json_lines(capsys.readouterr().out)
    assert sorted((x["level"], x["group"]) for x in lines) == [
        ("AUDIT", "orders-prod/orders-prod in us-east-1"),
        ("AUDIT", "orders-prod/orders-prod in us-west-2"),
    ]
    for line in lines:
        assert (
            line["message"]
            == f"hotfix not applied: CodeDeploy alarm rollback turned back on for {line['group']}"
        )
        assert (line["gate"], line["action"], line["author"]) == ("hotfix", "arm", "alice")
        assert (line["pipeline"], line["stage"], line["execution_id"]) == (
            "orders-application",
            "Prod-2",
            "exec-1",
        )


def deny_the_second_update(cd: FakeCodeDeploy, *regions: str, hang: float = 0.0) -> None:
    """In ``regions``, the first UpdateDeploymentGroup (turning off) is answered, the second
    (turning back on) denied, or, with ``hang``, answered only after ``hang`` seconds."""
    original = cd._answer
    seen: list[str] = []

    def answer(region: str, role: Any, operation: str, params: Any) -> Any:
        if operation == "UpdateDeploymentGroup" and region in regions:
            seen.append(region)
            if seen.count(region) > 1:
                if hang:
                    time.sleep(hang)
                else:
                    cd.fail[(region, operation)] = "AccessDeniedException"
        return original(region, role, operation, params)

    cd._answer = answer  # type: ignore[method-assign]


def test_every_group_a_failed_arm_cannot_turn_back_on_is_named_and_left_changed(
    cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str]
) -> None:
    regions = ("us-west-2", "eu-central-1", "eu-west-1", "ap-south-1")
    for region in regions:
        cd.add_group(region, "orders-prod", "orders-prod")
    groups = [EAST, *({**EAST, "region": r} for r in regions)]
    # eu-west-1 and ap-south-1 cannot be turned off; the other three are, then us-east-1 and
    # us-west-2 cannot be turned back on
    cd.fail[("eu-west-1", "GetDeploymentGroup")] = "AccessDeniedException"
    cd.fail[("ap-south-1", "UpdateDeploymentGroup")] = "ThrottlingException"
    deny_the_second_update(cd, "us-east-1", "us-west-2")

    result = set_hotfix("arm", groups, cd.factory, author="alice", **WHO)

    assert (result["ok"], result["changed"]) == (
        False,
        ["orders-prod/orders-prod in us-east-1", "orders-prod/orders-prod in us-west-2"],
    )
    assert result["reason"] == (
        "deployment group orders-prod/orders-prod in eu-west-1: alarm rollback could not be turned off "
        "(AccessDeniedException): AccessDeniedException: GetDeploymentGroup failed in eu-west-1 (injected); "
        "deployment group orders-prod/orders-prod in ap-south-1: alarm rollback could not be turned off "
        "(ThrottlingException): ThrottlingException: UpdateDeploymentGroup failed in ap-south-1 (injected)"
        " — hotfix not applied: CodeDeploy alarm rollback turned back on for the group(s) this call had "
        "turned off: orders-prod/orders-prod in eu-central-1"
        " — and CodeDeploy alarm rollback could NOT be turned back on (still off) for: "
        "orders-prod/orders-prod in us-east-1 (AccessDeniedException): AccessDeniedException: "
        "UpdateDeploymentGroup failed in us-east-1 (injected); "
        "orders-prod/orders-prod in us-west-2 (AccessDeniedException): AccessDeniedException: "
        "UpdateDeploymentGroup failed in us-west-2 (injected)"
    )
    assert [cd.enabled(r, "orders-prod", "orders-prod") for r in ("us-east-1", *regions)] == [
        False,
        False,
        True,
        True,
        True,
    ]
    lines = json_lines(capsys.readouterr().out)
    assert [(x["level"], x["group"]) for x in lines] == [
        ("ERROR", "orders-prod/orders-prod in us-east-1"),
        ("ERROR", "orders-prod/orders-prod in us-west-2"),
        ("AUDIT", "orders-prod/orders-prod in eu-central-1"),
    ]
    assert lines[0]["message"] == (
        "hotfix not applied: CodeDeploy alarm rollback could NOT be turned back on for orders-prod/"
        "orders-prod in us-east-1 (AccessDeniedException): AccessDeniedException: UpdateDeploymentGroup "
        "failed in us-east-1 (injected)"
    )
    for line in lines:
        assert (line["gate"], line["action"], line["author"]) == ("hotfix", "arm", "alice")
        assert (line["pipeline"], line["stage"], line["execution_id"]) == (
            "orders-application",
            "Prod-2",
            "exec-1",
        )


def test_turning_back_on_after_a_failed_arm_waits_no_longer_than_the_deadline(cd: FakeCodeDeploy) -> None:
    cd.fail[("us-west-2", "GetDeploymentGroup")] = "AccessDeniedException"
    # Seconds, not tenths: under make test's parallel workers on 2 cores, the first (answered)
    # update must still fit in the deadline; the hang is 3x the deadline, the bound half way.
    deny_the_second_update(cd, "us-east-1", hang=6.0)

    started = time.monotonic()
    result = set_hotfix("arm", [EAST, WEST], cd.factory, deadline=2.0, **WHO)

    assert time.monotonic() - started < 4.0
    assert result["changed"] == ["orders-prod/orders-prod in us-east-1"]
    assert result["reason"].endswith(
        " — and CodeDeploy alarm rollback could NOT be turned back on (still off) for: "
        "orders-prod/orders-prod in us-east-1 (DeadlineExceeded): DeadlineExceeded: no answer within 2 s"
    )


def test_a_failed_disarm_or_restore_changes_nothing_back(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)
    cd.add_group("us-west-2", "orders-prod", "orders-prod", enabled=False)
    cd.fail[("us-west-2", "UpdateDeploymentGroup")] = "ThrottlingException"

    result = set_hotfix("restore", [EAST, WEST], cd.factory, **WHO)

    assert (result["ok"], result["changed"]) == (False, ["orders-prod/orders-prod in us-east-1"])
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")
    assert " — " not in result["reason"]


def test_arming_without_any_group_blocks(cd: FakeCodeDeploy) -> None:
    result = set_hotfix("arm", [], cd.factory, **WHO)

    assert result == {
        "ok": False,
        "action": "arm",
        "groups": [],
        "changed": [],
        "reason": "cannot apply a hotfix at Prod-2: no CodeDeploy deployment group is configured, so "
        "CodeDeploy would still roll back on the copies' own alarms — blocking",
    }


# ------------------------------------------------------------------------ disarm / restore


@pytest.mark.parametrize(
    ("action", "how"), [("disarm", "left over from an earlier hotfix"), ("restore", "after the bake")]
)
def test_disarming_and_restoring_turn_a_group_back_on(cd: FakeCodeDeploy, action: str, how: str) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)

    result = set_hotfix(action, [EAST], cd.factory, **WHO)

    assert result == {
        "ok": True,
        "action": action,
        "groups": ["orders-prod/orders-prod in us-east-1"],
        "changed": ["orders-prod/orders-prod in us-east-1"],
        "reason": f"CodeDeploy alarm rollback turned back on ({how}) at Prod-2, execution exec-1: "
        "orders-prod/orders-prod in us-east-1",
    }
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")
    [(_, _, params)] = cd.updates()
    assert params["alarmConfiguration"]["enabled"] is True
    assert params["alarmConfiguration"]["alarms"] == [{"name": "a-fault-rate"}, {"name": "a-latency-p99"}]


@pytest.mark.parametrize("action", ["disarm", "restore"])
def test_a_group_already_on_is_left_alone(cd: FakeCodeDeploy, action: str) -> None:
    result = set_hotfix(action, [EAST], cd.factory, **WHO)

    assert result["ok"] is True
    assert result["changed"] == []
    assert result["reason"] == (
        f"CodeDeploy alarm rollback on at Prod-2, execution exec-1 ({action}): "
        "1 deployment group(s), none changed"
    )
    assert cd.updates() == []


@pytest.mark.parametrize("action", ["disarm", "restore"])
def test_a_group_not_created_yet_has_nothing_to_turn_on(cd: FakeCodeDeploy, action: str) -> None:
    result = set_hotfix(action, [WEST], cd.factory, **WHO)

    assert (result["ok"], result["changed"]) == (True, [])


def test_a_group_without_alarms_is_not_turned_on(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False, alarms=())

    assert set_hotfix("restore", [EAST], cd.factory, **WHO)["ok"] is True
    assert cd.updates() == []


@pytest.mark.parametrize(
    ("action", "operation", "state"),
    [
        ("arm", "GetDeploymentGroup", "off"),
        ("arm", "UpdateDeploymentGroup", "off"),
        ("disarm", "UpdateDeploymentGroup", "on"),
        ("restore", "GetDeploymentGroup", "on"),
        ("restore", "UpdateDeploymentGroup", "on"),
    ],
)
def test_a_call_that_fails_fails_closed_naming_the_group_and_error(
    cd: FakeCodeDeploy, action: str, operation: str, state: str
) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=action == "arm")
    cd.fail[("us-east-1", operation)] = "AccessDeniedException"

    result = set_hotfix(action, [EAST], cd.factory, **WHO)

    assert result["ok"] is False
    assert result["reason"].startswith(
        f"deployment group orders-prod/orders-prod in us-east-1: alarm rollback could not be turned {state} "
        "(AccessDeniedException): "
    )


def test_a_missing_group_does_not_hide_another_regions_failure(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)
    cd.fail[("us-east-1", "UpdateDeploymentGroup")] = "ThrottlingException"

    result = set_hotfix("restore", [WEST, EAST], cd.factory, **WHO)

    assert result["ok"] is False
    assert "us-east-1: alarm rollback could not be turned on (ThrottlingException)" in result["reason"]
    assert "us-west-2" not in result["reason"]


def test_every_failure_is_named_on_one_line(cd: FakeCodeDeploy) -> None:
    cd.fail[("us-east-1", "GetDeploymentGroup")] = "AccessDeniedException"
    cd.fail[("us-west-2", "GetDeploymentGroup")] = "AccessDeniedException"

    result = set_hotfix("arm", [EAST, WEST], cd.factory, **WHO)

    parts = result["reason"].split("; ")
    assert [p.split(":")[0] for p in parts] == [
        "deployment group orders-prod/orders-prod in us-east-1",
        "deployment group orders-prod/orders-prod in us-west-2",
    ]


def test_a_hanging_region_fails_closed_by_the_deadline(cd: FakeCodeDeploy) -> None:
    cd.hang = 2.0

    result = set_hotfix("arm", [EAST], cd.factory, deadline=0.2, **WHO)

    assert result["ok"] is False
    assert "could not be turned off" in result["reason"]


def test_each_group_is_reached_through_its_own_region_and_role(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-west-2", "orders-prod", "orders-prod")

    set_hotfix("arm", [{**EAST, "role_arn": READER}, WEST], cd.factory, **WHO)

    assert sorted((r, role) for r, role, _ in cd.updates()) == [("us-east-1", WRITER), ("us-west-2", None)]


def test_groups_are_updated_through_the_accounts_writer_role_beside_the_reader(cd: FakeCodeDeploy) -> None:
    # the reader role (role_arn) may only read; the same account's writer role alone may update
    set_hotfix("arm", [{**EAST, "role_arn": READER}], cd.factory, **WHO)

    assert [(r, role, op) for r, role, op, _ in cd.calls] == [
        ("us-east-1", WRITER, "GetDeploymentGroup"),
        ("us-east-1", WRITER, "UpdateDeploymentGroup"),
    ]


def test_a_role_not_named_as_a_reader_is_used_as_it_is(cd: FakeCodeDeploy) -> None:
    other = "arn:aws:iam::222222222222:role/some-role"
    set_hotfix("arm", [{**EAST, "role_arn": other}], cd.factory, **WHO)

    assert {role for _, role, _, _ in cd.calls} == {other}


def test_the_bake_reads_through_the_reader_role(cd: FakeCodeDeploy) -> None:
    [target] = parse_hotfix_groups([{**EAST, "role_arn": READER}])

    alarm_rollback_off(target, cd.factory)

    assert [(role, op) for _, role, op, _ in cd.calls] == [(READER, "GetDeploymentGroup")]


def test_an_unknown_action_fails_closed(cd: FakeCodeDeploy) -> None:
    result = set_hotfix("enable", [EAST], cd.factory, **WHO)

    assert result == {
        "ok": False,
        "action": "invalid",
        "groups": [],
        "changed": [],
        "reason": "hotfix event invalid: action: expected one of arm, disarm, restore, got 'enable'",
    }
    assert cd.calls == []


@pytest.mark.parametrize(
    ("groups", "problem"),
    [
        ("orders-prod", "hotfix_groups: expected a list of deployment groups, got str"),
        (None, "hotfix_groups: expected a list of deployment groups, got nothing"),
        (["x"], "hotfix_groups[0]: expected an object, got str"),
        ([{**EAST, "alarm_name": "x"}], "hotfix_groups[0].alarm_name: unknown key; expected one of"),
        ([{**EAST, "region": "useast1"}], "hotfix_groups[0].region: 'useast1' is not an AWS region"),
        ([{**EAST, "application": ""}], "hotfix_groups[0].application: expected the copy's CodeDeploy"),
        (
            [{**EAST, "deployment_group": 3}],
            "hotfix_groups[0].deployment_group: expected the copy's deployment",
        ),
        ([{**EAST, "role_arn": "reader"}], "hotfix_groups[0].role_arn: expected an IAM role ARN"),
        ([{**EAST, "own_alarms": "x"}], "hotfix_groups[0].own_alarms: expected a list of alarm names"),
        ([{**EAST, "own_alarms": [""]}], "hotfix_groups[0].own_alarms: expected a list of alarm names"),
    ],
)
def test_malformed_groups_fail_closed_naming_the_field(cd: FakeCodeDeploy, groups: Any, problem: str) -> None:
    result = set_hotfix("arm", groups, cd.factory, **WHO)

    assert (result["ok"], result["action"]) == (False, "arm")
    assert result["reason"].startswith(f"hotfix event invalid: {problem}")
    assert cd.calls == []


def test_an_unknown_key_names_the_keys_expected(cd: FakeCodeDeploy) -> None:
    result = set_hotfix("restore", [{**EAST, "alarm": "x"}], cd.factory, **WHO)

    assert result == {
        "ok": False,
        "action": "restore",
        "groups": [],
        "changed": [],
        "reason": "hotfix event invalid: hotfix_groups[0].alarm: unknown key; expected one of application, "
        "deployment_group, own_alarms, region, role_arn",
    }


def test_parse_keeps_the_role_and_own_alarms() -> None:
    assert parse_hotfix_groups([{**EAST, "role_arn": READER}]) == [
        HotfixTarget(
            region="us-east-1",
            application="orders-prod",
            deployment_group="orders-prod",
            own_alarms=("orders-prod-health",),
            role_arn=READER,
        )
    ]


# ------------------------------------------------------------------------------- reading


def test_alarm_rollback_off_reads_the_group(cd: FakeCodeDeploy) -> None:
    [target] = parse_hotfix_groups([EAST])
    assert alarm_rollback_off(target, cd.factory) is False
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)
    assert alarm_rollback_off(target, cd.factory) is True


def test_a_missing_group_is_not_off_and_another_error_raises(cd: FakeCodeDeploy) -> None:
    [west] = parse_hotfix_groups([WEST])
    assert alarm_rollback_off(west, cd.factory) is False
    cd.fail[("us-west-2", "GetDeploymentGroup")] = "AccessDeniedException"
    with pytest.raises(Exception, match="AccessDenied"):
        alarm_rollback_off(west, cd.factory)


# ------------------------------------------------------------------------------- handler


OVERRIDE = "/hands-off/orders-application/override"


def event(action: str, **changes: Any) -> dict[str, Any]:
    """The event the gate machine sends (``arm``'s override parameter and lifetime included)."""
    return {
        "action": action,
        "groups": [EAST],
        **WHO,
        "override_parameter": OVERRIDE,
        "override_max_hours": 24,
        **changes,
    }


def clients(cd: FakeCodeDeploy) -> dict[str, Any]:
    """CodeDeploy, and SSM holding an active hotfix override for WHO's stage and execution."""
    hotfix = hotfix_override_value(datetime.now(UTC), stages=[WHO["stage"]], execution_id=WHO["execution_id"])
    return {"codedeploy": cd.factory, "ssm": FakeSsm(hotfix, name=OVERRIDE).factory}


def test_the_handler_arms_with_the_override_parameters_writer_and_audits(
    cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str]
) -> None:
    # what the gate passes as the override result is not what is audited: the parameter's writer is
    override = {"author": "arn:aws:sts::1:assumed-role/Dev/mallory", "why": "not this"}

    result = hotfix_module.handler(event("arm", override=override), None, clients=clients(cd))

    assert result["ok"] is True
    assert result["reason"].endswith("(hotfix INC-1)")
    [line] = json_lines(capsys.readouterr().out)
    assert (line["level"], line["gate"], line["action"], line["author"]) == (
        "AUDIT",
        "hotfix",
        "arm",
        OVERRIDE_WRITER,
    )
    assert (line["pipeline"], line["stage"], line["execution_id"]) == (
        "orders-application",
        "Prod-2",
        "exec-1",
    )
    assert not cd.enabled("us-east-1", "orders-prod", "orders-prod")


@pytest.mark.parametrize(
    ("action", "enabled", "level"),
    [
        ("disarm", True, "INFO"),
        ("disarm", False, "AUDIT"),
        ("restore", True, "AUDIT"),
        ("restore", False, "AUDIT"),
    ],
)
def test_the_handler_audits_everything_but_a_disarm_that_changed_nothing(
    cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str], action: str, enabled: bool, level: str
) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=enabled)

    hotfix_module.handler(event(action), None, clients=clients(cd))

    [line] = json_lines(capsys.readouterr().out)
    assert line["level"] == level


def test_the_handler_logs_a_failure_as_error(cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str]) -> None:
    hotfix_module.handler(event("arm", groups=[WEST]), None, clients=clients(cd))

    [line] = json_lines(capsys.readouterr().out)
    assert line["level"] == "ERROR"


@pytest.mark.parametrize("value", [None, "", 3])
@pytest.mark.parametrize("key", ["pipeline", "stage", "execution_id"])
def test_the_handler_fails_closed_without_its_pipeline_stage_or_execution(
    cd: FakeCodeDeploy, key: str, value: Any
) -> None:
    result = hotfix_module.handler(event("arm", **{key: value}), None, clients=clients(cd))

    assert result["ok"] is False
    assert result["reason"] == f"hotfix event invalid: {key}: expected a non-empty string, got {value!r}"
    assert cd.calls == []


# ----------------------------------------------------------- exact edges (mutation testing)


def without(group: dict[str, Any], key: str) -> None:
    """CodeDeploy may leave a false boolean out of alarmConfiguration."""
    del group["alarmConfiguration"][key]


def test_a_group_without_enabled_counts_as_off(cd: FakeCodeDeploy) -> None:
    without(cd.groups[("us-east-1", "orders-prod", "orders-prod")], "enabled")

    assert set_hotfix("arm", [EAST], cd.factory, **WHO)["changed"] == []  # already off
    assert cd.updates() == []
    assert set_hotfix("restore", [EAST], cd.factory, **WHO)["changed"] == [
        "orders-prod/orders-prod in us-east-1"
    ]
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod")


def test_a_group_without_ignore_poll_alarm_failure_is_sent_false(cd: FakeCodeDeploy) -> None:
    without(cd.groups[("us-east-1", "orders-prod", "orders-prod")], "ignorePollAlarmFailure")

    set_hotfix("arm", [EAST], cd.factory, **WHO)

    [(_, _, params)] = cd.updates()
    assert params["alarmConfiguration"]["ignorePollAlarmFailure"] is False


def test_every_changed_group_is_named(cd: FakeCodeDeploy) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)
    cd.add_group("us-west-2", "orders-prod", "orders-prod", enabled=False)

    result = set_hotfix("restore", [EAST, WEST], cd.factory, **WHO)

    assert result["reason"].endswith(
        ": orders-prod/orders-prod in us-east-1, orders-prod/orders-prod in us-west-2"
    )


def test_alarm_rollback_off_reads_through_the_groups_role(cd: FakeCodeDeploy) -> None:
    [target] = parse_hotfix_groups([{**EAST, "role_arn": READER}])

    alarm_rollback_off(target, cd.factory)

    assert [(r, role, op) for r, role, op, _ in cd.calls] == [("us-east-1", READER, "GetDeploymentGroup")]


# ------------------------------------------------------------------- shared roles: own groups only


@pytest.mark.parametrize("action", ["arm", "disarm", "restore"])
def test_a_shared_role_hotfix_function_refuses_another_services_groups(
    cd: FakeCodeDeploy, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    """Every pipeline's hotfix function runs as the one shared hotfix role: orders' function,
    invoked with catalog's groups (catalog's gate-reader role), changes nothing and says so."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-hotfix")
    cd.add_group("us-east-1", "catalog-prod", "catalog-prod")
    catalog = {
        **EAST,
        "application": "catalog-prod",
        "deployment_group": "catalog-prod",
        "role_arn": READER.replace("-orders-", "-catalog-"),
    }
    result = hotfix_module.handler(event(action, groups=[catalog]), None, clients=clients(cd))
    assert result["ok"] is False
    assert "hands-off-orders-hotfix may change only its own service's deployment groups" in result["reason"]
    assert "hands-off-catalog-gate-reader" in result["reason"]
    assert cd.calls == []


def test_a_shared_role_hotfix_function_changes_its_own_services_groups(
    cd: FakeCodeDeploy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-hotfix")
    result = hotfix_module.handler(
        event("arm", groups=[{**EAST, "role_arn": READER}]), None, clients=clients(cd)
    )
    assert result["ok"] is True, result
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is False


@pytest.mark.parametrize(
    ("function_name", "groups", "foreign"),
    [
        # a function not named as the shared roles name it (its own role is the boundary): none
        ("OrdersPipeline-GatesHotfixFunction0B8A4505-abc", [{"role_arn": "arn:x:role/other"}], []),
        (None, [{"role_arn": "arn:x:role/other"}], []),
        # its own service's readers only
        ("hands-off-orders-hotfix", [{"role_arn": READER}], []),
        ("hands-off-orders-hotfix", [{"role_arn": READER}, {"role_arn": WRITER}], [WRITER]),
        ("hands-off-orders-hotfix", [{}], ["None"]),
        ("hands-off-orders-hotfix", ["not a group"], ["None"]),
        # a service whose name ends like another's is another service
        (
            "hands-off-orders-hotfix",
            [{"role_arn": READER.replace("-orders-", "-big-orders-")}],
            [READER.replace("-orders-", "-big-orders-")],
        ),
        ("hands-off-big-orders-hotfix", [{"role_arn": READER}], [READER]),
    ],
)
def test_foreign_groups(function_name: str | None, groups: list[Any], foreign: list[str]) -> None:
    assert hotfix_module.foreign_groups(groups, function_name) == foreign
