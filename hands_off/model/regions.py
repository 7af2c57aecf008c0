"""The AWS regions a target may name, and the check that says 'did you mean ...'."""

from __future__ import annotations

import difflib

from hands_off.model.errors import ConfigError

__all__ = ["KNOWN_REGIONS", "validate_region"]

# difflib's default similarity cutoff for "did you mean".
_CUTOFF = 0.6

KNOWN_REGIONS: frozenset[str] = frozenset(
    {
        "us-east-1",
        "us-east-2",
        "us-west-1",
        "us-west-2",
        "af-south-1",
        "ap-east-1",
        "ap-east-2",
        "ap-south-1",
        "ap-south-2",
        "ap-southeast-1",
        "ap-southeast-2",
        "ap-southeast-3",
        "ap-southeast-4",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ap-northeast-1",
        "ap-northeast-2",
        "ap-northeast-3",
        "ca-central-1",
        "ca-west-1",
        "eu-central-1",
        "eu-central-2",
        "eu-west-1",
        "eu-west-2",
        "eu-west-3",
        "eu-south-1",
        "eu-south-2",
        "eu-north-1",
        "il-central-1",
        "me-south-1",
        "me-central-1",
        "mx-central-1",
        "sa-east-1",
    }
)
"""Every public commercial AWS region code (the ``aws`` partition; no GovCloud or China)."""


def _closest(region: str) -> str | None:
    """The known region most similar to ``region`` (difflib ratio >= 0.6), if any.

    Ties go to the alphabetically first region, so 'us-est-1' suggests 'us-east-1' rather
    than the equally close 'us-west-1'.
    """
    matcher = difflib.SequenceMatcher(b=region)
    scored: list[tuple[float, str]] = []
    for known in sorted(KNOWN_REGIONS):
        matcher.set_seq1(known)
        scored.append((-matcher.ratio(), known))
    score, best = min(scored)
    return best if -score >= _CUTOFF else None


def validate_region(region: str, field: str) -> None:
    """Raise ``ConfigError`` on ``field`` unless ``region`` is in ``KNOWN_REGIONS``.

    The message suggests the closest known region, e.g.
    ``"Target.region: 'us-est-1' is not a known AWS region (did you mean 'us-east-1'?)"``.
    """
    if not isinstance(region, str):
        raise ConfigError(field, f"must be a region code string such as 'us-east-1', got {region!r}")
    if region in KNOWN_REGIONS:
        return
    close = _closest(region.strip().lower())
    if close:
        raise ConfigError(field, f"{region!r} is not a known AWS region (did you mean {close!r}?)")
    raise ConfigError(
        field,
        f"{region!r} is not a known AWS region; use a public commercial region code "
        "such as 'us-east-1' (see hands_off.model.KNOWN_REGIONS)",
    )
