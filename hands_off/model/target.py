"""One deployment target: an account and a region."""

from __future__ import annotations

from dataclasses import dataclass

from hands_off.model._checks import check_int
from hands_off.model.account import Account
from hands_off.model.errors import ConfigError
from hands_off.model.regions import validate_region

__all__ = ["Target"]


@dataclass(frozen=True, kw_only=True)
class Target:
    """Where one copy of the service runs: an account in a region.

    Example::

        Target(account=Account(name="prod", account_id="333333333333"), region="eu-west-1")

    Attributes:
        account: the account deployed into.
        region: a region code from ``KNOWN_REGIONS``.
        az_count: availability zones the service uses in the region, 1 to 6.
            Default: ``3``.
    """

    account: Account
    region: str
    az_count: int = 3

    def __post_init__(self) -> None:
        """Validate the account type, the region and the AZ count."""
        if not isinstance(self.account, Account):
            raise ConfigError("Target.account", f"must be an Account, got {type(self.account).__name__}")
        validate_region(self.region, "Target.region")
        check_int(self.az_count, field="Target.az_count", low=1, high=6)

    @property
    def name(self) -> str:
        """``account.name + "-" + region``, e.g. ``"prod-us-east-1"``."""
        return f"{self.account.name}-{self.region}"
