"""Deployment-gate configuration (P14-P16, X5, X6): time windows, blackouts, org-wide alarms,
how long a gate waits, and what a bake needs to see. Pure Python, validated when built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hands_off.model.errors import ConfigError

__all__ = ["MAX_GATE_CHECKS", "REGION_TIMEZONES", "Blackout", "GatePolicy", "TimeWindow"]

MAX_GATE_CHECKS = 600
"""Most re-checks one gate execution may make: each costs about 35 Step Functions history events
and an execution keeps at most 25,000."""

DAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

REGION_TIMEZONES: dict[str, str] = {
    "us-east-1": "America/New_York",
    "us-east-2": "America/New_York",
    "us-west-1": "America/Los_Angeles",
    "us-west-2": "America/Los_Angeles",
    "af-south-1": "Africa/Johannesburg",
    "ap-east-1": "Asia/Hong_Kong",
    "ap-east-2": "Asia/Taipei",
    "ap-south-1": "Asia/Kolkata",
    "ap-south-2": "Asia/Kolkata",
    "ap-southeast-1": "Asia/Singapore",
    "ap-southeast-2": "Australia/Sydney",
    "ap-southeast-3": "Asia/Jakarta",
    "ap-southeast-4": "Australia/Melbourne",
    "ap-southeast-5": "Asia/Kuala_Lumpur",
    "ap-southeast-6": "Pacific/Auckland",
    "ap-southeast-7": "Asia/Bangkok",
    "ap-northeast-1": "Asia/Tokyo",
    "ap-northeast-2": "Asia/Seoul",
    "ap-northeast-3": "Asia/Tokyo",
    "ca-central-1": "America/Toronto",
    "ca-west-1": "America/Edmonton",
    "eu-central-1": "Europe/Berlin",
    "eu-central-2": "Europe/Zurich",
    "eu-west-1": "Europe/Dublin",
    "eu-west-2": "Europe/London",
    "eu-west-3": "Europe/Paris",
    "eu-south-1": "Europe/Rome",
    "eu-south-2": "Europe/Madrid",
    "eu-north-1": "Europe/Stockholm",
    "il-central-1": "Asia/Jerusalem",
    "me-south-1": "Asia/Bahrain",
    "me-central-1": "Asia/Dubai",
    "mx-central-1": "America/Mexico_City",
    "sa-east-1": "America/Sao_Paulo",
}
"""Local time zone of each region: the default for a wave's windows (follow the sun, X6)."""


@dataclass(frozen=True, kw_only=True)
class TimeWindow:
    """When a deployment may start (P15). ``end <= start`` crosses midnight.

    :param days: days the window starts on. Default: Monday to Friday.
    :param start: ``HH:MM`` local time. Default: ``"09:00"``.
    :param end: ``HH:MM`` local time. Default: ``"17:00"``.
    :param timezone: IANA zone. Default: ``None`` = the local zone of each wave's region.
    """

    days: tuple[str, ...] = DAYS[:5]
    start: str = "09:00"
    end: str = "17:00"
    timezone: str | None = None

    def __post_init__(self) -> None:
        unknown = [d for d in self.days if d not in DAYS]
        if not self.days or unknown:
            raise ConfigError("TimeWindow.days", f"{unknown or 'nothing'}: use some of {', '.join(DAYS)}")
        for name in ("start", "end"):
            if not _HHMM.match(getattr(self, name)):
                raise ConfigError(f"TimeWindow.{name}", f"{getattr(self, name)!r} is not HH:MM, e.g. '09:00'")
        if self.start == self.end:
            raise ConfigError("TimeWindow.end", "equals start: give a real window, or no windows at all")
        if self.timezone is not None:
            _check_zone(self.timezone, "TimeWindow.timezone")

    def config(self, region: str) -> dict[str, Any]:
        """The window as the time-window Lambda reads it, in ``region``'s zone unless set."""
        return {
            "days": list(self.days),
            "start": self.start,
            "end": self.end,
            "timezone": self.timezone or REGION_TIMEZONES.get(region, "UTC"),
        }


@dataclass(frozen=True, kw_only=True)
class Blackout:
    """A period when nothing deploys (e.g. a year-end freeze): ``[start, end)``, aware datetimes."""

    start: datetime
    end: datetime
    reason: str

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if getattr(self, name).tzinfo is None:
                raise ConfigError(f"Blackout.{name}", "give a time zone, e.g. datetime(..., tzinfo=UTC)")
        if self.end <= self.start:
            raise ConfigError(
                "Blackout.end", f"{self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        if not self.reason.strip():
            raise ConfigError("Blackout.reason", "say why (it is shown when a deployment is blocked)")

    def config(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "reason": self.reason}


def _check_zone(zone: str, field_name: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        close = sorted(z for z in available_timezones() if z.lower().endswith(zone.lower().split("/")[-1]))
        hint = f" (did you mean {close[0]!r}?)" if close else " (use an IANA name like 'Europe/London')"
        raise ConfigError(field_name, f"{zone!r} is not a time zone{hint}") from None


@dataclass(frozen=True, kw_only=True)
class GatePolicy:
    """What the gate before each wave checks and how the bake after it decides (P14-P16, X5).

    :param windows: allowed start windows; empty = any time. Default: weekdays 09:00-17:00 local.
    :param blackouts: freeze periods. Default: none.
    :param org_alarm_names: organization-wide alarms (exact names) that block every deployment.
    :param org_alarm_prefixes: organization-wide alarm name prefixes that block.
    :param check_interval_seconds: wait between checks while blocked. Default: 600.
    :param max_wait_seconds: give up (fail the stage) after this long blocked; at most 7 days
        (the Step Functions action's limit). Default: 259200 (3 days: a block from Friday evening
        resumes by itself on Monday morning).
    :param bake_min_requests: requests a bake must see healthy (X5); 0 disables. Default: 0.
    :param bake_poll_seconds: how often the bake looks at the alarms. Default: 60.
    """

    windows: tuple[TimeWindow, ...] = (TimeWindow(),)
    blackouts: tuple[Blackout, ...] = ()
    org_alarm_names: tuple[str, ...] = ()
    org_alarm_prefixes: tuple[str, ...] = ()
    check_interval_seconds: int = 600
    max_wait_seconds: int = 3 * 86_400
    bake_min_requests: int = 0
    bake_poll_seconds: int = 60

    def __post_init__(self) -> None:
        if not 1 <= self.check_interval_seconds <= 86_400:
            raise ConfigError("GatePolicy.check_interval_seconds", "use 1..86400 seconds")
        if not 1 <= self.max_wait_seconds <= 7 * 86_400:
            raise ConfigError("GatePolicy.max_wait_seconds", "use 1..604800 seconds (at most a week)")
        if self.check_interval_seconds > self.max_wait_seconds:
            raise ConfigError(
                "GatePolicy.check_interval_seconds",
                f"{self.check_interval_seconds}s is longer than max_wait_seconds {self.max_wait_seconds}s: "
                "the gate would give up before checking twice",
            )
        checks = self.max_wait_seconds // self.check_interval_seconds
        if checks > MAX_GATE_CHECKS:
            raise ConfigError(
                "GatePolicy.check_interval_seconds",
                f"{self.check_interval_seconds}s over {self.max_wait_seconds}s is {checks} checks, "
                f"more than the {MAX_GATE_CHECKS} a gate execution can record (Step Functions keeps "
                "25,000 history events): "
                f"use at least {-(-self.max_wait_seconds // MAX_GATE_CHECKS)}s",
            )
        if self.bake_min_requests < 0:
            raise ConfigError("GatePolicy.bake_min_requests", "use 0 (disabled) or a positive count")
        if not 1 <= self.bake_poll_seconds <= 3600:
            raise ConfigError("GatePolicy.bake_poll_seconds", "use 1..3600 seconds")
        ordered = sorted(self.blackouts, key=lambda b: b.start)
        for before, after in pairwise(ordered):
            if after.start < before.end:
                raise ConfigError(
                    "GatePolicy.blackouts",
                    f"'{before.reason}' and '{after.reason}' overlap: merge them into one blackout",
                )
        for name in (*self.org_alarm_names, *self.org_alarm_prefixes):
            if not name or len(name) > 255:
                raise ConfigError(
                    "GatePolicy.org_alarm_names", f"{name!r}: alarm names are 1..255 characters"
                )

    def window_config(self, region: str) -> dict[str, Any]:
        """The time-window Lambda's config for a wave in ``region``."""
        return {
            "windows": [w.config(region) for w in self.windows],
            "blackouts": [b.config() for b in self.blackouts],
        }
