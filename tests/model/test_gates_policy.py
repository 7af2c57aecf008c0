"""GatePolicy, TimeWindow and Blackout: validated at synth time with the field and the fix."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hands_off.model import KNOWN_REGIONS, REGION_TIMEZONES, Blackout, ConfigError, GatePolicy, TimeWindow


def test_default_window_follows_the_region_local_time() -> None:
    config = GatePolicy().window_config("ap-southeast-2")
    assert config["windows"][0]["timezone"] == "Australia/Sydney"
    assert config["windows"][0]["days"] == ["MON", "TUE", "WED", "THU", "FRI"]


def test_every_known_region_has_a_time_zone() -> None:
    assert set(KNOWN_REGIONS) <= set(REGION_TIMEZONES)


@pytest.mark.parametrize(
    ("build", "field", "fix"),
    [
        (lambda: TimeWindow(timezone="Europe/Lundon"), "TimeWindow.timezone", "is not a time zone"),
        (lambda: TimeWindow(start="9am"), "TimeWindow.start", "HH:MM"),
        (lambda: TimeWindow(start="10:00", end="10:00"), "TimeWindow.end", "equals start"),
        (lambda: TimeWindow(days=("MON", "FUN")), "TimeWindow.days", "MON"),
        (
            lambda: Blackout(
                start=datetime(2027, 1, 5, tzinfo=UTC), end=datetime(2026, 12, 20, tzinfo=UTC), reason="x"
            ),
            "Blackout.end",
            "is not after start",
        ),
        (
            lambda: Blackout(start=datetime(2026, 12, 20), end=datetime(2027, 1, 5), reason="x"),
            "Blackout.start",
            "zone",
        ),
        (
            lambda: GatePolicy(check_interval_seconds=600, max_wait_seconds=300),
            "GatePolicy.check_interval_seconds",
            "longer than",
        ),
        (
            lambda: GatePolicy(
                blackouts=(
                    Blackout(
                        start=datetime(2026, 12, 20, tzinfo=UTC),
                        end=datetime(2027, 1, 5, tzinfo=UTC),
                        reason="freeze",
                    ),
                    Blackout(
                        start=datetime(2027, 1, 1, tzinfo=UTC),
                        end=datetime(2027, 1, 2, tzinfo=UTC),
                        reason="new year",
                    ),
                )
            ),
            "GatePolicy.blackouts",
            "overlap",
        ),
    ],
)
def test_bad_gate_config_names_field_and_fix(build: object, field: str, fix: str) -> None:
    with pytest.raises(ConfigError) as error:
        build()  # type: ignore[operator]
    assert error.value.field == field
    assert fix in error.value.message


def test_blackout_across_year_end_is_rendered_for_the_lambda() -> None:
    freeze = Blackout(
        start=datetime(2026, 12, 20, tzinfo=UTC), end=datetime(2027, 1, 5, tzinfo=UTC), reason="freeze"
    )
    config = GatePolicy(blackouts=(freeze,)).window_config("us-east-1")
    assert config["blackouts"] == [
        {"start": "2026-12-20T00:00:00+00:00", "end": "2027-01-05T00:00:00+00:00", "reason": "freeze"}
    ]


def test_rendered_config_is_what_the_time_window_lambda_accepts() -> None:
    """The synth-time model and the gate Lambda agree on the window format."""
    from hands_off_gates import time_window

    freeze = Blackout(
        start=datetime(2026, 12, 20, tzinfo=UTC), end=datetime(2027, 1, 5, tzinfo=UTC), reason="freeze"
    )
    config = GatePolicy(windows=(TimeWindow(start="22:00", end="02:00"),), blackouts=(freeze,))
    parsed = time_window.parse_window_config(config.window_config("eu-west-2"))
    decision = time_window.evaluate_window(parsed, datetime(2026, 12, 24, 23, 0, tzinfo=UTC))
    assert decision["open"] is False  # inside the window, but frozen
    assert decision["next_open"] is not None


def test_default_waits_span_a_weekend_and_fit_step_functions_history() -> None:
    policy = GatePolicy()
    assert policy.max_wait_seconds >= 64 * 3600  # Friday 17:00 to Monday 09:00
    assert policy.max_wait_seconds // policy.check_interval_seconds <= 600


def test_too_many_rechecks_name_the_interval_to_use() -> None:
    with pytest.raises(ConfigError) as error:
        GatePolicy(check_interval_seconds=60, max_wait_seconds=7 * 86_400)
    assert error.value.field == "GatePolicy.check_interval_seconds"
    assert "use at least 1008s" in error.value.message
