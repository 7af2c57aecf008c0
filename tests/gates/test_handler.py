"""The one handler wrapper every gate Lambda uses: event check, injection, fail closed, one log line."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypedDict

import pytest
from botocore.exceptions import ClientError
from gate_testing import at, json_lines

from hands_off_gates import alarms, bake, decide, execution, override, time_window
from hands_off_gates.gate_common import ClientFactory, GateConfigError
from hands_off_gates.handler import GateHandler, gate_handler

NOW = at("2026-11-26T12:00:00Z")


class Verdict(TypedDict):
    ok: bool
    reason: str


def _blocked(reason: str) -> Verdict:
    return {"ok": False, "reason": reason}


def probe(
    core: Callable[..., Any] | None = None, **options: Any
) -> tuple[GateHandler[Verdict], list[dict[str, Any]]]:
    """A test gate recording what its core was called with (default: it passes)."""
    calls: list[dict[str, Any]] = []

    def handler(event: Mapping[str, Any], **kwargs: Any) -> Verdict:
        """The probe gate."""
        calls.append({"event": event, **kwargs})
        if core is None:
            return {"ok": True, "reason": "all good"}
        result: Verdict = core(event, **kwargs)
        return result

    options.setdefault("on_error", _blocked)
    return gate_handler("probe", **options)(handler), calls


def only_log_line(out: str) -> dict[str, Any]:
    [record] = json_lines(out)
    return record


# ---------------------------------------------------------------------------------- fail closed


@pytest.mark.parametrize(("event", "kind"), [(None, "nothing"), ("text", "str"), (["a"], "list"), (3, "int")])
def test_a_non_object_event_fails_closed_with_a_message(
    event: Any, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    handler, calls = probe()

    result = handler(event, None)

    reason = f"probe event invalid: event: expected a JSON object, got {kind}"
    assert result == {"ok": False, "reason": reason}
    assert calls == []
    assert only_log_line(capsys.readouterr().out)["level"] == "ERROR"


def test_an_exception_in_the_core_fails_closed_naming_the_error(capsys: pytest.CaptureFixture[str]) -> None:
    def core(event: Mapping[str, Any], **_: Any) -> Verdict:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "GetParameter")

    handler, _ = probe(core)

    result = handler({}, None)

    assert result == {"ok": False, "reason": "probe check failed (AccessDenied: not allowed)"}
    record = only_log_line(capsys.readouterr().out)
    assert record["level"] == "ERROR"
    assert record["message"] == result["reason"]


def test_a_bug_in_the_core_fails_closed_naming_the_exception() -> None:
    handler, _ = probe(lambda event, **_: event["missing"])

    assert handler({}, None) == {"ok": False, "reason": "probe check failed (KeyError: 'missing')"}


def test_a_core_returning_no_result_object_fails_closed() -> None:
    handler, _ = probe(lambda event, **_: None)

    result = handler({}, None)

    assert result["ok"] is False
    assert result["reason"] == (
        "probe check failed (TypeError: the probe gate returned nothing, not a result object)"
    )


def test_a_gate_config_error_fails_closed_with_its_field() -> None:
    def core(event: Mapping[str, Any], **_: Any) -> Verdict:
        raise GateConfigError("checks[0].region", "'mars-1' is not an AWS region name")

    handler, _ = probe(core, title="probe-gate")

    assert handler({}, None) == {
        "ok": False,
        "reason": "probe-gate event invalid: checks[0].region: 'mars-1' is not an AWS region name",
    }


def test_a_malformed_now_fails_closed_naming_now() -> None:
    handler, calls = probe()

    result = handler({"now": "2026-11-26T12:00:00"}, None)

    assert result["ok"] is False
    assert result["reason"].startswith("probe event invalid: now: ")
    assert "no UTC offset" in result["reason"]
    assert calls == []


# --------------------------------------------------------------------------------------- logging


def test_the_result_is_logged_once_as_one_json_line(capsys: pytest.CaptureFixture[str]) -> None:
    handler, _ = probe(lambda event, **_: {"ok": False, "reason": "window closed", "extra": [1, 2]})

    handler({"pipeline": "orders-application", "stage": "Prod-1", "now": "2026-11-26T12:00:00Z"}, None)

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    record = json_lines(lines[0])[0]
    assert record["level"] == "INFO"
    assert record["message"] == "window closed"
    assert record["service"] == "hands-off-gates"
    assert record["gate"] == "probe"
    assert record["pipeline"] == "orders-application"
    assert record["stage"] == "Prod-1"
    assert record["now"] == "2026-11-26T12:00:00Z"
    assert record["ok"] is False
    assert record["extra"] == [1, 2]
    assert "reason" not in record  # it is the message


def test_level_message_and_logged_fields_are_the_gates_choice(capsys: pytest.CaptureFixture[str]) -> None:
    handler, _ = probe(
        level=lambda result: "INFO" if result["ok"] else "WARN",
        message=lambda result: f"probe {'passed' if result['ok'] else 'blocked'}",
        log_fields=("parameter_name",),
    )

    handler({"parameter_name": "/hands-off/x/override", "pipeline": "p", "now": "2026-11-26T12:00:00Z"}, None)

    record = only_log_line(capsys.readouterr().out)
    assert record["level"] == "INFO"
    assert record["message"] == "probe passed"
    assert record["parameter_name"] == "/hands-off/x/override"
    assert "pipeline" not in record
    assert record["reason"] == "all good"  # logged as a field when it is not the message


def test_a_failing_level_function_fails_closed_too(capsys: pytest.CaptureFixture[str]) -> None:
    handler, _ = probe(level=lambda result: result["missing"])

    result = handler({}, None)

    assert result == {"ok": False, "reason": "probe check failed (KeyError: 'missing')"}
    assert only_log_line(capsys.readouterr().out)["level"] == "ERROR"


# ------------------------------------------------------------------------------------- injection


def test_the_clock_is_injectable_and_the_event_now_wins() -> None:
    handler, calls = probe()
    fixed = at("2026-01-02T03:04:05Z")

    handler({}, None, clock=lambda: fixed)
    handler({"now": "2026-11-26T12:00:00+01:00"}, None, clock=lambda: fixed)
    handler({}, None)

    assert calls[0]["now"] == fixed
    assert calls[1]["now"] == at("2026-11-26T11:00:00Z")
    assert calls[2]["now"].tzinfo is not None  # the system clock, aware


def test_client_factories_are_made_per_service_and_injectable() -> None:
    handler, calls = probe(clients=("cloudwatch", "ssm"))
    fake_cloudwatch: ClientFactory = lambda region, role: "cloudwatch client"  # noqa: E731
    fake_ssm: ClientFactory = lambda region, role: "ssm client"  # noqa: E731

    assert handler.services == ("cloudwatch", "ssm")
    assert set(handler.clients) == {"cloudwatch", "ssm"}
    handler({}, None)
    default_cloudwatch = calls[0]["cloudwatch"]
    assert default_cloudwatch is handler.clients["cloudwatch"]  # made once, reused (warm container)

    handler({}, None, clients={"ssm": fake_ssm})
    assert calls[1]["ssm"] is fake_ssm
    assert calls[1]["cloudwatch"] is default_cloudwatch

    handler.clients["cloudwatch"] = fake_cloudwatch
    handler({}, None)
    assert calls[2]["cloudwatch"] is fake_cloudwatch


def test_injecting_a_client_the_gate_does_not_use_is_a_test_error() -> None:
    handler, _ = probe(clients=("cloudwatch",))

    with pytest.raises(TypeError, match="uses no 'ssm' client; it takes 'cloudwatch'"):
        handler({}, None, clients={"ssm": lambda region, role: None})


def test_the_wrapper_keeps_the_cores_name_and_docstring() -> None:
    handler, _ = probe()

    assert vars(handler)["__name__"] == "handler"
    assert handler.__doc__ == "The probe gate."
    assert handler.core.__name__ == "handler"
    assert handler.gate == "probe"
    assert handler.title == "probe"


# ------------------------------------------------------------------------ the six gate handlers

BLOCKS: dict[str, Callable[[Any], bool]] = {
    "alarms": lambda r: r["clear"] is False,
    "bake": lambda r: r["status"] == "FAILED",
    "decide": lambda r: r["proceed"] is False and r["give_up"] is True,
    "execution": lambda r: r["rollback"] is False,
    "override": lambda r: r["active"] is False,
    "time_window": lambda r: r["open"] is False,
}
HANDLERS: dict[str, GateHandler[Any]] = {
    "alarms": alarms.handler,
    "bake": bake.handler,
    "decide": decide.handler,
    "execution": execution.handler,
    "override": override.handler,
    "time_window": time_window.handler,
}


def _reason(result: Mapping[str, Any]) -> str:
    return str(result["reasons"][0] if "reasons" in result else result["reason"])


@pytest.mark.parametrize("gate", sorted(HANDLERS))
def test_every_gate_fails_closed_on_a_non_object_event(gate: str, capsys: pytest.CaptureFixture[str]) -> None:
    handler = HANDLERS[gate]

    result = handler(["not", "an", "object"], None)

    assert BLOCKS[gate](result)
    assert "event invalid: event: expected a JSON object, got list" in _reason(result)
    record = only_log_line(capsys.readouterr().out)
    assert record["gate"] == gate
    assert record["level"] == "ERROR"


def _raise(region: str | None, role_arn: str | None) -> Any:
    raise RuntimeError("no credentials in this container")


@pytest.mark.parametrize(
    ("gate", "event", "service", "says"),
    [
        ("execution", {"pipeline": "p", "execution_id": "e"}, "codepipeline", "execution check failed ("),
        ("override", {"parameter_name": "/hands-off/p/override"}, "ssm", "override unreadable: "),
        (
            "alarms",
            {"label": "app", "checks": [{"region": "us-east-1", "alarm_names": ["a"]}]},
            "cloudwatch",
            "app alarms unreadable in us-east-1 (RuntimeError)",
        ),
    ],
)
def test_every_gate_fails_closed_when_it_cannot_make_a_client(
    gate: str, event: dict[str, Any], service: str, says: str
) -> None:
    handler = HANDLERS[gate]

    result = handler(event, None, clients={service: _raise})

    assert BLOCKS[gate](result)
    assert says in _reason(result)
    assert "no credentials in this container" in _reason(result)


def test_a_real_gate_judges_at_the_injected_clock() -> None:
    event = {"window": {"windows": [{"days": ["MON"], "start": "09:00", "end": "17:00", "timezone": "UTC"}]}}

    monday_noon = time_window.handler(event, None, clock=lambda: at("2026-11-23T12:00:00Z"))
    monday_night = time_window.handler(event, None, clock=lambda: at("2026-11-23T20:00:00Z"))

    assert monday_noon["open"] is True
    assert monday_night == {
        "open": False,
        "reason": "outside deployment window MON 09:00-17:00 UTC; next opens 2026-11-30T09:00:00Z",
        "next_open": "2026-11-30T09:00:00Z",
        "closed_by": ["window"],
    }


def test_a_real_gate_uses_injected_clients(capsys: pytest.CaptureFixture[str]) -> None:
    class RollbackPipeline:
        def get_pipeline_execution(self, **_: Any) -> dict[str, Any]:
            return {
                "pipelineExecution": {
                    "executionType": "ROLLBACK",
                    "trigger": {"triggerType": "AutomatedRollback"},
                }
            }

    result = execution.handler(
        {"pipeline": "orders-application", "execution_id": "abc"},
        None,
        clients={"codepipeline": lambda region, role: RollbackPipeline()},
    )

    assert result["rollback"] is True
    record = only_log_line(capsys.readouterr().out)
    assert record["level"] == "AUDIT"
    assert record["pipeline"] == "orders-application"


# ------------------------------------------------------------------- exact messages and defaults


def test_a_core_returning_another_kind_of_value_names_its_type() -> None:
    handler, _ = probe(lambda event, **_: ["ok"])

    result = handler({}, None)

    assert result == {
        "ok": False,
        "reason": "probe check failed (TypeError: the probe gate returned list, not a result object)",
    }


def test_a_result_without_a_reason_is_logged_with_an_empty_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    handler, _ = probe(lambda event, **_: {"ok": True})

    assert handler({}, None) == {"ok": True}

    record = only_log_line(capsys.readouterr().out)
    assert record["message"] == ""
    assert record["level"] == "INFO"
    assert record["ok"] is True


@pytest.mark.usefixtures("aws")
def test_the_default_factories_make_clients_of_their_own_service() -> None:
    handler, _ = probe(clients=("cloudwatch", "ssm"))

    for service in ("cloudwatch", "ssm"):
        client = handler.clients[service]("us-east-1", None)
        assert client.meta.service_model.service_name == service
        assert client.meta.region_name == "us-east-1"


def test_an_injected_client_names_every_service_the_gate_takes() -> None:
    handler, _ = probe(clients=("cloudwatch", "ssm"))

    with pytest.raises(TypeError) as raised:
        handler({}, None, clients={"sts": lambda region, role: None})

    assert str(raised.value) == "the probe gate uses no 'sts' client; it takes 'cloudwatch', 'ssm'"


def test_an_injected_client_for_a_gate_without_clients_says_it_takes_none() -> None:
    handler, _ = probe()

    with pytest.raises(TypeError) as raised:
        handler({}, None, clients={"ssm": lambda region, role: None})

    assert str(raised.value) == "the probe gate uses no 'ssm' client; it takes none"
