"""Blocker override (P14): scoped by stage and kind, attributed to its writer, expiring, fail closed."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from gate_testing import WRITER, FakeSsm, at, json_lines, load_event

from hands_off_gates import override
from hands_off_gates.override import evaluate_override, read_override

NOW = at("2026-11-26T12:00:00Z")
PARAMETER = "/hands-off/orders/override"
STAGE = "Prod-2"


def value(**fields: Any) -> str:
    """An override as a developer writes it; a field set to None is left out."""
    data: dict[str, Any] = {
        "who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T18:00:00Z",
        "stages": [STAGE],
        "scope": ["alarms"],
    }
    data.update(fields)
    return json.dumps({k: v for k, v in data.items() if v is not None})


def evaluate(raw: str | None, **kwargs: Any) -> Any:
    """``evaluate_override`` at NOW for STAGE, written by WRITER, unless told otherwise."""
    params: dict[str, Any] = {"stage": STAGE, "author": WRITER, **kwargs}
    return evaluate_override(raw, params.pop("now", NOW), **params)


def read(ssm: Any, **kwargs: Any) -> Any:
    params: dict[str, Any] = {"stage": STAGE, **kwargs}
    return read_override(PARAMETER, ssm, params.pop("now", NOW), **params)


def put(raw: str) -> None:
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=PARAMETER, Value=raw, Type="String", Overwrite=True
    )


def denied(operation: str, code: str = "AccessDeniedException") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "nope"}}, operation)


# ---------------------------------------------------------------------------- evaluation


def test_active_override_is_attributed_to_the_identity_that_wrote_it() -> None:
    assert read(FakeSsm(value())) == {
        "active": True,
        "author": WRITER,
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T18:00:00Z",
        "stages": ["Prod-2"],
        "scope": ["alarms"],
        "reason": (
            f"override written by {WRITER} (says: alice) until 2026-11-26T18:00:00Z "
            "for Prod-2 (scope: alarms): hotfix INC-1234"
        ),
    }


def test_history_is_read_without_decrypting_and_by_pages() -> None:
    ssm = FakeSsm(value())

    read(ssm)

    assert ssm.history_calls == [{"Name": PARAMETER, "WithDecryption": False, "MaxResults": 50}]


def test_author_is_the_writer_of_the_version_read_even_across_pages() -> None:
    # GIVEN version 52 was read; 53 was written since (by someone else)
    pages = [[(v, "arn:aws:iam::111111111111:user/mallory") for v in range(1, 51)], [(51, "x"), (52, WRITER)]]
    ssm = FakeSsm(value(), version=52, history=[*pages[:1], [*pages[1], (53, "arn:someone-else")]])

    result = read(ssm)

    assert result["active"] is True
    assert result["author"] == WRITER
    assert ssm.history_calls[1]["NextToken"] == "1"


def test_scope_and_stages_are_normalised() -> None:
    result = evaluate(
        value(
            scope=["blackout", "alarms", "org-alarms", "window", "alarms"],
            stages=[" Prod-2 ", "Prod-3", "Prod-3"],
        )
    )

    assert result["scope"] == ["alarms", "org-alarms", "window", "blackout"]
    assert result["stages"] == ["Prod-2", "Prod-3"]


def test_expiry_with_an_offset_is_reported_in_utc() -> None:
    result = evaluate(value(expires_at="2026-11-26T19:00:00+01:00"))

    assert result["active"] is True
    assert result["expires_at"] == "2026-11-26T18:00:00Z"


def test_expired_override() -> None:
    result = evaluate(value(expires_at="2026-11-26T11:59:59Z"))

    assert result == {
        "active": False,
        "reason": (
            f"override expired at 2026-11-26T11:59:59Z (written by {WRITER}, says alice: hotfix INC-1234)"
        ),
    }


def test_override_expiring_exactly_now_is_expired() -> None:
    assert evaluate(value(expires_at="2026-11-26T12:00:00Z"))["active"] is False
    assert evaluate(value(expires_at="2026-11-26T12:00:01Z"))["active"] is True


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "override ignored: value: not valid JSON"),
        ('["alice"]', "override ignored: value: expected a JSON object"),
        (value(who=None), "override ignored: who: missing or empty"),
        (value(who="  "), "override ignored: who: missing or empty"),
        (value(why=None), "override ignored: why: missing or empty"),
        (
            value(expires_at="2026-11-26T18:00:00"),
            "override ignored: expires_at: '2026-11-26T18:00:00' has no UTC",
        ),
        (value(expires_at="tomorrow"), "override ignored: expires_at: 'tomorrow' is not an ISO-8601"),
        (value(expires_at=None), "override ignored: expires_at: expected an ISO-8601 string"),
        # stages: required, a non-empty list of stage names
        (value(stages=None), "override ignored: stages: missing; name the stages it applies to"),
        (value(stages=[]), "override ignored: stages: expected a non-empty list of stage names"),
        (value(stages="Prod-2"), "override ignored: stages: expected a non-empty list of stage names"),
        (value(stages=["Prod-2", " "]), "override ignored: stages[1]: expected a stage name"),
        (value(stages=[2]), "override ignored: stages[0]: expected a stage name"),
        # scope: required, kinds named one by one; the old catch-alls are not guessed at
        (value(scope=None), "override ignored: scope: missing; name what it lifts"),
        (value(scope=[]), "override ignored: scope: expected a non-empty list"),
        (value(scope="alarms"), "override ignored: scope: expected a non-empty list"),
        (
            value(scope=["alarms", "everything"]),
            "override ignored: scope[1]: 'everything' is not one of alarms, org-alarms, window, blackout",
        ),
        (value(scope=["alarm"]), "override ignored: scope[0]: 'alarm' is not one of"),
        (value(scope=["org_alarms"]), "override ignored: scope[0]: 'org_alarms' is not one of"),
        # execution_id: optional, but a string when given
        (value(execution_id=""), "override ignored: execution_id: expected a pipeline execution id"),
        (value(execution_id=7), "override ignored: execution_id: expected a pipeline execution id"),
        (value(scopes=["alarms"]), "override ignored: scopes: unknown key"),
        (value(long=True), "override ignored: long: unknown key"),
    ],
)
def test_untrustworthy_override_is_ignored(raw: str, expected: str) -> None:
    result = read(FakeSsm(raw))

    assert result == {"active": False, "reason": result["reason"]}
    assert result["reason"].startswith(expected), result["reason"]


# -------------------------------------------------------------------------- lifetime


def test_default_lifetime_is_24_hours() -> None:
    assert evaluate(value(expires_at="2026-11-27T12:00:00Z"))["active"] is True

    result = evaluate(value(expires_at="2026-11-27T12:00:01Z"))

    assert result == {
        "active": False,
        "reason": (
            "override ignored: expires_at: 2026-11-27T12:00:01Z is more than 24 hours after now "
            "(2026-11-26T12:00:00Z), the pipeline's override_max_hours; set an earlier expiry "
            f"(written by {WRITER}, says alice: hotfix INC-1234)"
        ),
    }


def test_lifetime_up_to_the_gate_maximum() -> None:
    assert evaluate(value(expires_at="2026-12-03T12:00:00Z"), max_hours=168)["active"] is True
    assert evaluate(value(expires_at="2026-11-26T14:00:00Z"), max_hours=2)["active"] is True
    assert evaluate(value(expires_at="2026-11-26T14:00:01Z"), max_hours=2)["active"] is False
    assert evaluate(value(expires_at="2026-12-03T12:00:01Z"), max_hours=168)["reason"].startswith(
        "override ignored: expires_at: 2026-12-03T12:00:01Z is more than 168 hours after now"
    )


@pytest.mark.parametrize("bad", [0, -1, 169, 24.0, "24", True, None])
def test_invalid_maximum_lifetime_lifts_nothing(bad: object) -> None:
    result = evaluate(value(), max_hours=bad)

    assert result["active"] is False
    assert result["reason"].startswith(
        "override ignored: override_max_hours: expected whole hours from 1 to 168"
    )


# ----------------------------------------------------------------------- stage and execution


def test_override_for_another_stage_lifts_nothing_here() -> None:
    result = evaluate(value(stages=["Prod-2", "Prod-3"]), stage="Prod-1")

    assert result == {
        "active": False,
        "reason": (
            "override lifts nothing at Prod-1: it names stages Prod-2, Prod-3 "
            f"(written by {WRITER}, says alice: hotfix INC-1234)"
        ),
    }


def test_stage_names_match_exactly() -> None:
    assert evaluate(value(stages=["prod-2"]))["active"] is False


def test_gate_that_does_not_name_its_stage_gets_no_override() -> None:
    result = evaluate(value(), stage=None)

    assert result["active"] is False
    assert result["reason"].startswith("override lifts nothing: the gate did not say which stage it guards")


def test_override_bound_to_this_execution() -> None:
    result = evaluate(value(execution_id="exec-1"), execution_id="exec-1")

    assert result["active"] is True
    assert result["execution_id"] == "exec-1"
    assert "for Prod-2, execution exec-1 (scope: alarms)" in result["reason"]


def test_override_bound_to_another_execution_lifts_nothing() -> None:
    result = evaluate(value(execution_id="exec-1"), execution_id="exec-2")

    assert result["active"] is False
    assert result["reason"].startswith(
        "override lifts nothing: it is bound to pipeline execution exec-1, not exec-2"
    )


def test_bound_override_lifts_nothing_when_the_gate_passes_no_execution() -> None:
    result = evaluate(value(execution_id="exec-1"))

    assert result["active"] is False
    assert result["reason"].startswith(
        "override lifts nothing: it is bound to pipeline execution exec-1 and the gate passed no execution id"
    )


def test_unbound_override_applies_to_any_execution() -> None:
    result = evaluate(value(), execution_id="exec-9")

    assert result["active"] is True
    assert "execution_id" not in result


# -------------------------------------------------------------------------- attribution


def test_unknown_author_lifts_nothing() -> None:
    result = evaluate(value(), author=None, author_problem="no history")

    assert result == {
        "active": False,
        "reason": (
            "override lifts nothing: who wrote it could not be read (no history); "
            "an override is trusted only with its writer's AWS identity (claimed: alice)"
        ),
    }


def test_unreadable_history_lifts_nothing() -> None:
    result = read(FakeSsm(value(), history_error=denied("GetParameterHistory")))

    assert result["active"] is False
    assert result["reason"] == (
        "override lifts nothing: who wrote it could not be read (AccessDeniedException: nope); "
        "an override is trusted only with its writer's AWS identity (claimed: alice)"
    )


@pytest.mark.parametrize(
    ("fake", "problem"),
    [
        ({"version": 4}, f"version 4 of {PARAMETER} is not in its history"),
        ({"version": None}, f"GetParameter returned no version of {PARAMETER}"),
        ({"version": True}, f"GetParameter returned no version of {PARAMETER}"),
        ({"history": [[(3, "")]]}, f"version 3 of {PARAMETER} has no LastModifiedUser"),
        ({"history": [[(3, None)]]}, f"version 3 of {PARAMETER} has no LastModifiedUser"),
        ({"history": [[(1, "x")]] * 6}, f"version 3 of {PARAMETER} is not in its history"),
    ],
)
def test_history_without_the_writer_lifts_nothing(fake: dict[str, Any], problem: str) -> None:
    ssm = FakeSsm(value(), **fake)  # built per test: it counts its calls
    result = read(ssm)

    assert result["active"] is False
    assert f"who wrote it could not be read ({problem})" in result["reason"]
    assert len(ssm.history_calls) <= 5


def test_malformed_override_says_so_before_its_author_is_read() -> None:
    ssm = FakeSsm(value(scope=["all"]), history_error=denied("GetParameterHistory"))

    assert read(ssm)["reason"].startswith("override ignored: scope[0]:")


# ------------------------------------------------------------------------------ reading


@pytest.mark.usefixtures("aws")
def test_absent_parameter_is_no_override() -> None:
    assert read(boto3.client("ssm", region_name="us-east-1")) == {"active": False, "reason": "no override"}


@pytest.mark.usefixtures("aws")
def test_real_api_shapes_moto() -> None:
    # moto records every version's writer as "N/A"; the API shapes are AWS's
    for stage in ("Prod-1", "Prod-3", STAGE):
        put(value(stages=[stage]))  # three versions, the last for this stage

    result = read(boto3.client("ssm", region_name="us-east-1"))

    assert result["active"] is True
    assert result["author"] == "N/A"


class FailingSsm:
    def __init__(self, error: Exception) -> None:
        self.error = error

    def get_parameter(self, **params: Any) -> dict[str, Any]:
        raise self.error


@pytest.mark.parametrize("code", ["AccessDeniedException", "ThrottlingException", "InternalServerError"])
def test_unreadable_override_lets_nothing_through(code: str) -> None:
    result = read(FailingSsm(denied("GetParameter", code)))

    assert result["active"] is False
    assert result["reason"].startswith(f"override unreadable ({code})")
    assert PARAMETER in result["reason"]


def test_a_read_that_raises_anything_lets_nothing_through() -> None:
    result = read(FailingSsm(RuntimeError("connection reset")))

    assert result == {
        "active": False,
        "reason": (
            "override unreadable (RuntimeError): RuntimeError: connection reset — "
            f"ignoring it; fix read access to {PARAMETER}"
        ),
    }


def test_parameter_not_found_via_client_error_is_no_override() -> None:
    assert read(FailingSsm(denied("GetParameter", "ParameterNotFound"))) == {
        "active": False,
        "reason": "no override",
    }


@pytest.mark.parametrize("raw", [123, None, ["a"], b"{}"])
def test_non_string_value_lets_nothing_through(raw: object) -> None:
    assert read(FakeSsm(raw)) == {
        "active": False,
        "reason": "override ignored: parameter value is not a string",
    }


def test_absent_value_is_no_override() -> None:
    assert evaluate(None) == {"active": False, "reason": "no override"}


# -------------------------------------------------------------------------- handler


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_with_sample_event(capsys: pytest.CaptureFixture[str]) -> None:
    put(value(stages=["Prod-1"], execution_id="0b6f1ac2-7c7a-4f3e-9d55-3f4c2f4f2a10"))

    result = override.handler(load_event("override.json"), None)

    assert result["active"] is True
    assert result["scope"] == ["alarms"]
    assert result["execution_id"] == "0b6f1ac2-7c7a-4f3e-9d55-3f4c2f4f2a10"
    record = json_lines(capsys.readouterr().out)[-1]
    assert record["gate"] == "override"
    assert record["pipeline"] == "orders"
    assert record["stage"] == "Prod-1"
    assert record["author"] == "N/A"
    assert record["claimed_who"] == "alice"


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_applies_the_gate_maximum_lifetime() -> None:
    put(value(stages=["Prod-1"], expires_at="2026-11-28T12:00:00Z"))  # 48 h ahead
    event = load_event("override.json")

    assert override.handler(event, None)["active"] is False
    assert override.handler({**event, "override_max_hours": 48}, None)["active"] is True
    assert (
        override.handler({k: v for k, v in event.items() if k != "override_max_hours"}, None)["active"]
        is False
    )


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_absent_parameter() -> None:
    assert override.handler(load_event("override.json"), None) == {"active": False, "reason": "no override"}


@pytest.mark.usefixtures("aws", "fresh_handler_clients")
def test_handler_without_stage_or_execution_lifts_nothing() -> None:
    put(value(stages=["Prod-1"]))
    event = load_event("override.json")

    result = override.handler({k: v for k, v in event.items() if k != "stage"}, None)

    assert result["active"] is False
    assert "the gate did not say which stage it guards" in result["reason"]


@pytest.mark.parametrize(
    ("event", "prefix"),
    [
        ({"parameter_name": "hands-off/x"}, "override event invalid: parameter_name: "),
        ({"parameter_name": PARAMETER, "now": "2026-11-26"}, "override event invalid: now: "),
        (None, "override event invalid: event: "),
        ({"parameter_name": PARAMETER, "stage": 2}, "override event invalid: stage: "),
        (
            {"parameter_name": PARAMETER, "stage": STAGE, "execution_id": 5},
            "override event invalid: execution_id: ",
        ),
        (
            {"parameter_name": PARAMETER, "stage": STAGE, "override_max_hours": 169},
            "override event invalid: override_max_hours: expected whole hours from 1 to 168, got 169",
        ),
        (
            {"parameter_name": PARAMETER, "stage": STAGE, "override_max_hours": "24"},
            "override event invalid: override_max_hours: ",
        ),
    ],
)
def test_handler_malformed_event_is_inactive(event: Any, prefix: str) -> None:
    result = override.handler(event, None, clients={"ssm": lambda region, role: FakeSsm(value())})

    assert result["active"] is False
    assert result["reason"].startswith(prefix), result["reason"]


def test_handler_client_that_cannot_be_built_lets_nothing_through() -> None:
    def no_client(region: str | None, role: str | None) -> Any:
        raise RuntimeError("no credentials")

    result = override.handler(load_event("override.json"), None, clients={"ssm": no_client})

    assert result == {"active": False, "reason": "override unreadable: RuntimeError: no credentials"}


def test_handler_read_that_raises_lets_nothing_through() -> None:
    result = override.handler(
        load_event("override.json"),
        None,
        clients={"ssm": lambda region, role: FailingSsm(KeyError("Parameter"))},
    )

    assert result["active"] is False
    assert result["reason"].startswith("override unreadable (KeyError)")


def test_handler_non_string_value_lets_nothing_through() -> None:
    result = override.handler(
        load_event("override.json"), None, clients={"ssm": lambda region, role: FakeSsm(7)}
    )

    assert result == {"active": False, "reason": "override ignored: parameter value is not a string"}


class _RecreatedBetweenReads(FakeSsm):
    """Mallory's override is read; then the parameter is deleted and Alice writes a new one, which
    SSM numbers version 1 again: the history's version 1 is Alice's, with another value."""

    def get_parameter_history(self, **params: Any) -> dict[str, Any]:
        return {"Parameters": [{"Version": 1, "LastModifiedUser": WRITER, "Value": value(why="alice's")}]}


def test_the_author_is_the_writer_of_the_value_read_not_of_a_later_incarnation() -> None:
    result = read(_RecreatedBetweenReads(value(why="mallory's"), version=1))
    assert result["active"] is False
    assert "changed" in result["reason"]


# ------------------------------------------------------------------- exact reasons and defaults


def test_the_value_is_read_decrypted() -> None:
    ssm = FakeSsm(value())

    read(ssm)

    assert ssm.parameter_calls == [{"Name": PARAMETER, "WithDecryption": True}]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ('["alice"]', "value: expected a JSON object, got list"),
        ("7", "value: expected a JSON object, got int"),
        (value(who=None), "who: missing or empty; say who is overriding (e.g. 'alice')"),
        (value(why=" "), "why: missing or empty; say why (e.g. 'hotfix for INC-1234')"),
        (value(stages=None), 'stages: missing; name the stages it applies to, e.g. ["Prod-2"]'),
        (
            value(long=True, alpha=1),
            "alpha: unknown key; expected one of execution_id, expires_at, scope, stages, who, why",
        ),
    ],
)
def test_malformed_override_reason_names_the_field_and_the_fix(raw: str, reason: str) -> None:
    assert evaluate(raw) == {"active": False, "reason": f"override ignored: {reason}"}


def test_active_override_names_every_stage_kind_and_its_execution() -> None:
    raw = value(stages=["Prod-2", "Prod-3"], scope=["window", "alarms"], execution_id="e-1")

    assert evaluate(raw, execution_id="e-1") == {
        "active": True,
        "author": WRITER,
        "claimed_who": "alice",
        "why": "hotfix INC-1234",
        "expires_at": "2026-11-26T18:00:00Z",
        "stages": ["Prod-2", "Prod-3"],
        "scope": ["alarms", "window"],
        "execution_id": "e-1",
        "reason": (
            f"override written by {WRITER} (says: alice) until 2026-11-26T18:00:00Z "
            "for Prod-2, Prod-3, execution e-1 (scope: alarms, window): hotfix INC-1234"
        ),
    }


def test_unknown_author_without_a_problem_given_says_no_writer_given() -> None:
    assert evaluate(value(), author=None) == {
        "active": False,
        "reason": (
            "override lifts nothing: who wrote it could not be read (no writer given); "
            "an override is trusted only with its writer's AWS identity (claimed: alice)"
        ),
    }


def test_override_that_does_not_apply_says_its_writer_could_not_be_read() -> None:
    assert evaluate(value(), author=None, stage="Prod-1") == {
        "active": False,
        "reason": (
            "override lifts nothing at Prod-1: it names stages Prod-2 "
            "(written by an identity that could not be read, says alice: hotfix INC-1234)"
        ),
    }


def test_lifetime_of_one_hour_is_the_least_maximum() -> None:
    assert evaluate(value(expires_at="2026-11-26T13:00:00Z"), max_hours=1)["active"] is True

    result = evaluate(value(expires_at="2026-11-26T13:00:01Z"), max_hours=1)

    assert result["active"] is False
    assert result["reason"].startswith(
        "override ignored: expires_at: 2026-11-26T13:00:01Z is more than 1 hours after now "
    )


class _EmptyHistory(FakeSsm):
    """A history page that lists no versions at all (no ``Parameters`` key)."""

    def get_parameter_history(self, **params: Any) -> dict[str, Any]:
        self.history_calls.append(params)
        return {}


def test_history_page_without_parameters_lifts_nothing() -> None:
    ssm = _EmptyHistory(value())

    assert read(ssm) == {
        "active": False,
        "reason": (
            f"override lifts nothing: who wrote it could not be read (version 3 of {PARAMETER} is not in "
            "its history); an override is trusted only with its writer's AWS identity (claimed: alice)"
        ),
    }
    assert len(ssm.history_calls) == 1


def test_a_value_changed_since_it_was_read_is_not_attributed() -> None:
    assert read(_RecreatedBetweenReads(value(why="mallory's"), version=1)) == {
        "active": False,
        "reason": (
            f"override lifts nothing: who wrote it could not be read ({PARAMETER} changed between "
            "reading it and reading its history (version 1 now holds another value); not attributing "
            "it); an override is trusted only with its writer's AWS identity (claimed: alice)"
        ),
    }


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (
            {"parameter_name": PARAMETER, "stage": 2},
            "override event invalid: stage: expected the stage the gate guards, e.g. 'Prod-2', got 2",
        ),
        (
            {"parameter_name": PARAMETER, "stage": ""},
            "override event invalid: stage: expected the stage the gate guards, e.g. 'Prod-2', got ''",
        ),
        (
            {"parameter_name": PARAMETER, "stage": STAGE, "execution_id": 5},
            "override event invalid: execution_id: expected the pipeline execution id, got 5",
        ),
    ],
)
def test_handler_invalid_stage_or_execution_reason_is_exact(event: Any, reason: str) -> None:
    result = override.handler(event, None, clients={"ssm": lambda region, role: FakeSsm(value())})

    assert result == {"active": False, "reason": reason}


# ------------------------------------------------------------------------------- hotfix (issue 8)


def test_a_hotfix_not_bound_to_an_execution_is_rejected_with_one_line_saying_why() -> None:
    result = evaluate(value(scope=["hotfix"]), execution_id="exec-1")

    assert result == {
        "active": False,
        "reason": "override ignored: scope: 'hotfix' needs an execution_id: a hotfix applies to one "
        'pipeline execution; add "execution_id": "<the execution shipping the fix>"',
    }


def test_a_hotfix_bound_to_this_execution_is_active_and_lifts_only_what_it_names() -> None:
    result = evaluate(value(scope=["hotfix"], execution_id="exec-1"), execution_id="exec-1")

    assert result["active"] is True
    assert result["scope"] == ["hotfix"]  # not org-alarms, window or blackout
    assert result["execution_id"] == "exec-1"


def test_a_hotfix_for_another_execution_lifts_nothing() -> None:
    result = evaluate(value(scope=["hotfix"], execution_id="exec-1"), execution_id="exec-2")

    assert result["active"] is False
    assert result["reason"].startswith(
        "override lifts nothing: it is bound to pipeline execution exec-1, not exec-2"
    )


def test_hotfix_is_the_last_kind_in_the_normalised_scope() -> None:
    result = evaluate(value(scope=["hotfix", "window"], execution_id="exec-1"), execution_id="exec-1")

    assert result["scope"] == ["window", "hotfix"]
