"""Who a service is and where its code comes from: the service name every physical name is
derived from, and the repository, connection and branch of its source. Pure Python.

A service name becomes part of IAM role, Lambda function, Signer profile, pipeline, stack and alarm
names, each with its own AWS length limit; :data:`MAX_SERVICE_NAME_LENGTH` is the longest name for
which every one of them fits, so a long name fails here, naming the name that would overflow,
instead of at deploy time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from hands_off.model._checks import described, show
from hands_off.model.errors import ConfigError
from hands_off.model.regions import KNOWN_REGIONS, validate_region

__all__ = [
    "DERIVED_NAMES",
    "MAX_SERVICE_NAME_LENGTH",
    "MAX_STAGE_LABEL_LENGTH",
    "DerivedName",
    "validate_repository",
    "validate_service_identity",
]

MAX_STAGE_LABEL_LENGTH = 22
"""Room left for the stage label in ``<service>-<label>`` function names (the label is ``prod``
or a pre-production stage name in lower case): 64 - 1 - ``MAX_SERVICE_NAME_LENGTH``. An Alpha, Beta
or Gamma stage name of at most 22 characters fits with any valid service name."""

MAX_SERVICE_NAME_LENGTH = 41
"""Longest service name for which every derived physical name fits its AWS limit.

The tightest limits (see :data:`DERIVED_NAMES`; ``s`` is the service name's length):

* IAM role ``hands-off-<s>-gate-checker`` (the longest purpose of runtime, codedeploy,
  gate-reader, gate-checker, pipeline, integ-tests): 10 + s + 13 <= 64, so s <= 41;
* Lambda function ``<s>-<label>`` with a label of up to ``MAX_STAGE_LABEL_LENGTH`` (22):
  s + 1 + 22 <= 64, so s <= 41;
* Signer profile ``HandsOff<S>`` (dashes dropped, at worst none): 8 + s <= 64, so s <= 56;
* CodePipeline ``<s>-application``: s + 12 <= 100, so s <= 88;
* CloudFormation stack ``<s>-<label>-<region>`` (longest region, 14 characters):
  s + 38 <= 128, so s <= 90; alarms, log groups and SSM parameters allow far more.
"""

# Longest derived name quoted in full in a message (a service name at the limit + 115 fits).
_MAX_EXAMPLE = 160
_LONGEST_REGION = max(len(region) for region in KNOWN_REGIONS)
# A wave's gate or bake step id: a wave name (at most 80 characters) + "-Gate" / "-Bake".
_LONGEST_STEP = 80 + len("-Gate")


class DerivedName(NamedTuple):
    """A physical name made from the service name, and the AWS limit on its length.

    Attributes:
        what: the kind of name, e.g. ``"IAM role name"``.
        pattern: how it is made; ``{service}`` is the service name, ``{title}`` its
            dash-less title case, ``<stage>`` / ``<region>`` / ``<step>`` the longest parts allowed.
        extra: characters besides the service name, at their longest.
        limit: the most characters AWS allows.
    """

    what: str
    pattern: str
    extra: int
    limit: int

    @property
    def verb(self) -> str:
        """``"would be"`` for a name fixed by the service name, ``"could be"`` when a stage,
        region or step at its longest is assumed."""
        return "could be" if "<" in self.pattern else "would be"

    def example(self, service: str) -> str:
        """The name as it would be for ``service``, e.g. ``'hands-off-orders-gate-checker'``."""
        return self.pattern.format(service=service, title=_title(service))


def _derived(what: str, pattern: str, limit: int) -> DerivedName:
    longest = (
        pattern.replace("{service}", "")
        .replace("{title}", "")
        .replace("<stage>", "x" * MAX_STAGE_LABEL_LENGTH)
        .replace("<region>", "x" * _LONGEST_REGION)
        .replace("<step>", "x" * _LONGEST_STEP)
    )
    return DerivedName(what, pattern, len(longest), limit)


DERIVED_NAMES: tuple[DerivedName, ...] = (
    # Where each is made: stacks/service_pipeline.py (account_role_name, pipeline_name,
    # integration_test_role_name), deployment.py (function_name, stack_name, health_alarm_name),
    # constructs/code_signing.py (profile_name), constructs/alarm_factory.py (alarms).
    _derived("IAM role name", "hands-off-{service}-gate-checker", 64),
    _derived("IAM role name", "hands-off-{service}-integ-tests", 64),
    _derived("Lambda function name", "{service}-<stage>", 64),
    _derived("Signer profile name", "HandsOff{title}", 64),
    _derived("CodePipeline name", "{service}-application", 100),
    _derived("CloudFormation stack name", "{service}-<stage>-<region>", 128),
    _derived("CloudFormation stack name", "{service}-access", 128),
    _derived("CloudFormation stack name", "{title}Pipeline", 128),
    _derived("CloudWatch alarm name", "{service}-<stage>-traffic-anomaly", 255),
    _derived("CloudWatch alarm name", "{service}-application-observed-health", 255),
    _derived("CloudWatch log group name", "/aws/lambda/{service}-<stage>", 512),
    _derived("SSM parameter name", "/hands-off/{service}-application/gates/<step>", 1011),
)
"""Every physical name derived from a service name, with its AWS length limit."""

# Lower-case words of letters and digits joined by single dashes, starting with a letter. Doubled
# or trailing dashes are refused: names are also made by splitting on dashes ('a-b' and 'a--b'
# would share the Signer profile 'HandsOffAB' and the construct id 'AB').
_SERVICE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_RESERVED_PREFIX = "hands-off"  # hands_off.naming.ORG_PREFIX (the model imports no naming)
_CONNECTION_ARN = re.compile(
    r"^arn:aws:(?:codestar-connections|codeconnections):([^:]*):(\d{12}):connection/[A-Za-z0-9-]+$"
)
_CONNECTION_EXAMPLE = "'arn:aws:codeconnections:us-east-1:111111111111:connection/<id>'"
_REPOSITORY_EXAMPLE = "'example-org/orders-service'"
# CDK Pipelines accepts 'owner/repo' and GitLab's 'group/subgroup/.../repo': 2 to 23 parts.
_MAX_REPOSITORY_PARTS = 23


def _title(service: str) -> str:
    return "".join(part.capitalize() for part in service.split("-"))


def _suggest_service_name(name: str) -> str:
    guess = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")
    return guess if guess != name and _SERVICE_NAME.fullmatch(guess) else ""


def _check_service_name(name: object, field: str) -> None:
    if not isinstance(name, str):
        raise ConfigError(field, f"must be a lower-case name such as 'orders', got {described(name)}")
    if not name:
        raise ConfigError(field, "is empty; set a lower-case name such as 'orders'")
    if name == _RESERVED_PREFIX or name.startswith(f"{_RESERVED_PREFIX}-"):
        raise ConfigError(
            field,
            f"{show(name)} starts with {_RESERVED_PREFIX!r}, reserved for hands-off's own packages and "
            "resources (the gate runtime is signed as 'hands-off-gates'); name the service without it",
        )
    if not _SERVICE_NAME.fullmatch(name):
        guess = _suggest_service_name(name)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        raise ConfigError(
            field,
            f"{show(name)} is not a service name{hint}; use lower-case letters, digits and single "
            "dashes, start with a letter and do not end with a dash (e.g. 'orders')",
        )
    overflowing = [d for d in DERIVED_NAMES if len(name) + d.extra > d.limit]
    if overflowing:
        worst = min(overflowing, key=lambda d: d.limit - d.extra)
        raise ConfigError(
            field,
            f"{show(name)} is {len(name)} characters, so the {worst.what} "
            f"{show(worst.example(name), limit=_MAX_EXAMPLE)} {worst.verb} "
            f"{len(name) + worst.extra} characters, over the {worst.limit} AWS allows; "
            f"use a service name of at most {MAX_SERVICE_NAME_LENGTH} characters",
        )


def _check_repository(repository: object, field: str) -> None:
    if not isinstance(repository, str):
        raise ConfigError(
            field,
            f"must be the 'owner/name' of the repository, e.g. {_REPOSITORY_EXAMPLE}, "
            f"got {described(repository)}",
        )
    if not repository:
        raise ConfigError(
            field, f"is empty; set the 'owner/name' of the source repository, e.g. {_REPOSITORY_EXAMPLE}"
        )
    if match := re.match(r"^(?:[a-z+]+://[^/]+/|git@[^:]+:)(.+?)(?:\.git)?/?$", repository.strip()):
        raise ConfigError(
            field,
            f"{show(repository)} is a URL (did you mean {match[1]!r}?); give the 'owner/name' "
            "of the repository, not its URL",
        )
    if any(char.isspace() for char in repository):
        raise ConfigError(
            field,
            f"{show(repository)} contains whitespace; give 'owner/name' with no spaces, "
            f"e.g. {_REPOSITORY_EXAMPLE}",
        )
    parts = repository.split("/")
    if not 2 <= len(parts) <= _MAX_REPOSITORY_PARTS or not all(parts):
        raise ConfigError(
            field,
            f"{show(repository)} is not 'owner/name'; give the owner and the repository, "
            f"e.g. {_REPOSITORY_EXAMPLE} (GitLab subgroups: 'group/subgroup/name')",
        )


def _check_connection_arn(arn: object, field: str) -> None:
    if not isinstance(arn, str):
        raise ConfigError(
            field, f"must be a connection ARN such as {_CONNECTION_EXAMPLE}, got {described(arn)}"
        )
    if not arn:
        raise ConfigError(
            field,
            f"is empty; set the ARN of the CodeConnections connection to the repository's host, "
            f"e.g. {_CONNECTION_EXAMPLE} (Developer Tools > Settings > Connections)",
        )
    match = _CONNECTION_ARN.fullmatch(arn)
    if not match:
        raise ConfigError(
            field,
            f"{show(arn)} is not a connection ARN; use {_CONNECTION_EXAMPLE} "
            "(codestar-connections ARNs are accepted too)",
        )
    try:
        validate_region(match[1], field)
    except ConfigError as err:
        raise ConfigError(field, f"the ARN's region: {err.message}") from None


def _check_branch(branch: object, field: str) -> None:
    if not isinstance(branch, str):
        raise ConfigError(field, f"must be a branch name such as 'main', got {described(branch)}")
    if not branch:
        raise ConfigError(field, "is empty; set the branch the pipeline builds, e.g. 'main'")
    if any(char.isspace() for char in branch):
        raise ConfigError(
            field, f"{show(branch)} contains whitespace; give a branch name with no spaces, e.g. 'main'"
        )
    if branch.startswith("refs/heads/"):
        raise ConfigError(
            field,
            f"{show(branch)} is a ref (did you mean {branch.removeprefix('refs/heads/')!r}?); "
            "give the branch name",
        )


def validate_repository(repository: str, field: str) -> None:
    """Raise ``ConfigError`` on ``field`` unless ``repository`` is ``owner/name`` (what
    CodeConnections sources take), e.g. ``'acme/payments'``."""
    _check_repository(repository, field)


def validate_service_identity(
    owner: str,
    *,
    service_name: str,
    repository: str,
    connection_arn: str,
    branch: str,
    requires_source: bool,
    code_directory: str | None = None,
) -> None:
    """Raise ``ConfigError`` on ``f"{owner}.<attribute>"`` unless the service identity is valid.

    With ``code_directory``, it must name an existing folder (relative to the working directory,
    the repository root under ``cdk synth``).

    ``service_name`` must be lower-case letters, digits and single dashes, start with a letter, and
    be at most :data:`MAX_SERVICE_NAME_LENGTH` characters so every name in :data:`DERIVED_NAMES`
    fits. With ``requires_source`` (the pipeline builds from a CodeConnections source),
    ``repository`` must be ``owner/name``, ``connection_arn`` a CodeConnections (or CodeStar
    Connections) connection ARN and ``branch`` a branch name without spaces; otherwise they are
    not checked.

    Example::

        validate_service_identity(
            "OrdersPipeline",
            service_name="orders",
            repository="example-org/orders-service",
            connection_arn="arn:aws:codeconnections:us-east-1:111111111111:connection/abc",
            branch="main",
            requires_source=True,
        )

    Raises:
        ConfigError: e.g. ``OrdersPipeline.service_name: 'Orders' is not a service name (did you
            mean 'orders'?); use lower-case letters, ...``.
    """
    _check_service_name(service_name, f"{owner}.service_name")
    if code_directory is not None:
        _check_code_directory(code_directory, f"{owner}.code_directory")
    if not requires_source:
        return
    _check_repository(repository, f"{owner}.repository")
    _check_connection_arn(connection_arn, f"{owner}.connection_arn")
    _check_branch(branch, f"{owner}.branch")


def _check_code_directory(code_directory: str, field: str) -> None:
    if not code_directory:
        raise ConfigError(field, "set the folder of the Lambda source, e.g. 'lambda/services/orders'")
    if not Path(code_directory).is_dir():
        raise ConfigError(
            field, f"{code_directory!r} does not exist (paths are relative to the repository root)"
        )
