"""Catalog service: looks up products by SKU.

A small real handler for the example fleet. Invoked directly (Lambda invoke on the ``live``
alias) with ``{"sku": "A-1"}``.
"""

from __future__ import annotations

from typing import Any

PRODUCTS: dict[str, dict[str, Any]] = {
    "A-1": {"name": "Anvil", "unit_price_cents": 250},
    "B-2": {"name": "Bell", "unit_price_cents": 1200},
    "C-3": {"name": "Compass", "unit_price_cents": 899},
}


def lookup(request: dict[str, Any]) -> dict[str, Any]:
    """Return the product for ``request["sku"]`` or an error saying what is wrong."""
    sku = request.get("sku")
    if not isinstance(sku, str) or not sku:
        return {"ok": False, "error": "sku: give a non-empty string such as 'A-1'"}
    product = PRODUCTS.get(sku)
    if product is None:
        return {"ok": False, "error": f"sku: no product '{sku}'"}
    return {"ok": True, "sku": sku, **product}


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    """Lambda entry point."""
    return lookup(event if isinstance(event, dict) else {})
