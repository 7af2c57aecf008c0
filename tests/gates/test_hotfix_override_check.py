"""The hotfix function arms only under the override the gate checked (issue 8, finding).

``arm`` turns CodeDeploy alarm rollback OFF. The gate machine invokes it only after its override
check found an active ``hotfix`` override for the stage and execution, but anyone allowed to
invoke ``hands-off-<service>-hotfix`` directly could pass any ``override`` (an invented author)
or none. The function reads the override parameter itself (``read_override``): without an active
``hotfix`` override bound to the event's stage and execution it changes nothing, and the author it
audits is the parameter's writer (``LastModifiedUser``), never the event's. ``disarm`` and
``restore`` only turn rollback back on: they need no override.
"""

from __future__ import annotations

import json
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
    json_lines,
)

from hands_off_gates import hotfix as hotfix_module

NOW, PARAMETER, READER, EAST = HOTFIX_NOW, ORDERS_OVERRIDE, ORDERS_READER, ORDERS_EAST_GROUP
INVENTED = "arn:aws:iam::999999999999:user/nobody-wrote-this"


def override_value(**fields: Any) -> str:
    return hotfix_override_value(NOW, **fields)


def arm_event(**changes: Any) -> dict[str, Any]:
    """What a caller invoking the function directly might send: an override result it made up."""
    return {
        "action": "arm",
        "groups": [EAST],
        "pipeline": "orders-application",
        "stage": "Prod-2",
        "execution_id": "exec-1",
        "override": {"active": True, "author": INVENTED, "why": "trust me", "scope": ["hotfix"]},
        "override_parameter": PARAMETER,
        "override_max_hours": 24,
        "now": NOW.isoformat(),
        **changes,
    }


@pytest.fixture
def cd() -> FakeCodeDeploy:
    fake = FakeCodeDeploy()
    fake.add_group("us-east-1", "orders-prod", "orders-prod")
    return fake


def invoke(event: dict[str, Any], cd: FakeCodeDeploy, ssm: FakeSsm) -> Any:
    clients = {"codedeploy": cd.factory, "ssm": ssm.factory}
    return hotfix_module.handler(event, None, clock=lambda: NOW, clients=clients)


def assert_nothing_changed(result: Any, cd: FakeCodeDeploy, *said: str) -> None:
    assert result["ok"] is False
    assert result["changed"] == []
    assert cd.updates() == []
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is True
    for text in said:
        assert text in result["reason"], result["reason"]
    assert INVENTED not in json.dumps(result)


@pytest.fixture(autouse=True)
def _shared_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "hands-off-orders-hotfix")


def test_an_active_hotfix_override_arms_naming_its_audited_writer_not_the_events_author(
    cd: FakeCodeDeploy, capsys: pytest.CaptureFixture[str]
) -> None:
    ssm = FakeSsm(override_value(), name=PARAMETER)

    result = invoke(arm_event(), cd, ssm)

    assert result["ok"] is True, result
    assert result["author"] == WRITER
    assert f"hotfix by {WRITER} " in result["reason"]
    assert result["reason"].endswith("(hotfix INC-1)")
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is False
    [line] = json_lines(capsys.readouterr().out)
    assert (line["level"], line["author"]) == ("AUDIT", WRITER)
    assert INVENTED not in json.dumps(line)
    assert [c["Name"] for c in ssm.parameter_calls] == [PARAMETER]


@pytest.mark.parametrize(
    ("ssm", "said"),
    [
        (FakeSsm(override_value(), name="/hands-off/someone-else/override"), "no override"),
        (FakeSsm(override_value(expires_at=(NOW - timedelta(minutes=1)).isoformat())), "override expired"),
        (FakeSsm(override_value(scope=["alarms"])), "not a 'hotfix' override"),
        (FakeSsm(override_value(execution_id="exec-2")), "bound to pipeline execution exec-2"),
        (FakeSsm(override_value(stages=["Prod-3"])), "it names stages Prod-3"),
        (FakeSsm(override_value(), history=[[(3, "")]]), "has no LastModifiedUser"),
        (FakeSsm(override_value(expires_at=(NOW + timedelta(hours=30)).isoformat())), "override_max_hours"),
    ],
    ids=["no-parameter", "expired", "not-hotfix", "other-execution", "other-stage", "no-writer", "too-long"],
)
def test_arming_without_an_active_hotfix_override_for_this_stage_and_execution_changes_nothing(
    cd: FakeCodeDeploy, ssm: FakeSsm, said: str
) -> None:
    assert_nothing_changed(invoke(arm_event(), cd, ssm), cd, "hotfix not applied", said)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"override_parameter": None}, "override_parameter"),
        ({"override_parameter": "/hands-off/catalog-application/override"}, "override_parameter"),
        ({"override_parameter": "/hands-off/orders-application/override/x"}, "override_parameter"),
        ({"override_parameter": 3}, "override_parameter"),
        # orders' function arming catalog's pipeline (with catalog's own, valid override)
        (
            {
                "pipeline": "catalog-application",
                "override_parameter": "/hands-off/catalog-application/override",
            },
            "catalog-application",
        ),
    ],
)
def test_arming_refuses_an_override_parameter_other_than_the_pipelines_own(
    cd: FakeCodeDeploy, changes: dict[str, Any], said: str
) -> None:
    ssm = FakeSsm(override_value())  # would answer any name with an active hotfix

    result = invoke(arm_event(**changes), cd, ssm)

    assert_nothing_changed(result, cd, said)
    assert ssm.parameter_calls == []


def test_arming_with_an_override_the_function_cannot_read_changes_nothing(cd: FakeCodeDeploy) -> None:
    def no_client(region: str | None, role_arn: str | None) -> Any:
        raise RuntimeError("no credentials")

    result = hotfix_module.handler(
        arm_event(), None, clock=lambda: NOW, clients={"codedeploy": cd.factory, "ssm": no_client}
    )

    assert_nothing_changed(result, cd, "no credentials")


@pytest.mark.parametrize("action", ["disarm", "restore"])
def test_turning_rollback_back_on_needs_no_override(cd: FakeCodeDeploy, action: str) -> None:
    cd.add_group("us-east-1", "orders-prod", "orders-prod", enabled=False)
    ssm = FakeSsm(override_value(), name="/nothing")

    result = invoke(
        {k: v for k, v in arm_event(action=action).items() if not k.startswith("override")}, cd, ssm
    )

    assert result["ok"] is True, result
    assert cd.enabled("us-east-1", "orders-prod", "orders-prod") is True
    assert ssm.parameter_calls == []
