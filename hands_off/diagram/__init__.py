"""``hands-off diagram``: Mermaid pictures of the pipelines in a cloud assembly (pure, no CDK)."""

from __future__ import annotations

from hands_off.diagram.mermaid import flowchart, gantt

__all__ = ["flowchart", "gantt"]
