"""One wrapper for every gate Lambda: read the event, inject time and clients, fail closed, log.

Each gate module writes only its pure core, a function of the event (a JSON object), the
evaluation instant and the AWS client factories it asks for, and lets :func:`gate_handler`
make it a Lambda handler, in the style of Powertools' handler decorators::

    @gate_handler("bake", on_error=_failed, clients=("cloudwatch",))
    def handler(event: Mapping[str, Any], *, now: datetime, cloudwatch: ClientFactory) -> BakeResult:
        return evaluate_bake(..., now=now, client_factory=cloudwatch)

The wrapper, the same for all six gates:

1. checks that the event is a JSON object;
2. takes the instant to judge from the event's ``now`` (tests, replays) or from the clock;
3. passes one :data:`~.gate_common.ClientFactory` per service the gate names, made once per
   container (clients are cached across warm invocations);
4. fails closed: a :class:`~.gate_common.GateConfigError` becomes the gate's own blocking result
   with the reason ``"<gate> event invalid: <field>: <problem>"``, and any other exception
   ``"<gate> check failed (<Code>: <message>)"`` — a gate that cannot read what it needs blocks
   and says why;
5. logs the result as one JSON line (:func:`~.gate_common.log`), ``ERROR`` when it failed closed.

Tests inject the clock and the clients per call (``handler(event, None, clock=..., clients=...)``)
or for every call by replacing entries of ``handler.clients``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from .gate_common import (
    ClientFactory,
    GateConfigError,
    default_client_factory,
    describe_error,
    iso_utc,
    log,
    now_from_event,
)

__all__ = ["Clock", "GateHandler", "gate_handler"]

Clock = Callable[[], datetime]
"""Returns the current instant, timezone-aware."""

R = TypeVar("R", bound=Mapping[str, Any])

_LOG_FIELDS: tuple[str, ...] = ("pipeline", "stage")


class GateHandler(Generic[R]):
    """A gate's Lambda handler: its pure core wrapped by :func:`gate_handler`.

    Called by Lambda as ``handler(event, context)``; see the module docstring for what it does
    around the core.

    Attributes:
        gate: the gate's name, the ``gate`` field of its log line (e.g. ``"time_window"``).
        title: how its reasons name it (e.g. ``"time-window"``).
        services: the boto3 services whose client factories the core takes, as keyword arguments
            of the same names.
        clients: the factory passed for each service. Default: a
            :func:`~.gate_common.default_client_factory` per service, made at import (no boto3
            import until the first client). Replace an entry to inject a fake for every call.
        core: the wrapped function.
    """

    def __init__(
        self,
        core: Callable[..., R],
        *,
        gate: str,
        title: str,
        on_error: Callable[[str], R],
        services: Sequence[str],
        level: Callable[[R], str] | None,
        message: Callable[[R], str] | None,
        log_fields: Sequence[str],
        event_now: bool = True,
    ) -> None:
        functools.update_wrapper(self, core)
        self.core = core
        self.gate = gate
        self.title = title
        self.services = tuple(services)
        self.clients: dict[str, ClientFactory] = {name: default_client_factory(name) for name in services}
        self._on_error = on_error
        self._level = level
        self._message = message
        self._log_fields = tuple(log_fields)
        self._event_now = event_now

    def __call__(
        self,
        event: Any,
        context: object,
        *,
        clock: Clock | None = None,
        clients: Mapping[str, ClientFactory] | None = None,
    ) -> R:
        """Run the gate on ``event``; never raises for anything the event or AWS does.

        Args:
            event: the Lambda event; anything but a JSON object fails closed.
            context: the Lambda context (unused).
            clock: where "now" comes from when the event has no ``now``. Default: the system
                clock, in UTC.
            clients: factories replacing :attr:`clients` for this call, by service name.

        Returns:
            The core's result, or the gate's fail-closed result naming what went wrong.

        Raises:
            TypeError: ``clients`` names a service the gate does not use (a test bug).
        """
        factories = self._factories(clients)
        fields: dict[str, Any] = {}
        try:
            if not isinstance(event, Mapping):
                raise GateConfigError("event", f"expected a JSON object, got {_kind(event)}")
            fields.update((key, event[key]) for key in self._log_fields if isinstance(event.get(key), str))
            # A gate whose event may come from anyone judges at its own clock: an event's "now"
            # could bring back an expired override (event_now=False).
            now = now_from_event(event if self._event_now else {}, clock)
            fields["now"] = iso_utc(now)
            result = self.core(event, now=now, **factories)
            if not isinstance(result, Mapping):
                raise TypeError(f"the {self.gate} gate returned {_kind(result)}, not a result object")
            level = self._level(result) if self._level is not None else "INFO"
            message = self._message(result) if self._message is not None else str(result.get("reason", ""))
        except GateConfigError as exc:
            message = f"{self.title} event invalid: {exc}"
            result, level = self._on_error(message), "ERROR"
        except Exception as exc:  # fail closed: a crashed gate never lets a deployment through
            message = f"{self.title} check failed ({describe_error(exc)})"
            result, level = self._on_error(message), "ERROR"
        fields.update((k, v) for k, v in result.items() if not (k == "reason" and v == message))
        log(level, message, **{"gate": self.gate, **fields})
        return result

    def _factories(self, overrides: Mapping[str, ClientFactory] | None) -> dict[str, ClientFactory]:
        unknown = sorted(set(overrides or {}) - set(self.services))
        if unknown:
            raise TypeError(
                f"the {self.gate} gate uses no {unknown[0]!r} client; "
                f"it takes {', '.join(map(repr, self.services)) or 'none'}"
            )
        return {**self.clients, **(overrides or {})}


def gate_handler(
    gate: str,
    *,
    on_error: Callable[[str], R],
    clients: Sequence[str] = (),
    title: str | None = None,
    level: Callable[[R], str] | None = None,
    message: Callable[[R], str] | None = None,
    log_fields: Sequence[str] = _LOG_FIELDS,
    event_now: bool = True,
) -> Callable[[Callable[..., R]], GateHandler[R]]:
    """Make a gate's pure core its Lambda handler (see the module docstring).

    The core is called as ``core(event, now=<aware datetime>, <service>=<ClientFactory>, ...)``
    with ``event`` a JSON object. It may raise :class:`~.gate_common.GateConfigError` for an
    invalid input; any exception fails closed.

    Args:
        gate: the gate's name, logged as the ``gate`` field, e.g. ``"alarms"``.
        on_error: builds the gate's blocking result from a reason (a non-empty sentence naming
            the error); it must not raise.
        clients: boto3 service names (Python identifiers, e.g. ``"cloudwatch"``); the core gets a
            client factory for each as a keyword argument of that name. Default: none.
        title: how reasons name the gate. Default: ``gate``.
        level: the log level of a result. Default: ``"INFO"`` (``"ERROR"`` when it failed closed).
        message: the log message of a result. Default: its ``reason``.
        log_fields: event keys logged with the result when they hold strings. Default:
            ``("pipeline", "stage")``.
        event_now: judge at the event's ``now`` when it has one (tests, replays). ``False``: at
            the clock only (tests inject ``clock=``), for a handler whose callers are not all the
            state machine (the hotfix function: an old ``now`` would revive an expired override).
            Default: ``True``.

    Returns:
        A decorator turning the core into a :class:`GateHandler`.

    Example::

        @gate_handler("time_window", title="time-window", on_error=_closed)
        def handler(event: Mapping[str, Any], *, now: datetime) -> WindowDecision:
            return evaluate_window(parse_window_config(event.get("window")), now)
    """

    def wrap(core: Callable[..., R]) -> GateHandler[R]:
        return GateHandler(
            core,
            gate=gate,
            title=title if title is not None else gate,
            on_error=on_error,
            services=clients,
            level=level,
            message=message,
            log_fields=log_fields,
            event_now=event_now,
        )

    return wrap


def _kind(value: object) -> str:
    return "nothing" if value is None else type(value).__name__
