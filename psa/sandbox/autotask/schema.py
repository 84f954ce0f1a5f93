"""What each Autotask entity is: its fields (entities.tsv) and the operations the REST API
offers on it (operations.tsv, from the service's own Swagger operation list).

Both files are trimmed copies of shared/reference/autotask/ (entities.tsv, endpoints.tsv) so
the sandbox carries its own wire facts. Lookups are case-insensitive: clients spell entity and
field names in any case (api.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
NUMBER_TYPES = frozenset({"integer", "long", "short"})
DECIMAL_TYPES = frozenset({"double", "decimal"})

# The parent link of each child entity: the field holding the parent's id.
PARENT_FIELDS = {
    "TicketNotes": "ticketID",
    "TaskNotes": "taskID",
    "ProjectNotes": "projectID",
    "Tasks": "projectID",
    "Phases": "projectID",
    "Contacts": "companyID",
    "CompanyLocations": "companyID",
    "Holidays": "holidaySetID",
    "TicketSecondaryResources": "ticketID",
    "TaskSecondaryResources": "taskID",
    "TaskPredecessors": "successorTaskID",
    "TicketChecklistItems": "ticketID",
    "ServiceCallTickets": "serviceCallID",
    "ServiceCallTasks": "serviceCallID",
    "ServiceCallTicketResources": "serviceCallTicketID",
    "ServiceCallTaskResources": "serviceCallTaskID",
    "ResourceRoleDepartments": "resourceID",
    "ResourceServiceDeskRoles": "resourceID",
    "TicketWebhookFields": "webhookID",
    "TicketWebhookExcludedResources": "webhookID",
    "TicketNoteWebhookFields": "webhookID",
    "TicketNoteWebhookExcludedResources": "webhookID",
    "CompanyWebhookFields": "webhookID",
    "CompanyWebhookExcludedResources": "webhookID",
    "TicketWebhookUdfFields": "webhookID",
    "CompanyWebhookUdfFields": "webhookID",
    "ContactWebhookFields": "webhookID",
    "ContactWebhookExcludedResources": "webhookID",
    "ContactWebhookUdfFields": "webhookID",
    "CompanyAlerts": "companyID",
    "TicketAttachments": "ticketID",
    "ContractExclusionSetExcludedRoles": "contractExclusionSetID",
    "ContractExclusionSetExcludedWorkTypes": "contractExclusionSetID",
}
# Picklists the sandbox fills although the field table does not flag them (django-autotask
# reads Opportunities.stage/status and Projects.status from entityInformation/fields).
EXTRA_PICKLISTS = {("Opportunities", "stage"), ("Opportunities", "status"), ("Opportunities", "rating")}


@dataclass(frozen=True)
class FieldSpec:
    name: str  # wire name, camelCase
    type: str  # integer, long, short, double, decimal, string, datetime, boolean
    required: bool
    read_only: bool
    picklist: bool
    length: int | None
    reference: str | None  # referenceEntityType

    @property
    def is_number(self) -> bool:
        return self.type in NUMBER_TYPES

    @property
    def is_decimal(self) -> bool:
        return self.type in DECIMAL_TYPES


@dataclass
class EntitySpec:
    name: str  # plural root name, e.g. "Tickets"
    fields: dict[str, FieldSpec] = field(default_factory=dict)  # lower-cased name → spec
    # (METHOD, form) the Swagger offers; forms: root, item, query, count, child, child_item
    operations: set[tuple[str, str]] = field(default_factory=set)
    # lower-cased "Parent/Child" segment pairs that reach this entity, e.g. "tickets/notes"
    child_paths: set[str] = field(default_factory=set)

    @property
    def parent_field(self) -> str | None:
        return PARENT_FIELDS.get(self.name)

    def field(self, name: str) -> FieldSpec | None:
        return self.fields.get(name.lower())

    @property
    def field_names(self) -> list[str]:
        return [spec.name for spec in self.fields.values()]

    def allows(self, method: str, form: str) -> bool:
        return (method, form) in self.operations

    def offers(self, form: str) -> bool:
        """Whether any verb is served on this form of URL (then a wrong verb is a 405, not a 404)."""
        return any(served == form for _, served in self.operations)

    @property
    def can_create(self) -> bool:
        return any(method == "POST" and form in ("root", "child") for method, form in self.operations)

    @property
    def can_update(self) -> bool:
        return any(method in ("PATCH", "PUT") for method, _ in self.operations)

    @property
    def can_delete(self) -> bool:
        return any(method == "DELETE" for method, _ in self.operations)


def _form(method: str, path: str, entity: str) -> tuple[str, str | None]:
    """The operation's form and, for a child path, its lower-cased "parent/child" pair."""
    parts = path.split("/")[2:]  # drop "", "V1.0"
    if len(parts) >= 3 and parts[1] == "{parentId}":
        child = f"{parts[0]}/{parts[2]}".lower()
        return ("child_item" if len(parts) == 4 else "child"), child
    if parts[1:] == ["query"]:
        return "query", None
    if parts[1:] == ["query", "count"]:
        return "count", None
    if parts[1:] == ["{id}"]:
        return "item", None
    return "root", None


@cache
def entities() -> dict[str, EntitySpec]:
    """Every served entity, keyed by lower-cased name."""
    specs: dict[str, EntitySpec] = {}
    for line in (HERE / "entities.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        name, field_name, type_, required, read_only, picklist, length, reference = line.split("\t")
        spec = specs.setdefault(name.lower(), EntitySpec(name))
        spec.fields[field_name.lower()] = FieldSpec(
            name=field_name,
            type=type_,
            required=bool(required),
            read_only=bool(read_only),
            picklist=bool(picklist) or (name, field_name) in EXTRA_PICKLISTS,
            length=int(length) if length else None,
            reference=reference or None,
        )
    for line in (HERE / "operations.tsv").read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        method, path, name, _operation = line.split("\t")
        served = specs.get(name.lower())
        if served is None:
            continue
        form, child = _form(method, path, name)
        served.operations.add((method, form))
        if child:
            served.child_paths.add(child)
    return specs


@cache
def child_routes() -> dict[str, EntitySpec]:
    """Lower-cased "Parent/Child" (e.g. "tickets/notes") → the child entity."""
    return {child: spec for spec in entities().values() for child in spec.child_paths}


def entity(name: str) -> EntitySpec | None:
    return entities().get(name.lower())


def spec_of(name: str) -> EntitySpec:
    found = entity(name)
    if found is None:
        raise KeyError(name)
    return found
