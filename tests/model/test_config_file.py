"""Loading a fleet TOML file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hands_off.model import (
    FAST_POLICY,
    ONE_BOX_POLICY,
    PREPROD_POLICY,
    AlarmPolicy,
    ConfigError,
    FleetFile,
    load_environments,
    load_plan,
)

FIXTURES = Path(__file__).parent / "fixtures"
FLEET = FIXTURES / "fleet.toml"
HAND = FIXTURES / "fleet_waves.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.toml"
    path.write_text(text, encoding="utf-8")
    return path


def edited(source: Path, old: str, new: str) -> str:
    text = source.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


def test_inventory_fleet_loads() -> None:
    env = load_environments(FLEET)

    assert env.toolchain.name == "tooling-us-east-1"
    assert env.toolchain.account.account_id == "111111111111"
    assert env.alpha.policy == PREPROD_POLICY
    assert env.gamma.regions == ("us-west-2", "eu-west-1")
    assert env.gamma.targets[0].account.account_id == "222222222222"
    assert env.gamma.policy == ONE_BOX_POLICY.with_(bake_minutes=45)
    assert env.alarm_policy == AlarmPolicy(fault_rate_percent=0.5, p99_latency_ms=1500)
    assert [w.name for w in env.waves] == ["Prod-1", "Prod-2", "Prod-3", "Prod-4"]
    assert env.waves[1].targets[0].az_count == 6
    assert env.waves[2].policy == FAST_POLICY.with_(step_percent=20)
    assert {t.account.account_id for t in env.production_targets} == {"333333333333"}


def test_inventory_plan_uses_traffic_shares() -> None:
    plan = load_plan(FLEET)

    assert [round(p.blast_radius, 6) for p in plan.waves] == [0.03, 0.35, 0.08, 0.54]
    assert plan.total_lead_time_minutes == 55 + 55 + 50 + 50


def test_factor_overrides_the_file() -> None:
    assert len(load_plan(FLEET, factor=1.0).waves) == 5


def test_hand_listed_fleet_loads() -> None:
    env = load_environments(str(HAND))
    plan = load_plan(HAND)

    assert [w.regions for w in env.waves][2] == ("ap-south-1", "sa-east-1")
    assert [w.policy for w in env.waves] == [ONE_BOX_POLICY, ONE_BOX_POLICY, FAST_POLICY, FAST_POLICY]
    assert [p.blast_radius for p in plan.waves] == [1 / 7, 1 / 7, 2 / 7, 3 / 7]


def test_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_environments(tmp_path / "nope.toml")


def test_fleet_file_schema_is_exported() -> None:
    assert "inventory" in FleetFile.model_json_schema()["properties"]


INVENTORY_CASES = [
    (
        'toolchain_region = "us-east-1"',
        'toolchain_region = "us-est-1"',
        "toolchain_region",
        "did you mean 'us-east-1'?",
    ),
    ('prod = "333333333333"', 'prod = "33333333333"', "accounts.prod", "give exactly 12 digits"),
    ('prod = "333333333333"', "prod = 333333333333", "accounts.prod", 'write "333333333333"'),
    ('prod = "333333333333"\n', "", "accounts.prod", "is required but missing; add it"),
    (
        "[planner]",
        "[planer]",
        "planer",
        "is not a known key (did you mean 'planner'?); remove it or fix its spelling",
    ),
    (
        'gamma = ["us-west-2", "eu-west-1"]',
        'gamma = ["us-west-2", "eu-wset-1"]',
        "stages.gamma.1",
        "did you mean 'eu-west-1'?",
    ),
    (
        'gamma = ["us-west-2", "eu-west-1"]',
        "gamma = []",
        "stages.gamma",
        "is empty; list at least one region",
    ),
    ('gamma = ["us-west-2", "eu-west-1"]', 'gamma = ["us-west-2"]', "stages.gamma", "add a second region"),
    (
        'alpha = ["us-west-2"]',
        'alpha = ["us-west-2", "us-west-2"]',
        "stages.alpha.1",
        "list each account and region once",
    ),
    ('region = "sa-east-1"', 'region = "sa-est-1"', "inventory.7.region", "did you mean 'sa-east-1'?"),
    ("traffic_share = 0.03", "traffic_share = 0.0", "inventory.0.traffic_share", "e.g. 0.05 for 5%"),
    ("traffic_share = 0.03", "traffic_share = 0.53", "inventory", "traffic shares sum to 1.5000, not 1"),
    ("az_count = 6", "az_count = 9", "inventory.1.az_count", "from 1 to 6"),
    ('region = "ap-south-1"', 'region = "us-east-1"', "inventory.8.region", "list each region once"),
    ("factor = 2.0", "factor = 0.5", "planner.factor", "at least 1.0"),
    ("factor = 2.0", 'factor = "fast"', "planner.factor", "must be a number, got 'fast'; write a number"),
    ("[policy.first]\nbake_minutes = 45", '[policy.first]\nshape = "linear"', "policy.first.shape", "CANARY"),
    (
        "[policy.first]\nbake_minutes = 45",
        "[policy.first]\nstep_percent = 20",
        "policy.first.step_percent",
        "at most 10%",
    ),
    (
        "[policy.first]\nbake_minutes = 45",
        "[policy.first]\nbake_minutes = 2",
        "policy.first.bake_minutes",
        "bake at least 3",
    ),
    ("[policy.first]\nbake_minutes = 45", '[policy.first]\nshape = "fast"', "policy.first.shape", "'canary'"),
    (
        "[policy.later]\nstep_percent = 20",
        "[policy.later]\nbake_minutes = 0",
        "policy.later.bake_minutes",
        "give it a bake",
    ),
    (
        "[policy.later]\nstep_percent = 20",
        "[policy.later]\nstep_percent = 100",
        "policy.later.step_percent",
        "from 1 to 99",
    ),
    ("fault_rate_percent = 0.5", "fault_rate_percent = 0", "alarms.fault_rate_percent", "(0.0, 100.0]"),
    (
        "fault_rate_percent = 0.5",
        "evaluation_periods = 50",
        "policy.first.bake_minutes",
        "shorten the alarm window",
    ),
    ("[planner]", "[planner\n", "fleet.toml", "is not valid TOML"),
    (
        "traffic_share = 0.03",
        "trafic_share = 0.03",
        "inventory.0.trafic_share",
        "is not a known key (did you mean 'traffic_share'?)",
    ),
]


# A value of the wrong type: the one line says what to write instead (not only pydantic's "Input
# should be a valid ..."), and the wrong value.
TYPE_CASES = [
    ("traffic_share = 0.35", 'traffic_share = "a lot"', "inventory.1.traffic_share", "write a number"),
    ("az_count = 6", "az_count = 6.5", "inventory.1.az_count", "write a whole number"),
    ("factor = 2.0", "factor = true", "planner.factor", "write a number"),
    ("bake_minutes = 45", 'bake_minutes = "45"', "policy.first.bake_minutes", "write 45 (without quotes)"),
    ('alpha = ["us-west-2"]', 'alpha = "us-west-2"', "stages.alpha", 'write a list, e.g. ["us-west-2"]'),
    ("[policy.first]\nbake_minutes = 45", "[policy]\nfirst = 45", "policy.first", "write a table"),
    (
        "[policy.first]\nbake_minutes = 45",
        '[policy]\nfirst = "bake_minutes = 45"',
        "policy.first",
        "write a table",
    ),
    # new-user trial: the hint must be right when followed literally
    (
        'gamma = ["us-west-2", "eu-west-1"]',
        'gamma = "us-west-2, eu-west-1"',
        "stages.gamma",
        'write a list, e.g. ["us-west-2", "eu-west-1"]',
    ),
    ("p99_latency_ms = 1500", "p99_latency_ms = 1500.0", "alarms.p99_latency_ms", "write 1500"),
    ("az_count = 6", 'az_count = "6"', "inventory.1.az_count", "write 6 (without quotes)"),
    (
        'toolchain_region = "us-east-1"',
        'toolchain_region = ["us-east-1"]',
        "toolchain_region",
        'write "us-east-1"',
    ),
    (
        "[policy.first]\nbake_minutes = 45",
        '[policy.first]\nshape = "Linear"',
        "policy.first.shape",
        'write "linear"',
    ),
]


# new-user trial: a misspelled key that is not required still gets its "did you mean"
SPELLING_CASES = [
    ("bake_minutes = 45", "bake_minute = 45", "policy.first.bake_minute", "bake_minutes"),
    ("fault_rate_percent = 0.5", "fault_rate_pct = 0.5", "alarms.fault_rate_pct", "fault_rate_percent"),
    ("[alarms]", "[alarm]", "alarm", "alarms"),
    ("[policy.first]", "[policy.frist]", "policy.frist", "first"),
    ("az_count = 6", "az_cout = 6", "inventory.1.az_cout", "az_count"),
]


@pytest.mark.parametrize(("old", "new", "field", "meant"), SPELLING_CASES)
def test_a_misspelled_optional_key_gets_a_suggestion(
    tmp_path: Path, old: str, new: str, field: str, meant: str
) -> None:
    path = write(tmp_path, edited(FLEET, old, new))

    with pytest.raises(ConfigError) as caught:
        load_plan(path)

    assert caught.value.field == field
    assert f"(did you mean {meant!r}?)" in caught.value.message


@pytest.mark.parametrize(("old", "new", "field", "fix"), TYPE_CASES)
def test_wrong_types_say_what_to_write(tmp_path: Path, old: str, new: str, field: str, fix: str) -> None:
    path = write(tmp_path, edited(FLEET, old, new))

    with pytest.raises(ConfigError) as caught:
        load_plan(path)

    assert caught.value.field == field
    assert fix in caught.value.message
    assert "got" in caught.value.message
    assert "\n" not in str(caught.value)
    if fix == "write a table":
        assert "quotes" not in caught.value.message


@pytest.mark.parametrize(("old", "new", "field", "fix"), INVENTORY_CASES)
def test_inventory_file_errors(tmp_path: Path, old: str, new: str, field: str, fix: str) -> None:
    path = write(tmp_path, edited(FLEET, old, new))

    with pytest.raises(ConfigError) as caught:
        load_plan(path)

    assert caught.value.field.endswith(field)
    assert fix in str(caught.value)
    assert "\n" not in str(caught.value)


HAND_CASES = [
    ('regions = ["us-east-1"]', 'regions = ["us-est-1"]', "waves.1.regions.0", "did you mean 'us-east-1'?"),
    (
        'regions = ["eu-central-1", "eu-west-1", "us-west-2"]',
        'regions = ["eu-central-1", "sa-east-1", "us-west-2"]',
        "waves.3.regions.1",
        "already in 'Prod-3'; a region is deployed by exactly one wave",
    ),
    (
        'regions = ["eu-central-1", "eu-west-1", "us-west-2"]',
        'regions = ["eu-central-1", "eu-central-1", "us-west-2"]',
        "waves.3.regions.1",
        "list each account and region once",
    ),
    (
        'regions = ["ca-central-1"]',
        'regions = ["ca-central-1", "ca-west-1"]',
        "waves.0.regions",
        "single low-traffic",
    ),
    (
        'regions = ["eu-central-1", "eu-west-1", "us-west-2"]',
        'regions = ["eu-central-1"]',
        "waves.3.regions",
        "waves must never shrink",
    ),
    ('name = "Prod-4"', 'name = "Prod-3"', "waves.3.name", "unique name"),
    ('name = "Prod-4"', 'name = "Prod 4"', "waves.3.name", "1 to 80 characters"),
    ('regions = ["ca-central-1"]', "regions = []", "waves.0.regions", "is empty; list at least one region"),
    ("[[waves]]", "[planner]\nfactor = 3.0\n\n[[waves]]", "planner.factor", "remove the factor"),
    (
        "[[waves]]",
        '[[inventory]]\nregion = "us-east-1"\ntraffic_share = 1.0\n\n[[waves]]',
        "waves",
        "cannot be combined with [[inventory]]",
    ),
]


@pytest.mark.parametrize(("old", "new", "field", "fix"), HAND_CASES)
def test_hand_listed_file_errors(tmp_path: Path, old: str, new: str, field: str, fix: str) -> None:
    path = write(tmp_path, edited(HAND, old, new))

    with pytest.raises(ConfigError) as caught:
        load_environments(path)

    assert caught.value.field == field
    assert fix in str(caught.value)


def test_neither_inventory_nor_waves(tmp_path: Path) -> None:
    text = HAND.read_text(encoding="utf-8")
    path = write(tmp_path, text[: text.index("[[waves]]")])

    with pytest.raises(ConfigError) as caught:
        load_environments(path)

    assert caught.value.field == "inventory"
    assert "add [[inventory]] entries" in str(caught.value)


def test_factor_with_hand_listed_waves(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_plan(HAND, factor=3.0)

    assert caught.value.field == "factor"
    assert "remove the factor" in str(caught.value)
