"""The built-in example fleet: an organization base class and two services that inherit it."""

from __future__ import annotations

from hands_off.example.fleet import CatalogPipeline, ExampleOrgPipeline, OrdersPipeline, build_example_fleet

__all__ = ["CatalogPipeline", "ExampleOrgPipeline", "OrdersPipeline", "build_example_fleet"]
