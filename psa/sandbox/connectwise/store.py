"""The sandbox's records: per entity a dict id → record plus the ids sorted (bisect for pageId).

Thread safety: writers hold one lock and never mutate a record or id list in place (copy on
write), so readers (request threads encoding JSON) need no lock and never see a half-changed
record. Records omit null fields, like ConnectWise responses.

Notes are generated lazily per parent (a ticket's notes appear the first time anything asks
for them) so `large` scale stays light; their ids are `parent_id * NOTE_ID_STRIDE + n`, notes
created through the API take ids from NOTE_CREATED_IDS up.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from psa.sandbox.connectwise.schema import (
    NOTE_ENTITIES,
    SPEC_BY_KEY,
    TICKET_ENTITIES,
    EntitySpec,
    parent_id_of,
    spec_for,
)
from psa.sandbox.sorted_ids import with_id, without_id

NOTE_ID_STRIDE = 16
NOTE_CREATED_IDS = 1_000_000_000

ChangeListener = Callable[[str, str, dict, bool], None]  # action, entity, record, skip_callback
LazyChildren = Callable[[int], list[dict]]
# Aliases for annotations inside SandboxStore, where `list` names its method, not the builtin.
Ids = list[int]
FollowUps = list[Callable[[bool], None]]


def record_time(value: datetime) -> str:
    """A datetime as records carry it: `2026-01-02T03:04:05Z` (the value is taken to be UTC)."""
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_now_text() -> str:
    return record_time(datetime.now(UTC))


class NotFoundError(LookupError):
    """No such record (answered with a ConnectWise 404 body)."""


@dataclass
class _Collection:
    records: dict[int, dict] = field(default_factory=dict)
    # sorted; replaced, never mutated in place. None = rebuild on demand (lazily filled notes:
    # thousands of small inserts must not each copy one big list).
    ids: list[int] | None = field(default_factory=list)
    by_parent: dict[int, list[int]] = field(default_factory=dict)  # nested entities only
    version: int = 0  # bumped by every change: cached query answers are valid while it stands


class Hooks:
    """Business rules run inside a write (psa.sandbox.connectwise.rules.Rules); the default does nothing."""

    def on_create(self, store: SandboxStore, spec: EntitySpec, record: dict) -> dict:
        return record

    def on_update(self, store: SandboxStore, spec: EntitySpec, old: dict, changes: dict) -> dict:
        return changes

    def fill_defaults(self, store: SandboxStore, spec: EntitySpec, values: dict) -> None:
        """Give the fields a write left out the values the PSA defaults them to (POST and PUT)."""

    def after_write(
        self, store: SandboxStore, spec: EntitySpec, old: dict | None, new: dict | None
    ) -> list[Callable[[bool], None]]:
        return []


class SandboxStore:
    """Records of every sandbox entity (keys: the ConnectWise paths, see psa.sandbox.connectwise.schema)."""

    def __init__(self, *, clock: Callable[[], str] = utc_now_text) -> None:
        self._collections = {key: _Collection() for key in SPEC_BY_KEY}
        self._lock = threading.RLock()
        self._next_id: dict[str, int] = {}
        self._lazy: dict[str, LazyChildren] = {}
        self._materialized: dict[str, set[int]] = {key: set() for key in NOTE_ENTITIES}
        self._listeners: list[ChangeListener] = []
        self.clock = clock
        self.hooks: Hooks = Hooks()

    # --- set-up ----------------------------------------------------------------------------

    def load(self, entity: str, records: list[dict]) -> None:
        """Bulk insert generated records (no callbacks, no lastUpdated bump)."""
        spec = spec_for(entity)
        with self._lock:
            collection = self._collections[entity]
            for record in records:
                collection.records[record["id"]] = record
            collection.ids = None if entity in NOTE_ENTITIES else sorted(collection.records)
            collection.version += 1
            if spec.nested:
                index: dict[int, list[int]] = {}
                for record_id in sorted(collection.records):
                    parent = parent_id_of(spec, collection.records[record_id])
                    if parent is not None:
                        index.setdefault(parent, []).append(record_id)
                collection.by_parent = index

    def set_lazy_children(self, entity: str, generate: LazyChildren) -> None:
        self._lazy[entity] = generate

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    # --- reads -----------------------------------------------------------------------------

    def list(self, entity: str, *, parent_id: int | None = None) -> list[dict]:
        """Records ordered by id; for nested entities optionally one parent's (lazy notes appear
        only once their parent was asked for, or when parent_id is given)."""
        return list(self.iter_records(entity, parent_id=parent_id))

    def iter_records(
        self, entity: str, *, parent_id: int | None = None, after_id: int | None = None
    ) -> Iterator[dict]:
        collection = self._collections[spec_for(entity).key]
        if parent_id is not None:
            self._materialize(entity, parent_id)
            ids = collection.by_parent.get(parent_id, [])
        else:
            ids = self._sorted_ids(collection)
        start = bisect.bisect_right(ids, after_id) if after_id is not None else 0
        records = collection.records
        for index in range(start, len(ids)):
            record = records.get(ids[index])
            if record is not None:
                yield record

    def get(self, entity: str, id: int) -> dict | None:  # noqa: A002 - the brief's interface
        spec = spec_for(entity)
        if entity in self._lazy and id < NOTE_CREATED_IDS:
            self._materialize(entity, id // NOTE_ID_STRIDE)
        return self._collections[spec.key].records.get(id)

    def _sorted_ids(self, collection: _Collection) -> Ids:
        ids = collection.ids
        if ids is None:
            with self._lock:
                ids = collection.ids = sorted(collection.records)
        return ids

    def id_list(self, entity: str, *, parent_id: int | None = None) -> Ids:
        """The sorted ids of `entity` (of one parent's children when parent_id is given); a
        snapshot, do not modify. Paging slices it without touching the records before the page."""
        collection = self._collections[spec_for(entity).key]
        if parent_id is None:
            return self._sorted_ids(collection)
        self._materialize(entity, parent_id)
        return collection.by_parent.get(parent_id, [])

    def version(self, entity: str) -> int:
        """Changes with every write to `entity` (and lazily generated children appearing)."""
        return self._collections[spec_for(entity).key].version

    def ids(self, entity: str) -> Ids:
        """The ids of `entity`, sorted (a snapshot: do not modify)."""
        return self._sorted_ids(self._collections[spec_for(entity).key])

    def count(self, entity: str) -> int:
        return len(self._collections[spec_for(entity).key].records)

    def parent_exists(self, entity: str, parent_id: int) -> bool:
        parent = spec_for(entity).parent
        if parent is None:
            return True
        candidates = TICKET_ENTITIES if parent in TICKET_ENTITIES else (parent,)
        return any(self._collections[key].records.get(parent_id) for key in candidates)

    def max_id(self, entity: str) -> int:
        ids = self._sorted_ids(self._collections[spec_for(entity).key])
        return ids[-1] if ids else 0

    # --- writes ----------------------------------------------------------------------------

    def create(
        self, entity: str, record: dict, *, skip_callback: bool = False, updated_by: str = "sandbox-api"
    ) -> dict:
        spec = spec_for(entity)
        with self._lock:
            now = self.clock()
            new = {k: v for k, v in record.items() if v is not None and k != "_info"}
            new["id"] = self._allocate_id(entity, new.get("id"))
            new["_info"] = {
                "lastUpdated": now,
                "dateEntered": now,
                "updatedBy": updated_by,
                "enteredBy": updated_by,
            }
            new = {k: v for k, v in self.hooks.on_create(self, spec, new).items() if v is not None}
            self._insert(spec, new)
            follow_ups = self.hooks.after_write(self, spec, None, new)
        self._notify("added", entity, new, skip_callback)
        self._run(follow_ups, skip_callback)
        return new

    def update(
        self,
        entity: str,
        id: int,
        changes: dict,
        *,
        skip_callback: bool = False,  # noqa: A002
        updated_by: str = "sandbox-api",
    ) -> dict:
        """Apply `changes` (None removes a field), bump `_info.lastUpdated`; NotFoundError if absent."""
        spec = spec_for(entity)
        with self._lock:
            old = self.get(entity, id)
            if old is None:
                raise NotFoundError(f"{spec.model} {id} not found")
            changes = self.hooks.on_update(self, spec, old, dict(changes))
            new = dict(old)
            for key, value in changes.items():
                if key in ("id", "_info"):
                    continue
                if value is None:
                    new.pop(key, None)
                else:
                    new[key] = value
            new["_info"] = {**old.get("_info", {}), "lastUpdated": self.clock(), "updatedBy": updated_by}
            collection = self._collections[spec.key]
            collection.records[id] = new  # one item swap: atomic for readers
            old_parent, new_parent = parent_id_of(spec, old), parent_id_of(spec, new)
            if spec.nested and old_parent != new_parent:  # e.g. a note moved to another ticket
                if old_parent is not None:
                    collection.by_parent[old_parent] = without_id(
                        collection.by_parent.get(old_parent, []), id
                    )
                if new_parent is not None:
                    collection.by_parent[new_parent] = with_id(collection.by_parent.get(new_parent, []), id)
            collection.version += 1  # last: a reader seeing the new version sees the whole change
            follow_ups = self.hooks.after_write(self, spec, old, new)
        self._notify("updated", entity, new, skip_callback)
        self._run(follow_ups, skip_callback)
        return new

    def delete(self, entity: str, id: int, *, skip_callback: bool = False) -> None:  # noqa: A002
        spec = spec_for(entity)
        with self._lock:
            old = self.get(entity, id)
            if old is None:
                raise NotFoundError(f"{spec.model} {id} not found")
            collection = self._collections[spec.key]
            if collection.ids is not None:
                collection.ids = without_id(collection.ids, id)
            parent = parent_id_of(spec, old)
            if parent is not None and parent in collection.by_parent:
                collection.by_parent[parent] = without_id(collection.by_parent[parent], id)
            del collection.records[id]
            collection.version += 1
            follow_ups = self.hooks.after_write(self, spec, old, None)
        self._notify("deleted", entity, old, skip_callback)
        self._run(follow_ups, skip_callback)

    # --- internals -------------------------------------------------------------------------

    def _allocate_id(self, entity: str, wanted: Any) -> int:
        """The next free id; service and project tickets share one id space, like ConnectWise.
        A caller-chosen id (test data) is kept when free."""
        space = "tickets" if entity in TICKET_ENTITIES else entity
        keys = TICKET_ENTITIES if space == "tickets" else (entity,)
        if space not in self._next_id:
            start = NOTE_CREATED_IDS if entity in NOTE_ENTITIES else max(self.max_id(key) for key in keys) + 1
            self._next_id[space] = start
        if (
            isinstance(wanted, int)
            and not isinstance(wanted, bool)
            and wanted > 0
            and all(self._collections[key].records.get(wanted) is None for key in keys)
        ):
            if wanted >= self._next_id[space] and (entity not in NOTE_ENTITIES or wanted >= NOTE_CREATED_IDS):
                self._next_id[space] = wanted + 1
            return wanted
        allocated = self._next_id[space]
        self._next_id[space] = allocated + 1
        return allocated

    def _insert(self, spec: EntitySpec, record: dict) -> None:
        collection = self._collections[spec.key]
        record_id = record["id"]
        collection.records[record_id] = record
        if spec.key in NOTE_ENTITIES:
            collection.ids = None
        else:
            collection.ids = with_id(self._sorted_ids(collection), record_id)
        parent = parent_id_of(spec, record)
        if spec.nested and parent is not None:
            collection.by_parent[parent] = with_id(collection.by_parent.get(parent, []), record_id)
        collection.version += 1

    def _materialize(self, entity: str, parent_id: int) -> None:
        generate = self._lazy.get(entity)
        if generate is None or parent_id in self._materialized[entity]:
            return
        with self._lock:
            if parent_id in self._materialized[entity]:
                return
            self._materialized[entity].add(parent_id)
            if not self.parent_exists(entity, parent_id):
                return
            spec = spec_for(entity)
            for record in generate(parent_id):
                self._insert(spec, record)

    def _notify(self, action: str, entity: str, record: dict, skip_callback: bool) -> None:
        for listener in self._listeners:
            listener(action, entity, record, skip_callback)

    def _run(self, follow_ups: FollowUps, skip_callback: bool) -> None:
        for follow_up in follow_ups:
            follow_up(skip_callback)
