"""Echo suppression: a callback that only reports our own write-back is not refreshed.

After a successful push the outbox remembers the version the PSA gave the record (the
provider's `record_version`); a callback carrying exactly that version is our echo. Anything
else (another user's later edit) is refreshed as usual.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

logger = logging.getLogger("sync.echo")

ECHO_SECONDS = 120


def _echo_key(connection_id: int, kind: str, psa_id: int) -> str:
    return f"sync:echo:{connection_id}:{kind}:{psa_id}"


def echo_remember(*, connection_id: int, kind: str, psa_id: int, version: str) -> None:
    """After a successful push: the callback carrying exactly `version` is our own echo."""
    if not version:
        return
    try:
        cache.set(_echo_key(connection_id, kind, psa_id), version, ECHO_SECONDS)
    except Exception:  # cache down: the echo costs one refresh, nothing else
        logger.warning("could not remember the echo of %s %s (connection %s)", kind, psa_id, connection_id)


def is_echo(*, connection_id: int, kind: str, psa_id: int, version: str) -> bool:
    if not version:
        return False
    try:
        return cache.get(_echo_key(connection_id, kind, psa_id)) == version
    except Exception:  # cache down: refresh anyway (an echo costs one PSA read, a miss costs data)
        return False
