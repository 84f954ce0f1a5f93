"""Tier leases: a tier never overlaps itself for the same connection.

A lease is a `TierLock` row claimed by a conditional UPDATE (free or expired → mine) and the
row count tells who won; this works on PostgreSQL and SQLite alike and needs no Redis.

The holder's heartbeat (a helper thread) renews the lease every third of
`SYNC_LOCK_TTL_SECONDS` (45 s by default) whatever the run is doing (a long page, a count, a
Retry-After wait), so the lease can be short: a SIGKILLed worker stops beating and its lease is
taken over within the TTL, not after the longest thing a live run might do. The engine also
renews after every page, which is where a holder learns that it lost the lease (LockLost).

A queue lease (`queue_lease`) is the same row keyed `queue:<name>` instead of a tier: it caps a
connection at one slot of a queue that several tiers share (core and reference on `sync`), so
one tenant never holds two slots of the bulk pool at once.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db import connection as db_connection
from django.db.models import Q
from django.utils import timezone

from sync.models import TierLock

logger = logging.getLogger("sync.locks")
BEATS_PER_TTL = 3


class LockLost(Exception):
    """The lease expired and someone else took it: stop without committing side effects."""


def lock_ttl() -> timedelta:
    return timedelta(seconds=settings.SYNC_LOCK_TTL_SECONDS)


def _new_holder() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def lock_claim(*, connection_id: int, tier: str) -> str | None:
    """Claim the lease; the holder token on success, None when someone else holds it."""
    # get_or_create re-reads the row when a concurrent claimer created it first.
    TierLock.objects.get_or_create(connection_id=connection_id, tier=tier)
    holder = _new_holder()
    now = timezone.now()
    claimed = TierLock.objects.filter(
        Q(expires_at__isnull=True) | Q(expires_at__lt=now), connection_id=connection_id, tier=tier
    ).update(holder=holder, expires_at=now + lock_ttl())
    return holder if claimed == 1 else None


def _extend(*, connection_id: int, tier: str, holder: str) -> bool:
    renewed = TierLock.objects.filter(connection_id=connection_id, tier=tier, holder=holder).update(
        expires_at=timezone.now() + lock_ttl()
    )
    return renewed == 1


def lock_renew(*, connection_id: int, tier: str, holder: str) -> None:
    """Extend the lease; raise LockLost when it is no longer ours."""
    if not _extend(connection_id=connection_id, tier=tier, holder=holder):
        raise LockLost(f"lease on {tier} for connection {connection_id} was lost")


def lock_release(*, connection_id: int, tier: str, holder: str) -> None:
    TierLock.objects.filter(connection_id=connection_id, tier=tier, holder=holder).update(
        holder="", expires_at=None
    )


class Lease:
    """A held lease; `renew()` is called by the engine as it makes progress, the heartbeat
    keeps it alive in between."""

    def __init__(self, connection_id: int, tier: str, holder: str):
        self.connection_id = connection_id
        self.tier = tier
        self.holder = holder
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None

    def renew(self) -> None:
        lock_renew(connection_id=self.connection_id, tier=self.tier, holder=self.holder)

    def start_heartbeat(self) -> None:
        self._heartbeat = threading.Thread(target=self._beat, name=f"lease-{self.tier}", daemon=True)
        self._heartbeat.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=10)

    def _beat(self) -> None:
        # Its own database connection (Django's are per thread), closed when the beating stops.
        # A lost lease only stops the beating: the run learns it at its next renew().
        interval = lock_ttl().total_seconds() / BEATS_PER_TTL
        try:
            while not self._stop.wait(interval):
                try:
                    if not _extend(connection_id=self.connection_id, tier=self.tier, holder=self.holder):
                        return
                except DatabaseError as err:  # the next beat tries again on a fresh connection
                    logger.warning(
                        "lease heartbeat of %s for connection %s: %s", self.tier, self.connection_id, err
                    )
                    db_connection.close()
        finally:
            db_connection.close()


def tier_running_until(*, connection_id: int, tier: str, now: datetime | None = None) -> datetime | None:
    """When the tier's lease expires if someone holds it now (its run is in progress), else None.
    Held means what `lock_claim` cannot take: a holder and an expiry not yet passed."""
    now = now or timezone.now()
    lock = (
        TierLock.objects.filter(connection_id=connection_id, tier=tier, expires_at__gte=now)
        .exclude(holder="")
        .first()
    )
    return lock.expires_at if lock else None


def tier_running(*, connection_id: int, tier: str) -> bool:
    """Someone holds the tier's lease now (its run is in progress)."""
    return tier_running_until(connection_id=connection_id, tier=tier) is not None


def queue_lease(*, connection_id: int, queue: str) -> AbstractContextManager[Lease | None]:
    """`with queue_lease(...) as lease:` — lease is None while another task of the connection
    holds a slot of that queue."""
    return tier_lease(connection_id=connection_id, tier=f"queue:{queue}")


@contextmanager
def tier_lease(*, connection_id: int, tier: str) -> Iterator[Lease | None]:
    """`with tier_lease(...) as lease:` — lease is None when the tier is already running."""
    holder = lock_claim(connection_id=connection_id, tier=tier)
    if holder is None:
        yield None
        return
    lease = Lease(connection_id, tier, holder)
    lease.start_heartbeat()
    try:
        yield lease
    finally:
        lease.stop_heartbeat()
        lock_release(connection_id=connection_id, tier=tier, holder=holder)
