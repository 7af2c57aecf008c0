"""ConfigError, regions, accounts and targets."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest

from hands_off.model import KNOWN_REGIONS, Account, ConfigError, Target, validate_region

PROD = Account(name="prod", account_id="333333333333")


def test_config_error_is_one_line_with_field_and_message() -> None:
    err = ConfigError("waves.1.regions.0", "is wrong; fix it")

    assert str(err) == "waves.1.regions.0: is wrong; fix it"
    assert (err.field, err.message) == ("waves.1.regions.0", "is wrong; fix it")
    assert isinstance(err, ValueError)


def test_config_error_pickles() -> None:
    err = pickle.loads(pickle.dumps(ConfigError("f", "m")))

    assert (err.field, err.message, str(err)) == ("f", "m", "f: m")


def test_known_regions_cover_the_public_commercial_regions() -> None:
    assert {"us-east-1", "ap-southeast-7", "mx-central-1", "ca-west-1", "il-central-1"} <= KNOWN_REGIONS
    assert "us-gov-west-1" not in KNOWN_REGIONS
    assert "cn-north-1" not in KNOWN_REGIONS


def test_validate_region_accepts_known_regions() -> None:
    for region in KNOWN_REGIONS:
        validate_region(region, "region")


def test_validate_region_suggests_the_closest_region() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_region("us-est-1", "waves.1.regions.0")

    assert str(caught.value) == (
        "waves.1.regions.0: 'us-est-1' is not a known AWS region (did you mean 'us-east-1'?)"
    )


def test_validate_region_suggests_for_upper_case() -> None:
    with pytest.raises(ConfigError, match="did you mean 'eu-west-1'"):
        validate_region("EU-WEST-1", "region")


def test_validate_region_without_a_close_match_names_an_example() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_region("mars", "Target.region")

    assert caught.value.field == "Target.region"
    assert "such as 'us-east-1'" in str(caught.value)


def test_validate_region_rejects_non_strings() -> None:
    with pytest.raises(ConfigError, match="must be a region code string"):
        validate_region(3, "region")  # type: ignore[arg-type]


def test_account_accepts_twelve_digits_with_leading_zero() -> None:
    assert Account(name="prod", account_id="012345678901").account_id == "012345678901"


@pytest.mark.parametrize("account_id", ["12345678901", "1234567890123", "12345678901a", 123456789012])
def test_account_id_must_be_twelve_digits(account_id: object) -> None:
    with pytest.raises(ConfigError) as caught:
        Account(name="prod", account_id=account_id)  # type: ignore[arg-type]

    assert caught.value.field == "Account.account_id"
    assert "give exactly 12 digits as a quoted string" in str(caught.value)


@pytest.mark.parametrize("name", ["", "has space", "-dash-first"])
def test_account_name_must_be_simple(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Account(name=name, account_id="333333333333")

    assert caught.value.field == "Account.name"
    assert "use letters, digits" in str(caught.value)


def test_target_name_is_account_and_region() -> None:
    assert Target(account=PROD, region="us-east-1").name == "prod-us-east-1"
    assert Target(account=PROD, region="us-east-1").az_count == 3


def test_target_rejects_unknown_region() -> None:
    with pytest.raises(ConfigError) as caught:
        Target(account=PROD, region="us-est-1")

    assert caught.value.field == "Target.region"
    assert "did you mean 'us-east-1'?" in str(caught.value)


@pytest.mark.parametrize("az_count", [0, 7, True, 2.0])
def test_target_az_count_is_one_to_six(az_count: object) -> None:
    with pytest.raises(ConfigError) as caught:
        Target(account=PROD, region="us-east-1", az_count=az_count)  # type: ignore[arg-type]

    assert caught.value.field == "Target.az_count"
    assert "from 1 to 6" in str(caught.value)


def test_target_account_must_be_an_account() -> None:
    with pytest.raises(ConfigError, match=r"Target\.account: must be an Account"):
        Target(account="prod", region="us-east-1")  # type: ignore[arg-type]


def test_model_does_not_import_aws_cdk() -> None:
    package = Path(__file__).resolve().parents[2] / "hands_off" / "model"
    sources = sorted(package.rglob("*.py"))

    assert sources
    for source in sources:
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(aws_cdk|constructs|cdk_nag)\b", text, re.M), source
