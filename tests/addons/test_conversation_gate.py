"""The channel gate: per-sender rate limit, honest answers when a part is down."""

import asyncio
from types import SimpleNamespace

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import LockError

from addons.channels.gate import ConversationGate, RateLimiter, parse_rate_limit
from addons.server.tracker_store import ConversationStoreUnavailable


def test_rate_limit_setting():
    assert parse_rate_limit("20/60") == (20, 60.0)
    assert parse_rate_limit("0") is None
    assert parse_rate_limit("") is None


def test_rate_limit_counts_per_sender_in_a_sliding_window():
    limiter = RateLimiter((3, 10))
    assert [limiter.allow("a", now=t) for t in (0, 1, 2, 3)] == [True, True, True, False]
    assert limiter.allow("b", now=3)  # someone else is not slowed down
    assert limiter.allow("a", now=10.5)  # the first message left the window


def gate_with(handler, rate_limit="20/60"):
    gate = ConversationGate(handler, rate_limit)
    gate.agent = SimpleNamespace(
        domain=SimpleNamespace(
            responses={
                "utter_memory_unavailable": [{"text": "MEMORY DOWN 112"}],
                "utter_turn_failed": [{"text": "TURN FAILED"}],
                "utter_slow_down": [{"text": "SLOW DOWN"}],
            }
        )
    )
    return gate


def run(gate, text="hello"):
    output = CollectingOutputChannel()
    asyncio.run(gate(UserMessage(text, output, "rest:p")))
    return [m["text"] for m in output.messages]


@pytest.mark.parametrize(
    "error,expected",
    [
        (ConversationStoreUnavailable("OperationalError"), "MEMORY DOWN 112"),
        (LockError("redis down"), "MEMORY DOWN 112"),
        (RuntimeError("boom"), "TURN FAILED"),
    ],
)
def test_a_failed_turn_is_never_silence(error, expected):
    async def failing(_message):
        raise error

    assert run(gate_with(failing)) == [expected]


def test_over_the_limit_the_message_is_not_processed_and_the_person_is_told():
    handled = []

    async def handler(message):
        handled.append(message.text)

    gate = gate_with(handler, "2/60")
    assert [run(gate, f"m{i}") for i in range(3)] == [[], [], ["SLOW DOWN"]]
    assert handled == ["m0", "m1"]


@pytest.mark.scaled
def test_the_shared_window_in_redis_counts_for_every_instance(tmp_path):
    import redis

    from devstack.scaled_stack import Redis

    server = Redis(tmp_path)
    try:
        client = redis.Redis(port=server.port, password=server.password)
        first, second = RateLimiter((3, 60)), RateLimiter((3, 60))  # two instances
        first.shared = second.shared = (client, "test:")
        assert [first.allow("a"), second.allow("a"), first.allow("a"), second.allow("a")] == [True] * 3 + [False]
        assert second.allow("b")
    finally:
        server.stop()
