"""The small HTTP server behind the local simulators (portal, remote signer): POST requests handed to a callable,
served from a daemon thread on 127.0.0.1, no request log."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handle: Callable[[BaseHTTPRequestHandler], None], host: str = "127.0.0.1", port: int = 0
          ) -> tuple[ThreadingHTTPServer, str]:
    """Start serving; the server (``shutdown()`` then ``server_close()`` to stop) and its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            return

        def do_POST(self):  # noqa: N802
            handle(self)

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{host}:{server.server_address[1]}/"
