"""Outages a test can switch on."""

from django.test import override_settings

# A Redis cache on a port nothing listens on: every cache call fails the way a Redis outage does
# (connection refused), through the real Redis backend.
REDIS_DOWN = override_settings(
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
)
