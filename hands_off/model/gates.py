"""Deployment-gate configuration (P14-P16, X5, X6): time windows, blackouts, org-wide alarms,
how long a gate waits, and what a bake needs to see. Pure Python, validated when built."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from hands_off.model._checks import check_int, check_sequence, described, show
from hands_off.model.errors import ConfigError

__all__ = [
    "BAKE_EVENTS_PER_POLL",
    "BAKE_TIMEOUT_SECONDS",
    "HISTORY_EVENT_LIMIT",
    "MAX_BAKE_POLLS",
    "MAX_GATE_CHECKS",
    "REGION_TIMEZONES",
    "Blackout",
    "GatePolicy",
    "TimeWindow",
]

HISTORY_EVENT_LIMIT = 25_000
"""Events one Step Functions (standard) execution history keeps; past it the execution fails."""

MAX_GATE_CHECKS = 600
"""Most re-checks one gate execution may make: each costs about 35 Step Functions history events
and an execution keeps at most 25,000."""

BAKE_EVENTS_PER_POLL = 14
"""History events of one bake poll: the override task and the watch task (each entered,
scheduled, started, succeeded, exited: the override is read again before every poll, so a
revoked hotfix stops lifting at the next one), the choice (entered, exited) and the wait
(entered, exited)."""

MAX_BAKE_POLLS = 1_600
"""Most polls one bake execution may make: 1,600 x 14 = 22,400 events, leaving about 2,600 of the
25,000 for the load, rollback check, retries and caught errors."""

BAKE_TIMEOUT_SECONDS = 2 * 86_400
"""The bake state machine's timeout (48 h). A bake that needs ``bake_min_requests`` keeps polling
until it has seen them, so a starved bake polls until this timeout."""

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

    Args:
        days: days the window starts on, a tuple of ``MON`` .. ``SUN`` (a list is accepted; a
            single string is an error: write ``("MON",)``). Default: Monday to Friday.
        start: ``HH:MM`` local time. Default: ``"09:00"``.
        end: ``HH:MM`` local time. Default: ``"17:00"``.
        timezone: IANA zone. Default: ``None`` = the local zone of each wave's region.
    """

    days: tuple[str, ...] = DAYS[:5]
    start: str = "09:00"
    end: str = "17:00"
    timezone: str | None = None

    def __post_init__(self) -> None:
        """Validate the days, the ``HH:MM`` times and the zone; store ``days`` as a tuple."""
        days = check_sequence(self.days, field="TimeWindow.days", item_type=str, fix=f"e.g. {DAYS[:5]!r}")
        if not days:
            raise ConfigError(
                "TimeWindow.days",
                f"is empty; use some of {', '.join(DAYS)} (or give GatePolicy no windows to allow any time)",
            )
        for day in days:
            if day not in DAYS:
                close = day.strip().upper()[:3]
                hint = f" (did you mean {close!r}?)" if close in DAYS else ""
                raise ConfigError(
                    "TimeWindow.days", f"{day!r} is not a day{hint}; use some of {', '.join(DAYS)}"
                )
        object.__setattr__(self, "days", days)
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _HHMM.match(value):
                raise ConfigError(f"TimeWindow.{name}", f"{show(value)} is not HH:MM, e.g. '09:00'")
        if self.start == self.end:
            raise ConfigError("TimeWindow.end", "equals start: give a real window, or no windows at all")
        if self.timezone is not None:
            if not isinstance(self.timezone, str):
                raise ConfigError(
                    "TimeWindow.timezone",
                    "must be an IANA time zone name such as 'Europe/London' (or None for the local "
                    f"zone of each wave's region), got {described(self.timezone)}",
                )
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
    """A period when nothing deploys (e.g. a year-end freeze): ``[start, end)``.

    Example::

        Blackout(start=datetime(2026, 12, 20, tzinfo=UTC), end=datetime(2027, 1, 5, tzinfo=UTC),
                 reason="year-end freeze")

    Args:
        start: first blocked instant, a timezone-aware ``datetime`` (not a string or a date).
        end: first instant allowed again, aware, after ``start``.
        reason: shown when a deployment is blocked; not blank.
    """

    start: datetime
    end: datetime
    reason: str

    def __post_init__(self) -> None:
        """Validate that start and end are aware datetimes in order and that a reason is given."""
        for name in ("start", "end"):
            value = getattr(self, name)
            example = _aware_example(value)
            if not isinstance(value, datetime):
                raise ConfigError(
                    f"Blackout.{name}",
                    f"must be a timezone-aware datetime, e.g. {example}, got {described(value)}",
                )
            if value.utcoffset() is None:
                raise ConfigError(f"Blackout.{name}", f"{value!r} has no time zone; give one, e.g. {example}")
        if self.end <= self.start:
            raise ConfigError(
                "Blackout.end", f"{self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ConfigError(
                "Blackout.reason",
                f"say why (it is shown when a deployment is blocked), e.g. 'year-end freeze'; "
                f"got {described(self.reason)}",
            )

    def config(self) -> dict[str, str]:
        return {"start": self.start.isoformat(), "end": self.end.isoformat(), "reason": self.reason}


def _aware_example(value: object) -> str:
    """``datetime(Y, M, D, tzinfo=UTC)`` for the day ``value`` names, if it names one."""
    day: date | None = value if isinstance(value, date) else None
    if isinstance(value, str):
        try:
            day = datetime.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        return "datetime(2026, 12, 20, tzinfo=UTC)"
    clock = ""
    if isinstance(day, datetime) and (day.hour or day.minute):
        clock = f", {day.hour}, {day.minute}"
    return f"datetime({day.year}, {day.month}, {day.day}{clock}, tzinfo=UTC)"


def _check_zone(zone: str, field_name: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tail = zone.lower().split("/")[-1]
        close = sorted(z for z in available_timezones() if tail and z.lower().endswith(tail))
        hint = f" (did you mean {close[0]!r}?)" if close else " (use an IANA name like 'Europe/London')"
        raise ConfigError(field_name, f"{zone!r} is not a time zone{hint}") from None


@dataclass(frozen=True, kw_only=True)
class GatePolicy:
    """What the gate before each wave checks and how the bake after it decides (P14-P16, X5).

    The four sequences are tuples; a list is accepted and stored as a tuple, but a single string
    or object is an error (``org_alarm_prefixes="org-"`` would otherwise be one prefix per letter).

    Args:
        windows: allowed start windows; empty = any time. Default: weekdays 09:00-17:00 local.
        blackouts: freeze periods. Default: none.
        org_alarm_names: organization-wide alarms (exact names, 1 to 255 characters) that block
            every deployment. Default: none.
        org_alarm_prefixes: organization-wide alarm name prefixes that block, e.g.
            ``("org-critical-",)``. Default: none.
        check_interval_seconds: wait between checks while blocked. Default: 600.
        max_wait_seconds: give up (fail the stage) after this long blocked; at most 7 days
            (the Step Functions action's limit). Default: 259200 (3 days: a block from Friday evening
            resumes by itself on Monday morning).
        bake_min_requests: requests a bake must see healthy (X5); 0 disables. Default: 0. A bake
            starved of requests polls until its 48 h timeout, so with requests required
            ``bake_poll_seconds`` must be at least 109 (:data:`MAX_BAKE_POLLS` polls in 48 h).
        bake_poll_seconds: how often the bake looks at the alarms; a bake may poll at most
            :data:`MAX_BAKE_POLLS` times (Step Functions keeps 25,000 history events), checked
            against each stage's ``bake_minutes`` when the pipeline is planned. Default: 60.
        override_max_hours: how far ahead an override's ``expires_at`` may be; a longer one lifts
            nothing. Default: 24 (at most 168, a week).
    """

    windows: tuple[TimeWindow, ...] = (TimeWindow(),)
    blackouts: tuple[Blackout, ...] = ()
    org_alarm_names: tuple[str, ...] = ()
    org_alarm_prefixes: tuple[str, ...] = ()
    check_interval_seconds: int = 600
    max_wait_seconds: int = 3 * 86_400
    bake_min_requests: int = 0
    bake_poll_seconds: int = 60
    override_max_hours: int = 24

    def __post_init__(self) -> None:
        """Validate every field; store the sequences as tuples (a list is accepted)."""
        windows = check_sequence(
            self.windows, field="GatePolicy.windows", item_type=TimeWindow, fix="give () for any time"
        )
        blackouts = check_sequence(self.blackouts, field="GatePolicy.blackouts", item_type=Blackout)
        alarms = {
            name: check_sequence(
                getattr(self, name), field=f"GatePolicy.{name}", item_type=str, fix=f"e.g. ({example!r},)"
            )
            for name, example in (("org_alarm_names", "org-outage"), ("org_alarm_prefixes", "org-critical-"))
        }
        for name, values in alarms.items():
            for index, alarm in enumerate(values):
                if not 1 <= len(alarm) <= 255:
                    raise ConfigError(
                        f"GatePolicy.{name}[{index}]",
                        f"{show(alarm)} has {len(alarm)} characters; CloudWatch alarm names are "
                        "1 to 255 characters",
                    )
            object.__setattr__(self, name, values)
        object.__setattr__(self, "windows", windows)
        object.__setattr__(self, "blackouts", blackouts)
        check_int(
            self.check_interval_seconds,
            field="GatePolicy.check_interval_seconds",
            low=1,
            high=86_400,
            fix="give the seconds between checks while blocked, e.g. 600",
        )
        check_int(
            self.max_wait_seconds,
            field="GatePolicy.max_wait_seconds",
            low=1,
            high=7 * 86_400,
            fix="at most a week, the Step Functions action's limit",
        )
        check_int(
            self.override_max_hours,
            field="GatePolicy.override_max_hours",
            low=1,
            high=168,
            fix="give the hours an override may last, at most a week (168)",
        )
        check_int(
            self.bake_min_requests,
            field="GatePolicy.bake_min_requests",
            low=0,
            fix="use 0 (disabled) or a count of requests",
        )
        check_int(
            self.bake_poll_seconds,
            field="GatePolicy.bake_poll_seconds",
            low=1,
            high=3600,
            fix="e.g. 60",
        )
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
        if self.bake_min_requests > 0:
            self.check_bake_fits(
                BAKE_TIMEOUT_SECONDS,
                what=(
                    f"with bake_min_requests={self.bake_min_requests}, a bake starved of requests "
                    "polls until its 48 h timeout:"
                ),
            )
        ordered = sorted(self.blackouts, key=lambda b: b.start)
        for before, after in pairwise(ordered):
            if after.start < before.end:
                raise ConfigError(
                    "GatePolicy.blackouts",
                    f"'{before.reason}' and '{after.reason}' overlap: merge them into one blackout",
                )

    def bake_polls(self, bake_seconds: int) -> int:
        """How many times a bake of ``bake_seconds`` polls (one more than the waits between)."""
        return -(-bake_seconds // self.bake_poll_seconds) + 1

    def check_bake_fits(self, bake_seconds: int, *, what: str) -> None:
        """Raise unless a bake polling for ``bake_seconds`` fits one execution's history.

        Args:
            bake_seconds: how long the bake may poll.
            what: names the bake in the message, e.g. ``"Prod-1 bakes 60 min:"``.

        Raises:
            ConfigError: on ``GatePolicy.bake_poll_seconds``, with the shortest poll that fits.
        """
        polls = self.bake_polls(bake_seconds)
        if polls > MAX_BAKE_POLLS:
            shortest = -(-bake_seconds // (MAX_BAKE_POLLS - 1))
            raise ConfigError(
                "GatePolicy.bake_poll_seconds",
                f"{what} {self.bake_poll_seconds}s polls over {bake_seconds}s are {polls} polls, more "
                f"than the {MAX_BAKE_POLLS} a bake execution can record (Step Functions keeps "
                f"{HISTORY_EVENT_LIMIT:,} history events, about {BAKE_EVENTS_PER_POLL} a poll): "
                f"poll less often, bake_poll_seconds={shortest} or more",
            )

    def window_config(self, region: str) -> dict[str, Any]:
        """The time-window Lambda's config for a wave in ``region``."""
        return {
            "windows": [w.config(region) for w in self.windows],
            "blackouts": [b.config() for b in self.blackouts],
        }
