"""CDK constructs: the alarm factory, a Lambda service with CodeDeploy rollback, code signing."""

from __future__ import annotations

from hands_off.constructs.alarm_factory import AlarmFactory, ServiceAlarms
from hands_off.constructs.code_signing import CodeSigning
from hands_off.constructs.lambda_service import LambdaService, deployment_config_for

__all__ = ["AlarmFactory", "CodeSigning", "LambdaService", "ServiceAlarms", "deployment_config_for"]
