"""Kanban boards: who may see a connection, how a board is configured, and its columns.

Boards are local configuration; nothing here is ever sent to the PSA.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class Membership(models.Model):
    """A user belongs to a connection (tenant); every page and API call is scoped by these rows."""

    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    # The PSA member this user works as on this connection: notes and time entries are written
    # as them. A PSA id (no foreign key, like every mirror reference) plus the identifier, so the
    # link survives a members sync that has not brought the row back yet.
    member_psa_id = models.IntegerField(null=True, blank=True)
    member_identifier = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "connection"], name="boards_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.connection} ({self.role})"


class RecordKind(models.TextChoices):
    SERVICE = "service", "Service tickets"
    PROJECT = "project", "Project tickets"
    OPPORTUNITY = "opportunity", "Opportunities"


class Indicator(models.TextChoices):
    AGE = "age", "Age"
    TIME_IN_STATUS = "time_in_status", "Time in status"
    SLA = "sla", "SLA remaining"
    HOURS = "hours", "Hours worked vs budget"
    CUSTOMER_UPDATED = "customer_updated", "Bold when the customer updated it"


class AutoRank(models.TextChoices):
    MANUAL = "", "Manual (drag to rank)"
    PRIORITY_AGE = "priority_age", "Priority, then age"
    AGE = "age", "Age (oldest first)"
    SLA = "sla", "SLA due first"


def id_list() -> models.JSONField:
    """A persistent filter: a list of PSA ids (or identifiers); empty means 'any'."""
    return models.JSONField(default=list, blank=True)


# Only opportunities have stages: a ticket board laid out by stage would never show a card.
STAGE_ONLY_ON_OPPORTUNITIES = (
    "Only opportunity boards can have stage columns; ticket boards are laid out by status."
)


class Board(models.Model):
    class ColumnSource(models.TextChoices):
        STATUS = "status", "Status"
        STAGE = "stage", "Stage (opportunities)"

    connection = models.ForeignKey("sync.Connection", on_delete=models.CASCADE, related_name="boards")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=RecordKind.choices, default=RecordKind.SERVICE)
    # Opportunities can be laid out by stage or by status; tickets always by status.
    column_source = models.CharField(max_length=10, choices=ColumnSource.choices, default=ColumnSource.STATUS)
    psa_board_ids = id_list()
    member_identifiers = id_list()
    company_ids = id_list()
    priority_ids = id_list()
    team_ids = id_list()
    project_ids = id_list()
    show_unassigned = models.BooleanField(default=True, help_text="Show cards nobody is assigned to")
    indicators = models.JSONField(default=list, blank=True, help_text="Indicator values shown on cards")
    auto_rank = models.CharField(max_length=20, choices=AutoRank.choices, default=AutoRank.MANUAL, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # The board's persistent settings, in the order the admin, the API and the settings form
    # list them (each adds what else it edits around these).
    SETTINGS_FIELDS = (
        "psa_board_ids",
        "member_identifiers",
        "company_ids",
        "priority_ids",
        "team_ids",
        "project_ids",
        "show_unassigned",
        "indicators",
        "auto_rank",
    )

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.column_source == self.ColumnSource.STAGE and not self.is_opportunity:
            raise ValidationError({"column_source": STAGE_ONLY_ON_OPPORTUNITIES})

    @property
    def is_opportunity(self) -> bool:
        return self.kind == RecordKind.OPPORTUNITY

    @property
    def rank_kind(self) -> str:
        """Service and project tickets share one id space and one order; opportunities their own."""
        return "opportunity" if self.is_opportunity else "ticket"

    @property
    def column_field(self) -> str:
        """The card field its columns are matched on: the stage for stage-laid opportunities."""
        if self.is_opportunity and self.column_source == self.ColumnSource.STAGE:
            return "stage_psa_id"
        return "status_psa_id"


class BoardColumn(models.Model):
    """A column shows the cards whose status (or stage) is one of `psa_ids`."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    psa_ids = models.JSONField(default=list, blank=True, help_text="PSA status (or stage) ids")
    # Work-in-progress limit: the column header warns when it holds more cards (never refuses).
    wip_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Warn above this many cards")

    class Meta:
        ordering = ["board", "position", "id"]

    def __str__(self) -> str:
        return f"{self.board}: {self.name}"
