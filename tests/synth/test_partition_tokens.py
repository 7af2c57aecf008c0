"""A pipeline synthesized without cdk.json's feature flags (``python app.py`` outside the CDK CLI, or
an app that sets no context): the partition is then a token (``Ref AWS::Partition``), not the
literal ``aws``, and every ARN hands-off narrows a grant to must still be a valid ARN."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App

from hands_off.example import OrdersPipeline
from tests.iam_permissions import identity_statements

pytestmark = pytest.mark.synth


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict:
    outdir = tmp_path_factory.mktemp("no-context")
    app = App(outdir=str(outdir))  # no context: @aws-cdk/core:enablePartitionLiterals is off
    OrdersPipeline(app)
    app.synth()
    return json.loads((Path(outdir) / "OrdersPipeline.template.json").read_text())


def test_no_value_is_rendered_as_a_javascript_object(template: dict) -> None:
    assert "[object Object]" not in json.dumps(template)


def test_replication_keys_are_named_by_arn_with_the_partition_token(template: dict) -> None:
    scoped = [
        s
        for _, s in identity_statements(template)
        if "kms:ResourceAliases" in json.dumps(s.get("Condition", {}))
    ]
    assert scoped, "the pipeline role's grant on the replication keys is narrowed to their aliases"
    for statement in scoped:
        for arn in statement["Resource"]:
            parts = arn["Fn::Join"][1]
            assert parts[:2] == ["arn:", {"Ref": "AWS::Partition"}], arn
            assert parts[2].startswith(":kms:"), arn
            assert parts[2].endswith(":key/*"), arn
