"""Time-window gate (P15, X6): deploy only inside allowed windows, never in a blackout.

Config (JSON, as the state machine passes it)::

    {
      "windows": [
        {"days": ["MON", "TUE", "WED", "THU", "FRI"], "start": "09:00",
         "end": "17:00", "timezone": "America/Los_Angeles"}
      ],
      "blackouts": [
        {"start": "2026-12-20T00:00:00Z", "end": "2027-01-05T00:00:00Z",
         "reason": "year-end freeze"}
      ]
    }

Semantics:

- ``windows`` is required; an empty list means "always open" (only blackouts
  apply). ``blackouts`` defaults to ``[]``.
- A window whose ``end`` <= ``start`` crosses midnight and belongs to the day it
  starts: ``FRI 22:00-02:00`` is open Friday 22:00 to Saturday 02:00.
  ``start == end`` is rejected (use an empty ``windows`` list for "always").
- Each boundary is the *first instant the local wall clock reads that time* on
  that date (zoneinfo, so DST-correct). A boundary inside a spring-forward gap
  takes effect at the jump (02:30 on a day the clock goes 02:00 -> 03:00 means
  03:00 local); a boundary in a fall-back repeat takes its first occurrence. A
  window collapsed to nothing by a gap (02:00-02:30 on that day) does not open.
- Blackouts are half-open ``[start, end)`` instants with explicit offsets.
- ``next_open`` is the earliest instant >= now inside a window and outside
  every blackout, searched up to 14 days ahead (null beyond that).
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NotRequired, TypedDict
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from .gate_common import GateConfigError, iso_utc, parse_instant
from .handler import gate_handler

__all__ = [
    "DAYS",
    "SEARCH_HORIZON",
    "Blackout",
    "Window",
    "WindowConfig",
    "WindowDecision",
    "evaluate_window",
    "handler",
    "is_open_at",
    "parse_window_config",
]

DAYS: tuple[str, ...] = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
"""Day names; the index is ``date.weekday()``."""

SEARCH_HORIZON = timedelta(days=14)
"""How far ahead ``next_open`` is searched."""

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_WINDOW_KEYS = frozenset({"days", "start", "end", "timezone"})
_BLACKOUT_KEYS = frozenset({"start", "end", "reason"})
_CONFIG_KEYS = frozenset({"windows", "blackouts"})
_ONE_SECOND = timedelta(seconds=1)


@dataclass(frozen=True, kw_only=True)
class Window:
    """A weekly recurring window, in local time of ``timezone``.

    Attributes:
        days: ``date.weekday()`` numbers of the days the window *starts* on.
        start: local opening time.
        end: local closing time; at or before ``start``, the window crosses midnight.
        timezone: IANA zone name.
    """

    days: frozenset[int]
    start: time
    end: time
    timezone: str

    @property
    def crosses_midnight(self) -> bool:
        """True iff the window ends on the day after it starts."""
        return self.end <= self.start

    @property
    def label(self) -> str:
        """E.g. ``MON-FRI 09:00-17:00 America/Los_Angeles``."""
        return f"{_days_label(self.days)} {self.start:%H:%M}-{self.end:%H:%M} {self.timezone}"

    def occurrences(self, first: date, last: date) -> Iterator[tuple[datetime, datetime]]:
        """UTC ``[start, end)`` intervals of occurrences starting on local dates first..last."""
        zone = ZoneInfo(self.timezone)
        day = first
        while day <= last:
            if day.weekday() in self.days:
                opens = _wall_clock_instant(day, self.start, zone)
                end_day = day + timedelta(days=1) if self.crosses_midnight else day
                closes = _wall_clock_instant(end_day, self.end, zone)
                if closes > opens:
                    yield opens, closes
            day += timedelta(days=1)


@dataclass(frozen=True, kw_only=True)
class Blackout:
    """A half-open ``[start, end)`` period with no deployments.

    Attributes:
        start: first blocked instant (aware).
        end: first instant allowed again (aware).
        reason: why deployments are frozen.
    """

    start: datetime
    end: datetime
    reason: str

    def contains(self, instant: datetime) -> bool:
        """True iff ``instant`` is in the blackout."""
        return self.start <= instant < self.end


@dataclass(frozen=True, kw_only=True)
class WindowConfig:
    """A validated time-window config; build it with ``parse_window_config``.

    Attributes:
        windows: the allowed windows. Default: none, always open (only blackouts apply).
        blackouts: frozen periods. Default: none.
    """

    windows: tuple[Window, ...] = ()
    blackouts: tuple[Blackout, ...] = ()


class WindowDecision(TypedDict):
    """What the time-window gate returns.

    Attributes:
        open: True iff deploying is allowed now.
        reason: the window it is in, or every blocker and when it next opens.
        next_open: the earliest allowed instant from now (ISO-8601 UTC), None beyond the horizon.
    """

    open: bool
    reason: str
    next_open: str | None
    closed_by: NotRequired[list[str]]


# --------------------------------------------------------------------------- parsing


def parse_window_config(raw: object) -> WindowConfig:
    """Validate a raw (JSON) window config (:class:`~.contract.WindowInput`).

    Raises:
        GateConfigError: naming the field and the fix, for unknown keys, an unknown time zone, a
            bad ``HH:MM``, an unknown or empty day list, ``start == end``, naive or unparsable
            blackout instants, a blackout ``end <= start``, and overlapping blackouts.

    >>> cfg = parse_window_config({"windows": [], "blackouts": []})
    >>> cfg.windows
    ()
    """
    if not isinstance(raw, Mapping):
        raise GateConfigError(
            "window", f"expected an object with 'windows' and 'blackouts', got {_kind(raw)}"
        )
    _reject_unknown_keys(raw, _CONFIG_KEYS, "window")
    if "windows" not in raw:
        raise GateConfigError(
            "windows",
            'missing; list the allowed windows, or write "windows": [] to allow any time',
        )
    raw_windows = _as_list(raw["windows"], "windows")
    windows = tuple(_parse_window(item, f"windows[{i}]") for i, item in enumerate(raw_windows))
    raw_blackouts = _as_list(raw.get("blackouts", []), "blackouts")
    blackouts = tuple(_parse_blackout(item, f"blackouts[{i}]") for i, item in enumerate(raw_blackouts))
    _reject_overlaps(blackouts)
    return WindowConfig(windows=windows, blackouts=blackouts)


def _parse_window(raw: object, field: str) -> Window:
    if not isinstance(raw, Mapping):
        raise GateConfigError(field, f"expected an object, got {_kind(raw)}")
    _reject_unknown_keys(raw, _WINDOW_KEYS, field)
    for key in ("days", "start", "end", "timezone"):
        if key not in raw:
            raise GateConfigError(f"{field}.{key}", "missing; " + _WINDOW_EXAMPLE)
    days = _parse_days(raw["days"], f"{field}.days")
    start = _parse_hhmm(raw["start"], f"{field}.start")
    end = _parse_hhmm(raw["end"], f"{field}.end")
    if start == end:
        raise GateConfigError(
            f"{field}.end",
            f"equals start {raw['start']!r}: a window needs a length (end before start "
            "crosses midnight); for 'any time' use an empty \"windows\" list",
        )
    timezone = _parse_timezone(raw["timezone"], f"{field}.timezone")
    return Window(days=days, start=start, end=end, timezone=timezone)


_WINDOW_EXAMPLE = (
    'a window looks like {"days": ["MON", "FRI"], "start": "09:00", '
    '"end": "17:00", "timezone": "Europe/London"}'
)


def _parse_days(raw: object, field: str) -> frozenset[int]:
    items = _as_list(raw, field)
    if not items:
        raise GateConfigError(field, "empty; list at least one day (MON..SUN) or remove the window")
    days: set[int] = set()
    for i, item in enumerate(items):
        name = item.strip().upper() if isinstance(item, str) else None
        if name not in DAYS:
            raise GateConfigError(f"{field}[{i}]", f"{item!r} is not a day; use one of {', '.join(DAYS)}")
        days.add(DAYS.index(name))
    return frozenset(days)


def _parse_hhmm(raw: object, field: str) -> time:
    match = _HHMM.match(raw) if isinstance(raw, str) else None
    if match is None:
        raise GateConfigError(field, f"{raw!r} is not a 24-hour HH:MM time; write e.g. '09:00' or '22:30'")
    return time(int(match.group(1)), int(match.group(2)))


def _parse_timezone(raw: object, field: str) -> str:
    if not isinstance(raw, str) or not raw:
        raise GateConfigError(field, f"expected an IANA time zone name such as 'Europe/London', got {raw!r}")
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        close = difflib.get_close_matches(raw, sorted(available_timezones()), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else " (e.g. 'America/Los_Angeles')"
        raise GateConfigError(field, f"{raw!r} is not a known IANA time zone{hint}") from None
    return raw


def _parse_blackout(raw: object, field: str) -> Blackout:
    if not isinstance(raw, Mapping):
        raise GateConfigError(field, f"expected an object, got {_kind(raw)}")
    _reject_unknown_keys(raw, _BLACKOUT_KEYS, field)
    start = parse_instant(raw.get("start"), f"{field}.start")
    end = parse_instant(raw.get("end"), f"{field}.end")
    if end <= start:
        raise GateConfigError(
            f"{field}.end",
            f"{raw.get('end')!r} is not after start {raw.get('start')!r}; "
            "a blackout must end after it starts",
        )
    reason = raw.get("reason")
    if not isinstance(reason, str) or not reason.strip():
        raise GateConfigError(
            f"{field}.reason", "missing; say why deployments are frozen (e.g. 'year-end freeze')"
        )
    return Blackout(start=start, end=end, reason=reason.strip())


def _reject_overlaps(blackouts: Sequence[Blackout]) -> None:
    ordered = sorted(enumerate(blackouts), key=lambda pair: pair[1].start)
    for (i, earlier), (j, later) in itertools.pairwise(ordered):
        if later.start < earlier.end:
            first, second = sorted((i, j))
            raise GateConfigError(
                f"blackouts[{second}]",
                f"overlaps blackouts[{first}] ({blackouts[first].reason!r}); merge them into one blackout",
            )


def _reject_unknown_keys(raw: Mapping[Any, Any], allowed: frozenset[str], field: str) -> None:
    unknown = sorted(str(key) for key in raw if key not in allowed)
    if unknown:
        raise GateConfigError(
            f"{field}.{unknown[0]}" if field != "window" else unknown[0],
            f"unknown key; expected one of {', '.join(sorted(allowed))}",
        )


def _as_list(raw: object, field: str) -> list[Any]:
    if not isinstance(raw, list):
        raise GateConfigError(field, f"expected a list, got {_kind(raw)}")
    return raw


def _kind(raw: object) -> str:
    return "nothing" if raw is None else type(raw).__name__


# ------------------------------------------------------------------------ evaluation


def evaluate_window(config: WindowConfig, now: datetime) -> WindowDecision:
    """Is ``now`` inside a window and outside every blackout? When does it next open?

    Pure: no clock, no I/O.

    Raises:
        GateConfigError: ``now`` is naive.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise GateConfigError("now", "naive datetime; pass an aware datetime (e.g. UTC)")
    horizon = now + SEARCH_HORIZON
    intervals = _intervals(config.windows, now - timedelta(days=2), horizon)

    candidates = [now]
    candidates += [start for start, _, _ in intervals if now < start <= horizon]
    candidates += [b.end for b in config.blackouts if now < b.end <= horizon]
    next_open = next((t for t in sorted(candidates) if _open(config, intervals, t)), None)
    next_text = iso_utc(next_open) if next_open is not None else None

    if next_open == now:
        if config.windows:
            window = next(w for start, end, w in intervals if start <= now < end)
            reason = f"inside deployment window {window.label}"
        else:
            reason = "no deployment windows configured (any time allowed) and no blackout"
        return {"open": True, "reason": reason, "next_open": next_text, "closed_by": []}

    blockers: list[str] = []
    closed_by: list[str] = []
    blackout = next((b for b in config.blackouts if b.contains(now)), None)
    if blackout is not None:
        blockers.append(f"in blackout {blackout.reason!r} until {iso_utc(blackout.end)}")
        closed_by.append("blackout")
    if config.windows and not any(start <= now < end for start, end, _ in intervals):
        noun = "window" if len(config.windows) == 1 else "windows"
        blockers.append(f"outside deployment {noun} " + ", ".join(w.label for w in config.windows))
        closed_by.append("window")
    tail = (
        f"next opens {next_text}"
        if next_text is not None
        else f"no opening within {SEARCH_HORIZON.days} days"
    )
    return {
        "open": False,
        "reason": "; ".join([*blockers, tail]),
        "next_open": next_text,
        "closed_by": closed_by,
    }


def is_open_at(config: WindowConfig, instant: datetime) -> bool:
    """True iff ``instant`` is inside a window (or none are configured) and outside blackouts."""
    intervals = _intervals(config.windows, instant - timedelta(days=2), instant)
    return _open(config, intervals, instant)


def _open(
    config: WindowConfig,
    intervals: Sequence[tuple[datetime, datetime, Window]],
    instant: datetime,
) -> bool:
    if any(b.contains(instant) for b in config.blackouts):
        return False
    if not config.windows:
        return True
    return any(start <= instant < end for start, end, _ in intervals)


def _intervals(
    windows: Sequence[Window], since: datetime, until: datetime
) -> list[tuple[datetime, datetime, Window]]:
    """Occurrences of all windows that start on local dates spanning [since, until]."""
    result: list[tuple[datetime, datetime, Window]] = []
    for window in windows:
        zone = ZoneInfo(window.timezone)
        first = since.astimezone(zone).date() - timedelta(days=1)
        last = until.astimezone(zone).date() + timedelta(days=1)
        result += [(s, e, window) for s, e in window.occurrences(first, last)]
    result.sort(key=lambda item: item[0])
    return result


def _wall_clock_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant at which the wall clock in ``zone`` reads ``at`` on ``day`` (UTC).

    Ambiguous (fall-back) times take their first occurrence; times skipped by a
    spring-forward gap map to the instant of the jump.
    """
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0
    naive = local.replace(tzinfo=None)
    candidates = sorted(local.replace(fold=fold).astimezone(UTC) for fold in (0, 1))
    for instant in candidates:
        if instant.astimezone(zone).replace(tzinfo=None) == naive:
            return instant
    # In a gap: wall(lo) < at <= wall(hi); binary-search the jump to the second.
    lo, hi = candidates
    while hi - lo > _ONE_SECOND:
        mid = lo + (hi - lo) // 2
        mid = mid.replace(microsecond=0)
        if mid <= lo:
            break
        if mid.astimezone(zone).replace(tzinfo=None) >= naive:
            hi = mid
        else:
            lo = mid
    return hi


def _days_label(days: frozenset[int]) -> str:
    """MON-FRI for a run, MON,WED,FRI otherwise, DAILY for all seven."""
    if len(days) == len(DAYS):
        return "DAILY"
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and day == runs[-1][-1] + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    parts = [DAYS[run[0]] if len(run) == 1 else f"{DAYS[run[0]]}-{DAYS[run[-1]]}" for run in runs]
    return ",".join(parts)


# --------------------------------------------------------------------------- handler


def _closed(reason: str) -> WindowDecision:
    """The fail-closed result: closed, with no known opening."""
    return {"open": False, "reason": reason, "next_open": None}


def _level(decision: WindowDecision) -> str:
    # A window that will not open within the horizon (or a config that cannot) is worth a look.
    return "INFO" if decision["open"] or decision["next_open"] is not None else "WARN"


@gate_handler("time_window", title="time-window", on_error=_closed, level=_level)
def handler(event: Mapping[str, Any], *, now: datetime) -> WindowDecision:
    """Lambda entry point: ``{"window": <config>, "now": optional ISO}`` -> ``WindowDecision``.

    Fails closed: a malformed event or config, or any unexpected error, yields
    ``open: false`` with the reason.
    """
    try:
        config = parse_window_config(event.get("window"))
    except GateConfigError as exc:
        return _closed(f"time-window config invalid: {exc}")
    return evaluate_window(config, now)
