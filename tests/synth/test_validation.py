"""What we generate must deploy: cfn-lint finds no errors, cdk-nag no unacknowledged findings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hands_off.nag import ACKNOWLEDGEMENTS


def templates(outdir: Path) -> list[Path]:
    return sorted(outdir.rglob("*.template.json"))


def test_cfn_lint_reports_no_errors(fleet: Any) -> None:
    paths = templates(fleet.outdir)
    assert len(paths) >= 2 + 2 * 13, "expected both pipelines and every application stack"
    # The CLI, exactly as a user runs it; parseable format: path:line:col:line:col:RULE:message
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    result = subprocess.run(
        [str(cfn_lint), "--format", "parseable", *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in result.stdout.splitlines() if ":E" in line]
    assert errors == [], "\n".join(errors[:20])
    assert result.returncode in (0, 4), result.stderr  # 4 = warnings only


def acknowledged_rules(outdir: Path) -> dict[str, set[str]]:
    """Rule id -> construct paths, from the ``aws:cdk:acknowledged-rules`` metadata of the assembly."""
    rules: dict[str, set[str]] = {}
    for path in outdir.rglob("*.metadata.json"):
        for construct, entries in json.loads(path.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    for rule in entry["data"]:  # "Annotation::AwsSolutions-...", as cdk-nag reads it
                        rules.setdefault(re.sub(r"^annotation::", "", rule, flags=re.I), set()).add(construct)
    return rules


def test_nag_ran_and_left_no_unacknowledged_finding(fleet: Any) -> None:
    # The fleet fixture synthesizes with cdk-nag as a validation plugin: a finding fails synth.
    # cdk-nag drops acknowledged findings itself, so on success the report names no plugin;
    # what shows that apply_nag ran on this app (it registers the plugin and attaches the
    # acknowledgements in one call) is the acknowledgements in the assembly's metadata.
    report = fleet.outdir / "validation-report.json"
    assert report.exists(), "synth wrote no validation report: validation did not run"
    plugins = json.loads(report.read_text())["pluginReports"]
    assert [p for p in plugins if p.get("conclusion") == "failure"] == []
    assert [p for p in plugins if p.get("pluginName") == "AwsSolutions" and p.get("violations")] == []

    rules = acknowledged_rules(fleet.outdir)
    assert rules, "no acknowledged cdk-nag rule in the assembly: apply_nag was not called"
    for pipeline in fleet.pipelines:
        stack = f"/{pipeline.stack_name}/"
        account, region = str(pipeline.account), str(pipeline.region)
        for ack in ACKNOWLEDGEMENTS:
            rule = ack.rule.replace("{account}", account).replace("{region}", region)
            paths = rules.get(rule, set())
            assert any(path.startswith(stack) for path in paths), f"{rule} not acknowledged in {stack}"


def test_every_acknowledgement_has_a_specific_reason() -> None:
    for ack in ACKNOWLEDGEMENTS:
        assert ack.rule.startswith("AwsSolutions-")
        assert len(ack.reason) > 60, ack.rule
        assert ack.paths


def test_nag_fails_synth_on_an_unacknowledged_finding(repo_root: Path, tmp_path: Path) -> None:
    """The check is live: an unencrypted, unlogged bucket in a fresh app fails synthesis."""
    from aws_cdk import App, Stack
    from aws_cdk import aws_s3 as s3

    from hands_off.nag import apply_nag

    app = App(outdir=str(tmp_path))
    s3.Bucket(Stack(app, "Bad"), "Bucket")
    apply_nag(app)
    with pytest.raises(Exception, match=r"(?s)ValidationFailed: .*AwsSolutions-S1"):
        app.synth()


def test_acknowledgements_follow_the_pipeline_account_and_region(repo_root: Path, tmp_path: Path) -> None:
    """Nothing in the acknowledgements is specific to the example's tooling account/region."""
    from dataclasses import replace

    from aws_cdk import App

    from hands_off.example import OrdersPipeline
    from hands_off.model import Account, Environments, Target, example_environments
    from hands_off.nag import apply_nag
    from hands_off.testing import app_context

    class ElsewherePipeline(OrdersPipeline):
        def environments(self) -> Environments:
            tooling = Target(account=Account(name="tools", account_id="444444444444"), region="eu-central-1")
            return replace(example_environments(), toolchain=tooling)

    app = App(context=app_context(repo_root / "cdk.json"), outdir=str(tmp_path))
    ElsewherePipeline(app)
    apply_nag(app)
    app.synth()  # raises on any unacknowledged finding
