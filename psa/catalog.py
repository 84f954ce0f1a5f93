"""A provider's entity catalog: every fact about one mirrored entity in one place.

Each provider folder declares a `Catalog` (psa/<provider>/catalog.py): per entity the PSA path,
the query that scopes it, the mapping onto the provider-neutral mirror model (which fields are
requested, how they land), whether it carries a change stamp, the tier it is synced in, the
parent whose ids fill a nested path, and (for notes) the mirrored parents whose notes it holds.
The engine, tiers, status page and commands read entities only through this type.

Queries are the provider's own strings (ConnectWise conditions, an Autotask filter document):
the engine never builds or reads one, it only passes them back to the provider's client and
asks the catalog to narrow one to "changed since".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# The full tiers an entity can belong to (the changes tier is derived: see Catalog.tier_entities).
CORE = "core"
REFERENCE = "reference"
NOTES = "notes"
# An entity whose tier is CHANGES is listed by the changes tier only: a deletion log (`removes`).
CHANGES = "changes"


@dataclass(frozen=True)
class ScopeContext:
    """What an entity's scope may depend on: the run's time and the connection's settings."""

    now: datetime
    closed_ticket_retention_days: int
    time_entry_days: int


@dataclass(frozen=True)
class NotesParent:
    """For a notes entity: the mirrored rows whose notes it holds (one request per parent)."""

    model: str  # mirror model label, e.g. "boards.Ticket"
    filter: dict[str, Any] = field(default_factory=dict)  # which rows of that model


@dataclass(frozen=True)
class MirrorEntity:
    name: str
    path: str  # relative to the provider's API base; "{parentId}" for nested collections
    psa_model: str  # the PSA's own model name (the provider's spec catalog)
    tier: str  # CORE, REFERENCE or NOTES
    mapping: Any  # sync.mapping.spec.Mapping: mirror model, columns, requested fields
    parent: str | None = None  # entity whose ids fill {parentId}
    has_last_updated: bool = True  # can be listed "changed since" (the changes tier)
    scope: Callable[[ScopeContext], str | None] | None = None
    notes_parent: NotesParent | None = None
    mirrored: bool = True  # False: listed only for its ids (a parent such as holiday lists)
    # (query or None, when) → the query narrowed to "changed after when", for a PSA whose change
    # stamp differs per entity (Autotask); None: the catalog's own changed_since.
    changed_since: Callable[[str | None, datetime], str] | None = None
    # A deletion log (tier CHANGES): each record names, in this field, a record of the mapping's
    # model and scope that the PSA deleted; the changes tier removes its row (Autotask's
    # DeletedTicketLogs), so deletes show between full runs. '' for every other entity.
    removes: str = ""

    def path_for(self, parent_id: int | None = None) -> str:
        if self.parent is None:
            return self.path
        if parent_id is None:
            raise ValueError(f"{self.name} is nested under {self.parent}: a parent id is required")
        return self.path.replace("{parentId}", str(int(parent_id)))

    def conditions(self, context: ScopeContext) -> str | None:
        return self.scope(context) if self.scope else None


@dataclass(frozen=True)
class Catalog:
    entities: dict[str, MirrorEntity]
    # (query or None, when) → the query narrowed to records changed after `when`.
    changed_since: Callable[[str | None, datetime], str]

    def entity(self, name: str) -> MirrorEntity:
        try:
            return self.entities[name]
        except KeyError:
            raise ValueError(f"unknown entity {name!r}; choose from {', '.join(self.entities)}") from None

    def changed_query(self, name: str, query: str | None, when: datetime) -> str:
        """The entity's query narrowed to records changed after `when` (the changes tier)."""
        narrow = self.entity(name).changed_since or self.changed_since
        return narrow(query, when)

    def mapping(self, name: str) -> Any:
        entity = self.entity(name)
        if not entity.mirrored:
            raise ValueError(f"entity {name!r} is not mirrored")
        return entity.mapping

    def mirrored(self) -> dict[str, MirrorEntity]:
        return {name: e for name, e in self.entities.items() if e.mirrored}

    def tier_entities(self, tier: str) -> tuple[str, ...]:
        """The entities a tier syncs, in catalog order. The changes tier takes every core and
        reference entity that can be listed "changed since" with one listing (nested ones need
        a request per parent; their full tier is cheap), and the deletion logs."""
        if tier == CHANGES:
            return tuple(
                e.name
                for e in self.mirrored().values()
                if e.tier in (CORE, REFERENCE, CHANGES) and e.has_last_updated and e.parent is None
            )
        return tuple(e.name for e in self.mirrored().values() if e.tier == tier)
