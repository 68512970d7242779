"""The socket.io channel over the wire: replies with persistence, origins, namespaced ids."""

import asyncio

import pytest
import socketio

from helpers import socketio_converse as converse

pytestmark = [pytest.mark.model, pytest.mark.servers]
ALLOWED = "http://127.0.0.1:8080"  # the default in credentials.yml


def test_replies_arrive_with_session_persistence_and_carry_severity(assistant):
    session_id, replies = asyncio.run(converse(assistant.url, ALLOWED, None, "my left calf is swollen and hot"))
    # Text alone beside metadata: the shape every Rasa web client shows as a text message.
    assert replies and set(replies[0]) == {"text", "metadata"}
    assert replies[0]["metadata"] == {"severity": "urgent"}
    assert assistant.tracker(f"web:{session_id}")["slots"]["triage_level"] == "urgent"


def test_a_known_session_is_resumed(assistant):
    first, _ = asyncio.run(converse(assistant.url, ALLOWED, None, "why do my legs cramp?"))
    again, replies = asyncio.run(converse(assistant.url, ALLOWED, first, "what about during pregnancy?"))
    assert again == first
    assert assistant.tracker(f"web:{first}")["slots"]["topic"] == "causes_pregnancy"


@pytest.mark.parametrize("requested", ["123456789", "telegram:123456789", "../etc", "A" * 32])
def test_clients_cannot_choose_other_conversation_ids(assistant, requested):
    session_id, _ = asyncio.run(converse(assistant.url, ALLOWED, requested, "hello"))
    assert session_id != requested and len(session_id) == 32


def test_other_origins_cannot_open_the_socket(assistant):
    with pytest.raises(socketio.exceptions.ConnectionError):
        asyncio.run(converse(assistant.url, "http://evil.example", None, "hello"))
