"""The REST channel with the project's input guard (same URL as Rasa's: /webhooks/rest)."""

from typing import Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.request import Request

from addons.channels.guard import sanitize_text


class GuardedRestInput(RestInput):
    """Rasa's REST channel, but typed "/..." text cannot act as an intent."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        return sanitize_text(super()._extract_message(req))
