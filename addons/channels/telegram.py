"""A Telegram channel that is safe to expose on the internet.

Rasa 3.6's own Telegram channel calls getMe on every update, authenticates nobody (anyone
who knows the URL can make the bot message any chat), answers 500 on errors (so
Telegram retries and turns are duplicated), and calls setWebhook at every start without
a secret. This one:
- checks Telegram's X-Telegram-Bot-Api-Secret-Token header in constant time, before
  reading the body, and answers 403 otherwise;
- never calls Telegram on start (the webhook is registered by scripts/telegram_webhook.py);
- processes each update_id once and always answers 200 to Telegram;
- answers /start and /help, and politely refuses other typed commands;
- turns buttons into inline keyboards with short callback ids (Telegram allows 64 bytes);
- answers stickers, photos and voice notes with "I can only read text";
- declines group chats (one person per conversation, ids under "telegram:");
- sends HTML (bold, links) escaped correctly, split under the 4096-character limit.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import os
import re
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from addons.channels.gate import ConversationGate, gated_blueprint
from addons.channels.guard import allowed_payloads, sanitize_text
from coach_names import TRIAGE_RESPONSES, Response

logger = logging.getLogger(__name__)

SENDER_PREFIX = "telegram:"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_MESSAGE_CHARS = 4096
MAX_CALLBACK_BYTES = 64
SEEN_UPDATES = 10_000
# Typed commands and what they mean to the assistant.
COMMANDS = {"/start": "hi", "/help": "what can you do"}


def callback_id(payload: Text) -> Text:
    """A short, stable id for a button payload (fits Telegram's 64-byte callback_data)."""
    return "p:" + hashlib.sha256(payload.encode()).hexdigest()[:20]


def to_html(text: Text) -> Text:
    """Escapes text for parse_mode=HTML and turns **bold** into <b>bold</b>."""
    escaped = html.escape(text, quote=False)
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", escaped)


def split_message(text: Text, limit: int = MAX_MESSAGE_CHARS) -> List[Text]:
    """Parts under the limit, cut at paragraph, then line, then word boundaries."""
    parts: List[Text] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = max(rest.rfind("\n\n", 0, limit), rest.rfind("\n", 0, limit))
        if cut <= 0:
            cut = rest.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


class TelegramOutput(OutputChannel):
    """Sends replies through the Bot API (aiogram), as HTML with inline keyboards."""

    def __init__(self, bot: Bot, callbacks: "CallbackRegistry") -> None:
        self.bot = bot
        self.callbacks = callbacks

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @staticmethod
    def chat_id(recipient_id: Text) -> Text:
        return recipient_id[len(SENDER_PREFIX) :] if recipient_id.startswith(SENDER_PREFIX) else recipient_id

    async def _send(
        self,
        recipient_id: Text,
        text: Text,
        markup: Optional[InlineKeyboardMarkup] = None,
        utter_action: Optional[Text] = None,
    ) -> None:
        # Triage answers are sent in bold so they stand out in the chat. Rasa passes the
        # message's other keys (utter_action among them) as keyword arguments: no state
        # on this output, which all chats share.
        bold = utter_action in TRIAGE_RESPONSES.values()
        parts = split_message(text, MAX_MESSAGE_CHARS - 20)
        for index, part in enumerate(parts):
            body = to_html(part)
            if bold:
                body = f"<b>{body}</b>"
            await self.bot.send_message(
                self.chat_id(recipient_id),
                body,
                parse_mode="HTML",
                reply_markup=markup if index == len(parts) - 1 else None,
                disable_web_page_preview=True,
            )

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send(recipient_id, text, utter_action=kwargs.get("utter_action"))

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        keyboard = InlineKeyboardMarkup(row_width=1)
        for button in buttons:
            keyboard.add(
                InlineKeyboardButton(button["title"], callback_data=self.callbacks.register(button["payload"]))
            )
        await self._send(recipient_id, text, keyboard, utter_action=kwargs.get("utter_action"))


class CallbackRegistry:
    """Maps short callback ids back to payloads: the bot's own buttons, plus any other
    payload sent since start (kept for the most recent few thousand).
    """

    def __init__(self) -> None:
        self._known = {callback_id(p): p for p in allowed_payloads()}
        self._recent: "OrderedDict[Text, Text]" = OrderedDict()

    def register(self, payload: Text) -> Text:
        key = callback_id(payload)
        if key not in self._known:
            self._recent[key] = payload
            self._recent.move_to_end(key)
            while len(self._recent) > SEEN_UPDATES:
                self._recent.popitem(last=False)
        return key

    def payload(self, key: Any) -> Optional[Text]:
        if not isinstance(key, str):
            return None
        return self._known.get(key) or self._recent.get(key)


class SafeTelegramInput(InputChannel):
    """The Telegram webhook (see the module docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "SafeTelegramInput":
        credentials = credentials or {}
        missing = [k for k in ("access_token", "secret_token") if not credentials.get(k)]
        if missing:
            raise ValueError(
                f"telegram channel: {missing} missing in the credentials (set TELEGRAM_TOKEN, TELEGRAM_SECRET_TOKEN)"
            )
        return cls(
            access_token=credentials["access_token"],
            secret_token=credentials["secret_token"],
            bot_name=credentials.get("verify"),
            api_url=credentials.get("api_url") or os.environ.get("TELEGRAM_API_URL") or "https://api.telegram.org",
        )

    def __init__(
        self,
        access_token: Text,
        secret_token: Text,
        bot_name: Optional[Text] = None,
        api_url: Text = "https://api.telegram.org",
    ) -> None:
        self.access_token = access_token
        self.secret_token = secret_token
        self.bot_name = bot_name
        self.api_url = api_url.rstrip("/")
        self.callbacks = CallbackRegistry()
        self._seen: "OrderedDict[int, None]" = OrderedDict()
        self._output: Optional[TelegramOutput] = None

    def get_output_channel(self) -> TelegramOutput:
        # No network call here: Rasa's channel calls setWebhook (without the secret) at start.
        if self._output is None:
            server = TelegramAPIServer.from_base(self.api_url)
            self._output = TelegramOutput(Bot(self.access_token, server=server), self.callbacks)
        return self._output

    def _authentic(self, request: Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode(), self.secret_token.encode())

    def _first_time(self, update_id: Any) -> bool:
        """True once per update_id: Telegram may deliver an update again."""
        if not isinstance(update_id, int):
            return True
        if update_id in self._seen:
            return False
        self._seen[update_id] = None
        while len(self._seen) > SEEN_UPDATES:
            self._seen.popitem(last=False)
        return True

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return gated_blueprint(on_new_message, self._blueprint)

    def _blueprint(self, gate: ConversationGate) -> Blueprint:
        webhook = Blueprint("safe_telegram_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self._authentic(request):
                return response.text("forbidden", status=403)
            try:
                update = json.loads(request.body or b"null")
            except ValueError:
                logger.warning("telegram: an update that is not JSON was ignored")
                return response.text("ok")
            if not isinstance(update, dict):
                logger.warning("telegram: an update that is not an object was ignored")
                return response.text("ok")
            if not self._first_time(update.get("update_id")):
                logger.info("telegram: update %s was delivered again and skipped", update.get("update_id"))
                return response.text("ok")
            try:
                await self._handle(update, gate)
            except Exception:  # noqa: BLE001 (Telegram must get a 200, or it retries)
                logger.exception("telegram: update %s failed", update.get("update_id"))
            return response.text("ok")

        return webhook

    async def _handle(self, update: Dict[Text, Any], gate: ConversationGate) -> None:
        """One update: answered here (not text, a group, an unknown command) or passed through the gate."""
        output = self.get_output_channel()
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            message = callback.get("message") or {}
            text = self.callbacks.payload(callback.get("data"))
            await output.bot.answer_callback_query(callback.get("id"))
            if not text:
                logger.info("telegram: a button from an old message was ignored")
                return
        else:
            message = update.get("message") or update.get("edited_message")
            if not isinstance(message, dict):
                logger.info(
                    "telegram: update %s without a message (%s) ignored",
                    update.get("update_id"),
                    ",".join(sorted(update)),
                )
                return
            text = message.get("text")
        chat = message.get("chat") or {}
        chat_id = chat.get("id")
        if chat_id is None:
            logger.info("telegram: an update without a chat was ignored")
            return
        if chat.get("type") != "private":
            if isinstance(message.get("text"), str) and message["text"].startswith("/start"):
                await output.bot.send_message(chat_id, gate.text(Response.PRIVATE_CHATS_ONLY))
            return
        if not isinstance(text, str) or not text.strip():
            await output.bot.send_message(chat_id, gate.text(Response.ONLY_TEXT))
            return
        if callback is None and text.lstrip().startswith("/"):
            command = text.strip().split()[0].split("@")[0].lower()
            if command not in COMMANDS:
                await output.bot.send_message(chat_id, gate.text(Response.UNKNOWN_COMMAND))
                return
            text = COMMANDS[command]
        await gate(
            UserMessage(
                sanitize_text(text),
                output,
                f"{SENDER_PREFIX}{chat_id}",
                input_channel=self.name(),
                metadata={"language_code": (message.get("from") or {}).get("language_code")},
            )
        )
