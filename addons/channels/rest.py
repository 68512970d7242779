"""The REST channel with the project's input guard (same URL as Rasa's: /webhooks/rest).

The caller chooses the sender id, so conversations are stored under "rest:<sender>": a
REST caller can never write into a Telegram ("telegram:<chat id>") or web conversation.
"""

import json
from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.channels.gate import gated_blueprint
from addons.channels.guard import sanitize_text

SENDER_PREFIX = "rest:"
MAX_SENDER_CHARS = 128
# Far above a chat message (the text is cut at 2000 characters), far below Sanic's 100 MB.
MAX_BODY_BYTES = 64 * 1024


def _error(status: int, message: Text) -> HTTPResponse:
    return response.json({"error": message}, status=status)


async def reject_malformed(request: Request) -> Optional[HTTPResponse]:
    """A clean 4xx for what Rasa would answer in a shared "default" conversation or crash on."""
    if request.method != "POST":
        return None
    if len(request.body or b"") > MAX_BODY_BYTES:
        return _error(413, f"the request body is over {MAX_BODY_BYTES // 1024} KB")
    try:
        body = json.loads(request.body or b"")
    except ValueError:  # not JSON, or not UTF-8
        return _error(400, "the body must be a JSON object in UTF-8")
    if not isinstance(body, dict):
        return _error(400, "the body must be a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        # Without a sender Rasa would use "default": one conversation shared by every caller.
        return _error(400, f"'sender' must be a non-empty string of at most {MAX_SENDER_CHARS} characters")
    if not isinstance(body.get("message", ""), str):
        return _error(400, "'message' must be a string")
    return None


class GuardedRestInput(RestInput):
    """Rasa's REST channel, but typed "/..." text cannot act as an intent."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = gated_blueprint(on_new_message, super().blueprint)
        blueprint.middleware("request")(reject_malformed)
        return blueprint

    def _extract_message(self, req: Request) -> Optional[Text]:
        return sanitize_text(super()._extract_message(req))

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = await super()._extract_sender(req)
        return f"{SENDER_PREFIX}{sender}" if sender is not None else None
