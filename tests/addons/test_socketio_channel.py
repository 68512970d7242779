"""The socket.io channel over the wire: replies with persistence, origins, namespaced ids."""

import asyncio

import pytest
import socketio

pytestmark = [pytest.mark.model, pytest.mark.servers]
ALLOWED = "http://127.0.0.1:8080"  # the default in credentials.yml


async def converse(url, origin, requested_session, text):
    client = socketio.AsyncClient(reconnection=False)
    confirmed, replies = asyncio.Queue(), []
    client.on("session_confirm", confirmed.put)
    client.on("bot_uttered", lambda data: replies.append(data))
    await client.connect(url, headers={"Origin": origin}, transports=["polling"])
    try:
        await client.emit("session_request", {"session_id": requested_session})
        session_id = await asyncio.wait_for(confirmed.get(), 10)
        await client.emit("user_uttered", {"message": text, "session_id": session_id})
        for _ in range(100):
            if replies:
                await asyncio.sleep(0.3)  # the rest of a multi-part answer
                break
            await asyncio.sleep(0.1)
        return session_id, replies
    finally:
        # Over long-polling a clean disconnect waits for the pending poll (~25 s).
        await client.eio.disconnect(abort=True)


def test_replies_arrive_with_session_persistence_and_carry_severity(assistant):
    session_id, replies = asyncio.run(converse(assistant.url, ALLOWED, None, "my left calf is swollen and hot"))
    assert replies and replies[0]["severity"] == "urgent"
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
