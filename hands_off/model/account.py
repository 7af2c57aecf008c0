"""An AWS account that pipelines or stages deploy into."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hands_off.model.errors import ConfigError

__all__ = ["Account"]

_ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
_ACCOUNT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$")


@dataclass(frozen=True, kw_only=True)
class Account:
    """A named AWS account.

    Example::

        Account(name="prod", account_id="333333333333")

    Attributes:
        name: a short role name used in target and stack names, e.g. ``"tooling"``,
            ``"preprod"``, ``"prod"`` (letters, digits, ``-``, ``_``; at most 63 characters).
        account_id: the 12-digit account id, as a string (ids may start with ``0``).
    """

    name: str
    account_id: str

    def __post_init__(self) -> None:
        """Validate the name and the 12-digit id."""
        if not isinstance(self.name, str) or not _ACCOUNT_NAME.fullmatch(self.name):
            raise ConfigError(
                "Account.name",
                f"{self.name!r} is not a valid account name; use letters, digits, '-' or '_' (e.g. 'prod')",
            )
        if not isinstance(self.account_id, str) or not _ACCOUNT_ID.fullmatch(self.account_id):
            raise ConfigError(
                "Account.account_id",
                f"{self.account_id!r} is not a 12-digit AWS account id; give exactly 12 digits "
                "as a quoted string, e.g. '123456789012'",
            )
