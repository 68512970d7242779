"""Rasa's Redis lock store, checked at start.

Rasa 3.6 connects to Redis only when the first message arrives, so a server with a
wrong address or password starts and then fails every turn. This one pings Redis once
at start and stops the server with an error naming the address (no password).
"""

from __future__ import annotations

import redis
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig


class CheckedRedisLockStore(RedisLockStore):
    """RedisLockStore that refuses to start without its Redis."""

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
