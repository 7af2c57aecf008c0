"""The shipping service: quotes the price of sending a parcel (a tiny HTTP app on the stdlib).

``GET /quote?weight_grams=<1..30000>&country=<ISO code>`` answers ``{"ok": true, "price_cents": N}``;
a bad request answers 400 ``{"ok": false, "error": "..."}``; ``GET /health`` answers 200 (the load
balancer's health check). The decision is a pure function (:func:`handle`); the server is a thin
shell around it, so unit tests need no socket.
"""

from __future__ import annotations

import json
import os
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

BASE_CENTS = 450
"""Price of the first kilogram, anywhere."""
PER_KG_CENTS = {"DE": 120, "FR": 150, "US": 400, "CA": 380, "JP": 520}
"""Price of each further (started) kilogram, by destination country."""
MAX_WEIGHT_GRAMS = 30_000

Response = tuple[int, dict[str, Any]]


def quote(weight_grams: int, country: str) -> int:
    """Price in cents of a parcel of ``weight_grams`` to ``country`` (validated by the caller)."""
    extra_kg = max(0, -(-weight_grams // 1000) - 1)
    return BASE_CENTS + extra_kg * PER_KG_CENTS[country]


def _bad(error: str) -> Response:
    return HTTPStatus.BAD_REQUEST, {"ok": False, "error": error}


def handle(method: str, target: str) -> Response:
    """The answer (status, JSON body) to one request line, e.g. ``("GET", "/quote?weight_grams=1")``."""
    url = urlsplit(target)
    if method != "GET":
        return HTTPStatus.METHOD_NOT_ALLOWED, {"ok": False, "error": f"{method} is not allowed"}
    if url.path == "/health":
        return HTTPStatus.OK, {"ok": True}
    if url.path != "/quote":
        return HTTPStatus.NOT_FOUND, {"ok": False, "error": f"no such path: {url.path}"}
    query = parse_qs(url.query)
    weight = query.get("weight_grams", [""])[-1]
    country = query.get("country", [""])[-1].upper()
    if not weight.isdigit() or not 1 <= int(weight) <= MAX_WEIGHT_GRAMS:
        return _bad(f"weight_grams must be a whole number from 1 to {MAX_WEIGHT_GRAMS}")
    if country not in PER_KG_CENTS:
        return _bad(f"country must be one of {', '.join(sorted(PER_KG_CENTS))}")
    return HTTPStatus.OK, {"ok": True, "price_cents": quote(int(weight), country)}


class Handler(BaseHTTPRequestHandler):
    """Serves :func:`handle`; one JSON log line per request (the container's log driver ships it)."""

    server_version = "shipping"

    def do_GET(self) -> None:
        self._answer(*handle("GET", self.path))

    def do_POST(self) -> None:
        self._answer(*handle("POST", self.path))

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        print(json.dumps({"request": self.requestline, "status": args[1] if len(args) > 1 else None}))


def main() -> None:
    """Listen on ``$PORT`` (default 8080) until the task is stopped."""
    port = int(os.environ.get("PORT", "8080"))
    ThreadingHTTPServer(("", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
