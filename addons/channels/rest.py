"""The REST channel with the project's input guard (same URL as Rasa's: /webhooks/rest).

The caller chooses the sender id, so conversations are stored under "rest:<sender>": a
REST caller can never write into a Telegram ("telegram:<chat id>") or web conversation.
"""

from typing import Any, Awaitable, Callable, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint
from sanic.request import Request

from addons.channels.gate import gated_blueprint
from addons.channels.guard import sanitize_text

SENDER_PREFIX = "rest:"


class GuardedRestInput(RestInput):
    """Rasa's REST channel, but typed "/..." text cannot act as an intent."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return gated_blueprint(on_new_message, super().blueprint)

    def _extract_message(self, req: Request) -> Optional[Text]:
        return sanitize_text(super()._extract_message(req))

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = await super()._extract_sender(req)
        return f"{SENDER_PREFIX}{sender}" if sender is not None else None
