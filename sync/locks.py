"""Tier leases: a tier never overlaps itself for the same connection.

A lease is a `TierLock` row claimed by a conditional UPDATE (free or expired → mine) and the
row count tells who won; this works on PostgreSQL and SQLite alike and needs no Redis. The
holder renews the lease as it makes progress (after every page), so the lease can be short and
a SIGKILLed worker's lease frees itself within `SYNC_LOCK_TTL_SECONDS`.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from sync.models import TierLock


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


def lock_renew(*, connection_id: int, tier: str, holder: str) -> None:
    """Extend the lease; raise LockLost when it is no longer ours."""
    renewed = TierLock.objects.filter(connection_id=connection_id, tier=tier, holder=holder).update(
        expires_at=timezone.now() + lock_ttl()
    )
    if renewed != 1:
        raise LockLost(f"lease on {tier} for connection {connection_id} was lost")


def lock_release(*, connection_id: int, tier: str, holder: str) -> None:
    TierLock.objects.filter(connection_id=connection_id, tier=tier, holder=holder).update(
        holder="", expires_at=None
    )


class Lease:
    """A held lease; `renew()` is called by the engine as it makes progress."""

    def __init__(self, connection_id: int, tier: str, holder: str):
        self.connection_id = connection_id
        self.tier = tier
        self.holder = holder

    def renew(self) -> None:
        lock_renew(connection_id=self.connection_id, tier=self.tier, holder=self.holder)


@contextmanager
def tier_lease(*, connection_id: int, tier: str) -> Iterator[Lease | None]:
    """`with tier_lease(...) as lease:` — lease is None when the tier is already running."""
    holder = lock_claim(connection_id=connection_id, tier=tier)
    if holder is None:
        yield None
        return
    try:
        yield Lease(connection_id, tier, holder)
    finally:
        lock_release(connection_id=connection_id, tier=tier, holder=holder)
