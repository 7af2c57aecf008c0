"""The built-in example fleet: an organization base class and four services that inherit it (two on
Lambda, one on ECS, one on EC2).

``ShippingPipeline`` (ECS) and ``InventoryPipeline`` (EC2) are loaded on first use, so an app of
Lambda services only never loads the container and server constructs (and their CDK modules).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hands_off.example.fleet import CatalogPipeline, ExampleOrgPipeline, OrdersPipeline, build_example_fleet

if TYPE_CHECKING:
    from hands_off.example.inventory import InventoryPipeline
    from hands_off.example.shipping import ShippingPipeline

__all__ = [
    "CatalogPipeline",
    "ExampleOrgPipeline",
    "InventoryPipeline",
    "OrdersPipeline",
    "ShippingPipeline",
    "build_example_fleet",
]

_LAZY = {
    "InventoryPipeline": "hands_off.example.inventory",
    "ShippingPipeline": "hands_off.example.shipping",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hands_off.example' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
