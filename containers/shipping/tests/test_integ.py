"""The integration test script itself, run against the app on a local port (no AWS)."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import ModuleType

import pytest

FOLDER = Path(__file__).resolve().parent.parent


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"shipping_{name}", FOLDER / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


app, integ = load("app"), load("integ_test")


@pytest.fixture
def endpoint() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), app.Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def test_every_case_passes_against_the_app(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINTS", f"{endpoint},{endpoint}")
    assert integ.run(integ.CASES) == 0


def test_a_wrong_answer_fails(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINTS", endpoint)
    wrong = [("expects a different price", "/quote?weight_grams=1500&country=FR", 200, {"price_cents": 1})]
    assert integ.run(wrong) == 1


def test_no_endpoints_is_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENDPOINTS", "")
    assert integ.run(integ.CASES) == 1


@pytest.mark.parametrize(("skip", "code"), [("1", 0), ("", 1)])
def test_an_endpoint_that_does_not_resolve_is_skipped_only_in_zeta(
    monkeypatch: pytest.MonkeyPatch, skip: str, code: int
) -> None:
    monkeypatch.setenv("ENDPOINTS", "http://not-deployed.invalid")
    monkeypatch.setenv("SKIP_NOT_DEPLOYED", skip)
    assert integ.run(integ.CASES) == code
