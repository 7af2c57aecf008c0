"""Orders service: validates an order and prices it.

A small real handler for the example fleet. Invoked directly (Lambda invoke on the ``live``
alias) with ``{"items": [{"sku": "A-1", "quantity": 2, "unit_price_cents": 250}]}``.
"""

from __future__ import annotations

from typing import Any

MAX_ITEMS = 100


def price_order(order: dict[str, Any]) -> dict[str, Any]:
    """Return the priced order, or an error naming the first invalid field."""
    items = order.get("items")
    if not isinstance(items, list) or not items:
        return {"ok": False, "error": "items: give a non-empty list of {sku, quantity, unit_price_cents}"}
    if len(items) > MAX_ITEMS:
        return {"ok": False, "error": f"items: at most {MAX_ITEMS} items per order"}
    total = 0
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            return {"ok": False, "error": f"items[{index}]: must be an object"}
        quantity = item.get("quantity")
        price = item.get("unit_price_cents")
        if not isinstance(item.get("sku"), str) or not item["sku"]:
            return {"ok": False, "error": f"items[{index}].sku: must be a non-empty string"}
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
            return {"ok": False, "error": f"items[{index}].quantity: must be an integer >= 1"}
        if not isinstance(price, int) or isinstance(price, bool) or price < 0:
            return {"ok": False, "error": f"items[{index}].unit_price_cents: must be an integer >= 0"}
        total += quantity * price
    return {"ok": True, "total_cents": total, "item_count": len(items)}


def handler(event: dict[str, Any], _context: object) -> dict[str, Any]:
    """Lambda entry point."""
    return price_order(event if isinstance(event, dict) else {})
