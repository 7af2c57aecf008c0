"""What a practice rule reads of a fleet: the stages and waves it deploys to, and its alarms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from hands_off.model.policy import AlarmPolicy
    from hands_off.model.target import Target
    from hands_off.model.wave import Stage, Wave

__all__ = ["FleetView"]


class FleetView(Protocol):
    """The read-only view of a fleet that model rules check.

    ``Environments`` is one; a view built from a synthesized cloud assembly can be another, so
    the same rules run over any pipeline. Rules only read these attributes and never change them.

    Attributes:
        toolchain: where the pipelines live (tooling account and region).
        alpha: the first pre-production stage.
        beta: the second pre-production stage.
        gamma: the production-like pre-production stage.
        waves: the production waves, in deployment order.
        alarm_policy: thresholds (and so the evaluation window) of the rollback alarms.
    """

    @property
    def toolchain(self) -> Target:
        """Where the pipelines live."""
        ...

    @property
    def alpha(self) -> Stage:
        """The first pre-production stage."""
        ...

    @property
    def beta(self) -> Stage:
        """The second pre-production stage."""
        ...

    @property
    def gamma(self) -> Stage:
        """The production-like pre-production stage."""
        ...

    @property
    def waves(self) -> Sequence[Wave]:
        """The production waves, in deployment order."""
        ...

    @property
    def alarm_policy(self) -> AlarmPolicy:
        """The rollback alarms' thresholds."""
        ...
