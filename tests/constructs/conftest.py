"""Construct tests: each construct synthesized alone in a bare ``Stack`` with a fixed ``env``.

The layer between the pure model tests (no synth) and the whole-fleet synth tests (the session
``fleet`` fixture): one construct, one small template, targeted ``aws_cdk.assertions.Template``
checks and exact counts, in the shape of cdk-monitoring-constructs' ``LambdaFunctionMonitoring``
tests. Build a stack with the ``bare_stack`` fixture; share one template per module where several
tests read the same stack (a bare synth costs ~0.3 s, the first one in a process ~5 s).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment, Stack

from hands_off.testing import app_context

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"
REGION = "eu-west-1"

BareStack = Callable[..., Stack]

_PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


ENV = Environment(account=ACCOUNT, region=REGION)


def new_app(context: Mapping[str, Any] | None = None) -> App:
    """A new ``App`` carrying the feature flags of the repository's ``cdk.json`` (what
    ``cdk synth`` uses) plus ``context``: for a construct that is itself a stack."""
    return App(context={**app_context(ROOT / "cdk.json"), **(context or {})})


def new_stack(context: Mapping[str, Any] | None = None, *, stack_id: str = "Test") -> Stack:
    """A bare ``Stack`` (account ``123456789012``, ``eu-west-1``) in a :func:`new_app`."""
    return Stack(new_app(context), stack_id, env=ENV)


def flatten(value: Any) -> Any:
    """``value`` with every ``Fn::Join`` joined and pseudo parameters filled in (``aws``, the fixed
    account and region); other references become ``${LogicalId}`` / ``${LogicalId.Attr}``.

    ARNs built with ``Stack.format_arn`` (``arn:${AWS::Partition}:...``) then compare as strings.
    """
    if isinstance(value, list):
        return [flatten(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"Fn::Join"}:
            separator, parts = value["Fn::Join"]
            return separator.join(str(flatten(p)) for p in parts)
        if set(value) == {"Ref"}:
            return _PSEUDO.get(value["Ref"], "${" + value["Ref"] + "}")
        if set(value) == {"Fn::GetAtt"}:
            logical_id, attribute = value["Fn::GetAtt"]
            return "${" + f"{logical_id}.{attribute}" + "}"
        return {k: flatten(v) for k, v in value.items()}
    return value


@pytest.fixture(scope="session")
def bare_stack() -> BareStack:
    """:func:`new_stack`: ``bare_stack()`` or ``bare_stack({"context-key": value})``."""
    return new_stack


@pytest.fixture(scope="session")
def bare_app() -> Callable[..., App]:
    """:func:`new_app`: ``bare_app()`` or ``bare_app({"context-key": value})``."""
    return new_app


@pytest.fixture(scope="session")
def flat() -> Callable[[Any], Any]:
    """:func:`flatten`, for comparing ARNs and policy resources as plain strings."""
    return flatten
