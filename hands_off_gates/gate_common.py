"""Shared helpers of the deployment-gate Lambdas (P14, P15, P16).

The modules of the ``hands_off_gates`` package import each other relatively
(``from .gate_common import ...``): the asset holds the package folder, and the
Lambda handlers are ``hands_off_gates.<module>.handler``.

What lives here:

- ``GateConfigError``: a config/input error that names the field and the fix.
- ``parse_instant`` / ``now_from_event`` / ``iso_utc``: time parsing that rejects
  naive datetimes (a time without an offset is ambiguous, so a gate refuses it).
- ``default_client_factory``: boto3 clients per (region, role), assuming the role
  with STS when one is given, cached across warm invocations; every client connects within
  3 s, reads within 10 s and retries in botocore's standard mode (3 attempts).
- ``read_each``: runs one read per region side by side, each answering by a deadline, so a
  hanging region reports "unreadable in <region>" instead of timing out the whole Lambda.
- ``log``: one JSON object per line on stdout (CloudWatch Logs Insights friendly).
- ``describe_error``: a short "Code: message" for any AWS/SDK exception.
- ``health_emf`` / ``emit_health``: the ``UnhealthyCopies`` metric a gate or bake mirrors.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from .contract import GATES_NAMESPACE, PIPELINE_DIMENSION, UNHEALTHY_COPIES_METRIC

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "MAX_ATTEMPTS",
    "READ_DEADLINE_SECONDS",
    "READ_TIMEOUT_SECONDS",
    "SERVICE_NAME",
    "TRANSIENT_ERROR_CODES",
    "ClientFactory",
    "DeadlineExceeded",
    "GateConfigError",
    "ReadOutcome",
    "client_config",
    "default_client_factory",
    "describe_error",
    "emit_health",
    "error_code",
    "health_emf",
    "is_transient",
    "iso_utc",
    "log",
    "now_from_event",
    "parse_instant",
    "read_each",
]

SERVICE_NAME = "hands-off-gates"

ClientFactory = Callable[[str | None, str | None], Any]
"""Returns a boto3 client for ``(region, role_arn)``; ``region`` None is the Lambda's own region,
``role_arn`` None its own credentials. Typed ``Any``: boto3 stubs are not bundled."""

# Refresh assumed-role credentials this long before they expire, so a client
# cached in a warm container never signs a request with expired credentials.
_CREDENTIAL_REFRESH_MARGIN = timedelta(minutes=5)
_ROLE_SESSION_NAME = "hands-off-gate"

CONNECT_TIMEOUT_SECONDS = 3
"""How long a client waits to connect to an endpoint before it gives up on that attempt."""

READ_TIMEOUT_SECONDS = 10
"""How long a client waits for an answer on an open connection before it gives up on that attempt."""

MAX_ATTEMPTS = 3
"""Attempts per call in all, the first included (botocore's standard retry mode, with backoff;
botocore's own ``max_attempts`` key would count retries only)."""

READ_DEADLINE_SECONDS = 25.0
"""How long :func:`read_each` waits for all its reads. A bake reads alarms, then traffic, each
within this deadline: both fit in the gate Lambdas' 60 s timeout, with room to answer."""

_MAX_READ_THREADS = 16

# boto3's default session is not thread-safe: clients are made under this lock, and the network
# calls (AssumeRole, the reads) happen outside it.
_CLIENTS_LOCK = threading.Lock()

T = TypeVar("T")

# Error codes that mean "try again later" rather than "this will never work".
TRANSIENT_ERROR_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "ServiceUnavailable",
        "InternalFailure",
        "InternalServiceError",
    }
)


class GateConfigError(ValueError):
    """A gate's configuration or input is invalid.

    Attributes:
        field: the path of the offending value, e.g. ``windows[0].timezone``.
        message: what is wrong and how to fix it.

    Example::

        raise GateConfigError("windows[0].start", "'9:00' is not HH:MM; write '09:00'")
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_instant(value: object, field: str) -> datetime:
    """Parse an ISO-8601 instant that carries a UTC offset.

    Args:
        value: the raw value, e.g. ``"2026-11-27T17:00:00Z"``.
        field: its path, named in the error.

    Returns:
        The aware datetime.

    Raises:
        GateConfigError: for a non-string, an unparsable string or a naive datetime (no offset:
            which time zone was meant?).

    >>> parse_instant("2026-11-27T17:00:00Z", "now").isoformat()
    '2026-11-27T17:00:00+00:00'
    """
    if not isinstance(value, str) or not value.strip():
        raise GateConfigError(field, f"expected an ISO-8601 string with an offset, got {value!r}")
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise GateConfigError(
            field,
            f"{text!r} is not an ISO-8601 date-time; write e.g. '2026-12-20T00:00:00Z'",
        ) from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise GateConfigError(
            field,
            f"{text!r} has no UTC offset; add one, e.g. '{text}Z' or '{text}+01:00'",
        )
    return parsed


def now_from_event(event: Mapping[str, Any], clock: Callable[[], datetime] | None = None) -> datetime:
    """The evaluation instant: the event's ``now`` (tests, replays) or the clock.

    Args:
        event: the gate's event.
        clock: returns the current aware instant. Default: the system clock, in UTC.

    Raises:
        GateConfigError: the event has a ``now`` that is not an ISO-8601 instant with an offset
            (it never silently falls back to the wall clock).
    """
    raw = event.get("now")
    if raw is not None:
        return parse_instant(raw, "now")
    return clock() if clock is not None else datetime.now(UTC)


def iso_utc(instant: datetime) -> str:
    """Format an aware datetime as ISO-8601 UTC with a ``Z`` suffix.

    >>> iso_utc(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    '2026-11-27T09:00:00Z'
    """
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def log(level: str, message: str, **fields: Any) -> None:
    """Write one structured JSON log line to stdout (one ``json.dumps`` per line)."""
    record: dict[str, Any] = {
        "level": level,
        "message": message,
        "timestamp": iso_utc(datetime.now(UTC)),
        "service": SERVICE_NAME,
    }
    record.update(fields)
    print(json.dumps(record, default=str, sort_keys=False), flush=True)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, else the exception class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            code = error.get("Code")
            if isinstance(code, str) and code:
                return code
    return type(exc).__name__


def describe_error(exc: BaseException) -> str:
    """A one-line "Code: message" description of any exception."""
    code = error_code(exc)
    response = getattr(exc, "response", None)
    message = ""
    if isinstance(response, Mapping):
        error = response.get("Error")
        if isinstance(error, Mapping):
            message = str(error.get("Message") or "")
    if not message:
        message = str(exc)
    return f"{code}: {message}" if message else code


def is_transient(exc: BaseException) -> bool:
    """True for throttling, service-side errors, timeouts and dropped connections: worth trying
    again later."""
    if isinstance(exc, DeadlineExceeded) or error_code(exc) in TRANSIENT_ERROR_CODES:
        return True
    # botocore connection/timeout errors (no AWS error code): retryable.
    name = type(exc).__name__
    return name.endswith(("ConnectionError", "TimeoutError")) or name in {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ConnectionClosedError",
    }


class DeadlineExceeded(Exception):
    """A read still running when :func:`read_each` stopped waiting for it (transient).

    Args:
        seconds: the deadline it missed.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no answer within {seconds:g} s")
        self.seconds = seconds


@dataclass(frozen=True)
class ReadOutcome(Generic[T]):
    """What one read of :func:`read_each` gave: its value, or the exception it raised.

    Attributes:
        value: the read's value. None when it failed.
        error: what it raised, or :class:`DeadlineExceeded`. None when it succeeded.
    """

    value: T | None = None
    error: BaseException | None = None

    def get(self) -> T:
        """The value.

        Raises:
            BaseException: what the read raised (:class:`DeadlineExceeded` if it did not finish).
        """
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]  # None only for a read returning None


def read_each(
    reads: Sequence[Callable[[], T]], *, deadline: float = READ_DEADLINE_SECONDS
) -> list[ReadOutcome[T]]:
    """Run each read in its own thread and collect what each gave, in order. Never raises.

    A read still running after ``deadline`` seconds is given up on (its outcome is a
    :class:`DeadlineExceeded` error) and left to finish on its own: one hanging region holds up
    neither the others nor the Lambda.

    Args:
        reads: functions of no arguments, e.g. one per region.
        deadline: how long to wait for all of them, in seconds. Default:
            :data:`READ_DEADLINE_SECONDS`.

    Example::

        outcomes = read_each([functools.partial(read, region) for region in regions])
    """
    if not reads:
        return []
    pool = ThreadPoolExecutor(max_workers=min(len(reads), _MAX_READ_THREADS))
    try:
        futures = [pool.submit(read) for read in reads]
        wait(futures, timeout=deadline)
        outcomes: list[ReadOutcome[T]] = []
        for future in futures:
            if not future.done():
                future.cancel()
                outcomes.append(ReadOutcome(error=DeadlineExceeded(deadline)))
            elif (error := future.exception()) is not None:
                outcomes.append(ReadOutcome(error=error))
            else:
                outcomes.append(ReadOutcome(value=future.result()))
        return outcomes
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def client_config() -> Any:
    """The botocore ``Config`` of every gate client: short timeouts, standard retries.

    Typed ``Any``: botocore stubs are not bundled.
    """
    from botocore.config import Config  # bundled with the Lambda runtime

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"total_max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )


@dataclass(frozen=True)
class _CachedClient:
    client: Any
    expires_at: datetime | None  # None: the function's own credentials


def default_client_factory(service: str, clock: Callable[[], datetime] | None = None) -> ClientFactory:
    """A ``ClientFactory`` making real boto3 clients for ``service``.

    Clients are cached per ``(region, role_arn)``. With a ``role_arn`` the factory
    calls ``sts:AssumeRole`` (regional STS endpoint) and refreshes the
    credentials 5 minutes before they expire. Every client, STS included, has the
    :func:`client_config` timeouts and retries. The factory may be called from several threads
    at once (:func:`read_each`). boto3 is imported lazily so pure-logic tests never need it.

    Args:
        service: the boto3 service name, e.g. ``"cloudwatch"``.
        clock: returns the current aware instant, to judge credential expiry. Default: the
            system clock, in UTC.

    Example::

        cloudwatch = default_client_factory("cloudwatch")
        client = cloudwatch("eu-west-1", "arn:aws:iam::111111111111:role/read-alarms")
    """
    cache: dict[tuple[str | None, str | None], _CachedClient] = {}
    now = clock if clock is not None else (lambda: datetime.now(UTC))

    def factory(region: str | None, role_arn: str | None) -> Any:
        import boto3  # bundled with the Lambda runtime

        key = (region, role_arn)
        region_name = region or os.environ.get("AWS_REGION") or None
        with _CLIENTS_LOCK:
            cached = cache.get(key)
            if cached is not None and (
                cached.expires_at is None or cached.expires_at - _CREDENTIAL_REFRESH_MARGIN > now()
            ):
                return cached.client
            if role_arn is None:
                client = boto3.client(service, region_name=region_name, config=client_config())
                cache[key] = _CachedClient(client, None)
                return client
            sts = boto3.client("sts", region_name=region_name, config=client_config())
        # The network call happens outside the lock: a hanging region's STS holds up no other region.
        credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName=_ROLE_SESSION_NAME)["Credentials"]
        expiration = credentials.get("Expiration")
        expires_at = (
            expiration
            if isinstance(expiration, datetime) and expiration.tzinfo is not None
            else now() + timedelta(minutes=15)
        )
        with _CLIENTS_LOCK:
            client = boto3.client(
                service,
                region_name=region_name,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                config=client_config(),
            )
            cache[key] = _CachedClient(client, expires_at)
        return client

    return factory


def health_emf(pipeline: str, unhealthy: int, at: datetime) -> dict[str, Any]:
    """The Embedded Metric Format record mirroring what a gate or bake saw of the service's health.

    It lands in the tooling account (``HandsOff/Gates UnhealthyCopies``, dimension ``Pipeline``),
    where CodePipeline's native ``CloudWatchAlarm`` stage conditions can watch it. Pure.

    Args:
        pipeline: the pipeline's name, the ``Pipeline`` dimension.
        unhealthy: how many copies were seen in ``ALARM``.
        at: the metric's timestamp.
    """
    return {
        "_aws": {
            "Timestamp": int(at.timestamp() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": GATES_NAMESPACE,
                    "Dimensions": [[PIPELINE_DIMENSION]],
                    "Metrics": [{"Name": UNHEALTHY_COPIES_METRIC, "Unit": "Count"}],
                }
            ],
        },
        PIPELINE_DIMENSION: pipeline,
        UNHEALTHY_COPIES_METRIC: unhealthy,
    }


def emit_health(event: Mapping[str, Any], unhealthy: int) -> None:
    """Print the health EMF record when the event names its pipeline (one JSON line)."""
    pipeline = event.get("pipeline")
    if isinstance(pipeline, str) and pipeline:
        print(json.dumps(health_emf(pipeline, unhealthy, datetime.now(UTC))), flush=True)
