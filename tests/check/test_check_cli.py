"""``hands-off check``: exit codes, the three formats, waivers from the command line and a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.jsonschema import StandardValidator

from hands_off.cli import main
from tests.check.plain_pipeline import PIPELINE_NAME
from tests.conftest import Fleet

# The parts of the SARIF 2.1.0 schema (OASIS, sarif-schema-2.1.0.json) that code-scanning upload
# reads, with their required properties and enums as the schema states them.
_MESSAGE = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
_LEVEL = {"enum": ["none", "note", "warning", "error"]}
_SARIF_SUBSET: dict[str, Any] = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"enum": ["2.1.0"]},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": ["id"],
                                            "properties": {
                                                "id": {"type": "string"},
                                                "shortDescription": _MESSAGE,
                                                "fullDescription": _MESSAGE,
                                                "help": _MESSAGE,
                                                "defaultConfiguration": {
                                                    "type": "object",
                                                    "properties": {"level": _LEVEL},
                                                },
                                            },
                                        },
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "level": _LEVEL,
                                "message": _MESSAGE,
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "logicalLocations": {
                                                "type": "array",
                                                "minItems": 0,
                                                "items": {
                                                    "type": "object",
                                                    "properties": {
                                                        "name": {"type": "string"},
                                                        "fullyQualifiedName": {"type": "string"},
                                                        "kind": {"type": "string"},
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                                "suppressions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": {"enum": ["inSource", "external"]},
                                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                                            "justification": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_plain_pipeline_fails_with_a_table(plain_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = _run(capsys, "check", str(plain_out))

    assert (status, err) == (1, "")
    assert out.splitlines()[0].split(" | ")[:3] == ["level  ", "rule  ", "where" + " " * 52]
    assert "How to fix:" in out
    assert out.rstrip().endswith(
        "hands-off check FAILED: 1 pipeline(s), 12 rules, 15 error(s), 3 warning(s), 0 waived"
    )


def test_example_passes(fleet: Fleet, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "check", str(fleet.outdir))

    assert status == 0
    assert out == "hands-off check passed: 2 pipeline(s), 12 rules, 0 error(s), 0 warning(s), 0 waived\n"


def test_json_names_at_least_five_rules(plain_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "check", str(plain_out), "--format", "json")

    data = json.loads(out)
    assert status == 1
    assert data["failed"] is True
    assert len({f["rule"] for f in data["findings"]}) >= 5
    assert set(data["findings"][0]) == {
        "rule", "level", "pipeline", "stage", "stack", "logical_id", "message", "fix", "waived"
    }  # fmt: skip


def test_sarif_is_valid_and_locates_findings(plain_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, _ = _run(capsys, "check", str(plain_out), "--format", "sarif")

    sarif = json.loads(out)
    assert status == 1
    assert [e.message for e in StandardValidator(_SARIF_SUBSET).iter_errors(sarif)] == []
    run = sarif["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert rule_ids == [f"HO-W{n}" for n in range(1, 13)]
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]
        names = [loc["name"] for loc in result["locations"][0]["logicalLocations"]]
        assert names[0] == PIPELINE_NAME
    w4 = next(r for r in run["results"] if r["ruleId"] == "HO-W4")
    assert [loc["kind"] for loc in w4["locations"][0]["logicalLocations"]] == [
        "pipeline",
        "stage",
        "stack",
        "resource",
    ]


def test_waive_on_the_command_line(plain_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waives = [f"--waive=HO-W{n}:{PIPELINE_NAME}:migrating in Q3" for n in (1, 2, 4, 5, 7, 8, 10, 11, 12)]

    status, out, _ = _run(capsys, "check", str(plain_out), "--format", "sarif", *waives)

    assert status == 0
    suppressed = [r for r in json.loads(out)["runs"][0]["results"] if "suppressions" in r]
    assert {s["justification"] for r in suppressed for s in r["suppressions"]} == {"migrating in Q3"}


def test_waivers_from_a_pyproject_table(
    plain_out: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = ["[tool.hands-off.waivers.HO-W1]", f'{PIPELINE_NAME} = "one region per stage is planned"']
    config = tmp_path / "pyproject.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    status, out, _ = _run(capsys, "check", str(plain_out), "--waivers", str(config))

    assert status == 1  # the other errors remain
    assert f"waived  | HO-W1  | {PIPELINE_NAME}/Prod" in out
    assert "[waived: one region per stage is planned]" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--waive", "HO-W1"], "RULE:PIPELINE:REASON"),
        (["--pipeline", "nope"], "has no pipeline 'nope' (it has: plain-orders)"),
        (["--waivers", "/nonexistent/pyproject.toml"], "/nonexistent/pyproject.toml"),
    ],
)
def test_usage_errors_exit_2(
    plain_out: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    status, out, err = _run(capsys, "check", str(plain_out), *argv)

    assert (status, out) == (2, "")
    assert err.startswith("hands-off: error: ")
    assert message in err


def test_not_an_assembly_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _run(capsys, "check", str(tmp_path))

    assert status == 2
    assert "no manifest.json" in err
