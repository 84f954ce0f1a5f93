"""Dropping replayed callbacks.

A signed callback stays validly signed forever: anyone who saw one could post it again. The
receiver accepts each delivery once (by the PSA's message id, or the body's digest when the PSA
sends none) within REPLAY_WINDOW, and refuses callbacks reporting a change older than that window,
which no honest delivery does (ConnectWise retries a failed delivery after 2 s and 4 s).
A dropped replay costs nothing: the refresh it asks for was queued the first time.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from psa.providers import CallbackResult

logger = logging.getLogger("sync.webhooks")

REPLAY_WINDOW = timedelta(hours=6)


def replay_reason(*, connection_id: int, result: CallbackResult, body: bytes) -> str:
    """Why this callback is a replay ('' when it is not)."""
    if result.happened_at is not None and result.happened_at < timezone.now() - REPLAY_WINDOW:
        return f"reports a change older than {REPLAY_WINDOW}"
    delivery = result.message_id or hashlib.sha256(body).hexdigest()
    key = f"sync:callback-seen:{connection_id}:{hashlib.sha256(delivery.encode()).hexdigest()[:40]}"
    try:
        first_time = cache.add(key, 1, int(REPLAY_WINDOW.total_seconds()))
    except Exception:  # cache down: accept it (a re-read is harmless; losing a change is not)
        logger.warning("connection %s: replay check skipped, the cache is down", connection_id)
        return ""
    return "" if first_time else "already received"
