"""Real servers for tests: `rasa run` and the action server on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import shutil
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional

from devstack.local_servers import (  # noqa: F401 (re-exported for the tests)
    SERVER_ENV,
    VENV_BIN,
    Server,
    action_server,
    embedded_endpoints,
    free_port,
    rasa_server,
    web_server,
)

ROOT = Path(__file__).resolve().parent.parent


def http_json(url: str, payload: Optional[Dict[str, Any]] = None, timeout: float = 30) -> Any:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST" if data else "GET"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


class Assistant:
    """`rasa run` (REST channel, API behind a token) plus, optionally, the action server."""

    def __init__(
        self,
        model: Path,
        workdir: Path,
        with_action_server: bool = True,
        env: Optional[Dict[str, str]] = None,
        credentials: Path = ROOT / "credentials.yml",
        stores: Optional[str] = None,
        action_port: Optional[int] = None,
        token: Optional[str] = None,
    ):
        self.workdir = workdir
        self.env = env or {}
        self.token = token or secrets.token_hex(16)
        self.port = free_port()
        self.action_port = action_port or free_port()
        self.servers: List[Server] = []
        self.endpoints = workdir / "endpoints.yml"
        self.endpoints.write_text(
            f"action_endpoint:\n  url: http://127.0.0.1:{self.action_port}/webhook\n{stores}"
            if stores
            else embedded_endpoints(self.action_port, workdir / "conversations.db")
        )
        try:
            if with_action_server:
                self.start_action_server()
            rasa = rasa_server(
                model,
                self.endpoints,
                workdir,
                self.env,
                port=self.port,
                credentials=credentials,
                extra=["--enable-api", "--auth-token", self.token],
                name="rasa",
            )
            self.servers.append(rasa)
            rasa.wait_until_ready(f"{self.url}/webhooks/rest/", timeout=180)
        except Exception:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start_action_server(self) -> Server:
        server = action_server(self.workdir, self.action_port, name="action_server")
        self.servers.append(server)
        return server

    def send(self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None) -> List[Dict[str, Any]]:
        payload: Dict[str, Any] = {"sender": sender, "message": text}
        if metadata:
            payload["metadata"] = metadata
        return http_json(f"{self.url}/webhooks/rest/webhook", payload)

    def tracker(self, sender: str) -> Dict[str, Any]:
        return http_json(f"{self.url}/conversations/{sender}/tracker?token={self.token}")

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()


def copy_project(names: Any, target: Path) -> Path:
    """A copy of these files and folders of the project under target (for tests that edit them)."""
    for name in names:
        source, copy = ROOT / name, target / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(source, copy)
    return target


def texts(messages: List[Dict[str, Any]]) -> str:
    """All bot text of a reply, joined, for assertions."""
    return "\n".join(m.get("text") or "" for m in messages)


def stored_turn(domain: Any, sender: str, text: str, action: str, timestamp: Optional[float] = None) -> Any:
    """A tracker holding one finished turn (5 events), as Rasa would save it."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    tracker = DialogueStateTracker(sender, domain.slots)
    for event in (
        ActionExecuted("action_listen"),
        UserUttered(text, {"name": "greet"}),
        ActionExecuted(action),
        BotUttered("ok"),
        ActionExecuted("action_listen"),
    ):
        if timestamp is not None:
            event.timestamp = timestamp
        tracker.update(event)
    return tracker


async def socketio_converse(
    url: str, origin: str, requested_session: Optional[str], text: Any, wait_seconds: float = 10
) -> Any:
    """One message over socket.io (long polling, as behind any proxy): (session id, replies)."""
    import asyncio

    import socketio

    client = socketio.AsyncClient(reconnection=False)
    confirmed, replies = asyncio.Queue(), []
    client.on("session_confirm", confirmed.put)
    client.on("bot_uttered", lambda data: replies.append(data))
    await client.connect(url, headers={"Origin": origin}, transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": requested_session})
        session_id = await asyncio.wait_for(confirmed.get(), 10)
        payload = {"message": text, "session_id": session_id} if not isinstance(text, bytes) else text
        await client.emit("user_uttered", payload)
        for _ in range(int(wait_seconds * 10)):
            if replies:
                await asyncio.sleep(0.3)  # the rest of a multi-part answer
                break
            await asyncio.sleep(0.1)
        return session_id, replies
    finally:
        # Over long-polling a clean disconnect waits for the pending poll (~25 s).
        await client.eio.disconnect(abort=True)
