"""At most 3 concurrent requests per (integration code × endpoint), fleet-wide.

Reference: api.md §7 "Thread limit" — integrations created after 2023.1 may run 3 concurrent
requests per API tracking identifier and object endpoint; more are slowed down by Autotask.

A counting semaphore in Redis: a sorted set of holders scored by when they took their slot; a
holder older than the lease (a killed worker) is dropped, so a slot is never lost for good.
Taking a slot is one Lua script (atomic). No kept library fits: redis-semaphore (2016) and
python-redis-lock are unmaintained or locks only. Without Redis (the local one-command run:
one process) a process-local semaphore does the same; a Redis outage stops limiting (Autotask
then only slows us down) rather than stopping every request.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import redis
from django.conf import settings

logger = logging.getLogger("psa.autotask")

THREADS_PER_ENDPOINT = 3
LEASE_SECONDS = 180.0  # longer than any one request (read timeout 60 s) with its retries' waits
POLL_SECONDS = 0.05

_TAKE = """
local key, now, lease, limit, token = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4]
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - lease)
if redis.call('ZCARD', key) < limit then
  redis.call('ZADD', key, now, token)
  redis.call('EXPIRE', key, math.ceil(lease))
  return 1
end
return 0
"""

_local_lock = threading.Lock()
_local: dict[str, threading.BoundedSemaphore] = {}
_clients: dict[str, redis.Redis] = {}


def _redis(url: str) -> redis.Redis:
    with _local_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        return _clients[url]


class EndpointSemaphore:
    """`with semaphore.slot(key): ...` runs the body holding one of `limit` slots of `key`."""

    def __init__(
        self,
        *,
        limit: int = THREADS_PER_ENDPOINT,
        redis_url: str | None = None,
        lease_seconds: float = LEASE_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limit = limit
        self.redis_url: str = (settings.REDIS_URL if redis_url is None else redis_url) or ""
        self.lease_seconds = lease_seconds
        self.sleep = sleep

    @contextmanager
    def slot(self, key: str) -> Iterator[None]:
        if not self.redis_url:
            with _local_lock:
                local = _local.setdefault(key, threading.BoundedSemaphore(self.limit))
            with local:
                yield
            return
        token = self._take(key)
        try:
            yield
        finally:
            if token:
                self._give_back(key, token)

    def _take(self, key: str) -> str | None:
        """Wait for a slot; the holder's token, or None when Redis is unavailable (no limit)."""
        client = _redis(self.redis_url)
        token = uuid.uuid4().hex
        try:
            take = client.register_script(_TAKE)
            while not take(keys=[key], args=[time.time(), self.lease_seconds, self.limit, token]):
                self.sleep(POLL_SECONDS)
        except redis.RedisError as exc:
            logger.warning("thread limit %s unavailable, not limiting: %s", key, exc)
            return None
        return token

    def _give_back(self, key: str, token: str) -> None:
        try:
            _redis(self.redis_url).zrem(key, token)
        except redis.RedisError as exc:  # the lease frees the slot soon enough
            logger.warning("thread limit %s: could not release a slot: %s", key, exc)

    def holders(self, key: str) -> int:
        """Slots taken now (for tests and the status page)."""
        if not self.redis_url:
            return 0
        client = _redis(self.redis_url)
        client.zremrangebyscore(key, "-inf", time.time() - self.lease_seconds)
        return int(client.zcard(key))  # type: ignore[arg-type]  # the sync client answers an int
