"""Unit tests of the inventory service (plain pytest; run by the pipeline's Build stage)."""

from __future__ import annotations

import importlib.util
import json
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest


def load(name: str) -> ModuleType:
    path = Path(__file__).resolve().parent.parent / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"inventory_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app = load("app")
integ = load("integ_test")


def test_health() -> None:
    assert app.route("GET", "/health") == (200, {"ok": True})


def test_known_item_in_stock() -> None:
    assert app.route("GET", "/items/A-1") == (200, {"ok": True, "sku": "A-1", "in_stock": 12})
    assert app.route("GET", "/items/B-2?fresh=1")[1]["in_stock"] == 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/items/NOPE", 404), ("GET", "/items", 404), ("GET", "/", 404), ("POST", "/items/A-1", 405)],
)
def test_errors(method: str, path: str, status: int) -> None:
    got, body = app.route(method, path)
    assert got == status
    assert body["ok"] is False


def test_integration_cases_pass_against_the_real_server(monkeypatch: pytest.MonkeyPatch) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), app._Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("ENDPOINTS", f"http://127.0.0.1:{server.server_address[1]}/")
        assert integ.run(integ.CASES) == 0
        status, body = integ.call(f"http://127.0.0.1:{server.server_address[1]}/items/NOPE")
        assert status == 404
        assert body["ok"] is False
    finally:
        server.shutdown()


def test_integration_tests_fail_without_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENDPOINTS", raising=False)
    assert integ.run(integ.CASES) == 1


def test_appspec_names_existing_executable_scripts() -> None:
    root = Path(__file__).resolve().parent.parent
    spec = (root / "appspec.yml").read_text()
    scripts = [line.split("location:")[1].strip() for line in spec.splitlines() if "location:" in line]
    assert scripts == ["scripts/stop.sh", "scripts/start.sh", "scripts/validate.sh"]
    for script in scripts:
        assert (root / script).stat().st_mode & 0o111, f"{script} is not executable"


def test_the_canary_item_exists() -> None:
    status, body = app.route("GET", "/items/CANARY-1")
    assert status == 200
    assert json.loads(json.dumps(body)) == body
