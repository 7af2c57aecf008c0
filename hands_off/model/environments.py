"""Everything a service pipeline deploys to, validated as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from hands_off.model._checks import check_sequence
from hands_off.model.errors import ConfigError
from hands_off.model.policy import DEFAULT_ALARM_POLICY, AlarmPolicy
from hands_off.model.practices.packs import MODEL_RULES, findings, raise_first
from hands_off.model.practices.rule import Level
from hands_off.model.target import Target
from hands_off.model.wave import Stage, Wave

__all__ = ["Environments"]


@dataclass(frozen=True, kw_only=True)
class Environments:
    """Everything a service pipeline deploys to, validated as a whole.

    Example::

        Environments(
            toolchain=Target(account=tooling, region="us-east-1"),
            alpha=Stage(name="Alpha", targets=(Target(account=preprod, region="us-west-2"),)),
            beta=Stage(name="Beta", targets=(Target(account=preprod, region="us-west-2"),)),
            gamma=Stage(name="Gamma", targets=gamma_targets, policy=ONE_BOX_POLICY),
            waves=plan_waves(inventory, account=prod).production_waves,
        )

    Checked when built (each failure is a ``ConfigError`` naming the field and the fix): the
    field types, at least one wave and unique stage/wave names; then the practice rules of
    ``hands_off.model.practices.MODEL_RULES``, failing on the first error with the rule's
    ``code``: gamma in at least two regions and not ``ALL_AT_ONCE`` (P5, P6); each region in
    exactly one wave, a single-region first wave and non-decreasing wave sizes (P8); a one-box
    canary of at most 10% in the first two waves (P9); every wave bakes, and no bake is shorter
    than the alarms' evaluation window (P16). Warning rules end up in ``warnings``.

    Attributes:
        toolchain: where the pipelines live (tooling account and region).
        alpha: the first pre-production stage.
        beta: the second pre-production stage.
        gamma: the production-like pre-production stage.
        waves: the production waves, in deployment order, e.g. ``plan.production_waves`` (a list is
            stored as a tuple; a single ``Wave`` or a ``WavePlan`` is an error).
        alarm_policy: thresholds of the rollback alarms. Default: ``DEFAULT_ALARM_POLICY``
            (``AlarmPolicy()``).
    """

    toolchain: Target
    alpha: Stage
    beta: Stage
    gamma: Stage
    waves: tuple[Wave, ...]
    alarm_policy: AlarmPolicy = DEFAULT_ALARM_POLICY

    def __post_init__(self) -> None:
        """Validate the environments as a whole: structure first, then the practice rules."""
        self._check_types()
        self._check_names()
        # Warnings are recomputed by ``warnings``: a frozen dataclass keeps no derived state.
        raise_first(self, MODEL_RULES)

    def _check_types(self) -> None:
        if not isinstance(self.toolchain, Target):
            raise ConfigError("toolchain", "must be a Target (the tooling account and region)")
        for attr in ("alpha", "beta", "gamma"):
            if not isinstance(getattr(self, attr), Stage):
                raise ConfigError(attr, f"must be a Stage, got {type(getattr(self, attr)).__name__}")
        fix = (
            "use plan.production_waves"
            if hasattr(self.waves, "production_waves")
            else "e.g. plan_waves(...).production_waves"
        )
        waves = check_sequence(self.waves, field="waves", item_type=Wave, fix=fix)
        if not waves:
            raise ConfigError("waves", "is empty; add at least one production wave")
        object.__setattr__(self, "waves", waves)
        if not isinstance(self.alarm_policy, AlarmPolicy):
            raise ConfigError("alarm_policy", "must be an AlarmPolicy")

    def _check_names(self) -> None:
        seen: set[str] = set()
        fields: list[tuple[str, Stage | Wave]] = [
            ("alpha.name", self.alpha),
            ("beta.name", self.beta),
            ("gamma.name", self.gamma),
        ]
        fields += [(f"waves[{i}].name", wave) for i, wave in enumerate(self.waves)]
        for field, stage in fields:
            if stage.name in seen:
                raise ConfigError(
                    field,
                    f"name {stage.name!r} is used twice; give every stage and wave a unique name",
                )
            seen.add(stage.name)

    @property
    def warnings(self) -> tuple[str, ...]:
        """Soft problems: allowed, but against the practices (shown as CDK warnings at synth).

        The messages of the ``WARNING`` findings of ``MODEL_RULES``, e.g. an account hosting
        both pre-production and production copies (``HO-P5-SHARED-ACCOUNT``).
        """
        return tuple(f.message for f in findings(self, MODEL_RULES) if f.level is Level.WARNING)

    @property
    def production_targets(self) -> tuple[Target, ...]:
        """Every target of every wave, in wave order."""
        return tuple(target for wave in self.waves for target in wave.targets)

    def stages_in_order(self) -> tuple[Stage | Wave, ...]:
        """Alpha, Beta, Gamma, then every wave."""
        return (self.alpha, self.beta, self.gamma, *self.waves)

    def lead_time_minutes(self) -> int:
        """Estimated commit-to-everywhere time: the sum of every stage's and wave's lead time."""
        return sum(stage.policy.lead_time_minutes for stage in self.stages_in_order())
