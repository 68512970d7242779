"""The Telegram channel against a local Bot API stand-in, with rasa run and the action server."""

import asyncio
import itertools
import json
import time
import urllib.error
import urllib.request

import pytest

from addons.channels.telegram import MAX_CALLBACK_BYTES, TelegramOutput, split_message, to_html
from addons.model.emergency_numbers import load_numbers

from conftest import record_figure
from helpers import ROOT, Assistant
from telegram_stand_in import BotApiStandIn

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmn"
SECRET = "s3cret-Token_for-tests"
_update_ids = itertools.count(1000)
_chat_ids = itertools.count(50_000)


def test_html_is_escaped_and_bold_converted():
    assert to_html("a <b> & **safe** text") == "a &lt;b&gt; &amp; <b>safe</b> text"


def test_long_answers_are_split_under_the_limit():
    text = "\n\n".join("word " * 300 for _ in range(10))
    parts = split_message(text)
    assert len(parts) > 1 and all(len(p) <= 4096 for p in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(text.split())


def test_bold_belongs_to_each_message_not_to_the_output_all_chats_share():
    """A long emergency answer stays bold in every part while another chat's plain answer goes out between them."""

    class Bot:
        sent = []

        async def send_message(self, chat_id, body, **_):
            self.sent.append((chat_id, body))
            await asyncio.sleep(0)  # let the other chat's message in between the parts

    output = TelegramOutput(Bot(), callbacks=None)
    emergency = {
        "text": "\n\n".join("call an ambulance " * 150 for _ in range(3)),
        "utter_action": "utter_triage_emergency",
    }
    plain = {"text": "Stretching helps.", "utter_action": "utter_answer"}

    async def both():
        await asyncio.gather(output.send_response("telegram:1", emergency), output.send_response("telegram:2", plain))

    asyncio.run(both())
    first = [body for chat, body in Bot.sent if chat == "1"]
    assert len(first) > 1 and all(body.startswith("<b>") for body in first)
    assert [body for chat, body in Bot.sent if chat == "2"] == ["Stretching helps."]


def test_telegram_credentials_only_add_the_telegram_channel():
    import yaml

    plain = yaml.safe_load((ROOT / "credentials.yml").read_text())
    with_telegram = yaml.safe_load((ROOT / "credentials-telegram.yml").read_text())
    telegram = with_telegram.pop("addons.channels.telegram.SafeTelegramInput")
    assert with_telegram == plain
    assert telegram["access_token"] == "${TELEGRAM_TOKEN}" and telegram["secret_token"] == "${TELEGRAM_SECRET_TOKEN}"


@pytest.fixture(scope="module")
def telegram(trained_model, tmp_path_factory):
    stand_in = BotApiStandIn()
    assistant = Assistant(
        trained_model,
        tmp_path_factory.mktemp("telegram"),
        env={
            "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_BOT_NAME": "cramp_coach_bot",
            "TELEGRAM_SECRET_TOKEN": SECRET,
            "TELEGRAM_API_URL": stand_in.url,
        },
        credentials=ROOT / "credentials-telegram.yml",
    )
    yield assistant, stand_in
    assistant.stop()
    stand_in.stop()


def post(assistant, update, secret=SECRET):
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    request = urllib.request.Request(f"{assistant.url}/webhooks/telegram/webhook", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def message_update(text=None, chat_id=None, chat_type="private", **extra):
    chat_id = chat_id or next(_chat_ids)
    message = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Sam", "language_code": "en"},
    }
    if text is not None:
        message["text"] = text
    message.update(extra)
    return {"update_id": next(_update_ids), "message": message}, chat_id


def texts_to(stand_in, chat_id):
    return "\n".join(p["text"] for p in stand_in.sent() if int(p["chat_id"]) == chat_id)


@pytest.mark.model
@pytest.mark.servers
class TestWebhook:
    def test_start_greets_with_an_inline_keyboard_and_buttons_work(self, telegram):
        assistant, stand_in = telegram
        update, chat = message_update("/start")
        assert post(assistant, update) == 200
        greeting = [p for p in stand_in.sent() if int(p["chat_id"]) == chat][0]
        assert "Cramp Coach" in greeting["text"] and greeting["parse_mode"] == "HTML"
        keyboard = json.loads(greeting["reply_markup"])["inline_keyboard"]
        buttons = {row[0]["text"]: row[0]["callback_data"] for row in keyboard}
        assert all(len(data.encode()) <= MAX_CALLBACK_BYTES for data in buttons.values())
        callback = {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": "cb-1",
                "from": {"id": chat, "is_bot": False, "first_name": "Sam"},
                "chat_instance": "x",
                "data": buttons["I have a cramp right now"],
                "message": {"message_id": 2, "date": 0, "chat": {"id": chat, "type": "private"}},
            },
        }
        assert post(assistant, callback) == 200
        assert "cb-1" in [p["callback_query_id"] for p in stand_in.sent("answerCallbackQuery")]
        assert "pull your toes up towards your knee" in texts_to(stand_in, chat)
        assert assistant.tracker(f"telegram:{chat}")["slots"]["topic"] == "first_aid"

    def test_a_question_and_an_edited_message_are_answered(self, telegram):
        assistant, stand_in = telegram
        update, chat = message_update("why do my legs cramp at night?")
        started = time.monotonic()
        assert post(assistant, update) == 200
        record_figure(
            "Telegram (stand-in Bot API)",
            f"webhook round trip for a question: {(time.monotonic() - started) * 1000:.0f} ms",
        )
        assert "no one clear cause" in texts_to(stand_in, chat)
        edited = {
            "update_id": next(_update_ids),
            "edited_message": update["message"] | {"text": "how can I prevent cramps?"},
        }
        assert post(assistant, edited) == 200
        assert "sheets loose" in texts_to(stand_in, chat)

    def test_emergency_answer_is_sent_in_bold(self, telegram):
        assistant, stand_in = telegram
        update, chat = message_update("I can't breathe and my chest hurts")
        assert post(assistant, update) == 200
        sent = texts_to(stand_in, chat)
        assert sent.startswith("<b>⚠️ This could be a blood clot in the lungs or a heart problem.")
        assert assistant.tracker(f"telegram:{chat}")["slots"]["triage_level"] == "emergency"

    def test_non_text_messages_get_a_kind_answer(self, telegram):
        assistant, stand_in = telegram
        for kind in (
            {"sticker": {"file_id": "x", "width": 1, "height": 1}},
            {"voice": {"file_id": "v", "duration": 3}},
            {"photo": [{"file_id": "p", "width": 1, "height": 1}]},
        ):
            update, chat = message_update(None, **kind)
            assert post(assistant, update) == 200
            sent = texts_to(stand_in, chat)
            assert "I can only read text messages" in sent
            # The domain's text with the numbers of knowledge/emergency_numbers.yml filled in.
            assert load_numbers().default in sent and "{" not in sent

    def test_unknown_commands_are_refused_and_cannot_reset_triage(self, telegram):
        assistant, stand_in = telegram
        update, chat = message_update("my left calf is swollen and hot")
        post(assistant, update)
        for command in ("/restart", '/greet{"triage_level": null}', "/red_flag_routine"):
            update, _ = message_update(command, chat_id=chat)
            assert post(assistant, update) == 200
        assert texts_to(stand_in, chat).count("don't know that command") == 3
        assert assistant.tracker(f"telegram:{chat}")["slots"]["triage_level"] == "urgent"

    def test_forged_updates_are_rejected_and_send_nothing(self, telegram):
        assistant, stand_in = telegram
        before = len(stand_in.calls)
        update, chat = message_update("hi")
        assert post(assistant, update, secret=None) == 403
        assert post(assistant, update, secret="wrong") == 403
        assert len(stand_in.calls) == before

    def test_each_update_is_processed_once(self, telegram):
        assistant, stand_in = telegram
        update, chat = message_update("what should I eat?")
        assert post(assistant, update) == 200
        assert post(assistant, update) == 200
        answers = [p for p in stand_in.sent() if int(p["chat_id"]) == chat and "balanced diet" in p["text"]]
        assert len(answers) == 1

    def test_malformed_updates_get_200_and_nothing_else(self, telegram):
        assistant, stand_in = telegram
        before = len(stand_in.calls)
        blocked = {"update_id": next(_update_ids), "my_chat_member": {"chat": {"id": 1, "type": "private"}}}
        for update in (
            blocked,
            b"not json",
            b"[1, 2]",
            {"update_id": next(_update_ids), "message": {"text": "no chat"}},
        ):
            assert post(assistant, update) == 200
        assert len(stand_in.calls) == before

    def test_group_chats_are_declined(self, telegram):
        assistant, stand_in = telegram
        update, chat = message_update("/start", chat_type="group")
        assert post(assistant, update) == 200
        assert "only chat one to one" in texts_to(stand_in, chat)
        update, _ = message_update("why do I get cramps?", chat_id=chat, chat_type="group")
        post(assistant, update)
        assert "cramp" not in texts_to(stand_in, chat).split("one to one")[-1]

    @pytest.mark.parametrize(
        "text",
        [
            "",
            " \n ",
            "🦵😖😭",
            "<script>alert(1)</script> <b>bold?</b> & more",
            "'; DROP TABLE events; --",
            "tengo calambres por la noche",
            "cramp " * 2000,
            "cramp \x00\x1b[31m at night",
            b"\xff\xfe".decode("latin-1") + " cramp",
        ],
        ids=["empty", "whitespace", "emoji", "html", "sql", "spanish", "12 KB", "control", "binary-ish"],
    )
    def test_bad_text_gets_a_kind_answer_and_leaves_triage_intact(self, telegram, text):
        assistant, stand_in = telegram
        update, chat = message_update("my left calf is swollen and hot")
        post(assistant, update)
        before = len([p for p in stand_in.sent() if int(p["chat_id"]) == chat])
        update, _ = message_update(text, chat_id=chat)
        assert post(assistant, update) == 200
        after = [p for p in stand_in.sent() if int(p["chat_id"]) == chat][before:]
        assert after and all(p["text"].strip() for p in after)
        assert "<script>" not in "".join(p["text"] for p in after)  # escaped, never markup from the person
        slots = assistant.tracker(f"telegram:{chat}")["slots"]
        assert slots["triage_level"] == "urgent" and slots["clot_signs"] is True
