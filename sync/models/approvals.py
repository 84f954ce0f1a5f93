"""An operator's one-shot approval of a mass delete the sync engine refused."""

from __future__ import annotations

from django.db import models


class MassDeleteApproval(models.Model):
    """Lets the next full run of (connection, entity) delete more than the mass-delete guard
    allows, once. The run that reaches its delete step with a complete listing uses it up."""

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    entity = models.CharField(max_length=60)
    approved_by = models.CharField(max_length=150)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by_run = models.ForeignKey(
        "sync.SyncRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["connection", "entity", "used_at"])]

    def __str__(self) -> str:
        state = f"used {self.used_at:%Y-%m-%d %H:%M}" if self.used_at else "pending"
        return f"{self.connection_id}/{self.entity} mass delete approved by {self.approved_by} ({state})"
