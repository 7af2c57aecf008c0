"""Unit tests of the catalog handler (run by the pipeline's Build stage and by `make test`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest


def load_app() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "app.py"
    spec = importlib.util.spec_from_file_location("catalog_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load_app()


def test_finds_a_product() -> None:
    assert app.handler({"sku": "A-1"}, None) == {
        "ok": True,
        "sku": "A-1",
        "name": "Anvil",
        "unit_price_cents": 250,
    }


@pytest.mark.parametrize("event", [{}, {"sku": ""}, {"sku": 7}, {"sku": "missing"}, []])
def test_rejects_unknown_or_malformed(event: object) -> None:
    result = app.handler(event, None)  # type: ignore[arg-type]
    assert result["ok"] is False
    assert result["error"].startswith("sku:")
