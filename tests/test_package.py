"""``python -m hands_off.package``: deterministic zips of a Lambda folder and of the gate runtime
(the Build signs both; a changed byte would change the signed asset and redeploy every copy)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import hands_off_gates
from hands_off.package import GATES_ZIP_NAME, main, package_directory, package_gates


def test_package_directory_is_deterministic_and_leaves_caches_out(tmp_path: Path) -> None:
    source = tmp_path / "src"
    (source / "__pycache__").mkdir(parents=True)
    (source / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    (source / "tests").mkdir()
    (source / "tests" / "test_app.py").write_text("assert True\n")
    (source / "b.py").write_text("B = 2\n")
    (source / "app.py").write_text("A = 1\n")
    names = package_directory(source, tmp_path / "one.zip", exclude=["tests"])
    package_directory(source, tmp_path / "two.zip", exclude=["tests"])
    assert names == ["app.py", "b.py"]
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_package_gates_holds_every_gate_module_and_the_time_zone_database(tmp_path: Path) -> None:
    names = package_gates(tmp_path / GATES_ZIP_NAME)
    modules = sorted(p.name for p in Path(hands_off_gates.__file__).parent.glob("*.py"))
    assert sorted(n.split("/", 1)[1] for n in names if n.startswith("hands_off_gates/")) == modules
    assert "tzdata/zoneinfo/Europe/Berlin" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    package_gates(tmp_path / "again.zip")
    assert (tmp_path / GATES_ZIP_NAME).read_bytes() == (tmp_path / "again.zip").read_bytes()


def test_cli_packages_the_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--gates", str(tmp_path / "g.zip")]) == 0
    assert (tmp_path / "g.zip").is_file()
    assert capsys.readouterr().out.startswith("packaged ")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["src", "--gates", "g.zip"], "--gates takes only the zip to write"),
        ([], "give SRC_DIR and OUT_ZIP (or --gates OUT_ZIP)"),
        (["src"], "give SRC_DIR and OUT_ZIP (or --gates OUT_ZIP)"),
    ],
)
def test_cli_usage_errors_say_what_to_give(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_missing_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "nope"), str(tmp_path / "p.zip")]) == 2
    assert capsys.readouterr().err.strip().startswith("hands-off package: error: ")
