"""Load a fleet from a TOML file into ``Environments`` / ``WavePlan``.

File format (see ``tests/model/fixtures/fleet.toml``)::

    toolchain_region = "us-east-1"

    [accounts]
    tooling = "111111111111"
    preprod = "222222222222"
    prod = "333333333333"

    [stages]
    alpha = ["us-west-2"]
    beta = ["us-west-2"]
    gamma = ["us-west-2", "eu-west-1"]

    [planner]            # optional, only with [[inventory]]
    factor = 2.0
    name_prefix = "Prod-"

    [alarms]             # optional; keys are AlarmPolicy fields
    fault_rate_percent = 0.5

    [policy.first]       # optional; keys are DeploymentPolicy fields; Gamma, Prod-1, Prod-2
    bake_minutes = 45
    [policy.later]       # optional; the later waves
    shape = "linear"

    [[inventory]]        # either an inventory (waves are planned) ...
    region = "ca-central-1"
    traffic_share = 0.03
    az_count = 3

    [[waves]]            # ... or waves listed by hand, never both
    name = "Prod-1"
    regions = ["ca-central-1"]

Every problem is raised as one ``FleetFileError`` (a ``ConfigError``) naming the file, whose field
is a dotted path into the file: ``fleet.toml: waves.1.regions.0: 'us-est-1' is not a known AWS
region (did you mean 'us-east-1'?)``. ``[policy.first]`` starts from ``ONE_BOX_POLICY`` and
``[policy.later]`` from ``FAST_POLICY``; Alpha and Beta use ``PREPROD_POLICY``.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from hands_off.model.account import Account
from hands_off.model.environments import Environments
from hands_off.model.errors import ConfigError, FleetFileError
from hands_off.model.planner import (
    RegionTraffic,
    WavePlan,
    plan_from_environments,
    plan_waves,
)
from hands_off.model.policy import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    AlarmPolicy,
    DeploymentPolicy,
    TrafficShape,
)
from hands_off.model.regions import validate_region
from hands_off.model.target import Target
from hands_off.model.wave import Stage, Wave

__all__ = ["FleetFile", "FleetFileError", "load_environments", "load_plan"]


# Fields of load_plan's own arguments, not of the file: their errors do not name the file.
_ARGUMENT_FIELDS = frozenset({"factor"})


@contextmanager
def _in_file(path: Path | str | os.PathLike[str]) -> Iterator[None]:
    """Re-raise any ``ConfigError`` (TOML, schema or model) as a ``FleetFileError`` naming ``path``."""
    try:
        yield
    except FleetFileError:
        raise
    except ConfigError as err:
        if err.field in _ARGUMENT_FIELDS:
            raise
        raise FleetFileError(err.field, err.message, path=os.fspath(path)) from None


def _region(value: str) -> str:
    validate_region(value, "region")
    return value


def _account_id(value: str) -> str:
    Account(name="account", account_id=value)
    return value


_Region = Annotated[str, AfterValidator(_region)]
_AccountId = Annotated[str, AfterValidator(_account_id)]
_Regions = Annotated[list[_Region], Field(min_length=1)]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Accounts(_Table):
    tooling: _AccountId
    preprod: _AccountId
    prod: _AccountId


class _Stages(_Table):
    alpha: _Regions
    beta: _Regions
    gamma: _Regions


class _Planner(_Table):
    factor: float = 2.0
    name_prefix: str = "Prod-"


class _Alarms(_Table):
    period_minutes: int | None = None
    evaluation_periods: int | None = None
    datapoints_to_alarm: int | None = None
    fault_rate_percent: float | None = None
    p99_latency_ms: int | None = None
    anomaly_band_width: float | None = None


class _Policy(_Table):
    shape: Literal["canary", "linear", "all_at_once"] | None = None
    step_percent: int | None = None
    interval_minutes: int | None = None
    bake_minutes: int | None = None


class _Policies(_Table):
    first: _Policy = _Policy()
    later: _Policy = _Policy()


class _Inventory(_Table):
    region: _Region
    traffic_share: float
    az_count: int = 3


class _Wave(_Table):
    name: str
    regions: _Regions


class FleetFile(_Table):
    """The schema of a fleet TOML file (pydantic v2; unknown keys are errors).

    Attributes:
        toolchain_region: where the pipelines live, in the tooling account.
        accounts: ``tooling``, ``preprod`` and ``prod`` account ids (quoted 12 digits).
        stages: regions of ``alpha``, ``beta`` and ``gamma`` (in the preprod account).
        planner: ``factor`` and ``name_prefix`` of ``plan_waves``; only with ``inventory``.
            Default: absent (factor 2.0, prefix ``"Prod-"``).
        alarms: ``AlarmPolicy`` overrides. Default: absent (``AlarmPolicy()``).
        policy: ``first`` / ``later`` ``DeploymentPolicy`` overrides. Default: absent.
        inventory: regions with traffic shares; waves are planned from it. Default: absent.
        waves: hand-listed waves (name, regions). Default: absent. Give exactly one of
            ``inventory`` and ``waves``.
    """

    toolchain_region: _Region
    accounts: _Accounts
    stages: _Stages
    planner: _Planner | None = None
    alarms: _Alarms = _Alarms()
    policy: _Policies = _Policies()
    inventory: list[_Inventory] | None = None
    waves: list[_Wave] | None = None


def _attr(field: str) -> str:
    """``"Target.region"`` -> ``"region"``; other fields unchanged."""
    head, _, rest = field.partition(".")
    return rest if rest and head[:1].isupper() else field


@contextmanager
def _at(prefix: str, *, targets_key: str | None = None) -> Iterator[None]:
    """Re-raise a model ``ConfigError`` with its field rebased under ``prefix``.

    ``targets_key`` names the file key that holds what the model calls ``targets``
    (``"regions"`` for a wave, ``""`` for a stage whose key is the region list itself).
    Fields that already start with ``inventory`` are paths in the file and kept as they are.
    """
    try:
        yield
    except ConfigError as err:
        attr = _attr(err.field)
        if targets_key is not None and (match := re.fullmatch(r"targets(?:\[(\d+)\])?.*", attr)):
            attr = ".".join(part for part in (targets_key, match[1]) if part)
        if attr.startswith("inventory"):
            prefix = ""
        path = ".".join(part for part in (prefix, attr) if part)
        raise ConfigError(re.sub(r"\[(\d+)\]", r".\1", path), err.message) from None


def _environments_field(field: str, *, hand_listed: bool) -> str:
    """Map an ``Environments`` field (``"waves[2].targets[0]"``) to a path in the file."""
    if match := re.fullmatch(r"waves\[(\d+)\]\.policy(\..+)?", field):
        which = "first" if int(match[1]) < 2 else "later"
        return f"policy.{which}{match[2] or ''}"
    if match := re.fullmatch(r"gamma\.policy(\..+)?", field):
        return f"policy.first{match[1] or ''}"
    if match := re.fullmatch(r"(alpha|beta|gamma)\.(?:targets|policy)(?:\[(\d+)\])?.*", field):
        return f"stages.{match[1]}" + (f".{match[2]}" if match[2] else "")
    if field.startswith("alarm_policy"):
        return "alarms" + field.removeprefix("alarm_policy")
    if field.startswith("toolchain"):
        return "toolchain_region"
    if not hand_listed and field.startswith("waves"):
        return "inventory"
    if match := re.fullmatch(r"waves\[(\d+)\]\.targets(?:\[(\d+)\])?.*", field):
        return f"waves.{match[1]}.regions" + (f".{match[2]}" if match[2] else "")
    return re.sub(r"\[(\d+)\]", r".\1", field)


def _pydantic_error(error: Any) -> ConfigError:
    """Turn the first pydantic error into a ``ConfigError`` with a dotted path and a fix."""
    path = ".".join(str(part) for part in error["loc"]) or "file"
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):
        return ConfigError(path, cause.message)
    kind = error["type"]
    if kind == "missing":
        return ConfigError(path, "is required but missing; add it")
    if kind == "too_short":
        return ConfigError(path, "is empty; list at least one region")
    if kind == "extra_forbidden":
        hint = f" (did you mean {error['ctx_hint']!r}?)" if error.get("ctx_hint") else ""
        return ConfigError(path, f"is not a known key{hint}; remove it or fix its spelling")
    value = error.get("input")
    if kind in _TYPE_FIXES:
        what, fix = _TYPE_FIXES[kind]
        return ConfigError(path, f"{what}, got {_toml_value(value)}; {_type_fix(kind, value, fix)}")
    if kind in ("literal_error", "enum"):
        expected = str((error.get("ctx") or {}).get("expected", ""))
        options = re.findall(r"'([^']*)'", expected)
        same = [o for o in options if isinstance(value, str) and o.lower() == value.lower()]
        fix = f"write {json.dumps(same[0])}" if same else "write one of them"
        return ConfigError(path, f"must be one of {expected}, got {_toml_value(value)}; {fix}")
    message = str(error["msg"]).removeprefix("Value error, ")
    return ConfigError(path, f"{message}, got {value!r}")


def _type_fix(kind: str, value: object, fix: str) -> str:
    """What to write instead of ``value``, followed literally: the value itself when it only needs
    its quotes or brackets changed (``write 6 (without quotes)``, ``write "us-east-1"``)."""
    if kind == "list_type" and isinstance(value, str):
        items = [item for item in re.split(r"[,\s]+", value) if item]
        return f"write a list, e.g. {json.dumps(items or [value])}"
    if kind == "string_type":
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            return f"write {json.dumps(value[0])}"
        if isinstance(value, int | float) and not isinstance(value, bool):
            return f"write {json.dumps(str(value))}"
        return fix
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return fix
    if isinstance(value, float) and value.is_integer() and kind.startswith("int"):
        return f"write {int(value)}"
    if isinstance(value, str):
        number = _number(value)
        if number is not None and (kind.startswith("float") or float(number).is_integer()):
            return f"write {number} (without quotes)"
        return f"{fix} (without quotes)"
    return fix


def _number(text: str) -> int | float | None:
    """``text`` as a TOML number, if it is one."""
    try:
        return int(text.strip())
    except ValueError:
        try:
            return float(text.strip())
        except ValueError:
            return None


_NUMBER = ("must be a number", "write a number, e.g. 0.5")
_WHOLE = ("must be a whole number", "write a whole number, e.g. 3")
_TABLE = ("must be a table", "write a table: a [section] of its own or { key = value }")
_TYPE_FIXES: dict[str, tuple[str, str]] = {
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "int_type": _WHOLE,
    "int_parsing": _WHOLE,
    "int_from_float": _WHOLE,
    "bool_type": ("must be true or false", "write true or false"),
    "bool_parsing": ("must be true or false", "write true or false"),
    "string_type": ("must be a quoted string", "quote the value"),
    "list_type": ("must be a list", "write a list in brackets, e.g. [1, 2]"),
    "dict_type": _TABLE,
    "model_type": _TABLE,
    "model_attributes_type": _TABLE,
}
"""What a value of the wrong type must be, and what to write instead, by pydantic error type
(pydantic's own message would say "Input should be a valid dictionary or instance of _Policy")."""


def _toml_value(value: object) -> str:
    """``value`` as it reads in the fleet file: ``true`` for ``True``, ``'a lot'`` for a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _first_error(errors: list[Any]) -> Any:
    """The error to report: a misspelled key explains its sibling's "missing" error, so report
    the unknown key first, suggesting the missing name it most resembles."""
    unknown = [e for e in errors if e["type"] == "extra_forbidden"]
    if not unknown:
        return errors[0]
    first = dict(unknown[0])
    siblings = [
        str(e["loc"][-1])
        for e in errors
        if e["type"] == "missing" and tuple(e["loc"][:-1]) == tuple(first["loc"][:-1])
    ]
    key = str(first["loc"][-1])
    # A missing key it resembles first (it explains that error too), else any key of its table.
    close = difflib.get_close_matches(key, siblings, n=1) or difflib.get_close_matches(
        key, _table_keys(tuple(first["loc"][:-1])), n=1
    )
    if close:
        first["ctx_hint"] = close[0]
    return first


def _table_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at ``loc`` (a pydantic error location) may hold; empty if unknown."""
    model: type[BaseModel] = FleetFile
    for part in loc:
        if isinstance(part, int):
            continue  # an item of a list: the list's field already led to the item's model
        field = model.model_fields.get(str(part))
        inner = _model_in(field.annotation) if field is not None else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside a field's type (``_Policy | None``, ``list[_Region]``...)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _overrides(table: BaseModel) -> dict[str, Any]:
    return {key: value for key, value in table.model_dump().items() if value is not None}


def _policy(table: _Policy, base: DeploymentPolicy, prefix: str) -> DeploymentPolicy:
    changes = _overrides(table)
    if "shape" in changes:
        changes["shape"] = TrafficShape(changes["shape"])
    with _at(prefix):
        return base.with_(**changes)


def _read(path: Path | str | os.PathLike[str]) -> tuple[FleetFile, Path]:
    file = Path(path)
    with file.open("rb") as handle:
        try:
            data = tomllib.load(handle)
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(os.fspath(path), f"is not valid TOML ({err}); fix the syntax") from None
    try:
        return FleetFile.model_validate(data), file
    except ValidationError as err:
        raise _pydantic_error(_first_error(err.errors())) from None


def _build(fleet: FleetFile, *, factor: float | None) -> tuple[Environments, dict[str, float]]:
    if fleet.inventory is not None and fleet.waves is not None:
        raise ConfigError(
            "waves",
            "cannot be combined with [[inventory]]; keep [[inventory]] to plan the waves, "
            "or [[waves]] to list them by hand",
        )
    if fleet.inventory is None and fleet.waves is None:
        raise ConfigError(
            "inventory",
            "is missing; add [[inventory]] entries (region, traffic_share) to plan the waves, "
            "or list [[waves]] (name, regions) by hand",
        )
    hand_listed = fleet.waves is not None
    if hand_listed and (fleet.planner is not None or factor is not None):
        raise ConfigError(
            "planner.factor" if factor is None else "factor",
            "applies only to a fleet with [[inventory]]; this file lists [[waves]] by hand, "
            "so remove the factor",
        )
    accounts = fleet.accounts
    tooling = Account(name="tooling", account_id=accounts.tooling)
    preprod = Account(name="preprod", account_id=accounts.preprod)
    prod = Account(name="prod", account_id=accounts.prod)
    first = _policy(fleet.policy.first, ONE_BOX_POLICY, "policy.first")
    later = _policy(fleet.policy.later, FAST_POLICY, "policy.later")
    with _at("alarms"):
        alarms = AlarmPolicy(**_overrides(fleet.alarms))

    def stage(name: str, regions: list[str], policy: DeploymentPolicy) -> Stage:
        with _at(f"stages.{name.lower()}", targets_key=""):
            return Stage(
                name=name,
                targets=tuple(Target(account=preprod, region=r) for r in regions),
                policy=policy,
            )

    alpha = stage("Alpha", fleet.stages.alpha, PREPROD_POLICY)
    beta = stage("Beta", fleet.stages.beta, PREPROD_POLICY)
    gamma = stage("Gamma", fleet.stages.gamma, first)

    shares: dict[str, float] = {}
    waves: tuple[Wave, ...]
    if fleet.inventory is not None:
        inventory: list[RegionTraffic] = []
        for index, entry in enumerate(fleet.inventory):
            with _at(f"inventory.{index}"):
                inventory.append(RegionTraffic(**entry.model_dump()))
        planner = fleet.planner or _Planner()
        chosen = planner.factor if factor is None else factor
        with _at("planner"):
            plan = plan_waves(
                inventory,
                account=prod,
                factor=chosen,
                first_policy=first,
                later_policy=later,
                name_prefix=planner.name_prefix,
            )
        waves = plan.production_waves
        shares = {entry.region: entry.traffic_share for entry in inventory}
    else:
        assert fleet.waves is not None
        built: list[Wave] = []
        for index, hand in enumerate(fleet.waves):
            with _at(f"waves.{index}", targets_key="regions"):
                built.append(
                    Wave(
                        name=hand.name,
                        targets=tuple(Target(account=prod, region=r) for r in hand.regions),
                        policy=first if index < 2 else later,
                    )
                )
        waves = tuple(built)

    toolchain = Target(account=tooling, region=fleet.toolchain_region)
    try:
        env = Environments(
            toolchain=toolchain, alpha=alpha, beta=beta, gamma=gamma, waves=waves, alarm_policy=alarms
        )
    except ConfigError as err:
        raise ConfigError(_environments_field(err.field, hand_listed=hand_listed), err.message) from None
    return env, shares


def load_environments(path: Path | str | os.PathLike[str]) -> Environments:
    """Read a fleet TOML file and return its validated ``Environments``.

    Example::

        env = load_environments(Path("fleet.toml"))

    Raises:
        FleetFileError: (a ``ConfigError``) on any problem in the file, naming the file and the
            dotted path to the field.
        OSError: if the file cannot be read (e.g. ``FileNotFoundError``).
    """
    with _in_file(path):
        fleet, _ = _read(path)
        return _build(fleet, factor=None)[0]


def load_plan(path: Path | str | os.PathLike[str], *, factor: float | None = None) -> WavePlan:
    """Read a fleet TOML file and return its wave plan.

    With ``[[inventory]]`` the waves are planned (``factor`` overrides ``[planner] factor``)
    and blast radii come from the traffic shares; with hand-listed ``[[waves]]`` they are
    proportional to each wave's number of regions, and ``factor`` must be ``None``.

    Raises:
        FleetFileError: (a ``ConfigError``) on any problem in the file, naming the file and the
            dotted path to the field.
        OSError: if the file cannot be read (e.g. ``FileNotFoundError``).
    """
    with _in_file(path):
        fleet, _ = _read(path)
        env, shares = _build(fleet, factor=factor)
        return plan_from_environments(env, shares or None)
