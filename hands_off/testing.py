"""Snapshot testing for service teams: synthesize a pipeline (or any stack) and normalize what
changes on every build, so a snapshot changes only when the pipeline does.

Example (a service team's test, with syrupy's ``snapshot`` fixture)::

    from aws_cdk import App
    from hands_off.testing import app_context, template_snapshot
    from my_org.pipelines import PaymentsPipeline

    def test_payments_pipeline(snapshot):
        stack = PaymentsPipeline(App(context=app_context()))
        assert template_snapshot(stack) == snapshot
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk import Stack
from aws_cdk.assertions import Template

__all__ = ["CDK_CONTEXT_FILE", "app_context", "normalize", "template_snapshot"]

CDK_CONTEXT_FILE = Path("cdk.json")
"""Where :func:`app_context` reads feature flags from (relative to the working directory)."""

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_ASSET_ZIP = re.compile(r"\b[0-9a-f]{64}(\.zip|\.json)\b")
_ASSET_DESTINATION = re.compile(r"(<asset-hash>:\d{12}-[a-z0-9-]+?-)[0-9a-f]{8}\b")
_VERSION_LOGICAL_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")
_CDK_VERSION = re.compile(r"\b2\.\d{3,4}\.\d+(\s*\(build [0-9a-f]+\))?")

_PLACEHOLDER_HASH = "<asset-hash>"
_PLACEHOLDER_VERSION = "<cdk-version>"


def app_context(path: Path = CDK_CONTEXT_FILE) -> dict[str, Any]:
    """The ``context`` of ``cdk.json`` plus what the CDK CLI adds (construct-path metadata): pass it
    to ``App(context=...)`` in tests so they synthesize what ``cdk synth`` synthesizes (an ``App()``
    in a test reads neither cdk.json nor the CLI's defaults)."""
    context: dict[str, Any] = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
    if path.is_file():
        context.update(json.loads(path.read_text()).get("context", {}))
    return context


def normalize(value: Any) -> Any:
    """Replace asset hashes and CDK versions anywhere inside ``value`` with placeholders."""
    if isinstance(value, dict):
        return {normalize(k): normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    if isinstance(value, str):
        value = _ASSET_ZIP.sub(_PLACEHOLDER_HASH + r"\1", value)
        value = _ASSET_HASH.sub(_PLACEHOLDER_HASH, value)
        value = _ASSET_DESTINATION.sub(r"\1<hash>", value)
        value = _VERSION_LOGICAL_ID.sub(r"\1<code-hash>", value)
        return _CDK_VERSION.sub(_PLACEHOLDER_VERSION, value)
    return value


def template_snapshot(stack: Stack) -> dict[str, Any]:
    """The synthesized template of ``stack``, normalized for a stable snapshot.

    Buildspecs that CDK Pipelines inlines as JSON strings are parsed, so a snapshot diff shows the
    command that changed rather than one long changed line.
    """
    template: dict[str, Any] = dict(Template.from_stack(stack).to_json())
    for resource in template.get("Resources", {}).values():
        source = resource.get("Properties", {}).get("Source", {})
        spec = source.get("BuildSpec") if isinstance(source, dict) else None
        if isinstance(spec, str) and spec.lstrip().startswith("{"):
            source["BuildSpec"] = json.loads(spec)
    normalized: dict[str, Any] = normalize(template)
    return normalized
