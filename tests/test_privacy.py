"""Health conversations are private: forget me, no message text in logs, API behind a token."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import urllib.error
import urllib.request
import uuid

import pytest

from helpers import socketio_converse, texts

pytestmark = [pytest.mark.model, pytest.mark.servers]
DELETED = "I have deleted this conversation"


def stored_rows(assistant, conversation_id):
    with sqlite3.connect(assistant.workdir / "conversations.db") as db:
        return db.execute("select count(*) from events where sender_id = ?", (conversation_id,)).fetchone()[0]


def test_forget_me_asks_first_then_deletes_every_stored_event_of_that_conversation_only(assistant):
    sender, bystander = uuid.uuid4().hex, uuid.uuid4().hex
    assistant.send(bystander, "why do my legs cramp?")
    assistant.send(sender, "my left calf is swollen and hot")
    question = assistant.send(sender, "please delete my conversation")
    assert "delete this whole conversation" in texts(question)
    assert stored_rows(assistant, f"rest:{sender}") > 0  # nothing deleted before the person confirms
    payload = next(b["payload"] for m in question for b in m.get("buttons", []) if b["title"].startswith("Yes"))
    assert DELETED in texts(assistant.send(sender, payload))
    assert stored_rows(assistant, f"rest:{sender}") == 0  # also the turn that confirmed it
    assert stored_rows(assistant, f"rest:{bystander}") > 0
    fresh = assistant.tracker(f"rest:{sender}")
    assert fresh["slots"]["triage_level"] is None and not [e for e in fresh["events"] if e["event"] == "user"]


def test_a_typed_yes_confirms_and_a_no_keeps_the_conversation(assistant):
    kept, forgotten = uuid.uuid4().hex, uuid.uuid4().hex
    for sender in (kept, forgotten):
        assistant.send(sender, "why do my legs cramp?")
        assistant.send(sender, "forget me")
    assert DELETED not in texts(assistant.send(kept, "no"))
    assert stored_rows(assistant, f"rest:{kept}") > 0
    assert DELETED in texts(assistant.send(forgotten, "yes"))
    assert stored_rows(assistant, f"rest:{forgotten}") == 0


def test_web_conversations_can_be_forgotten_too(assistant):
    origin = "http://127.0.0.1:8080"
    session, _ = asyncio.run(socketio_converse(assistant.url, origin, None, "forget me"))
    _, replies = asyncio.run(socketio_converse(assistant.url, origin, session, "/confirm_forget_me"))
    assert DELETED in "\n".join(r.get("text", "") for r in replies)
    # The widget then drops its copy in the tab; the flag sits in metadata so that every
    # client still shows the confirmation as text.
    assert set(replies[-1]) == {"text", "metadata"} and replies[-1]["metadata"] == {"forgotten": True}
    assert stored_rows(assistant, f"web:{session}") == 0


def test_no_message_text_reaches_the_logs(assistant):
    """Rasa and the action server log at INFO, the default; a marker sent on two channels must not appear."""
    marker = "zebra" + uuid.uuid4().hex[:8]
    assistant.send(uuid.uuid4().hex, f"my {marker} calf is swollen and hot, why do cramps happen?")
    assistant.send(uuid.uuid4().hex, f'/greet{{"triage_level": "{marker}"}}')
    assistant.send(uuid.uuid4().hex, f"/{marker}")
    asyncio.run(socketio_converse(assistant.url, "http://127.0.0.1:8080", None, f"cramp {marker} tonight"))
    for server in assistant.servers:
        server._log.flush()
        log = server.log_path.read_text(errors="replace")
        assert marker not in log, f"message text in {server.log_path.name}"


def test_the_http_api_needs_the_token(assistant):
    sender = uuid.uuid4().hex
    assistant.send(sender, "hi")
    for url in (
        f"{assistant.url}/conversations/rest:{sender}/tracker",
        f"{assistant.url}/conversations/rest:{sender}/tracker?token=wrong",
    ):
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(url, timeout=10)
        assert error.value.code in (401, 403)
    assert assistant.tracker(f"rest:{sender}")["sender_id"] == f"rest:{sender}"


def test_a_failing_action_does_not_echo_the_conversation_back(assistant):
    """rasa-sdk's error body would hold the whole request (the conversation); Rasa logs it."""
    marker = "zebra" + uuid.uuid4().hex[:8]
    broken_call = {
        "next_action": "action_answer_topic",
        "sender_id": "rest:x",
        "version": "3.6.21",
        "tracker": {"sender_id": "rest:x", "latest_message": marker, "slots": marker, "events": [marker]},
        "domain": marker,
    }
    request = urllib.request.Request(
        f"http://127.0.0.1:{assistant.action_port}/webhook",
        data=json.dumps(broken_call).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=10)
    assert error.value.code == 500
    assert marker not in error.value.read().decode()
