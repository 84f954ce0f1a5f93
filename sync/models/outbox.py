"""The write-back outbox: one row per user edit still to be (or already) pushed to the PSA.

A service changes the mirror and writes the row in one transaction; a `realtime` task pushes
it; a sweeper re-sends rows stuck in `pending` (broker down) or `sending` (worker died).
A worker owns a row only after its conditional UPDATE (pending → sending) changed one row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class OutboxEntry(models.Model):
    class Action(models.TextChoices):
        TICKET_STATUS = "ticket_status", "Change ticket status"
        TICKET_PRIORITY = "ticket_priority", "Change ticket priority"
        TICKET_ADD_RESOURCE = "ticket_add_resource", "Add a resource to a ticket"
        TICKET_REMOVE_RESOURCE = "ticket_remove_resource", "Remove a resource from a ticket"
        OPPORTUNITY_STAGE = "opportunity_stage", "Change opportunity stage"
        OPPORTUNITY_STATUS = "opportunity_status", "Change opportunity status"
        TIME_ENTRY_CREATE = "time_entry_create", "Create a time entry"
        TICKET_NOTE_ADD = "ticket_note_add", "Add a ticket note"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed (rejected by the PSA)"

    class Kind(models.TextChoices):
        TICKET = "ticket", "Ticket"
        OPPORTUNITY = "opportunity", "Opportunity"

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="outbox")
    action = models.CharField(max_length=30, choices=Action.choices)
    # The card the edit belongs to (errors are shown there); by PSA id like every mirror reference.
    kind = models.CharField(max_length=12, choices=Kind.choices)
    psa_id = models.BigIntegerField()
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Id of the record the PSA created (time entry, note, schedule entry), once known.
    result_psa_id = models.BigIntegerField(null=True, blank=True)
    error = models.TextField(blank=True, default="", help_text="the PSA's message for the last failure")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name_plural = "outbox entries"
        indexes = [
            models.Index(fields=["state", "updated_at"]),
            models.Index(fields=["connection", "kind", "psa_id", "state"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.kind} {self.psa_id} [{self.state}]"

    @property
    def placeholder_psa_id(self) -> int:
        """The mirror row of a record not created in the PSA yet carries this (negative) id."""
        return -int(self.pk)

    def results_of_siblings(self) -> set[int]:
        """The PSA records other entries of this action on this card created: a create whose
        answer was lost looks for its record among the rest (Autotask and ConnectWise have no
        idempotency key), never among these."""
        ids = (
            OutboxEntry.objects.filter(
                connection_id=self.connection_id,
                action=self.action,
                psa_id=self.psa_id,
                result_psa_id__isnull=False,
            )
            .exclude(pk=self.pk)
            .values_list("result_psa_id", flat=True)
        )
        return {int(i) for i in ids if i is not None}
