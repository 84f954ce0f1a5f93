"""Mirrored work records: tickets, opportunities, their notes, assignments and time."""

from __future__ import annotations

from django.db import models

from boards.models.base import MirrorRecord, psa_ref, ref_name


class Ticket(MirrorRecord):
    """A service ticket or a project ticket (ConnectWise) / ticket (Autotask)."""

    class Kind(models.TextChoices):
        SERVICE = "service", "Service ticket"
        PROJECT = "project", "Project ticket"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SERVICE, db_index=True)
    summary = models.CharField(max_length=255, blank=True, default="")
    board_psa_id = psa_ref()  # ConnectWise service board / Autotask queue
    board_name = ref_name()
    status_psa_id = psa_ref()
    status_name = ref_name()
    closed = models.BooleanField(default=False, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    priority_psa_id = psa_ref()
    priority_name = ref_name()
    company_psa_id = psa_ref()
    company_name = ref_name()
    contact_name = ref_name()
    owner_psa_id = psa_ref()
    owner_identifier = ref_name(100)
    owner_name = ref_name()
    team_psa_id = psa_ref()
    team_name = ref_name()
    project_psa_id = psa_ref()
    project_name = ref_name()
    phase_name = ref_name()
    type_psa_id = psa_ref()
    type_name = ref_name()
    subtype_psa_id = psa_ref()
    subtype_name = ref_name()
    item_psa_id = psa_ref()
    item_name = ref_name()
    # The PSA's own SLA state (ConnectWise service tickets; project tickets have none).
    sla_psa_id = psa_ref()
    sla_name = ref_name()
    sla_status = ref_name(100)  # "Respond by Mon 07/04 1:00 PM UTC-04", "Waiting", "Resolved"
    is_in_sla = models.BooleanField(null=True, blank=True)
    sla_started_at = models.DateTimeField(null=True, blank=True, help_text="escalationStartDateUTC")
    respond_hours = models.FloatField(null=True, blank=True, help_text="the SLA's goals for this ticket")
    resplan_hours = models.FloatField(null=True, blank=True)
    resolution_hours = models.FloatField(null=True, blank=True)
    date_responded = models.DateTimeField(null=True, blank=True)
    date_resplan = models.DateTimeField(null=True, blank=True)
    date_resolved = models.DateTimeField(null=True, blank=True)
    responded_by = ref_name(100)
    resplan_by = ref_name(100)
    resolved_by = ref_name(100)
    respond_minutes = models.IntegerField(null=True, blank=True, help_text="working minutes on the SLA clock")
    resplan_minutes = models.IntegerField(null=True, blank=True)
    resolve_minutes = models.IntegerField(null=True, blank=True)
    minutes_waiting = models.IntegerField(null=True, blank=True)
    minutes_before_waiting = models.IntegerField(null=True, blank=True)
    resources = models.TextField(blank=True, default="", help_text="comma-separated member identifiers")
    budget_hours = models.FloatField(null=True, blank=True)
    actual_hours = models.FloatField(null=True, blank=True)
    customer_updated = models.BooleanField(default=False)
    date_entered = models.DateTimeField(null=True, blank=True)
    required_date = models.DateTimeField(null=True, blank=True)
    # Deadlines: ConnectWise states only the current stage's, in sla_status (psa/connectwise/sla_status.py).
    respond_by = models.DateTimeField(null=True, blank=True)
    plan_by = models.DateTimeField(null=True, blank=True)
    resolve_by = models.DateTimeField(null=True, blank=True)
    # Local-only bookkeeping (never sent to the PSA).
    status_changed_at = models.DateTimeField(null=True, blank=True)
    notes_synced_at = models.DateTimeField(null=True, blank=True)
    writeback_error = models.TextField(
        blank=True, default="", help_text="last PSA rejection, shown on the card"
    )

    class Meta(MirrorRecord.Meta):
        indexes = [models.Index(fields=["connection", "closed", "board_psa_id", "status_psa_id"])]

    @property
    def resource_identifiers(self) -> list[str]:
        return [r.strip() for r in self.resources.split(",") if r.strip()]


class Opportunity(MirrorRecord):
    name = models.CharField(max_length=255, blank=True, default="")
    stage_psa_id = psa_ref()
    stage_name = ref_name()
    status_psa_id = psa_ref()
    status_name = ref_name()
    closed = models.BooleanField(default=False, db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    type_psa_id = psa_ref()
    type_name = ref_name()
    company_psa_id = psa_ref()
    company_name = ref_name()
    contact_name = ref_name()
    sales_rep_psa_id = psa_ref()
    sales_rep_identifier = ref_name(100)
    sales_rep_name = ref_name()
    priority_name = ref_name()
    probability_name = ref_name()
    expected_close_date = models.DateTimeField(null=True, blank=True)
    date_entered = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    notes_synced_at = models.DateTimeField(null=True, blank=True)
    writeback_error = models.TextField(blank=True, default="")

    class Meta(MirrorRecord.Meta):
        verbose_name_plural = "opportunities"


class TicketAssignment(MirrorRecord):
    """A resource on a ticket: ConnectWise schedule entry of type S (objectId = ticket id);
    Autotask ticket secondary resource, or a resource of a service call the ticket is on.

    `source` is part of the identity: a PSA may keep the records that put a resource on a
    ticket in several entities with their own id sequences (Autotask's TicketSecondaryResources
    and ServiceCallTicketResources both start at 1), so psa_id alone does not name one."""

    class Source(models.TextChoices):
        TICKET = "ticket", "Resource on the ticket"  # ConnectWise schedule entry, Autotask secondary
        SERVICE_CALL = "service_call", "Resource of a service call"

    source = models.CharField(max_length=20, choices=Source.choices, default=Source.TICKET)
    ticket_psa_id = psa_ref()
    member_psa_id = psa_ref()
    member_identifier = ref_name(100)
    member_name = ref_name()
    status_name = ref_name()
    done = models.BooleanField(default=False)
    date_start = models.DateTimeField(null=True, blank=True)  # a service call's start and end
    date_end = models.DateTimeField(null=True, blank=True)
    hours = models.FloatField(null=True, blank=True)

    class Meta(MirrorRecord.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "source", "psa_id"], name="%(app_label)s_%(class)s_psa_key"
            ),
        ]


class TimeEntry(MirrorRecord):
    charge_to_psa_id = psa_ref()  # ticket or project id
    charge_to_type = models.CharField(max_length=40, blank=True, default="")
    member_psa_id = psa_ref()
    member_identifier = ref_name(100)
    time_start = models.DateTimeField(null=True, blank=True)
    time_end = models.DateTimeField(null=True, blank=True)
    actual_hours = models.FloatField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")

    class Meta(MirrorRecord.Meta):
        verbose_name_plural = "time entries"


class NoteBase(MirrorRecord):
    text = models.TextField(blank=True, default="")
    created_by = ref_name(100)
    date_created = models.DateTimeField(null=True, blank=True)
    internal = models.BooleanField(default=False)

    class Meta(MirrorRecord.Meta):
        abstract = True
        ordering = ["date_created", "psa_id"]

    @property
    def author(self) -> str:
        return self.created_by


class ServiceNote(NoteBase):
    ticket_psa_id = psa_ref()
    # The kind of ticket the note is on (Ticket.Kind): Autotask lists ticket notes and task
    # notes as two entities, and each full run may delete only its own kind's notes.
    ticket_kind = models.CharField(max_length=10, choices=Ticket.Kind.choices, default=Ticket.Kind.SERVICE)
    # ConnectWise's `member` is who the note is by; `createdBy` is the account that posted it
    # (the API member for every note written from here).
    member_identifier = ref_name(100)
    detail_description = models.BooleanField(default=False)
    internal_analysis = models.BooleanField(default=False)
    resolution = models.BooleanField(default=False)

    @property
    def author(self) -> str:
        return self.member_identifier or self.created_by


class OpportunityNote(NoteBase):
    opportunity_psa_id = psa_ref()
