"""Card ranks: one local manual order per connection, never sent to the PSA."""

from __future__ import annotations

from django.db import models


class ByteOrderedCharField(models.CharField):
    """A CharField compared byte by byte ("C" collation on PostgreSQL).

    Fractional-indexing keys mix upper and lower case; a linguistic collation would order
    "Zz" after "a0", breaking the rank order. SQLite compares bytes already.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params


class CardRank(models.Model):
    class Kind(models.TextChoices):
        TICKET = "ticket", "Tickets (service and project)"
        OPPORTUNITY = "opportunity", "Opportunities"

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    psa_id = models.BigIntegerField()
    key = ByteOrderedCharField(max_length=255)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind", "psa_id"], name="boards_cardrank_card"),
            models.UniqueConstraint(fields=["connection", "kind", "key"], name="boards_cardrank_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.psa_id} @ {self.key}"
