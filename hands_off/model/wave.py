"""Pre-production stages and production waves: named groups of targets with one policy."""

from __future__ import annotations

from dataclasses import dataclass

from hands_off.model._checks import check_float, check_name, check_sequence
from hands_off.model.errors import ConfigError
from hands_off.model.policy import ONE_BOX_POLICY, PREPROD_POLICY, DeploymentPolicy
from hands_off.model.target import Target

__all__ = ["Stage", "Wave"]


def _check_targets(owner: object, targets: object, kind: str) -> tuple[Target, ...]:
    """Return ``targets`` as a tuple of ``Target`` after checking it is non-empty and has no
    duplicates (a string or a single ``Target`` is an error, not a one-element sequence)."""
    field = f"{kind}.targets"
    result = check_sequence(targets, field=field, item_type=Target)
    if not result:
        raise ConfigError(field, f"{kind} {getattr(owner, 'name', '')!r} has no targets; add one")
    seen: set[tuple[str, str]] = set()
    for index, target in enumerate(result):
        key = (target.account.account_id, target.region)
        if key in seen:
            raise ConfigError(
                f"{field}[{index}]",
                f"{target.name!r} is listed twice; list each account and region once",
            )
        seen.add(key)
    return result


def _distinct_regions(targets: tuple[Target, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(target.region for target in targets))


def _check_policy(policy: object, kind: str) -> None:
    if not isinstance(policy, DeploymentPolicy):
        raise ConfigError(f"{kind}.policy", f"must be a DeploymentPolicy, got {type(policy).__name__}")


@dataclass(frozen=True, kw_only=True)
class Stage:
    """A pre-production stage (Alpha, Beta, Gamma).

    Example::

        Stage(name="Alpha", targets=(Target(account=preprod, region="us-west-2"),))

    Attributes:
        name: the stage name, 1 to 80 characters from ``A-Za-z0-9.@-_`` (CodePipeline's rule).
        targets: where the stage deploys; non-empty, each account+region once. A list is
            accepted and stored as a tuple; a single ``Target`` is an error (write ``(t,)``).
        policy: how the stage shifts traffic and bakes. Default: ``PREPROD_POLICY``.
    """

    name: str
    targets: tuple[Target, ...]
    policy: DeploymentPolicy = PREPROD_POLICY

    def __post_init__(self) -> None:
        """Validate the name, the targets and the policy."""
        check_name(self.name, field="Stage.name")
        object.__setattr__(self, "targets", _check_targets(self, self.targets, "Stage"))
        _check_policy(self.policy, "Stage")

    @property
    def regions(self) -> tuple[str, ...]:
        """The distinct regions of ``targets``, in order."""
        return _distinct_regions(self.targets)


@dataclass(frozen=True, kw_only=True)
class Wave:
    """A production wave: targets deployed together, then baked (P8).

    Example::

        Wave(name="Prod-1", targets=(Target(account=prod, region="ca-central-1"),))

    Attributes:
        name: the wave name, e.g. ``"Prod-1"``; same rule as ``Stage.name``.
        targets: where the wave deploys; non-empty, each account+region once. A list is
            accepted and stored as a tuple; a single ``Target`` is an error (write ``(t,)``).
        policy: how the wave shifts traffic and bakes. Default: ``ONE_BOX_POLICY``.
        blast_radius: the share of global traffic (0 to 1) the wave touches, if known; the
            wave planner sets it. Default: ``None`` (unknown).
    """

    name: str
    targets: tuple[Target, ...]
    policy: DeploymentPolicy = ONE_BOX_POLICY
    blast_radius: float | None = None

    def __post_init__(self) -> None:
        """Validate the name, the targets, the policy and the blast radius."""
        check_name(self.name, field="Wave.name")
        object.__setattr__(self, "targets", _check_targets(self, self.targets, "Wave"))
        _check_policy(self.policy, "Wave")
        if self.blast_radius is not None:
            check_float(
                self.blast_radius,
                field="Wave.blast_radius",
                low=0.0,
                high=1.0,
                fix="give a share of global traffic, e.g. 0.05 for 5%",
            )

    @property
    def regions(self) -> tuple[str, ...]:
        """The distinct regions of ``targets``, in order."""
        return _distinct_regions(self.targets)
