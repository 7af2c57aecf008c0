"""Snapshot testing for service teams: synthesize a pipeline with every stack it deploys, and
normalize what changes on every build, so a snapshot changes only when the pipeline does.

Example (a service team's test, with syrupy's ``snapshot`` fixture; run pytest from the folder that
holds ``cdk.json``)::

    from aws_cdk import App
    from hands_off.testing import app_context, pipeline_snapshot
    from my_org.pipelines import PaymentsPipeline

    def test_pipeline(snapshot):
        app = App(context=app_context())
        assert pipeline_snapshot(PaymentsPipeline(app)) == snapshot

Record with ``pytest --snapshot-update`` and review the ``.ambr`` diff like code. The snapshot holds
the pipeline stack and every stack of every stage it deploys, so a changed traffic shift (in each
copy's stack), bake time (in the pipeline's gate inputs) or alarm threshold is a short line of the
diff; a change to the Lambda source alone changes nothing (asset hashes are replaced by
placeholders).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aws_cdk import Stack, Stage
from aws_cdk.assertions import Template

__all__ = ["CDK_CONTEXT_FILE", "app_context", "normalize", "pipeline_snapshot", "template_snapshot"]

CDK_CONTEXT_FILE = Path("cdk.json")
"""Where :func:`app_context` reads feature flags from by default: ``cdk.json`` in the *working
directory* (as the CDK CLI does), so run pytest from the CDK app's root or pass a path."""

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")
_ASSET_ZIP = re.compile(r"\b[0-9a-f]{64}(\.zip|\.json)\b")
_ASSET_DESTINATION = re.compile(r"(<asset-hash>:\d{12}-[a-z0-9-]+?-)[0-9a-f]{8}\b")
# AWS::Lambda::Version logical ids end in a hash of the code and configuration; references to them
# (Ref, Fn::GetAtt, DependsOn) are strings and are normalized the same way.
_VERSION_LOGICAL_ID = re.compile(r"(CurrentVersion[0-9A-F]{8})[0-9a-f]{32}")
_CDK_VERSION = re.compile(r"\b2\.\d{3,4}\.\d+(\s*\(build [0-9a-f]+\))?")

_PLACEHOLDER_HASH = "<asset-hash>"
_PLACEHOLDER_VERSION = "<cdk-version>"


def app_context(path: Path = CDK_CONTEXT_FILE) -> dict[str, Any]:
    """The ``context`` of ``cdk.json`` plus what the CDK CLI adds (construct-path and asset
    metadata): pass it to ``App(context=...)`` in tests so they synthesize what ``cdk synth``
    synthesizes (an ``App()`` in a test reads neither cdk.json nor the CLI's defaults).

    Args:
        path: the ``cdk.json`` to read. Default: ``cdk.json`` in the working directory. A test
            run from elsewhere can anchor it: ``app_context(Path(__file__).parents[1] / "cdk.json")``.

    Raises:
        FileNotFoundError: ``path`` was given and does not exist. (With the default, a missing
            ``cdk.json`` is allowed: the app then has no feature flags, as ``cdk synth`` would.)
    """
    context: dict[str, Any] = {"aws:cdk:enable-path-metadata": True, "aws:cdk:enable-asset-metadata": True}
    if path.is_file():
        context.update(json.loads(path.read_text()).get("context", {}))
    elif path != CDK_CONTEXT_FILE:
        raise FileNotFoundError(
            f"app_context: {path} does not exist (relative paths start at {Path.cwd()}); "
            "pass the path of your CDK app's cdk.json"
        )
    return context


def normalize(value: Any) -> Any:
    """Replace asset hashes, Lambda version hashes and CDK versions anywhere inside ``value`` (keys
    included) with placeholders."""
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


def _parse_embedded_json(value: Any) -> Any:
    """Parse every string inside ``value`` that holds a JSON object or array (SSM parameter values,
    inlined buildspecs, state machine definitions given as plain strings), recursively.

    A snapshot diff then shows the one field that changed instead of one long changed line. Parts of
    an ``Fn::Join`` are fragments, not JSON, and stay strings.
    """
    if isinstance(value, dict):
        return {k: _parse_embedded_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_parse_embedded_json(v) for v in value]
    if isinstance(value, str):
        text = value.strip()
        if text[:1] + text[-1:] in ("{}", "[]"):
            try:
                parsed = json.loads(text)
            except ValueError:
                return value
            return _parse_embedded_json(parsed)
    return value


def template_snapshot(stack: Stack) -> dict[str, Any]:
    """The synthesized template of one ``stack``, normalized for a stable snapshot.

    Strings that hold a JSON object or array (SSM parameter values, inlined buildspecs) are parsed,
    so a diff shows the one field that changed; hashes are replaced (see :func:`normalize`).
    For a pipeline, prefer :func:`pipeline_snapshot`: this holds only the pipeline stack, not the
    stacks its stages deploy.
    """
    template = Template.from_stack(stack).to_json()
    normalized: dict[str, Any] = normalize(_parse_embedded_json(template))
    return normalized


def pipeline_snapshot(pipeline: Stack) -> dict[str, Any]:
    """Every template a pipeline deploys, normalized for one stable snapshot: the pipeline stack,
    then each stack of each ``aws_cdk.Stage`` under it (in the order they were added), keyed by
    construct path (``"PaymentsPipeline"``, ``"PaymentsPipeline/Prod-1/App"``, ...).

    Works for any CDK Pipelines stack: stages are found in the construct tree, not through
    hands-off classes. Each value is a :func:`template_snapshot`. The whole app is synthesized once.
    CodePipeline's cross-region support stacks are left out: they are children of the app, shared
    by every pipeline in it, so they would tie one pipeline's snapshot to its neighbours.

    Example::

        def test_pipeline(snapshot):
            app = App(context=app_context())
            assert pipeline_snapshot(PaymentsPipeline(app)) == snapshot
    """
    # The pipeline stack first: that synthesizes the app, which (for a CDK Pipelines pipeline not
    # built explicitly) builds the pipeline; each stage then reuses its own synthesized assembly.
    snapshot = {pipeline.node.path: template_snapshot(pipeline)}
    for stage in (c for c in pipeline.node.find_all() if isinstance(c, Stage)):
        for stack in _stacks_of(stage):
            snapshot[stack.node.path] = template_snapshot(stack)
    return snapshot


def _stacks_of(stage: Stage) -> list[Stack]:
    """The stacks (nested stacks included) of ``stage`` itself, not of stages nested in it."""
    return [
        c
        for c in stage.node.find_all()
        if isinstance(c, Stack) and (owner := Stage.of(c)) is not None and owner.node.path == stage.node.path
    ]
