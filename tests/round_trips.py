"""Counting jsii round trips: the requests Python sends to the jsii runtime (Node), each paid once
per construct of every copy of every service (issue 9). Tests bound counts, never wall-clock time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from jsii._kernel.providers import process


@contextmanager
def round_trips() -> Iterator[list[int]]:
    """Count the requests Python sends to the jsii runtime (Node) inside the block."""
    count = [0]
    send = process._NodeProcess.send

    def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        count[0] += 1
        return send(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(process._NodeProcess, "send", counting)
        yield count
