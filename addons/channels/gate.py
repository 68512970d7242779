"""What every public channel does around a turn: rate limit, fail closed, forget on request.

- Rate limit per conversation, so one sender cannot flood the assistant (and the
  tracker store). Counted in Redis when the lock store is Redis (the scaled profile), so
  it holds across instances; in memory otherwise.
- Fail closed: when the conversation store or the lock store cannot be reached, the
  person is told so, with the emergency numbers, instead of getting an answer from a
  conversation without its past (see addons.server.tracker_store). Any other failure of a
  turn gets a short apology; nothing is logged but the error's type.
- "Forget me": when the person confirmed it, the conversation is deleted after the
  turn has been saved, under the conversation's lock (a deletion during the turn would
  be undone when Rasa saves the turn's events).

The texts are the domain's responses, so they are reviewed with the others.
"""

from __future__ import annotations

import functools
import logging
import os
import time
import uuid
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.lock_store import LockError
from sanic import Blueprint

from addons.model.emergency_numbers import load_numbers
from addons.server.lock_store import shared_redis
from addons.server.tracker_store import ConversationStoreUnavailable, FailClosedSQLTrackerStore, fail_closed
from coach_names import Response

logger = logging.getLogger(__name__)

Handler = Callable[[UserMessage], Awaitable[Any]]

# Messages per sender in a sliding window; "0" turns the limit off (benchmarks only).
RATE_LIMIT = os.environ.get("CRAMP_COACH_RATE_LIMIT", "20/60")
TRACKED_SENDERS = 10_000

# Said only when no model (and so no domain) is loaded; the numbers come from the numbers file.
_FALLBACK_TEXT = (
    "Sorry, something went wrong on my side. Please try again in a minute. If this is an "
    "emergency (chest pain, trouble breathing, fainting), call an ambulance now: {emergency_number}."
)


@functools.lru_cache(maxsize=1)
def _default_numbers() -> Text:
    """The numbers said before a country is known (knowledge/emergency_numbers.yml, `default`)."""
    return load_numbers().default


def parse_rate_limit(value: Text) -> Optional[Tuple[int, float]]:
    """Read "20/60" as 20 messages per 60 s; "0" or "" as no limit."""
    if not value or value.strip() == "0":
        return None
    count, _, seconds = value.partition("/")
    return int(count), float(seconds or 60)


# KEYS[1] the sender's window; ARGV: now, window seconds, limit, a unique member.
_SLIDING_WINDOW = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], 0, tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])))
  return 1
end
return 0
"""


class RateLimiter:
    """Sliding-window counter per sender, bounded in memory; a Redis counter once `shared` is set."""

    def __init__(self, limit: Optional[Tuple[int, float]]) -> None:
        self.limit = limit
        self._recent: "OrderedDict[Text, list]" = OrderedDict()
        self.shared: Optional[Tuple[Any, Text]] = None  # (Redis client, key prefix)

    def allow(self, sender_id: Text, now: Optional[float] = None) -> bool:
        if self.limit is None:
            return True
        if self.shared is not None:
            try:
                return self._allow_shared(sender_id)
            except Exception as error:  # noqa: BLE001 (Redis down: the turn will say so; limit locally)
                logger.warning("shared rate limit unavailable (%s)", type(error).__name__)
        count, window = self.limit
        now = time.monotonic() if now is None else now
        times = [t for t in self._recent.pop(sender_id, []) if now - t < window]
        allowed = len(times) < count
        if allowed:
            times.append(now)
        self._recent[sender_id] = times
        while len(self._recent) > TRACKED_SENDERS:
            self._recent.popitem(last=False)
        return allowed

    def _allow_shared(self, sender_id: Text) -> bool:
        """The same sliding window, kept in Redis for every instance (one atomic script)."""
        count, window = self.limit  # type: ignore[misc]
        client, prefix = self.shared  # type: ignore[misc]
        allowed = client.eval(
            _SLIDING_WINDOW, 1, f"{prefix}rate:{sender_id}", time.time(), window, count, uuid.uuid4().hex
        )
        return bool(allowed)


def _memory_unavailable(error: BaseException) -> bool:
    """The conversation store or the lock store (Redis) cannot be reached."""
    return isinstance(error, (ConversationStoreUnavailable, LockError)) or type(error).__module__.startswith("redis")


class ConversationGate:
    """Wraps Rasa's on_new_message for one channel."""

    def __init__(self, on_new_message: Handler, rate_limit: Text = RATE_LIMIT) -> None:
        self._on_new_message = on_new_message
        self.limiter = RateLimiter(parse_rate_limit(rate_limit))
        self.agent: Any = None
        self.store: Optional[FailClosedSQLTrackerStore] = None

    def attach(self, agent: Any) -> None:
        if not agent.is_ready():
            # Rasa 3.6 logs a corrupt model and then serves empty replies forever.
            logger.critical(
                "no usable model (corrupt, unreadable or from another Rasa version): "
                "stopping. Train one with `make train` or pick one with MODEL=..."
            )
            logging.shutdown()
            os._exit(78)
        self.agent = agent
        self.store = fail_closed(agent.tracker_store)
        self.limiter.shared = shared_redis(agent.lock_store)
        if self.store is None:
            logger.warning("the tracker store is not FailClosedSQLTrackerStore: 'forget me' cannot delete")

    def register(self, blueprint: Blueprint) -> "ConversationGate":
        """Attaches to the agent once the server (and so the agent) has started."""

        async def attach_to_agent(app: Any, *_: Any) -> None:
            self.attach(app.ctx.agent)

        blueprint.listener("after_server_start")(attach_to_agent)
        return self

    def text(self, response: Text) -> Text:
        """A domain response said outside a turn (no tracker): {emergency_number} is the default numbers."""
        responses: Dict[Text, Any] = getattr(getattr(self.agent, "domain", None), "responses", None) or {}
        variants = responses.get(response) or [{}]
        template = variants[0].get("text") or _FALLBACK_TEXT
        return template.replace("{emergency_number}", _default_numbers())

    async def __call__(self, message: UserMessage) -> None:
        sender_id = message.sender_id
        if not self.limiter.allow(sender_id):
            logger.info("a message over the rate limit was not processed")
            await message.output_channel.send_text_message(sender_id, self.text(Response.SLOW_DOWN))
            return
        try:
            await self._on_new_message(message)
        except Exception as error:  # noqa: BLE001 (the person must get an answer; Rasa's channels log the text)
            memory = _memory_unavailable(error)
            # The type only: error messages can quote the conversation.
            logger.error(
                "a turn failed (%s.%s)%s",
                type(error).__module__,
                type(error).__name__,
                ": conversation or lock store unavailable" if memory else "",
            )
            await message.output_channel.send_text_message(
                sender_id, self.text(Response.MEMORY_UNAVAILABLE if memory else Response.TURN_FAILED)
            )
            return
        if self.store is not None and self.store.take_pending_deletion(sender_id):
            await self._forget(message)

    async def _forget(self, message: UserMessage) -> None:
        try:
            async with self.agent.lock_store.lock(message.sender_id):
                deleted = self.store.delete(message.sender_id)
            logger.info("a conversation was deleted at the person's request (%d events)", deleted)
        except Exception as error:  # noqa: BLE001
            logger.error("deleting a conversation failed (%s)", type(error).__name__)
            await message.output_channel.send_text_message(message.sender_id, self.text(Response.FORGET_FAILED))


def gated_blueprint(on_new_message: Handler, make_blueprint: Callable[["ConversationGate"], Blueprint]) -> Blueprint:
    """A channel's blueprint whose messages go through a ConversationGate."""
    gate = ConversationGate(on_new_message)
    blueprint = make_blueprint(gate)
    gate.register(blueprint)
    return blueprint
