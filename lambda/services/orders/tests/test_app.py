"""Unit tests of the orders handler (run by the pipeline's Build stage and by `make test`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def load_app() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "app.py"
    spec = importlib.util.spec_from_file_location("orders_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load_app()


def test_prices_an_order() -> None:
    event = {
        "items": [
            {"sku": "A-1", "quantity": 2, "unit_price_cents": 250},
            {"sku": "B-2", "quantity": 1, "unit_price_cents": 1200},
        ]
    }
    assert app.handler(event, None) == {"ok": True, "total_cents": 1700, "item_count": 2}


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({}, "items"),
        ({"items": []}, "items"),
        ({"items": ["x"]}, "items[0]"),
        ({"items": [{"sku": "", "quantity": 1, "unit_price_cents": 1}]}, "items[0].sku"),
        ({"items": [{"sku": "A", "quantity": 0, "unit_price_cents": 1}]}, "items[0].quantity"),
        ({"items": [{"sku": "A", "quantity": True, "unit_price_cents": 1}]}, "items[0].quantity"),
        ({"items": [{"sku": "A", "quantity": 1, "unit_price_cents": -5}]}, "items[0].unit_price_cents"),
        ({"items": [{"sku": "A", "quantity": 1, "unit_price_cents": 1}] * 101}, "items"),
    ],
)
def test_rejects_bad_orders_naming_the_field(event: dict[str, object], field: str) -> None:
    result = app.handler(event, None)
    assert result["ok"] is False
    assert result["error"].startswith(f"{field}:")
