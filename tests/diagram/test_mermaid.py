"""``hands-off diagram``: Mermaid flowcharts and the wave-plan Gantt, from a cloud assembly."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hands_off.assembly import Assembly
from hands_off.cli import main
from hands_off.diagram import flowchart, gantt
from hands_off.model.example import example_plan
from tests.conftest import Fleet


def test_flowchart_names_every_stage_of_every_pipeline(fleet: Fleet, plain_out: Path) -> None:
    for directory in (fleet.outdir, plain_out):
        assembly = Assembly.read(directory)
        for pipeline in assembly.pipelines:
            chart = flowchart(assembly, pipeline)
            assert chart.startswith("flowchart LR\n")
            for index, stage in enumerate(pipeline.stages):
                assert re.search(rf'^  (subgraph )?s{index}\["{re.escape(stage.name)}(<br/>|")', chart, re.M)
            assert chart.endswith(" --> ".join(f"s{i}" for i in range(len(pipeline.stages))))


def test_flowchart_shows_gate_strategy_tests_bake_and_conditions(fleet: Fleet) -> None:
    assembly = Assembly.read(fleet.outdir)
    orders = next(p for p in assembly.pipelines if p.name == "orders-application")

    chart = flowchart(assembly, orders)

    prod_1 = chart[
        chart.index('subgraph s8["Prod-1') : chart.index("  end", chart.index('subgraph s8["Prod-1'))
    ]
    assert "before entry: alarm orders-application-observed-health<br/>on failure: rollback" in prod_1
    assert 's8_g0{{"Prod-1-Gate"}}' in prod_1
    assert 's8_d0["ca-central-1<br/>canary 10% for 10m, rollback on 3 alarms"]' in prod_1
    assert 's8_b0(["Prod-1-Bake 60 min"])' in prod_1
    assert "s8_g0 --> s8_d0\n    s8_d0 --> s8_b0" in prod_1
    assert 's6_t1[/"Gamma-us-west-2-IntegrationTest"/]' in chart
    assert "linear 25%/5m, rollback on 3 alarms" in chart
    assert 's0["Source<br/><i>example-org/hands-off-examples@main</i>"]' in chart


def test_plain_flowchart_has_bare_deployments(plain_out: Path) -> None:
    assembly = Assembly.read(plain_out)

    chart = flowchart(assembly, assembly.pipelines[0])

    assert 's4_d0["us-east-1<br/>Prod-us-east-1-App (CloudFormation)"]' in chart
    assert "{{" not in chart  # no gate
    assert "([" not in chart  # no bake


def test_gantt_lead_time_matches_the_planned_waves(fleet: Fleet) -> None:
    assembly = Assembly.read(fleet.outdir)
    orders = next(p for p in assembly.pipelines if p.name == "orders-application")
    planned = example_plan().total_lead_time_minutes
    lead_time = f"{planned // 60}:{planned % 60:02d}"

    chart = gantt(assembly, orders)

    assert chart.splitlines()[:2] == [
        "gantt",
        f"  title orders-application: 4 production waves, lead time {lead_time} (h:mm)",
    ]
    assert "  section Prod-1\n  deploy ca-central-1 :w0d, 00:00, 10m\n  bake 60 min :w0b, 00:10, 60m" in chart
    assert chart.count("  section ") == 4


def test_cli_prints_one_mermaid_block_per_pipeline(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(fleet.outdir)]) == 0

    out = capsys.readouterr().out
    assert out.count("```mermaid\nflowchart LR\n") == 4
    assert out.count("\n```\n") == 4


def test_cli_plan_and_one_pipeline(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(fleet.outdir), "--pipeline", "catalog-application", "--plan"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("```mermaid\ngantt\n  title catalog-application: 4 production waves")
    assert out.endswith("```\n")
    assert "orders" not in out


def test_cli_unknown_pipeline_exits_2(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["diagram", str(fleet.outdir), "--pipeline", "nope"]) == 2

    assert "has no pipeline 'nope'" in capsys.readouterr().err
