"""The deployment-safety rules, grouped by what they read: waves, copies, stages, source."""

from __future__ import annotations

__all__: list[str] = []
