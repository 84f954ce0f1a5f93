"""Where an interrupted full run resumes: one row per connection + tier + entity."""

from __future__ import annotations

from django.db import models


class SyncCheckpoint(models.Model):
    """The last committed page of a full (deleting) run, saved after every page.

    `run_id` is the SyncRun that owns the checkpoint: the run that resumes it takes it over by
    a conditional UPDATE, and a run that lost it (a dead worker woken up) can no longer save.
    `started_at` and `conditions` are the interrupted run's own: the resumed run lists the same
    scope and prunes what none of them saw since that start (sync/engine/checkpoint.py)."""

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    tier = models.CharField(max_length=20)
    entity = models.CharField(max_length=60)
    run_id = models.BigIntegerField(help_text="the SyncRun that owns the checkpoint")
    started_at = models.DateTimeField(help_text="start of the run that began the listing")
    # Start of the tier run (all of the tier's entities) it belongs to: a rerun of the tier skips
    # the entities that run already finished (sync/engine/checkpoint.py: tier_resume_plan).
    tier_started_at = models.DateTimeField(null=True, blank=True)
    conditions = models.TextField(blank=True, default="")
    # Per listing: path, conditions, parent_id, parents, received, unusable, after_id (None: done).
    listings = models.JSONField(default=list)
    newest_seen = models.DateTimeField(null=True, blank=True)
    unidentified = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "tier", "entity"], name="sync_checkpoint_key")
        ]

    def __str__(self) -> str:
        return f"{self.connection_id}/{self.tier}/{self.entity} of run {self.run_id} since {self.started_at}"
