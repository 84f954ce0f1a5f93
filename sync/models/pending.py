"""Webhook refreshes kept in PostgreSQL while Redis (the coalescing queue) is unreachable."""

from __future__ import annotations

from django.db import models


class PendingRefresh(models.Model):
    """A record a signed callback asked us to re-read, stored because Redis could not take it.

    The receiver answers 2xx only once the refresh is queued somewhere durable: Redis, or this
    table when Redis is down. The realtime sweeper hands the rows to the coalescing queue once
    Redis answers again (sync/refresh_fallback.py)."""

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    psa_id = models.BigIntegerField()
    hint = models.CharField(max_length=60, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.connection_id}/{self.kind} {self.psa_id} (pending since {self.received_at:%H:%M:%S})"
