"""Everything a service pipeline deploys to, validated as a whole."""

from __future__ import annotations

from dataclasses import dataclass

from hands_off.model._checks import check_sequence
from hands_off.model.errors import ConfigError
from hands_off.model.policy import DEFAULT_ALARM_POLICY, AlarmPolicy, DeploymentPolicy, TrafficShape
from hands_off.model.target import Target
from hands_off.model.wave import Stage, Wave

__all__ = ["Environments"]

# P9: the one-box step of the first waves touches at most this share of the wave's traffic.
_MAX_ONE_BOX_PERCENT = 10
# P9: the first waves that must start with a one-box step.
_ONE_BOX_WAVES = 2


def _targets(count: int) -> str:
    return f"{count} target" if count == 1 else f"{count} targets"


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

    Checked when built (each failure is a ``ConfigError`` naming the field and the fix):
    unique stage/wave names; gamma in at least two regions and not ``ALL_AT_ONCE`` (P5, P6);
    at least one wave; each region in exactly one wave; a single-region first wave and
    non-decreasing wave sizes (P8); a one-box canary of at most 10% in the first two waves
    (P9); every wave bakes, and no bake is shorter than the alarms' evaluation window (P16).

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
        """Validate the environments as a whole."""
        self._check_types()
        self._check_names()
        self._check_gamma()
        self._check_waves()
        self._check_bakes()

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

    def _check_gamma(self) -> None:
        if len(self.gamma.regions) < 2:
            raise ConfigError(
                "gamma.targets",
                "gamma deploys to a single region; add a second region so gamma is production-like (P5)",
            )
        if self.gamma.policy.shape is TrafficShape.ALL_AT_ONCE:
            raise ConfigError(
                "gamma.policy.shape",
                "gamma deploys all at once; give it the production one-box policy "
                "(e.g. ONE_BOX_POLICY) so it is production-like (P5, P6)",
            )

    def _check_waves(self) -> None:
        owner: dict[str, str] = {}
        for i, wave in enumerate(self.waves):
            for j, target in enumerate(wave.targets):
                first = owner.setdefault(target.region, wave.name)
                if first != wave.name:
                    raise ConfigError(
                        f"waves[{i}].targets[{j}]",
                        f"wave {wave.name!r} lists region {target.region!r}, already in "
                        f"{first!r}; a region is deployed by exactly one wave",
                    )
        first_wave = self.waves[0]
        if len(first_wave.regions) > 1:
            raise ConfigError(
                "waves[0].targets",
                f"the first wave {first_wave.name!r} spans {len(first_wave.regions)} regions "
                f"({', '.join(first_wave.regions)}); start with a single low-traffic region (P8)",
            )
        for i in range(1, len(self.waves)):
            before, wave = self.waves[i - 1], self.waves[i]
            if len(wave.targets) < len(before.targets):
                raise ConfigError(
                    f"waves[{i}].targets",
                    f"wave {wave.name!r} has {_targets(len(wave.targets))}, fewer than the "
                    f"{len(before.targets)} of {before.name!r}; waves must never shrink (P8), "
                    "so move targets to a later wave or reorder the waves",
                )
        for i, wave in enumerate(self.waves[:_ONE_BOX_WAVES]):
            policy = wave.policy
            if policy.shape is not TrafficShape.CANARY:
                raise ConfigError(
                    f"waves[{i}].policy.shape",
                    f"wave {wave.name!r} uses {policy.shape.value!r}; the first two waves start "
                    "with a one-box step, so use TrafficShape.CANARY (e.g. ONE_BOX_POLICY) (P9)",
                )
            if policy.step_percent > _MAX_ONE_BOX_PERCENT:
                raise ConfigError(
                    f"waves[{i}].policy.step_percent",
                    f"wave {wave.name!r} sends {policy.step_percent}% to its one-box; keep it at "
                    f"most {_MAX_ONE_BOX_PERCENT}% of the wave's traffic (P9)",
                )

    def _check_bakes(self) -> None:
        window = self.alarm_policy.evaluation_window_minutes
        baked: list[tuple[str, str, DeploymentPolicy]] = [("gamma", "gamma", self.gamma.policy)]
        baked += [(f"waves[{i}]", w.name, w.policy) for i, w in enumerate(self.waves)]
        for path, name, policy in baked:
            field = f"{path}.policy.bake_minutes"
            if policy.bake_minutes == 0 and path != "gamma":
                raise ConfigError(
                    field,
                    f"wave {name!r} does not bake; give it a bake of at least {window} min "
                    "(the alarms' evaluation window) so alarms can stop the rollout (P16)",
                )
            if 0 < policy.bake_minutes < window:
                raise ConfigError(
                    field,
                    f"{name!r} bakes {policy.bake_minutes} min, shorter than the alarms' "
                    f"evaluation window of {window} min (period_minutes x evaluation_periods); "
                    f"bake at least {window} "
                    "min or shorten the alarm window",
                )

    @property
    def warnings(self) -> tuple[str, ...]:
        """Soft problems: allowed, but against the practices (shown as CDK warnings at synth)."""
        preprod = {t.account.account_id for s in (self.alpha, self.beta, self.gamma) for t in s.targets}
        shared = sorted(preprod & {t.account.account_id for t in self.production_targets})
        if not shared:
            return ()
        return (
            f"account(s) {', '.join(shared)} host both pre-production and production copies: use "
            "separate accounts so a pre-production change cannot reach production resources",
        )

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
