"""Unit tests of the shipping app (run by the pipeline's Build: ``make service-test``)."""

from __future__ import annotations

import importlib.util
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest


def load_app() -> ModuleType:
    path = Path(__file__).resolve().parent.parent / "app.py"
    spec = importlib.util.spec_from_file_location("shipping_app", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load_app()


@pytest.mark.parametrize(
    ("weight", "country", "cents"),
    [(1, "DE", 450), (1000, "DE", 450), (1001, "DE", 570), (2500, "US", 1250), (30_000, "JP", 15_530)],
)
def test_quote_charges_each_started_kilogram_after_the_first(weight: int, country: str, cents: int) -> None:
    assert app.quote(weight, country) == cents


def test_quotes_a_valid_parcel() -> None:
    assert app.handle("GET", "/quote?weight_grams=1500&country=fr") == (200, {"ok": True, "price_cents": 600})


@pytest.mark.parametrize(
    ("target", "error"),
    [
        ("/quote?country=DE", "weight_grams"),
        ("/quote?weight_grams=0&country=DE", "weight_grams"),
        ("/quote?weight_grams=-5&country=DE", "weight_grams"),
        ("/quote?weight_grams=30001&country=DE", "weight_grams"),
        ("/quote?weight_grams=1.5&country=DE", "weight_grams"),
        ("/quote?weight_grams=100", "country"),
        ("/quote?weight_grams=100&country=XX", "country"),
    ],
)
def test_rejects_bad_quotes_with_400(target: str, error: str) -> None:
    status, body = app.handle("GET", target)
    assert status == 400
    assert body["ok"] is False
    assert error in body["error"]


def test_health_unknown_paths_and_methods() -> None:
    assert app.handle("GET", "/health") == (200, {"ok": True})
    assert app.handle("GET", "/nope")[0] == 404
    assert app.handle("POST", "/quote")[0] == 405


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), app.Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_server_answers_json_over_http(server: str) -> None:
    with urllib.request.urlopen(f"{server}/quote?weight_grams=500&country=CA", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert json.loads(response.read()) == {"ok": True, "price_cents": 450}
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{server}/quote?weight_grams=abc&country=CA", timeout=5)
    assert error.value.code == 400
