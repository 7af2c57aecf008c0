"""Importing a shared resource by name into a stack once (issue 9): each import is a jsii round
trip, and importing twice under one id fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from aws_cdk import Stack

__all__ = ["import_into"]

T = TypeVar("T")


def import_into(stack: Stack, construct_id: str, make: Callable[[], T]) -> T:
    """``make()``, the import of a shared resource into ``stack`` as ``construct_id``; or, when
    ``stack`` already holds that id (imported there before, but not remembered by the caller's
    cache in this process's memory), the construct already there. Looked up only then: a lookup
    first is a round trip per stack."""
    try:
        return make()
    except RuntimeError:
        existing = stack.node.try_find_child(construct_id)
        if existing is None:
            raise
        return cast(T, existing)
