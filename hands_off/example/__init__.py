"""The built-in example fleet: an organization base class and four services that inherit it (two on
Lambda, one on ECS, one on EC2)."""

from __future__ import annotations

from hands_off.example.fleet import CatalogPipeline, ExampleOrgPipeline, OrdersPipeline, build_example_fleet
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
