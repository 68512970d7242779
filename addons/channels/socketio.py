"""The web widget's socket.io channel: Rasa's protocol, with Rasa 3.6's flaws fixed.

Same events as Rasa's `socketio` channel (session_request, session_confirm,
user_uttered, bot_uttered), so Rasa web clients such as rasa-webchat still work. It
differs where Rasa 3.6 is unsafe or broken:
- `enter_room` is awaited (python-socketio >= 5.10 made it a coroutine; Rasa forgets to
  await it, so with session persistence every reply went to an empty room: issue #13027);
- Engine.IO's origin check is on, limited to the configured origins (Rasa passes
  `cors_allowed_origins=[]`, which turns it off);
- the server, not the client, picks conversation ids: a client may only resume an id the
  server issued (32 hex digits), and ids live under "web:" so no web client can reach
  another channel's conversation (a Telegram chat id, say);
- typed text goes through the project's input guard;
- each triage answer says how severe it is (in `metadata`, which every client ignores or
  reads), so the widget can style it.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from addons.channels.gate import gated_blueprint
from addons.channels.guard import sanitize_text
from coach_names import TRIAGE_RESPONSES, Response

logger = logging.getLogger(__name__)

SENDER_PREFIX = "web:"
_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
# What the widget needs beside the text, by the response that produced a message. It travels
# in `metadata`, which clients set aside: rasa-webchat shows a message as text only when
# `text` is its only other key, so a top-level field would hide the answer there.
METADATA_BY_RESPONSE: Dict[Text, Dict[Text, Any]] = {
    **{response: {"severity": level} for level, response in TRIAGE_RESPONSES.items()},
    # The widget then drops the transcript it keeps in the browser tab.
    Response.CONVERSATION_DELETED: {"forgotten": True},
}
DEFAULT_ALLOWED_ORIGINS = ["http://127.0.0.1:8080", "http://localhost:8080"]
ORIGINS_VARIABLE = "CRAMP_COACH_ALLOWED_ORIGINS"


def allowed_origins(configured: Any) -> List[Text]:
    """Origins from the environment (comma-separated), else credentials.yml, else localhost."""
    raw = os.environ.get(ORIGINS_VARIABLE) or configured or DEFAULT_ALLOWED_ORIGINS
    if isinstance(raw, str):
        raw = raw.split(",")
    return [origin.strip().rstrip("/") for origin in raw if origin and origin.strip()]


class SeverityOutput(SocketIOOutput):
    """Rasa's socket.io output, with `metadata.severity` on triage answers and
    `metadata.forgotten` after a deletion (both plain text messages).
    """

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        metadata = METADATA_BY_RESPONSE.get(message.get("utter_action"))
        text = message.get("text")
        if not metadata or not text or any(message.get(key) for key in _NOT_PLAIN_TEXT):
            await super().send_response(recipient_id, message)
            return
        for part in text.strip().split("\n\n"):  # as Rasa splits a text
            await self._send_message(recipient_id, {"text": part, "metadata": dict(metadata)})


_NOT_PLAIN_TEXT = ("buttons", "quick_replies", "image", "attachment", "elements", "custom")


class WebChatInput(SocketIOInput):
    """socket.io for the web widget (see the module docstring for what it fixes)."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChatInput":
        credentials = credentials or {}
        channel = cls(
            credentials.get("user_message_evt", "user_uttered"),
            credentials.get("bot_message_evt", "bot_uttered"),
            credentials.get("namespace"),
            True,  # conversations survive page reloads: always persistent
            credentials.get("socketio_path", "/socket.io"),
            None,
            "HS256",
            credentials.get("metadata_key", "metadata"),
        )
        channel.allowed_origins = allowed_origins(credentials.get("allowed_origins"))
        return channel

    allowed_origins: List[Text] = DEFAULT_ALLOWED_ORIGINS

    def get_output_channel(self) -> Optional[SeverityOutput]:
        return SeverityOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return gated_blueprint(on_new_message, self._blueprint)

    def _blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        sio = AsyncServer(async_mode="sanic", cors_allowed_origins=self.allowed_origins)
        webhook = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        self.sio = sio

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def bind_session(sid: Text, requested: Any) -> Text:
            """Joins the socket to its conversation; returns the id the client keeps."""
            session_id = requested if isinstance(requested, str) and _SESSION_ID.match(requested) else None
            session_id = session_id or secrets.token_hex(16)
            sender_id = SENDER_PREFIX + session_id
            await sio.enter_room(sid, sender_id, namespace=self.namespace)
            await sio.save_session(sid, {"sender_id": sender_id}, namespace=self.namespace)
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)
            return sender_id

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            await bind_session(sid, (data or {}).get("session_id") if isinstance(data, dict) else None)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict):
                return
            session = await sio.get_session(sid, namespace=self.namespace)
            sender_id = session.get("sender_id") or await bind_session(sid, data.get("session_id"))
            text = sanitize_text(data.get("message"))
            if not text.strip():
                return
            metadata = data.get(self.metadata_key)
            await on_new_message(
                UserMessage(
                    text,
                    SeverityOutput(sio, self.bot_message_evt),
                    sender_id,
                    input_channel=self.name(),
                    metadata=metadata if isinstance(metadata, dict) else {},
                )
            )

        return webhook
