"""The pure-Python model of hands-off: accounts, targets, policies, waves and the wave planner.

Nothing here imports ``aws_cdk``; constructs and stacks only render these objects. The
deployment practices that ``Environments`` enforces are pure rules in ``hands_off.model.practices``
(``practices.catalog()`` lists them).

Example::

    from hands_off.model import Account, plan_waves, EXAMPLE_INVENTORY

    plan = plan_waves(EXAMPLE_INVENTORY, account=Account(name="prod", account_id="333333333333"))
    print(plan.table())
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hands_off.model.account import Account
from hands_off.model.environments import Environments
from hands_off.model.errors import ConfigError, FleetFileError
from hands_off.model.example import (
    EXAMPLE_ACCOUNTS,
    EXAMPLE_INVENTORY,
    example_environments,
    example_plan,
)
from hands_off.model.gates import REGION_TIMEZONES, Blackout, GatePolicy, TimeWindow
from hands_off.model.identity import MAX_SERVICE_NAME_LENGTH, validate_service_identity
from hands_off.model.planner import (
    PlannedWave,
    RegionTraffic,
    WavePlan,
    plan_from_environments,
    plan_waves,
)
from hands_off.model.policy import (
    DEFAULT_ALARM_POLICY,
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    AlarmPolicy,
    DeploymentPolicy,
    TrafficShape,
)
from hands_off.model.practices import MODEL_RULES, Finding, FleetView, Level, Rule
from hands_off.model.regions import KNOWN_REGIONS, validate_region
from hands_off.model.target import Target
from hands_off.model.wave import Stage, Wave

if TYPE_CHECKING:
    from hands_off.model.config_file import FleetFile, load_environments, load_plan

__all__ = [
    "DEFAULT_ALARM_POLICY",
    "EXAMPLE_ACCOUNTS",
    "EXAMPLE_INVENTORY",
    "FAST_POLICY",
    "KNOWN_REGIONS",
    "MAX_SERVICE_NAME_LENGTH",
    "MODEL_RULES",
    "ONE_BOX_POLICY",
    "PREPROD_POLICY",
    "REGION_TIMEZONES",
    "Account",
    "AlarmPolicy",
    "Blackout",
    "ConfigError",
    "DeploymentPolicy",
    "Environments",
    "Finding",
    "FleetFile",
    "FleetFileError",
    "FleetView",
    "GatePolicy",
    "Level",
    "PlannedWave",
    "RegionTraffic",
    "Rule",
    "Stage",
    "Target",
    "TimeWindow",
    "TrafficShape",
    "Wave",
    "WavePlan",
    "example_environments",
    "example_plan",
    "load_environments",
    "load_plan",
    "plan_from_environments",
    "plan_waves",
    "validate_region",
    "validate_service_identity",
]


# The fleet-file reader (and pydantic, which validates the file) is loaded on first use: an app
# that builds its environments in Python never pays for it.
_LAZY = dict.fromkeys(("FleetFile", "load_environments", "load_plan"), "hands_off.model.config_file")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hands_off.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
