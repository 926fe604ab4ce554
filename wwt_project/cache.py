"""A Redis cache that fails soft: with Redis down, reads miss and writes are dropped.

The cache only spares work (page views, allauth's rate-limit counters), so an unreachable
Redis must make pages slower, never answer 500. Each failure is logged (once a minute).
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.retry import Retry

logger = logging.getLogger(__name__)
_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
_LOG_EVERY_SECONDS = 60


class FailSoftRedisCache(RedisCache):
    _last_logged = 0.0

    def __init__(self, server, params):
        super().__init__(server, params)
        # redis-py retries a refused connection with backoff for seconds by default: a cache
        # is not worth the wait, so one try per operation.
        self._options = {"retry": Retry(NoBackoff(), 0), **self._options}

    def _down(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - FailSoftRedisCache._last_logged > _LOG_EVERY_SECONDS:
            FailSoftRedisCache._last_logged = now
            logger.warning("cache %s skipped, Redis is unreachable: %s", operation, exc)

    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except _DOWN as exc:
            self._down("get", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except _DOWN as exc:
            self._down("get_many", exc)
            return {}

    def has_key(self, key, version=None):
        try:
            return super().has_key(key, version)
        except _DOWN as exc:
            self._down("has_key", exc)
            return False

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().add(key, value, timeout, version)
        except _DOWN as exc:
            self._down("add", exc)
            # "Added": callers that spin until add succeeds (allauth's cache lock) go on.
            return True

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            super().set(key, value, timeout, version)
        except _DOWN as exc:
            self._down("set", exc)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().set_many(data, timeout, version)
        except _DOWN as exc:
            self._down("set_many", exc)
            return list(data)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        try:
            return super().touch(key, timeout, version)
        except _DOWN as exc:
            self._down("touch", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except _DOWN as exc:
            self._down("delete", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except _DOWN as exc:
            self._down("delete_many", exc)

    def incr(self, key, delta=1, version=None):
        try:
            return super().incr(key, delta, version)
        except _DOWN as exc:
            self._down("incr", exc)
            raise ValueError(f"Key {key!r} not found (Redis is unreachable)") from exc

    def clear(self):
        try:
            return super().clear()
        except _DOWN as exc:
            self._down("clear", exc)
            return False


def soft_cache(method: str, *args):
    """`cache.<method>(*args)` for callers whose cache use only spares work: any backend's
    failure (Redis, a full disk under the file cache) is logged and answers None."""
    from django.core.cache import cache

    try:
        return getattr(cache, method)(*args)
    except Exception as exc:  # a cache outage must not take a page or a job down; it is logged
        logger.warning("cache %s skipped: %s", method, exc)
        return None
