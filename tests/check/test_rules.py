"""The deployment-safety rules: calibrated on a plain CDK Pipelines app and on the example fleet,
and one compliant / non-compliant case per rule the fixtures leave out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hands_off.assembly import Assembly
from hands_off.check import DEPLOYMENT_SAFETY, Level, Waiver, catalog, run, waivers_from_mapping
from hands_off.check.rules.copies import alarm_kinds
from tests.check import mini_assembly as mini
from tests.check.plain_pipeline import PIPELINE_NAME, PROD_REGIONS
from tests.conftest import Fleet


def _ids(report_findings: Any) -> set[str]:
    return {finding.rule.id for finding in report_findings}


def test_catalog_ids_are_unique_and_numbered() -> None:
    ids = [rule.id for rule in catalog()]

    assert ids == [f"HO-W{n}" for n in range(1, 13)]
    assert all(rule.fix and rule.info for rule in catalog())


def test_plain_pipeline_gets_one_finding_per_missing_practice(plain_out: Path) -> None:
    # GIVEN a plain CDK Pipelines app: 3 production regions in one stage, no alarms, no bake, no gate
    report = run(Assembly.read(plain_out))

    # THEN every missing practice is named, and the check fails
    assert report.failed
    assert _ids(report.findings) == {
        "HO-W1",  # one production stage
        "HO-W2",  # its first wave is 3 regions
        "HO-W4",  # nothing rolls a copy back
        "HO-W5",  # no rollback alarms on faults, latency, traffic
        "HO-W6",  # all traffic at once
        "HO-W7",  # no bake
        "HO-W8",  # no gate, no BeforeEntry
        "HO-W10",  # no OnFailure rollback
        "HO-W11",  # a trigger on every branch
        "HO-W12",  # unsigned Lambda code
    }
    per_copy = [f for f in report.findings if f.rule.id == "HO-W4"]
    assert sorted(f.location.stack for f in per_copy) == sorted(f"Prod-{r}-App" for r in PROD_REGIONS)
    assert {f.location.pipeline for f in report.findings} == {PIPELINE_NAME}
    assert all(f.location.logical_id.startswith("Handler") for f in per_copy)


def test_example_fleet_has_no_findings(fleet: Fleet) -> None:
    report = run(Assembly.read(fleet.outdir))

    assert report.pipelines == (
        "catalog-application",
        "inventory-application",
        "orders-application",
        "shipping-application",
    )
    assert [str(f) for f in report.findings] == []
    assert not report.failed


def test_production_waves_are_recognized(fleet: Fleet, plain_out: Path) -> None:
    example = Assembly.read(fleet.outdir)
    plain = Assembly.read(plain_out)

    for pipeline in example.pipelines:
        assert [s.name for s in example.production_stages(pipeline)] == [
            "Prod-1",
            "Prod-2",
            "Prod-3",
            "Prod-4",
        ]
    assert [s.name for s in plain.production_stages(plain.pipelines[0])] == ["Prod"]


def test_waiver_marks_findings_waived_and_passes(plain_out: Path) -> None:
    errors = {r.id for r in catalog() if r.level is Level.ERROR}
    waivers = [Waiver(rule=rule, pipeline=PIPELINE_NAME, reason="legacy") for rule in sorted(errors)]

    report = run(Assembly.read(plain_out), waivers=[*waivers, Waiver.parse("HO-W3:*:unused: yes")])

    assert not report.failed
    assert {f.waived for f in report.findings if f.rule.level is Level.ERROR} == {"legacy"}
    assert sorted(f"{w.rule}:{w.pipeline}" for w in report.unused_waivers) == [
        "HO-W3:*",
        f"HO-W3:{PIPELINE_NAME}",
        f"HO-W9:{PIPELINE_NAME}",
    ]
    assert "waived" in report.table()


def test_waiver_for_another_pipeline_does_not_apply(plain_out: Path) -> None:
    report = run(Assembly.read(plain_out), waivers=waivers_from_mapping({"HO-W1": {"other": "why"}}))

    assert all(f.waived is None for f in report.findings)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("HO-W3:orders", "RULE:PIPELINE:REASON"),
        ("W3:orders:why", "not a rule id"),
        ("HO-W3:orders: ", "no reason"),
    ],
)
def test_malformed_waivers_say_how_to_fix(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Waiver.parse(text)


def _prod(name: str, *regions: str, gate: bool = True, bake: bool = True, **extra: Any) -> dict[str, Any]:
    actions = [mini.deploy(f"{name}-{r}", r) for r in regions]
    if gate:
        actions.insert(0, mini.action(f"{name}-Gate", "Approval", "Manual", 1))
    if bake:
        actions.append(mini.action(f"{name}-Bake", "Invoke", "StepFunctions", 3))
    return mini.stage(name, *actions, OnFailure={"Result": "ROLLBACK"}, **extra)


def _check(tmp_path: Path, stages: list[dict[str, Any]], rule: str, **pipeline: Any) -> list[str]:
    stacks = {
        a["Configuration"]["StackName"]: (a["Region"], mini.lambda_stack())
        for s in stages
        for a in s["Actions"]
        if a["ActionTypeId"]["Provider"] == "CloudFormation"
    }
    assembly = Assembly.read(mini.write(tmp_path / "cdk.out", stages, stacks, **pipeline))
    entry = next(e for e in DEPLOYMENT_SAFETY if e.rule.id == rule)
    return [f.message for f in entry.check(assembly, assembly.pipelines[0])]


_BETA = mini.stage(
    "Beta", mini.deploy("beta-us-west-2", "us-west-2", 1), mini.action("Test", "Build", "CodeBuild", 2)
)


def test_waves_that_shrink_are_flagged(tmp_path: Path) -> None:
    stages = [
        _BETA,
        _prod("Prod-1", "ca-central-1"),
        _prod("Prod-2", "us-east-1", "eu-west-1"),
        _prod("Prod-3", "ap-south-1"),
    ]

    assert _check(tmp_path, stages, "HO-W3") == ["'Prod-3' deploys to 1 region, fewer than the 2 of 'Prod-2'"]
    assert _check(tmp_path / "2", stages[:3], "HO-W3") == []


def test_no_tests_in_pre_production_is_flagged(tmp_path: Path) -> None:
    untested = mini.stage("Beta", mini.deploy("beta-us-west-2", "us-west-2", 1))
    stages = [untested, _prod("Prod-1", "ca-central-1"), _prod("Prod-2", "us-east-1")]

    assert _check(tmp_path, stages, "HO-W9") == ["no pre-production stage (Beta) tests after deploying"]
    assert _check(tmp_path / "2", [_BETA, *stages[1:]], "HO-W9") == []


def test_before_entry_condition_is_a_blocker(tmp_path: Path) -> None:
    condition = {"Conditions": [{"Result": "FAIL", "Rules": [{"Name": "Health", "Configuration": {}}]}]}
    stages = [
        _BETA,
        _prod("Prod-1", "ca-central-1", gate=False, BeforeEntry=condition),
        _prod("Prod-2", "us-east-1", gate=False),
    ]

    assert _check(tmp_path, stages, "HO-W8") == [
        "nothing can stop 'Prod-2' from deploying: no gate action, no BeforeEntry condition"
    ]


def test_stage_failing_without_rollback_is_flagged(tmp_path: Path) -> None:
    prod = _prod("Prod-1", "ca-central-1")
    prod["OnFailure"] = {"Result": "FAIL"}

    assert _check(tmp_path, [_BETA, prod], "HO-W10") == [
        "'Prod-1' does not roll back on failure (OnFailure: FAIL)"
    ]


@pytest.mark.parametrize(
    ("git", "expected"),
    [
        ({"Push": [{"Branches": {"Includes": ["main"]}}]}, []),
        ({"Push": [{"Branches": {"Includes": ["main", "release"]}}]}, ["runs on pushes to main, release"]),
        (
            {"Push": [{"Branches": {"Includes": ["main"]}}], "PullRequest": [{"Events": ["OPEN"]}]},
            ["pull requests"],
        ),
    ],
)
def test_triggers_follow_one_branch(tmp_path: Path, git: dict[str, Any], expected: list[str]) -> None:
    source = mini.stage(
        "Source", mini.action("Src", "Source", "CodeStarSourceConnection", 1, BranchName="main")
    )
    triggers = [
        {"ProviderType": "CodeStarSourceConnection", "GitConfiguration": {"SourceActionName": "Src", **git}}
    ]

    messages = _check(tmp_path, [source, _BETA, _prod("Prod-1", "ca-central-1")], "HO-W11", Triggers=triggers)

    assert len(messages) == len(expected)
    assert all(want in got for want, got in zip(expected, messages, strict=True))


@pytest.mark.parametrize(
    ("props", "kinds"),
    [
        ({"MetricName": "Errors", "ComparisonOperator": "GreaterThanThreshold"}, {"faults"}),
        ({"MetricName": "HTTPCode_Target_5XX_Count"}, {"faults"}),
        ({"MetricName": "TargetResponseTime", "ExtendedStatistic": "p99"}, {"latency"}),
        ({"MetricName": "RequestCount", "ComparisonOperator": "LessThanThreshold"}, {"traffic drop"}),
        ({"MetricName": "RequestCount", "ComparisonOperator": "GreaterThanThreshold"}, set()),
        (
            {
                "ComparisonOperator": "LessThanLowerThreshold",
                "Metrics": [
                    {"Id": "e", "Expression": "ANOMALY_DETECTION_BAND(m0, 2)"},
                    {"Id": "m0", "MetricStat": {"Metric": {"MetricName": "Invocations"}}},
                ],
            },
            {"traffic drop"},
        ),
    ],
)
def test_alarm_kinds(props: dict[str, Any], kinds: set[str]) -> None:
    assert alarm_kinds(props) == kinds
