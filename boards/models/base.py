"""The common shape of every mirrored PSA record.

Rows carry their connection and the PSA id (unique together) and refer to other PSA records
by PSA id + name, never by database foreign keys: sync order never matters and a bulk upsert
never fails on a parent that has not arrived yet (DESIGN.md). The raw PSA JSON is kept beside
the typed columns so new or unknown PSA fields never break a sync.
"""

from __future__ import annotations

from django.db import models


def psa_ref() -> models.BigIntegerField:
    """PSA id of a referenced record (indexed; no database foreign key on purpose)."""
    return models.BigIntegerField(null=True, blank=True, db_index=True)


def ref_name(max_length: int = 255) -> models.CharField:
    return models.CharField(max_length=max_length, blank=True, default="")


class MirrorRecord(models.Model):
    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    psa_id = models.BigIntegerField()
    psa_updated_at = models.DateTimeField(null=True, blank=True, help_text="server _info.lastUpdated")
    raw = models.JSONField(default=dict, blank=True)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["connection", "psa_id"], name="%(app_label)s_%(class)s_psa_key"),
        ]

    def __str__(self) -> str:
        label = getattr(self, "name", "") or getattr(self, "summary", "")
        return f"{self.psa_id} {label}".strip()


class NamedMirrorRecord(MirrorRecord):
    """Reference data: a name and, usually, an inactive flag."""

    name = models.CharField(max_length=255, blank=True, default="")
    inactive = models.BooleanField(default=False)

    class Meta(MirrorRecord.Meta):
        abstract = True
        ordering = ["name"]
