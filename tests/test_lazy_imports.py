"""What importing the library loads: a Lambda-only app never loads the container and server
constructs, or the CDK modules only they use, and an app that reads no fleet file never loads the
fleet-file reader and pydantic (every module imported costs the app's startup)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
_SERVER_MODULES = (
    "aws_cdk.aws_ecs",
    "aws_cdk.aws_autoscaling",
    "aws_cdk.aws_elasticloadbalancingv2",
    "hands_off.constructs.ecs_service",
    "hands_off.constructs.ec2_fleet",
    "hands_off.constructs.alb_metrics",
    "hands_off.example.shipping",
    "hands_off.example.inventory",
)


_FLEET_FILE_MODULES = ("hands_off.model.config_file", "pydantic")


def _loaded_after(code: str, watched: tuple[str, ...] = _SERVER_MODULES) -> list[str]:
    """The modules of ``watched`` loaded after running ``code`` in a fresh interpreter."""
    report = f"print(json.dumps(sorted(m for m in sys.modules if m in {watched!r})))"
    script = f"import sys, json\n{code}\n{report}"
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=_ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    loaded: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    return loaded


def test_a_lambda_app_loads_no_container_or_server_construct() -> None:
    code = (
        "import hands_off.nag, hands_off.stacks, hands_off.constructs\n"
        "from hands_off.example import CatalogPipeline, OrdersPipeline"
    )

    assert _loaded_after(code) == []


def test_the_example_loads_its_ecs_and_ec2_services_when_asked() -> None:
    loaded = _loaded_after("from hands_off.example import InventoryPipeline, ShippingPipeline")

    assert "hands_off.example.shipping" in loaded
    assert "hands_off.constructs.ec2_fleet" in loaded
    assert "aws_cdk.aws_ecs" in loaded


def test_an_app_without_a_fleet_file_loads_no_fleet_file_reader() -> None:
    code = "import hands_off.runner, hands_off.nag\nfrom hands_off.example import OrdersPipeline"

    assert _loaded_after(code, _FLEET_FILE_MODULES) == []


def test_the_fleet_file_reader_loads_when_asked() -> None:
    code = "from hands_off.model import load_environments, FleetFileError"

    assert _loaded_after(code, _FLEET_FILE_MODULES) == ["hands_off.model.config_file", "pydantic"]
