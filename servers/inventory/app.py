"""The inventory service: how many of an item are in stock, over HTTP (standard library only).

``route(method, path)`` is the whole service as a pure function; ``serve()`` is a thin HTTP server
around it that the CodeDeploy revision runs on every host (``scripts/start.sh``).
"""

from __future__ import annotations

import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

STOCK: dict[str, int] = {"A-1": 12, "B-2": 0, "CANARY-1": 1}
"""Units in stock per SKU (a real service would read a database)."""


def route(method: str, path: str) -> tuple[int, dict[str, Any]]:
    """The answer (status, JSON body) to one request."""
    if method != "GET":
        return 405, {"ok": False, "error": f"{method} is not allowed"}
    if path == "/health":
        return 200, {"ok": True}
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) == 2 and parts[0] == "items":
        sku = parts[1]
        if sku not in STOCK:
            return 404, {"ok": False, "error": f"unknown SKU {sku!r}"}
        return 200, {"ok": True, "sku": sku, "in_stock": STOCK[sku]}
    return 404, {"ok": False, "error": f"no route for {path!r}"}


class _Handler(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        status, body = route(self.command, self.path)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = _answer
    do_POST = _answer
    do_DELETE = _answer


def serve(port: int) -> None:
    """Serve :func:`route` on ``port`` until stopped."""
    ThreadingHTTPServer(("", port), _Handler).serve_forever()


if __name__ == "__main__":
    serve(int(os.environ.get("PORT", "8080")))
