"""What a pipeline's Build stage runs in the repository it watches, and where it installs from.

The contract (the README's "What the Build runs" table): the Build runs, at the root of the source
repository, :meth:`ServicePipeline.install_commands` (default ``make setup``), then
:meth:`~ServicePipeline.build_commands` (default ``make test`` and ``make package``, which must
leave ``build/<service>.zip``), signs that zip, then :meth:`~ServicePipeline.synth_commands`
(default ``make synth CDK_CONTEXT=...``), which must leave the cloud assembly in ``cdk.out/``.
A repository written by ``hands-off init`` has exactly these targets.

Pure Python (no ``aws_cdk``): IAM statements are plain ``(actions, resources)`` pairs that the
pipeline renders.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field

from hands_off.model.errors import ConfigError

__all__ = ["CodeArtifactRepository", "PackageIndex", "PolicyGrant"]


@dataclass(frozen=True)
class PolicyGrant:
    """One IAM statement as plain data: actions, the resources they apply to, and conditions."""

    actions: tuple[str, ...]
    resources: tuple[str, ...]
    conditions: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


_ACCOUNT = re.compile(r"^\d{12}$")
_CODEARTIFACT_NAME = re.compile(r"^[a-z][a-z0-9-]{1,49}$")
_REPOSITORY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,99}$")


@dataclass(frozen=True, kw_only=True)
class PackageIndex:
    """A plain Python package index the Build installs from (``PIP_INDEX_URL``).

    Example: ``PackageIndex(url="https://pypi.example.com/simple")``. For AWS CodeArtifact use
    :class:`CodeArtifactRepository`, which logs pip in with a short-lived token.

    Args:
        url: the index URL (``https://…/simple``). Credentials do not belong here: the URL is
            visible in the pipeline definition.
    """

    url: str

    def __post_init__(self) -> None:
        if not self.url.startswith("https://") or "@" in self.url or " " in self.url:
            raise ConfigError(
                "PackageIndex.url",
                f"{self.url!r} is not an https index URL without credentials; "
                "use e.g. 'https://pypi.example.com/simple' (or CodeArtifactRepository for CodeArtifact)",
            )

    def env(self) -> dict[str, str]:
        """Environment variables of the Build."""
        return {"PIP_INDEX_URL": self.url}

    def login_commands(self) -> list[str]:
        """Commands run before the install commands. None: the URL needs no login."""
        return []

    def grants(self, partition: str = "aws") -> list[PolicyGrant]:
        """What the Build role needs to read the index. Nothing: it is not in AWS."""
        return []


@dataclass(frozen=True, kw_only=True)
class CodeArtifactRepository:
    """An AWS CodeArtifact repository the Build installs Python packages from (a private mirror
    of PyPI plus the organization's own packages, e.g. hands-off and its shared base class).

    The Build runs ``aws codeartifact login --tool pip`` first (a 12-hour token, written to pip's
    configuration), and its role may read only this repository.

    Example::

        class AcmeServicePipeline(ServicePipeline):
            package_index = CodeArtifactRepository(
                domain="acme", owner="111111111111", repository="python", region="us-east-1"
            )

    Args:
        domain: the CodeArtifact domain.
        owner: the 12-digit account that owns the domain.
        repository: the repository in that domain.
        region: the domain's region.
    """

    domain: str
    owner: str
    repository: str
    region: str

    def __post_init__(self) -> None:
        if not _CODEARTIFACT_NAME.match(self.domain):
            raise ConfigError(
                "CodeArtifactRepository.domain",
                f"{self.domain!r} is not a CodeArtifact domain name "
                "(2-50 lower-case letters, digits, dashes)",
            )
        if not _ACCOUNT.match(self.owner):
            raise ConfigError(
                "CodeArtifactRepository.owner", f"{self.owner!r} is not a 12-digit AWS account id"
            )
        if not _REPOSITORY_NAME.match(self.repository):
            raise ConfigError(
                "CodeArtifactRepository.repository",
                f"{self.repository!r} is not a CodeArtifact repository name (2-100 letters, digits, . _ -)",
            )
        from hands_off.model.regions import validate_region

        validate_region(self.region, field="CodeArtifactRepository.region")

    def env(self) -> dict[str, str]:
        """Environment variables of the Build. None: the login writes pip's configuration."""
        return {}

    def login_commands(self) -> list[str]:
        """Log pip in to the repository (before the install commands)."""
        args = " ".join(
            shlex.quote(a)
            for a in (
                "--domain",
                self.domain,
                "--domain-owner",
                self.owner,
                "--repository",
                self.repository,
                "--region",
                self.region,
            )
        )
        return [f"aws codeartifact login --tool pip {args}"]

    def grants(self, partition: str = "aws") -> list[PolicyGrant]:
        """Read this repository only: a token for the domain, the endpoint, the packages."""
        base = f"arn:{partition}:codeartifact:{self.region}:{self.owner}"
        return [
            PolicyGrant(("codeartifact:GetAuthorizationToken",), (f"{base}:domain/{self.domain}",)),
            PolicyGrant(
                ("codeartifact:GetRepositoryEndpoint", "codeartifact:ReadFromRepository"),
                (f"{base}:repository/{self.domain}/{self.repository}",),
            ),
            # GetServiceBearerToken has no resource-level permissions; the condition limits it.
            PolicyGrant(
                ("sts:GetServiceBearerToken",),
                ("*",),
                {"StringEquals": {"sts:AWSServiceName": "codeartifact.amazonaws.com"}},
            ),
        ]
