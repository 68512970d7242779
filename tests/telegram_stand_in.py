"""A stand-in for Telegram's Bot API on 127.0.0.1 that records what the bot sends."""

from __future__ import annotations

import cgi
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List
from urllib.parse import parse_qs


class BotApiStandIn:
    def __init__(self) -> None:
        self.calls: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                method = self.path.rstrip("/").split("/")[-1]
                length = int(self.headers.get("Content-Length") or 0)
                params = stand_in._params(self.headers.get("Content-Type", ""), self.rfile.read(length))
                with stand_in._lock:
                    stand_in.calls.append({"method": method, "params": params})
                result: Any = True
                if method == "sendMessage":
                    result = {
                        "message_id": len(stand_in.calls),
                        "date": int(time.time()),
                        "chat": {"id": int(params["chat_id"]), "type": "private"},
                        "text": params.get("text", ""),
                    }
                body = json.dumps({"ok": True, "result": result}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @staticmethod
    def _params(content_type: str, body: bytes) -> Dict[str, Any]:
        if content_type.startswith("application/json"):
            return json.loads(body or b"{}")
        if content_type.startswith("multipart/form-data"):
            _, options = cgi.parse_header(content_type)
            options["boundary"] = options["boundary"].encode()
            import io

            fields = cgi.parse_multipart(io.BytesIO(body), {**options, "CONTENT-LENGTH": str(len(body))})
            return {k: v[0] for k, v in fields.items()}
        return {k: v[0] for k, v in parse_qs(body.decode()).items()}

    def sent(self, method: str = "sendMessage") -> List[Dict[str, Any]]:
        with self._lock:
            return [c["params"] for c in self.calls if c["method"] == method]

    def clear(self) -> None:
        with self._lock:
            self.calls.clear()

    def stop(self) -> None:
        self.server.shutdown()
