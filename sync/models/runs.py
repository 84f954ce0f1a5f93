"""Bookkeeping of the tiered sync: one row per engine run, watermarks and tier locks."""

from __future__ import annotations

from django.db import models


class SyncRun(models.Model):
    """One engine run: one entity of one tier for one connection."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        REFUSED = "refused", "Refused (mass delete)"

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="sync_runs")
    tier = models.CharField(max_length=20, db_index=True)
    entity = models.CharField(max_length=60, db_index=True)
    started_at = models.DateTimeField(db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True)
    fetched = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    deleted = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    coerced = models.PositiveIntegerField(default=0)
    requests = models.PositiveIntegerField(default=0, help_text="HTTP requests sent, retries included")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["connection", "tier", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.connection_id}/{self.tier}/{self.entity} {self.status}"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Watermark(models.Model):
    """Where the `changes` tier resumes for one connection + entity (server time)."""

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    entity = models.CharField(max_length=60)
    last_updated = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "entity"], name="sync_watermark_key")]

    def __str__(self) -> str:
        return f"{self.connection_id}/{self.entity} @ {self.last_updated.isoformat()}"


class TierLock(models.Model):
    """A lease on (connection, tier). Claimed by a conditional UPDATE; see sync/locks.py."""

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=20)
    holder = models.CharField(max_length=64, blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "tier"], name="sync_tierlock_key")]

    def __str__(self) -> str:
        return f"{self.connection_id}/{self.tier} held by {self.holder or '-'} until {self.expires_at}"
