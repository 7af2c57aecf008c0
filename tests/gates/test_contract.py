"""The names and shapes the library and the runtime share are the ones the runtime uses."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

from hands_off_gates import alarms, contract, time_window
from hands_off_gates.decide import DecideResult, override_audit_emf
from hands_off_gates.gate_common import health_emf

PACKAGE = Path(contract.__file__).parent


def _keys(shape: type) -> tuple[frozenset[str], frozenset[str]]:
    return shape.__required_keys__, shape.__optional_keys__  # type: ignore[attr-defined]


def test_metric_records_use_the_contract_names() -> None:
    at = datetime(2026, 11, 26, tzinfo=UTC)
    health = health_emf("orders-application", 2, at)
    result: DecideResult = {
        "proceed": True,
        "give_up": False,
        "reason": "",
        "override_used": True,
        "blockers": [],
        "bypassed": ["x"],
    }
    override = override_audit_emf(
        pipeline="orders-application", stage="Prod-1", result=result, override={}, at=at
    )

    [health_metrics] = health["_aws"]["CloudWatchMetrics"]
    assert health_metrics["Namespace"] == contract.GATES_NAMESPACE == "HandsOff/Gates"
    assert health_metrics["Dimensions"] == [[contract.PIPELINE_DIMENSION]]
    assert health[contract.UNHEALTHY_COPIES_METRIC] == 2
    [override_metrics] = override["_aws"]["CloudWatchMetrics"]
    assert override_metrics["Namespace"] == contract.GATES_NAMESPACE
    assert override_metrics["Dimensions"] == [[contract.PIPELINE_DIMENSION, contract.STAGE_DIMENSION]]
    assert override[contract.OVERRIDE_USED_METRIC] == 1
    assert json.loads(json.dumps(override))[contract.STAGE_DIMENSION] == "Prod-1"


def test_the_names_the_library_spells_too() -> None:
    assert contract.ALIAS_NAME == "live"
    assert contract.HEALTH_ALARM_SUFFIX == "-health"
    assert contract.UNHEALTHY_COPIES_METRIC == "UnhealthyCopies"
    assert contract.OVERRIDE_USED_METRIC == "OverrideUsed"
    assert (contract.PIPELINE_DIMENSION, contract.STAGE_DIMENSION) == ("Pipeline", "Stage")


def test_input_shapes_have_the_keys_the_runtime_reads() -> None:
    assert _keys(contract.AlarmCheck) == (
        frozenset({"region"}),
        frozenset({"role_arn", "alarm_names", "alarm_name_prefixes"}),
    )
    required, optional = _keys(contract.AlarmCheck)
    assert required | optional == alarms._CHECK_KEYS
    required, optional = _keys(contract.WindowSpec)
    assert required | optional == time_window._WINDOW_KEYS
    required, optional = _keys(contract.BlackoutSpec)
    assert required | optional == time_window._BLACKOUT_KEYS
    required, optional = _keys(contract.WindowInput)
    assert (required, optional) == (frozenset({"windows"}), frozenset({"blackouts"}))
    assert required | optional == time_window._CONFIG_KEYS


def test_the_runtime_imports_nothing_from_the_library_and_the_contract_only_typing() -> None:
    for module in sorted(PACKAGE.glob("*.py")):
        tree = ast.parse(module.read_text(), str(module))
        imported = {
            name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for name in (
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            )
            if not (isinstance(node, ast.ImportFrom) and node.level)  # relative: inside the package
        }
        assert not {name for name in imported if name.split(".")[0] == "hands_off"}, module.name
        if module.name == "contract.py":
            assert imported == {"typing"}
