"""hands-off: AWS CDK constructs for safe, hands-off deployments.

The public API, importable from here::

    from hands_off import ServicePipeline, LambdaService, AlarmFactory, plan_waves

Construct classes are loaded on first use, so ``hands-off plan`` and the pure model stay fast and
never import ``aws_cdk``.
"""

from __future__ import annotations

import importlib
from typing import Any

from hands_off._jsii_node import use_bundled_node

__version__ = "0.1.0"

# jsii starts Node when aws_cdk is first imported: point it at the Node from PyPI before that.
use_bundled_node()

_LAZY = {
    "ServicePipeline": "hands_off.stacks.service_pipeline",
    "AccountBaseline": "hands_off.stacks.account_baseline",
    "add_account_baselines": "hands_off.stacks.account_baseline",
    "ApplicationStack": "hands_off.stacks.application_stack",
    "ApplicationStage": "hands_off.stacks.application_stack",
    "LambdaService": "hands_off.constructs.lambda_service",
    "AlarmFactory": "hands_off.constructs.alarm_factory",
    "ServiceAlarms": "hands_off.constructs.alarm_factory",
    "CodeSigning": "hands_off.constructs.code_signing",
    "Deployment": "hands_off.deployment",
    "apply_nag": "hands_off.nag",
    "DeploymentSafetyChecks": "hands_off.safety",
    "template_snapshot": "hands_off.testing",
    "pipeline_snapshot": "hands_off.testing",
    "app_context": "hands_off.testing",
    "PackageIndex": "hands_off.build",
    "CodeArtifactRepository": "hands_off.build",
    "init_project": "hands_off.scaffold",
    "Account": "hands_off.model",
    "AlarmPolicy": "hands_off.model",
    "ConfigError": "hands_off.model",
    "DeploymentPolicy": "hands_off.model",
    "Environments": "hands_off.model",
    "RegionTraffic": "hands_off.model",
    "Stage": "hands_off.model",
    "Target": "hands_off.model",
    "TrafficShape": "hands_off.model",
    "Wave": "hands_off.model",
    "WavePlan": "hands_off.model",
    "load_environments": "hands_off.model",
    "plan_waves": "hands_off.model",
    "run": "hands_off.runner",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hands_off' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
