"""Practice rules: one compliant and one non-compliant fleet per rule, the catalog, and the pack."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, fields, replace
from typing import Any

import pytest

from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    Account,
    AlarmPolicy,
    ConfigError,
    Environments,
    Stage,
    Target,
    Wave,
)
from hands_off.model.practices import (
    MODEL_RULES,
    Finding,
    FleetView,
    Level,
    Rule,
    RuleModule,
    catalog,
    findings,
    p5_gamma_multi_region,
    p5_separate_accounts,
    p6_gamma_one_box,
    p8_first_wave_single_region,
    p8_region_in_one_wave,
    p8_waves_never_shrink,
    p9_one_box_first,
    p9_one_box_small,
    p16_bake_covers_alarms,
    p16_waves_bake,
    raise_first,
)

# The practice ids of the checklist (PRACTICES.md, which lives outside this repository).
PRACTICE_IDS = frozenset({*(f"P{n}" for n in range(1, 19)), *(f"X{n}" for n in range(1, 10))})

TOOLING = Account(name="tooling", account_id="111111111111")
PREPROD = Account(name="preprod", account_id="222222222222")
PROD = Account(name="prod", account_id="333333333333")


def targets(account: Account, *regions: str) -> tuple[Target, ...]:
    return tuple(Target(account=account, region=region) for region in regions)


def wave(name: str, *regions: str, policy: Any = ONE_BOX_POLICY) -> Wave:
    return Wave(name=name, targets=targets(PROD, *regions), policy=policy)


def gamma(*regions: str, policy: Any = ONE_BOX_POLICY, account: Account = PREPROD) -> Stage:
    return Stage(name="Gamma", targets=targets(account, *regions), policy=policy)


TOOLCHAIN = Target(account=TOOLING, region="us-east-1")
ALPHA = Stage(name="Alpha", targets=targets(PREPROD, "us-west-2"))
BETA = Stage(name="Beta", targets=targets(PREPROD, "us-west-2"))
GAMMA = gamma("us-west-2", "eu-west-1")
WAVES = (
    wave("Prod-1", "ca-central-1"),
    wave("Prod-2", "us-east-1"),
    wave("Prod-3", "ap-south-1", "sa-east-1", policy=FAST_POLICY),
)
ALARMS = AlarmPolicy()


@dataclass(frozen=True, kw_only=True)
class Fleet:
    """A FleetView that checks nothing itself, so a fixture can break exactly one rule."""

    toolchain: Target = TOOLCHAIN
    alpha: Stage = ALPHA
    beta: Stage = BETA
    gamma: Stage = GAMMA
    waves: tuple[Wave, ...] = WAVES
    alarm_policy: AlarmPolicy = ALARMS


COMPLIANT = Fleet()


def environments(fleet: Fleet) -> Environments:
    return Environments(**{f.name: getattr(fleet, f.name) for f in fields(fleet)})


# (rule, compliant fleet, non-compliant fleet, fields of the findings in the non-compliant one)
CASES: list[tuple[RuleModule, Fleet, Fleet, list[str]]] = [
    (
        p5_gamma_multi_region,
        replace(COMPLIANT, gamma=gamma("us-west-2", "eu-west-1", "ap-northeast-1")),
        # two accounts in one region are still one region
        replace(
            COMPLIANT,
            gamma=Stage(
                name="Gamma",
                targets=(*targets(PREPROD, "us-west-2"), Target(account=TOOLING, region="us-west-2")),
                policy=ONE_BOX_POLICY,
            ),
        ),
        ["gamma.targets"],
    ),
    (
        p6_gamma_one_box,
        replace(COMPLIANT, gamma=gamma("us-west-2", "eu-west-1", policy=FAST_POLICY)),
        replace(COMPLIANT, gamma=gamma("us-west-2", "eu-west-1", policy=PREPROD_POLICY)),
        ["gamma.policy.shape"],
    ),
    (
        p8_region_in_one_wave,
        # two accounts in one region of one wave are fine
        replace(
            COMPLIANT,
            waves=(
                wave("Prod-1", "ca-central-1"),
                Wave(
                    name="Prod-2",
                    targets=(*targets(PROD, "us-east-1"), Target(account=TOOLING, region="us-east-1")),
                ),
            ),
        ),
        replace(
            COMPLIANT,
            waves=(
                wave("Prod-1", "ca-central-1"),
                wave("Prod-2", "us-east-1", "ca-central-1"),
                wave("Prod-3", "eu-west-1", "us-east-1", policy=FAST_POLICY),
            ),
        ),
        ["waves[1].targets[1]", "waves[2].targets[1]"],
    ),
    (
        p8_first_wave_single_region,
        # one region, several AZs and accounts
        replace(
            COMPLIANT,
            waves=(
                Wave(
                    name="Prod-1",
                    targets=(*targets(PROD, "ca-central-1"), Target(account=TOOLING, region="ca-central-1")),
                ),
                wave("Prod-2", "us-east-1", "eu-west-1"),
            ),
        ),
        replace(
            COMPLIANT,
            waves=(wave("Prod-1", "ca-central-1", "sa-east-1"), wave("Prod-2", "us-east-1", "eu-west-1")),
        ),
        ["waves[0].targets"],
    ),
    (
        p8_waves_never_shrink,
        # equal sizes are fine
        replace(COMPLIANT, waves=(wave("Prod-1", "ca-central-1"), wave("Prod-2", "us-east-1"))),
        replace(
            COMPLIANT,
            waves=(
                wave("Prod-1", "ca-central-1"),
                wave("Prod-2", "us-east-1", "eu-west-1"),
                wave("Prod-3", "ap-south-1", policy=FAST_POLICY),
                wave("Prod-4", "sa-east-1", "eu-west-2", policy=FAST_POLICY),
                wave("Prod-5", "eu-central-1", policy=FAST_POLICY),
            ),
        ),
        ["waves[2].targets", "waves[4].targets"],
    ),
    (
        p9_one_box_first,
        # from the third wave on, any shape
        replace(
            COMPLIANT,
            waves=(
                *COMPLIANT.waves[:2],
                wave("Prod-3", "eu-west-1", policy=PREPROD_POLICY.with_(bake_minutes=3)),
            ),
        ),
        replace(
            COMPLIANT, waves=(wave("Prod-1", "ca-central-1"), wave("Prod-2", "us-east-1", policy=FAST_POLICY))
        ),
        ["waves[1].policy.shape"],
    ),
    (
        p9_one_box_small,
        # exactly 10% is allowed; a large canary in a later wave is not a one-box step
        replace(
            COMPLIANT,
            waves=(
                wave("Prod-1", "ca-central-1", policy=ONE_BOX_POLICY.with_(step_percent=10)),
                wave("Prod-2", "us-east-1"),
                wave("Prod-3", "eu-west-1", policy=ONE_BOX_POLICY.with_(step_percent=50)),
            ),
        ),
        replace(
            COMPLIANT,
            waves=(
                wave("Prod-1", "ca-central-1", policy=ONE_BOX_POLICY.with_(step_percent=20)),
                wave("Prod-2", "us-east-1", policy=ONE_BOX_POLICY.with_(step_percent=11)),
            ),
        ),
        ["waves[0].policy.step_percent", "waves[1].policy.step_percent"],
    ),
    (
        p16_waves_bake,
        # gamma may skip its bake
        replace(
            COMPLIANT, gamma=gamma("us-west-2", "eu-west-1", policy=ONE_BOX_POLICY.with_(bake_minutes=0))
        ),
        replace(
            COMPLIANT,
            waves=(
                *COMPLIANT.waves[:2],
                wave("Prod-3", "eu-west-1", policy=FAST_POLICY.with_(bake_minutes=0)),
            ),
        ),
        ["waves[2].policy.bake_minutes"],
    ),
    (
        p16_bake_covers_alarms,
        # a bake exactly as long as the alarms' window (5 x 6 = 30 min) is enough
        replace(COMPLIANT, alarm_policy=AlarmPolicy(period_minutes=5, evaluation_periods=6)),
        replace(COMPLIANT, alarm_policy=AlarmPolicy(period_minutes=5, evaluation_periods=7)),
        ["waves[2].policy.bake_minutes"],
    ),
    (
        p5_separate_accounts,
        COMPLIANT,
        replace(
            COMPLIANT,
            beta=Stage(name="Beta", targets=(*targets(PREPROD, "us-west-2"), *targets(PROD, "eu-west-1"))),
            gamma=gamma("us-west-2", "eu-west-1", account=PROD),
        ),
        ["beta.targets[1]"],
    ),
]
IDS = [module.RULE.code for module, *_ in CASES]
ERROR_CASES = [
    pytest.param(module, bad, where, id=module.RULE.code)
    for module, _, bad, where in CASES
    if module.RULE.level is Level.ERROR
]


def test_every_rule_has_a_case() -> None:
    assert [module for module, *_ in CASES] == list(MODEL_RULES)


@pytest.mark.parametrize(("module", "compliant", "bad", "where"), CASES, ids=IDS)
def test_compliant_fleet_has_no_finding(
    module: RuleModule, compliant: Fleet, bad: Fleet, where: list[str]
) -> None:
    assert list(module.check(compliant)) == []


@pytest.mark.parametrize(("module", "compliant", "bad", "where"), CASES, ids=IDS)
def test_non_compliant_fleet_breaks_that_rule_only(
    module: RuleModule, compliant: Fleet, bad: Fleet, where: list[str]
) -> None:
    found = findings(bad)

    assert [f.code for f in found] == [module.RULE.code] * len(where)
    assert [f.field for f in found] == where
    assert all(f.rule is module.RULE and f.level is module.RULE.level for f in found)


def test_the_compliant_fleet_breaks_no_rule() -> None:
    assert findings(COMPLIANT) == ()
    view: FleetView = COMPLIANT  # a plain dataclass is a FleetView too
    assert raise_first(view) == ()
    assert environments(COMPLIANT).warnings == ()


@pytest.mark.parametrize(("module", "bad", "where"), ERROR_CASES)
def test_environments_raises_the_first_finding_with_the_rule_code(
    module: RuleModule, bad: Fleet, where: list[str]
) -> None:
    first = next(iter(module.check(bad)))

    with pytest.raises(ConfigError) as caught:
        environments(bad)

    assert caught.value.code == module.RULE.code
    assert caught.value.field == where[0]
    assert caught.value.message == first.message
    assert str(caught.value) == f"{first.field}: {first.message}"


def test_environments_keeps_warnings_as_messages() -> None:
    bad = next(bad for module, _, bad, _ in CASES if module is p5_separate_accounts)
    [finding] = raise_first(bad)

    assert finding.code == "HO-P5-SHARED-ACCOUNT"
    assert finding.level is Level.WARNING
    assert environments(bad).warnings == (finding.message,)
    assert "333333333333" in finding.message
    assert "separate accounts" in finding.message


def test_raise_first_follows_the_order_of_the_rules() -> None:
    # GIVEN a fleet breaking the gamma rule and the shrink rule
    both = replace(
        COMPLIANT,
        gamma=gamma("us-west-2"),
        waves=(
            wave("Prod-1", "ca-central-1"),
            wave("Prod-2", "us-east-1", "eu-west-1"),
            wave("Prod-3", "sa-east-1"),
        ),
    )

    # THEN the pack order decides which is raised, and findings lists both
    with pytest.raises(ConfigError) as caught:
        raise_first(both)
    assert caught.value.code == "HO-P5-GAMMA-SINGLE-REGION"
    with pytest.raises(ConfigError) as caught:
        raise_first(both, (p8_waves_never_shrink, p5_gamma_multi_region))
    assert caught.value.code == "HO-P8-WAVES-SHRINK"
    assert [f.code for f in findings(both)] == ["HO-P5-GAMMA-SINGLE-REGION", "HO-P8-WAVES-SHRINK"]


def test_raise_first_with_warning_rules_only_never_raises() -> None:
    bad = replace(COMPLIANT, gamma=gamma("us-west-2", account=PROD))

    assert [f.code for f in raise_first(bad, (p5_separate_accounts,))] == ["HO-P5-SHARED-ACCOUNT"]


def test_catalog_lists_every_rule_once_with_a_known_practice_and_an_explanation() -> None:
    rules = catalog()

    assert rules == tuple(module.RULE for module in MODEL_RULES)
    assert len({rule.code for rule in rules}) == len(rules)
    for rule in rules:
        assert rule.practice in PRACTICE_IDS, rule.code
        assert rule.code.startswith(f"HO-{rule.practice}-")
        assert isinstance(rule.level, Level)
        assert 0 < len(rule.info) <= 80, rule.code
        assert len(rule.explanation) > len(rule.info), rule.code
        assert "Fix:" in rule.explanation, rule.code


def test_catalog_codes_are_stable() -> None:
    assert [(r.code, r.practice, r.level.value) for r in catalog()] == [
        ("HO-P5-GAMMA-SINGLE-REGION", "P5", "error"),
        ("HO-P6-GAMMA-ALL-AT-ONCE", "P6", "error"),
        ("HO-P8-REGION-TWICE", "P8", "error"),
        ("HO-P8-FIRST-WAVE-MULTI-REGION", "P8", "error"),
        ("HO-P8-WAVES-SHRINK", "P8", "error"),
        ("HO-P9-NO-ONE-BOX", "P9", "error"),
        ("HO-P9-ONE-BOX-TOO-LARGE", "P9", "error"),
        ("HO-P16-NO-BAKE", "P16", "error"),
        ("HO-P16-BAKE-TOO-SHORT", "P16", "error"),
        ("HO-P5-SHARED-ACCOUNT", "P5", "warning"),
    ]


@pytest.mark.parametrize(
    ("changes", "field", "fix"),
    [
        ({"code": "P8-WAVES"}, "Rule.code", "HO-<practice>-<WHAT>"),
        ({"code": "HO-P8-waves"}, "Rule.code", "in capitals"),
        ({"practice": "P9"}, "Rule.practice", "use practice='P8'"),
        ({"level": "error"}, "Rule.level", "must be a Level"),
        ({"explanation": " "}, "Rule.explanation", "write one"),
    ],
)
def test_rule_validation(changes: dict[str, Any], field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as caught:
        replace(p8_waves_never_shrink.RULE, **changes)

    assert caught.value.field == field
    assert fix in caught.value.message


def test_finding_reads_as_one_line_and_becomes_an_error() -> None:
    finding = p8_waves_never_shrink.RULE.finding("waves[2].targets", "too few; add one")

    assert finding == Finding(
        rule=p8_waves_never_shrink.RULE, field="waves[2].targets", message="too few; add one"
    )
    assert str(finding) == "error HO-P8-WAVES-SHRINK waves[2].targets: too few; add one"
    error = finding.error()
    assert (error.field, error.message, error.code) == (
        "waves[2].targets",
        "too few; add one",
        "HO-P8-WAVES-SHRINK",
    )


def test_config_error_code_is_optional_and_pickles() -> None:
    plain = ConfigError("f", "m")
    coded = pickle.loads(pickle.dumps(ConfigError("f", "m", code="HO-P8-WAVES-SHRINK")))

    assert plain.code is None
    assert (coded.field, coded.message, coded.code, str(coded)) == ("f", "m", "HO-P8-WAVES-SHRINK", "f: m")
    assert pickle.loads(pickle.dumps(plain)).code is None


def test_a_rule_is_a_rule_module() -> None:
    assert isinstance(p8_waves_never_shrink.RULE, Rule)
    assert callable(p8_waves_never_shrink.check)
