"""Rasa's lock stores, quicker to hand a busy conversation on; the Redis one checked and atomic.

- Rasa 3.6 connects to Redis only when the first message arrives, so a server with a
  wrong address or password starts and then fails every turn. This one pings Redis once
  at start and stops the server with an error naming the address (no password).
- Rasa's RedisLockStore changes a conversation's ticket queue by read-modify-write
  (GET, change, SET). Two instances issuing tickets at once overwrite each other: a
  ticket vanishes and its message fails with LockError (measured: 3 of 12 concurrent
  messages to one conversation over two instances). Here each read-modify-write holds a
  short Redis mutex for that conversation.
- Rasa polls a busy conversation's lock once a second, so a second message sent while the
  first is answered waits up to a second for nothing; these poll every 50 ms (the
  in-memory one is the embedded profile's, endpoints.yml).
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncGenerator, Optional, Text, Tuple

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, InMemoryLockStore, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

POLL_SECONDS = 0.05
MUTEX_SECONDS = 5


class _QuickPolling(LockStore):
    @asynccontextmanager
    async def lock(
        self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME, wait_time_in_seconds: float = POLL_SECONDS
    ) -> AsyncGenerator[TicketLock, None]:
        async with super().lock(conversation_id, lock_lifetime, wait_time_in_seconds) as ticket_lock:
            yield ticket_lock


class QuickInMemoryLockStore(_QuickPolling, InMemoryLockStore):
    """InMemoryLockStore polling every 50 ms (one `rasa run`)."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None) -> None:
        super().__init__()


class CheckedRedisLockStore(_QuickPolling, RedisLockStore):
    """RedisLockStore that refuses to start without its Redis and changes tickets atomically."""

    def __init__(self, endpoint_config: EndpointConfig) -> None:
        host = endpoint_config.url or "localhost"
        port = endpoint_config.kwargs.get("port", 6379)
        super().__init__(host=host, **endpoint_config.kwargs)
        try:
            self.red.ping()
        except redis.exceptions.RedisError as error:
            # A built-in ConnectionError: Rasa turns it into "Cannot connect to lock store."
            raise ConnectionError(
                f"cannot reach the Redis lock store at {host}:{port} ({type(error).__name__}). "
                "Start Redis or fix lock_store in the endpoints file."
            ) from None

    def _mutex(self, conversation_id: Text) -> redis.lock.Lock:
        # Conversation ids start with their channel ("rest:", "web:", ...), never "mutex:".
        return self.red.lock(
            f"{self.key_prefix}mutex:{conversation_id}",
            timeout=MUTEX_SECONDS,
            blocking_timeout=MUTEX_SECONDS,
            sleep=0.002,
        )

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: Text) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)


def shared_redis(lock_store: LockStore) -> Optional[Tuple[redis.Redis, Text]]:
    """The Redis client and key prefix of the scaled profile's lock store, for other shared counts."""
    if isinstance(lock_store, CheckedRedisLockStore):
        return lock_store.red, lock_store.key_prefix
    return None
