"""Serve one page on 127.0.0.1 until interrupted (``robomem memory view --serve``)."""

from __future__ import annotations

import contextlib
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from robomem.errors import ConfigError

__all__ = ("serve_page",)


def serve_page(html: str, port: int, *, stream: TextIO | None = None) -> None:
    """Answer ``GET /`` with ``html`` on 127.0.0.1 (loopback only) until Ctrl-C; ``port`` 0 picks a free
    one. The address is printed first, flushed, so a caller can read it."""
    body = html.encode("utf-8")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # no line per request

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    except OSError as err:
        raise ConfigError(f"cannot listen on 127.0.0.1:{port}: {err.strerror or err}", key="--port") from None
    out = stream or sys.stdout
    with server:
        print(f"serving http://127.0.0.1:{server.server_port}/ (Ctrl-C stops)", file=out, flush=True)
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a server stops: not an error
            server.serve_forever()
