"""An in-memory CodeDeploy for the hotfix tests: moto 5.2.5 has no ``UpdateDeploymentGroup``.

The clients are real botocore CodeDeploy clients, so every request is validated against the
service model (parameter names, types, required fields) before it is answered; a
``before-call`` handler (the hook botocore's own ``Stubber`` uses) answers Get/Update
DeploymentGroup from a dict instead of sending anything. Errors come back as botocore
``ClientError`` subclasses with CodeDeploy's error codes.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

__all__ = ["FakeCodeDeploy"]

_Key = tuple[str, str, str]  # region, application, group


@dataclass
class FakeCodeDeploy:
    """Deployment groups by ``(region, application, group)``, and every call made.

    Attributes:
        groups: each group's ``deploymentGroupInfo`` (only what the hotfix reads and writes).
        calls: ``(region, role_arn, operation, params)`` of each call, in order.
        fail: ``(region, operation) -> error code`` to answer instead.
        hang: seconds each call waits before it answers.
    """

    groups: dict[_Key, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str | None, str, dict[str, Any]]] = field(default_factory=list)
    fail: dict[tuple[str, str], str] = field(default_factory=dict)
    hang: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_group(
        self,
        region: str,
        application: str,
        group: str,
        *,
        enabled: bool = True,
        alarms: tuple[str, ...] = ("a-fault-rate", "a-latency-p99"),
        ignore_poll_alarm_failure: bool = False,
    ) -> None:
        """A Lambda deployment group as LambdaService creates it."""
        self.groups[(region, application, group)] = {
            "applicationName": application,
            "deploymentGroupName": group,
            "deploymentConfigName": "CodeDeployDefault.LambdaCanary10Percent5Minutes",
            "computePlatform": "Lambda",
            "serviceRoleArn": "arn:aws:iam::111111111111:role/hands-off-orders-codedeploy",
            "alarmConfiguration": {
                "enabled": enabled,
                "ignorePollAlarmFailure": ignore_poll_alarm_failure,
                "alarms": [{"name": name} for name in alarms],
            },
            "autoRollbackConfiguration": {
                "enabled": True,
                "events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", "DEPLOYMENT_STOP_ON_ALARM"],
            },
        }

    def enabled(self, region: str, application: str, group: str) -> bool:
        return bool(self.groups[(region, application, group)]["alarmConfiguration"]["enabled"])

    def updates(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        """``(region, role_arn, params)`` of each UpdateDeploymentGroup call."""
        return [(r, role, p) for r, role, op, p in self.calls if op == "UpdateDeploymentGroup"]

    def factory(self, region: str | None, role_arn: str | None) -> Any:
        """A ``ClientFactory``: a validated CodeDeploy client for ``region`` answered by this fake."""
        where = region or "us-east-1"
        client = boto3.session.Session().client(
            "codedeploy",
            region_name=where,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            aws_session_token="testing",
        )

        def answer(model: Any, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            # ``params`` is the serialized request: its body is exactly what would be sent.
            return self._answer(where, role_arn, model.name, json.loads(params["body"] or b"{}"))

        client.meta.events.register("before-call.codedeploy.*", answer)
        return client

    def _answer(
        self, region: str, role_arn: str | None, operation: str, params: dict[str, Any]
    ) -> tuple[AWSResponse, dict[str, Any]]:
        if self.hang:
            time.sleep(self.hang)
        with self._lock:
            self.calls.append((region, role_arn, operation, copy.deepcopy(params)))
            code = self.fail.get((region, operation))
            if code is not None:
                return _error(code, f"{operation} failed in {region} (injected)")
            if operation == "GetDeploymentGroup":
                key = (region, params["applicationName"], params["deploymentGroupName"])
                if key not in self.groups:
                    return _missing(key)
                return _ok({"deploymentGroupInfo": copy.deepcopy(self.groups[key])})
            if operation == "UpdateDeploymentGroup":
                key = (region, params["applicationName"], params["currentDeploymentGroupName"])
                if key not in self.groups:
                    return _missing(key)
                # UpdateDeploymentGroup changes what it is given; alarmConfiguration is replaced.
                for name in ("alarmConfiguration", "autoRollbackConfiguration", "deploymentConfigName"):
                    if name in params:
                        self.groups[key][name] = copy.deepcopy(params[name])
                return _ok({"hooksNotCleanedUp": []})
        raise AssertionError(f"the fake CodeDeploy does not answer {operation}")


def _ok(body: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse(None, 200, {}, None), {**body, "ResponseMetadata": {"HTTPStatusCode": 200}}


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    return AWSResponse(None, 400, {}, None), {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }


def _missing(key: _Key) -> tuple[AWSResponse, dict[str, Any]]:
    region, application, group = key
    return _error(
        "DeploymentGroupDoesNotExistException",
        f"No Deployment Group found for name: {group} (application {application}, {region})",
    )
