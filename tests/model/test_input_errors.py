"""Bad user input is one ``ConfigError`` naming the field and the fix, never an AttributeError or a
surprise at synth: a string where a tuple belongs, a single object, a naive or unparsed datetime,
a service name too long for the names derived from it, a fleet file error without its path."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import fields
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from hands_off.model import (
    KNOWN_REGIONS,
    MAX_SERVICE_NAME_LENGTH,
    Account,
    Blackout,
    ConfigError,
    Environments,
    FleetFileError,
    GatePolicy,
    Stage,
    Target,
    TimeWindow,
    Wave,
    example_environments,
    example_plan,
    load_environments,
    load_plan,
    validate_service_identity,
)
from hands_off.model._checks import check_sequence
from hands_off.model.identity import DERIVED_NAMES, MAX_STAGE_LABEL_LENGTH

FIXTURES = Path(__file__).parent / "fixtures"
PREPROD = Account(name="preprod", account_id="222222222222")
FREEZE = Blackout(
    start=datetime(2026, 12, 20, tzinfo=UTC), end=datetime(2027, 1, 5, tzinfo=UTC), reason="freeze"
)
CONNECTION = "arn:aws:codeconnections:us-east-1:111111111111:connection/00000000-0000-4000-8000-000000000000"


def raises(build: Callable[[], object]) -> ConfigError:
    """Call ``build``; return the ``ConfigError`` it raises (fail on anything else)."""
    with pytest.raises(ConfigError) as caught:
        build()
    assert "\n" not in str(caught.value)
    return caught.value


# ------------------------------------------------------------------ a string is not a sequence


def test_alarm_prefixes_as_a_string_is_rejected_not_split_into_letters() -> None:
    error = raises(lambda: GatePolicy(org_alarm_prefixes="acme-critical-"))  # type: ignore[arg-type]

    assert error.field == "GatePolicy.org_alarm_prefixes"
    assert "got the string 'acme-critical-'" in error.message
    assert "('acme-critical-',)" in error.message


def test_alarm_names_as_a_string_is_rejected() -> None:
    error = raises(lambda: GatePolicy(org_alarm_names="x"))  # type: ignore[arg-type]

    assert error.field == "GatePolicy.org_alarm_names"
    assert "('x',)" in error.message


def test_a_single_time_window_is_rejected_when_built_not_at_synth() -> None:
    error = raises(lambda: GatePolicy(windows=TimeWindow()))  # type: ignore[arg-type]

    assert error.field == "GatePolicy.windows"
    assert "got one TimeWindow" in error.message
    assert "(TimeWindow(...),)" in error.message


def test_a_single_blackout_is_rejected() -> None:
    error = raises(lambda: GatePolicy(blackouts=FREEZE))  # type: ignore[arg-type]

    assert error.field == "GatePolicy.blackouts"
    assert "got one Blackout" in error.message


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"windows": ("09:00-17:00",)}, "GatePolicy.windows[0]", "must be a TimeWindow, got str"),
        ({"windows": {TimeWindow()}}, "GatePolicy.windows", "must be a tuple of TimeWindow, got set"),
        ({"blackouts": [FREEZE, "xmas"]}, "GatePolicy.blackouts[1]", "must be a Blackout, got str"),
        ({"org_alarm_names": ("ok", 3)}, "GatePolicy.org_alarm_names[1]", "must be a str, got int 3"),
        ({"org_alarm_prefixes": ("",)}, "GatePolicy.org_alarm_prefixes[0]", "1 to 255 characters"),
        ({"org_alarm_names": ("x" * 256,)}, "GatePolicy.org_alarm_names[0]", "1 to 255 characters"),
    ],
)
def test_every_element_type_is_checked(changes: dict[str, object], field: str, fix: str) -> None:
    error = raises(lambda: GatePolicy(**changes))  # type: ignore[arg-type]

    assert error.field == field
    assert fix in error.message


def test_lists_are_accepted_and_stored_as_tuples() -> None:
    policy = GatePolicy(
        windows=[TimeWindow(days=["SAT", "SUN"])],  # type: ignore[arg-type]
        blackouts=[FREEZE],  # type: ignore[arg-type]
        org_alarm_names=["org-down"],  # type: ignore[arg-type]
        org_alarm_prefixes=["org-critical-"],  # type: ignore[arg-type]
    )

    assert policy.windows == (TimeWindow(days=("SAT", "SUN")),)
    assert policy.blackouts == (FREEZE,)
    assert policy.org_alarm_names == ("org-down",)
    assert policy.org_alarm_prefixes == ("org-critical-",)
    assert hash(policy) == hash(GatePolicy(**{f.name: getattr(policy, f.name) for f in fields(policy)}))


def test_time_window_days_as_a_string_is_rejected() -> None:
    error = raises(lambda: TimeWindow(days="MON"))  # type: ignore[arg-type]

    assert error.field == "TimeWindow.days"
    assert "('MON',)" in error.message


@pytest.mark.parametrize(
    ("build", "field", "fix"),
    [
        (lambda: TimeWindow(days=("mon",)), "TimeWindow.days", "did you mean 'MON'?"),
        (lambda: TimeWindow(days=("MON", 1)), "TimeWindow.days[1]", "must be a str, got int 1"),
        (lambda: TimeWindow(days=()), "TimeWindow.days", "is empty"),
        (lambda: TimeWindow(start=900), "TimeWindow.start", "900 is not HH:MM"),
        (lambda: TimeWindow(end=None), "TimeWindow.end", "None is not HH:MM"),
        (lambda: TimeWindow(timezone=1), "TimeWindow.timezone", "must be an IANA time zone name"),
    ],
)
def test_time_window_fields_are_typed(build: Callable[[], object], field: str, fix: str) -> None:
    error = raises(build)

    assert error.field == field
    assert fix in error.message


@pytest.mark.parametrize(
    ("make_targets", "kind", "fix"),
    [
        (lambda t: "us-west-2", "Stage", "got the string 'us-west-2'"),
        (lambda t: t, "Stage", "got one Target; wrap it: (Target(...),)"),
        (lambda t: "us-west-2", "Wave", "must be a tuple of Target"),
        (lambda t: t, "Wave", "got one Target"),
    ],
)
def test_targets_as_a_string_or_a_single_target_are_rejected(
    make_targets: Callable[[Target], object], kind: str, fix: str
) -> None:
    target = Target(account=PREPROD, region="us-west-2")
    cls = Stage if kind == "Stage" else Wave

    error = raises(lambda: cls(name="Alpha", targets=make_targets(target)))  # type: ignore[arg-type]

    assert error.field == f"{kind}.targets"
    assert fix in error.message


def _environments_with(waves: object) -> Environments:
    env = example_environments()
    return Environments(
        toolchain=env.toolchain,
        alpha=env.alpha,
        beta=env.beta,
        gamma=env.gamma,
        waves=waves,  # type: ignore[arg-type]
    )


def test_environments_waves_as_a_single_wave_or_a_plan_are_rejected() -> None:
    wave = example_environments().waves[0]

    single = raises(lambda: _environments_with(wave))
    plan = raises(lambda: _environments_with(example_plan()))

    assert single.field == "waves"
    assert "got one Wave" in single.message
    assert plan.field == "waves"
    assert "production_waves" in plan.message


def test_environments_waves_list_is_stored_as_a_tuple() -> None:
    waves = list(example_environments().waves)

    assert _environments_with(waves).waves == tuple(waves)


def test_check_sequence_returns_a_tuple() -> None:
    assert check_sequence(["a", "b"], field="X.names", item_type=str) == ("a", "b")
    assert check_sequence((), field="X.names", item_type=str) == ()


# ---------------------------------------------------------------------- datetimes and integers


@pytest.mark.parametrize("name", ["start", "end"])
def test_blackout_given_a_string_says_use_an_aware_datetime(name: str) -> None:
    values: dict[str, object] = {"start": FREEZE.start, "end": FREEZE.end, "reason": "freeze"}
    values[name] = "2026-12-20"

    error = raises(lambda: Blackout(**values))  # type: ignore[arg-type]

    assert error.field == f"Blackout.{name}"
    assert "must be a timezone-aware datetime" in error.message
    assert "datetime(2026, 12, 20, tzinfo=UTC)" in error.message
    assert "'2026-12-20'" in error.message


@pytest.mark.parametrize(
    ("values", "field", "fix"),
    [
        ({"start": datetime(2026, 12, 20)}, "Blackout.start", "has no time zone"),
        ({"end": datetime(2027, 1, 5)}, "Blackout.end", "tzinfo=UTC"),
        ({"start": date(2026, 12, 20)}, "Blackout.start", "must be a timezone-aware datetime"),
        ({"start": None}, "Blackout.start", "got None"),
        ({"reason": None}, "Blackout.reason", "say why"),
        ({"reason": "  "}, "Blackout.reason", "say why"),
    ],
)
def test_blackout_fields_are_typed(values: dict[str, object], field: str, fix: str) -> None:
    given: dict[str, object] = {"start": FREEZE.start, "end": FREEZE.end, "reason": "freeze", **values}

    error = raises(lambda: Blackout(**given))  # type: ignore[arg-type]

    assert error.field == field
    assert fix in error.message


@pytest.mark.parametrize(
    ("changes", "field", "echo"),
    [
        ({"check_interval_seconds": 0}, "GatePolicy.check_interval_seconds", "got 0"),
        ({"check_interval_seconds": "600"}, "GatePolicy.check_interval_seconds", "got '600'"),
        ({"max_wait_seconds": 8 * 86_400}, "GatePolicy.max_wait_seconds", "got 691200"),
        ({"max_wait_seconds": 3.5}, "GatePolicy.max_wait_seconds", "got 3.5"),
        ({"bake_min_requests": -1}, "GatePolicy.bake_min_requests", "got -1"),
        ({"bake_poll_seconds": True}, "GatePolicy.bake_poll_seconds", "got True"),
    ],
)
def test_gate_policy_integers_echo_the_bad_value(changes: dict[str, object], field: str, echo: str) -> None:
    error = raises(lambda: GatePolicy(**changes))  # type: ignore[arg-type]

    assert error.field == field
    assert echo in error.message
    assert "must be a whole number" in error.message


# ------------------------------------------------------------------------- service identity


def identity(**changes: object) -> None:
    values: dict[str, object] = {
        "service_name": "orders",
        "repository": "example-org/orders-service",
        "connection_arn": CONNECTION,
        "branch": "main",
        "requires_source": True,
    }
    values.update(changes)
    validate_service_identity("OrdersPipeline", **values)  # type: ignore[arg-type]


def test_a_good_identity_passes() -> None:
    identity()
    identity(service_name="a" * MAX_SERVICE_NAME_LENGTH)
    identity(repository="group/subgroup/project")
    identity(connection_arn=CONNECTION.replace("codeconnections", "codestar-connections"))
    identity(repository="", connection_arn="", branch="", requires_source=False)


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"service_name": ""}, "service_name", "is empty; set a lower-case name such as 'orders'"),
        ({"service_name": "Orders"}, "service_name", "(did you mean 'orders'?)"),
        ({"service_name": "order_svc"}, "service_name", "(did you mean 'order-svc'?)"),
        ({"service_name": "1orders"}, "service_name", "start with a letter"),
        ({"service_name": "orders-"}, "service_name", "(did you mean 'orders'?)"),
        ({"service_name": "a--b"}, "service_name", "(did you mean 'a-b'?)"),
        ({"service_name": None}, "service_name", "got None"),
        ({"repository": "orders-service"}, "repository", "'owner/name'"),
        ({"repository": "example-org/"}, "repository", "'owner/name'"),
        ({"repository": "example org/orders"}, "repository", "no spaces"),
        ({"repository": "https://github.com/example-org/orders"}, "repository", "'example-org/orders'"),
        ({"connection_arn": ""}, "connection_arn", "is empty"),
        ({"connection_arn": "arn:aws:codestar:us-east-1:1:connection/x"}, "connection_arn", "arn:aws:"),
        ({"connection_arn": CONNECTION.replace("us-east-1", "us-est-1")}, "connection_arn", "us-east-1"),
        ({"branch": ""}, "branch", "is empty"),
        ({"branch": "main "}, "branch", "no spaces"),
        ({"branch": 1}, "branch", "got int 1"),
    ],
)
def test_bad_identity_names_field_and_fix(changes: dict[str, object], field: str, fix: str) -> None:
    error = raises(lambda: identity(**changes))

    assert error.field == f"OrdersPipeline.{field}"
    assert fix in error.message


def test_a_long_service_name_says_the_limit_and_the_name_that_overflows() -> None:
    name = "a" * (MAX_SERVICE_NAME_LENGTH + 1)

    error = raises(lambda: identity(service_name=name))

    assert error.field == "OrdersPipeline.service_name"
    assert f"at most {MAX_SERVICE_NAME_LENGTH} characters" in error.message
    assert f"'hands-off-{name}-gate-checker'" in error.message
    assert "64" in error.message


def test_max_service_name_length_follows_from_the_derived_names() -> None:
    # Each derived name is a service name plus a fixed number of characters, under an AWS limit.
    assert min(limit - extra for _, _, extra, limit in DERIVED_NAMES) == MAX_SERVICE_NAME_LENGTH
    # The function name leaves room for a stage label; the stack name for the longest region.
    assert MAX_SERVICE_NAME_LENGTH + 1 + MAX_STAGE_LABEL_LENGTH <= 64
    assert MAX_SERVICE_NAME_LENGTH + 1 + MAX_STAGE_LABEL_LENGTH + 1 + max(map(len, KNOWN_REGIONS)) <= 128


def test_source_fields_are_not_checked_without_a_source() -> None:
    identity(repository="not a repo", connection_arn="nope", branch="", requires_source=False)


# ------------------------------------------------------------------------ fleet files name path


def test_a_fleet_file_error_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    text = (FIXTURES / "fleet_waves.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('alpha = ["us-west-2"]', "alpha = []"), encoding="utf-8")

    error = raises(lambda: load_environments(path))

    assert isinstance(error, FleetFileError)
    assert error.path == str(path)
    assert error.field == "stages.alpha"
    assert str(error) == f"{path}: stages.alpha: is empty; list at least one region"


def test_a_model_error_in_a_fleet_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    text = (FIXTURES / "fleet_waves.toml").read_text(encoding="utf-8")
    path.write_text(text.replace('name = "Prod-4"', 'name = "Prod-3"'), encoding="utf-8")

    error = raises(lambda: load_plan(path))

    assert str(error).startswith(f"{path}: waves.3.name: ")


def test_a_toml_syntax_error_names_the_file_once(tmp_path: Path) -> None:
    path = tmp_path / "fleet.toml"
    path.write_text("[stages\n", encoding="utf-8")

    error = raises(lambda: load_environments(path))

    assert isinstance(error, FleetFileError)
    assert str(error).startswith(f"{path}: is not valid TOML")
    assert str(error).count(str(path)) == 1


def test_a_fleet_file_error_pickles_with_its_path() -> None:
    error = FleetFileError("stages.alpha", "is empty; list at least one region", path="fleet.toml")

    copy = pickle.loads(pickle.dumps(error))

    assert (type(copy), copy.path, copy.field, str(copy)) == (
        FleetFileError,
        "fleet.toml",
        "stages.alpha",
        str(error),
    )
