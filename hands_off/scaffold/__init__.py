"""``hands-off init``: write a service repository that uses hands-off like any other library.

The repository depends on ``hands-off==<this version>`` (from the team's package index), holds
its own CDK app, organization class, service class, Lambda handler with unit and integration
tests, a whole-pipeline snapshot test, and the same two commands as hands-off itself:
``make synth`` and ``make test``. It holds no copy of hands-off's code.

Example::

    $ hands-off init payments --service payments
    $ cd payments && make test && make synth

Pure Python: the templates ship as package data (``templates/*.tmpl``) and ``{{name}}``
placeholders are replaced; nothing here imports ``aws_cdk``.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hands_off.model.errors import ConfigError

__all__ = ["SCAFFOLD_FILES", "Scaffold", "init_project"]

SCAFFOLD_FILES: dict[str, str] = {
    "Makefile.tmpl": "Makefile",
    "README.md.tmpl": "README.md",
    "app.py.tmpl": "app.py",
    "cdk.json.tmpl": "cdk.json",
    "fleet.toml.tmpl": "fleet.toml",
    "gitignore.tmpl": ".gitignore",
    "package.json.tmpl": "package.json",
    "package-lock.json.tmpl": "package-lock.json",
    "pyproject.toml.tmpl": "pyproject.toml",
    "requirements.txt.tmpl": "requirements.txt",
    "infra__init__.py.tmpl": "infra/__init__.py",
    "infra_org.py.tmpl": "infra/org.py",
    "infra_service.py.tmpl": "infra/service.py",
    "service_app.py.tmpl": "{{code_directory}}/app.py",
    "service_integ_test.py.tmpl": "{{code_directory}}/integ_test.py",
    "tests_conftest.py.tmpl": "tests/conftest.py",
    "tests_test_app.py.tmpl": "tests/test_app.py",
    "tests_test_pipeline.py.tmpl": "tests/test_pipeline.py",
}
"""Template → path in the new repository (placeholders allowed in paths)."""

_SERVICE = re.compile(r"^[a-z][a-z0-9-]*$")
_ORG_CLASS = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True, kw_only=True)
class Scaffold:
    """What ``hands-off init`` writes for one service.

    Args:
        service: lower-case service name (letters, digits, dashes), e.g. ``"payments"``.
        repository: ``owner/name`` of the Git repository the pipeline watches.
            Default (in :func:`init_project`): ``"my-org/<service>"``.
        org_class: ``module:Class`` of an organization base class from a shared package;
            ``None`` writes ``infra/org.py`` (and ``fleet.toml``) into the repository instead.
        org_requirement: the requirement that installs ``org_class``'s package, e.g.
            ``"acme-pipelines==1.0.0"``. Default: none.
        version: the hands-off version to pin. Default: this one.
    """

    service: str
    repository: str
    org_class: str | None = None
    org_requirement: str | None = None
    version: str = ""

    def __post_init__(self) -> None:
        if not _SERVICE.match(self.service):
            raise ConfigError(
                "--service",
                f"{self.service!r} is not a service name: use lower-case letters, digits and dashes, "
                "starting with a letter (e.g. 'payments')",
            )
        from hands_off.model.identity import validate_repository, validate_service_identity

        validate_service_identity(
            "--service",
            service_name=self.service,
            repository=self.repository,
            connection_arn="",
            branch="main",
            requires_source=False,
        )
        validate_repository(self.repository, "--repository")
        if self.org_class is not None and not _ORG_CLASS.match(self.org_class):
            raise ConfigError(
                "--org-class",
                f"{self.org_class!r} is not MODULE:CLASS; use e.g. 'acme_pipelines:AcmeServicePipeline'",
            )
        if self.org_requirement is not None and self.org_class is None:
            raise ConfigError("--org-requirement", "only with --org-class (the package that provides it)")

    @property
    def class_name(self) -> str:
        """The service's pipeline class, also its stack id: ``payments`` → ``PaymentsPipeline``."""
        return "".join(part.capitalize() for part in self.service.split("-")) + "Pipeline"

    @property
    def code_directory(self) -> str:
        """The Lambda source folder, an importable name: ``my-svc`` → ``my_svc``."""
        name = self.service.replace("-", "_")
        return f"{name}_service" if keyword.iskeyword(name) else name

    def values(self) -> dict[str, str]:
        """Every placeholder and its value."""
        if self.org_class is None:
            org_import, org_name = "from infra.org import OrgServicePipeline", "OrgServicePipeline"
            fleet_tool = "$(BIN)/hands-off {} --config fleet.toml"
            org_rows = (
                "| `infra/org.py` | the organization's base pipeline (share it as a package across "
                "repositories: `hands-off init --org-class`) |\n"
                "| `fleet.toml` | accounts, stages, production region inventory |\n"
            )
            placeholders = (
                "the account ids in `fleet.toml`, `connection_arn` and the paging address in "
                "`infra/org.py`, `repository` in `infra/service.py`"
            )
        else:
            module, org_name = self.org_class.split(":")
            org_import = f"from {module} import {org_name}"
            package = self.org_requirement or module
            fleet_tool = (
                f"echo \"the fleet is {org_name}'s, from {package}: run "
                '$(BIN)/hands-off {} --config <the fleet file of that package>" >&2; exit 2'
            )
            org_rows = (
                f"| `{self.org_class}` | the organization's base pipeline, fleet and connection, "
                f"from the shared package `{package}` |\n"
            )
            placeholders = "`repository` in `infra/service.py`"
        return {
            "plan_command": fleet_tool.format("plan"),
            "org_rows": org_rows,
            "placeholders": placeholders,
            "service": self.service,
            "class_name": self.class_name,
            "code_directory": self.code_directory,
            "code_package": self.code_directory,
            "repository": self.repository,
            "org_import": org_import,
            "org_class": org_name,
            "org_requirement": f"{self.org_requirement}\n" if self.org_requirement else "",
            "version": self.version,
        }

    def files(self) -> dict[str, str]:
        """Relative path → content of every file to write."""
        values = self.values()
        templates = resources.files(__package__) / "templates"
        written: dict[str, str] = {}
        for template, target in SCAFFOLD_FILES.items():
            if self.org_class is not None and target in ("infra/org.py", "fleet.toml"):
                continue  # the shared package provides the org class and its fleet
            text = (templates / template).read_text(encoding="utf-8")
            written[_fill(target, values)] = _fill(text, values)
        return written


def _fill(text: str, values: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        return values[match.group(1)]

    return _PLACEHOLDER.sub(replace, text)


def init_project(
    directory: Path,
    *,
    service: str,
    repository: str | None = None,
    org_class: str | None = None,
    org_requirement: str | None = None,
) -> list[Path]:
    """Write a new service repository into ``directory`` (created; it must be empty or absent,
    so nothing is ever overwritten) and return the files written.

    Raises:
        ConfigError: a bad service name, repository, ``org_class``, or a non-empty ``directory``.
    """
    from hands_off import __version__

    scaffold = Scaffold(
        service=service,
        repository=repository or f"my-org/{service}",
        org_class=org_class,
        org_requirement=org_requirement,
        version=__version__,
    )
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ConfigError(
            "DIR", f"{directory} exists and is not an empty folder; choose a new folder (nothing was written)"
        )
    files = scaffold.files()
    paths = []
    for relative, content in files.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        paths.append(path)
    (directory / "app.py").chmod(0o755)
    return paths
