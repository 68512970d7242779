"""Serves the demo page and the widget files on loopback (the web part of `make run`).

Only the listed files are served (no directory listing, no path tricks); the page is
told where Rasa listens; a Content-Security-Policy lets the page talk to that server only.
"""

from __future__ import annotations

import argparse
import os
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

WEB = Path(__file__).resolve().parent.parent / "web"
FILES = {
    "/": (WEB / "index.html", "text/html; charset=utf-8"),
    "/index.html": (WEB / "index.html", "text/html; charset=utf-8"),
    "/page.css": (WEB / "page.css", "text/css; charset=utf-8"),
    "/widget/cramp-coach.js": (WEB / "widget" / "cramp-coach.js", "text/javascript; charset=utf-8"),
    "/widget/cramp-coach.css": (WEB / "widget" / "cramp-coach.css", "text/css; charset=utf-8"),
    "/widget/vendor/socket.io.min.js": (
        WEB / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js",
        "text/javascript; charset=utf-8",
    ),
}


def make_handler(rasa_url: str, web_url: str):
    rasa = urlsplit(rasa_url)
    websocket = f"{'wss' if rasa.scheme == 'https' else 'ws'}://{rasa.netloc}"
    policy = (
        f"default-src 'self'; connect-src 'self' {rasa_url} {websocket}; "
        "img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    )

    class Handler(BaseHTTPRequestHandler):
        server_version = "CrampCoachWeb"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = urlsplit(self.path).path
            if path not in FILES:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            file, content_type = FILES[path]
            try:
                body = file.read_bytes()
            except FileNotFoundError:
                self.send_error(HTTPStatus.INTERNAL_SERVER_ERROR, "run `make setup` (npm files missing)")
                return
            if file.suffix == ".html":
                body = body.replace(b"{{RASA_URL}}", rasa_url.encode()).replace(b"{{WEB_URL}}", web_url.encode())
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", policy)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002
            pass  # no request log: paths and addresses are nobody's business

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT", "8080")))
    parser.add_argument("--rasa-url", default=os.environ.get("RASA_URL", "http://127.0.0.1:5005"))
    args = parser.parse_args()
    web_url = f"http://{args.host}:{args.port}"
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.rasa_url, web_url))
    server.serve_forever()


if __name__ == "__main__":
    main()
