"""The README's Mermaid diagram is what `hands-off diagram` prints for the example fleet."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from hands_off.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_diagram_is_what_the_command_prints(
    fleet: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- diagram:start -->\n(.*?)\n<!-- diagram:end -->", readme, re.S)
    assert match, "README.md has no diagram block between <!-- diagram:start/end -->"
    assert main(["diagram", str(fleet.outdir), "--pipeline", "orders-application"]) == 0
    printed = capsys.readouterr().out
    assert printed.strip() == match.group(1).strip(), "re-run hands-off diagram and paste it into README.md"
