"""The Autotask half's records: per entity a dict id → record, its ids sorted, and for child
entities an index parent id → child ids.

The ConnectWise store (psa.sandbox.connectwise.store) is keyed by its own schema (its
collections, `_info` stamps and note id spaces), so this store keeps its conventions instead:
copy-on-write (writers hold one lock and replace, never mutate, a record or an id list, so
request threads read without a lock; psa.sandbox.sorted_ids) and lazily generated children.

Records are sparse: a field missing from the dict is null on the wire (replies add the nulls
from the entity's field list), which keeps `large` light.

Lazy children: a ticket's notes appear the first time anything asks for that ticket's notes; a
query over the whole collection generates every parent's at once (once).
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from psa.sandbox.autotask.schema import EntitySpec, spec_of
from psa.sandbox.sorted_ids import with_id, without_id

LAZY_ID_STRIDE = 16  # lazily made child ids: parent id * stride + n (n < stride)
CREATED_LAZY_IDS = 1_000_000_000  # children created through the API take ids from here up

# Entities drawing ids from one sequence (Autotask keeps tickets and project tasks as "tasks",
# and their notes likewise): a record created in one never takes an id the other holds.
SHARED_ID_SPACES = (("tickets", "tasks"), ("ticketnotes", "tasknotes"))
LazyChildren = Callable[[int], list[dict]]
# action ("Create", "Update", "Delete"), entity, old record, new record, acting resource id
ChangeListener = Callable[[str, str, "dict | None", "dict | None", "int | None"], None]
Ids = list[int]


class NotFoundError(LookupError):
    pass


@dataclass
class _Collection:
    spec: EntitySpec
    records: dict[int, dict] = field(default_factory=dict)
    ids: Ids | None = field(default_factory=list)  # None: rebuild on demand (lazy fills)
    by_parent: dict[int, Ids] = field(default_factory=dict)
    next_id: int = 0


@dataclass
class _Lazy:
    generate: LazyChildren
    parent_entity: str
    done: set[int] = field(default_factory=set)
    all_done: bool = False


class AutotaskStore:
    def __init__(self) -> None:
        self._collections: dict[str, _Collection] = {}
        self._lock = threading.RLock()
        self._lazy: dict[str, _Lazy] = {}
        self._listeners: list[ChangeListener] = []
        self._space_next: dict[tuple[str, ...], int] = {}  # shared id spaces' next ids

    # --- set-up ----------------------------------------------------------------------------

    def _collection(self, entity: str) -> _Collection:
        key = entity.lower()
        collection = self._collections.get(key)
        if collection is None:
            with self._lock:
                collection = self._collections.setdefault(key, _Collection(spec_of(entity)))
        return collection

    def load(self, entity: str, records: list[dict]) -> None:
        """Bulk insert generated records (no change events)."""
        with self._lock:
            collection = self._collection(entity)
            for record in records:
                collection.records[record["id"]] = record
            collection.ids = sorted(collection.records)
            collection.by_parent = {}
            parent_field = collection.spec.parent_field
            if parent_field:
                for record_id in collection.ids:
                    parent = collection.records[record_id].get(parent_field)
                    if parent is not None:
                        collection.by_parent.setdefault(parent, []).append(record_id)

    def set_lazy_children(self, entity: str, parent_entity: str, generate: LazyChildren) -> None:
        self._lazy[entity.lower()] = _Lazy(generate, parent_entity)

    def add_listener(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    # --- reads -----------------------------------------------------------------------------

    def get(self, entity: str, record_id: int) -> dict | None:
        lazy = self._lazy.get(entity.lower())
        if lazy is not None and record_id < CREATED_LAZY_IDS:
            self._materialize(entity, record_id // LAZY_ID_STRIDE)
        return self._collection(entity).records.get(record_id)

    def ids(self, entity: str) -> Ids:
        """Every id of `entity`, sorted (a snapshot: do not modify)."""
        self._materialize_all(entity)
        collection = self._collection(entity)
        ids = collection.ids
        if ids is None:
            with self._lock:
                ids = collection.ids = sorted(collection.records)
        return ids

    def child_ids(self, entity: str, parent_id: int) -> Ids:
        self._materialize(entity, parent_id)
        return self._collection(entity).by_parent.get(parent_id, [])

    def iter_records(self, entity: str, ids: Ids, after_id: int = -1) -> Iterator[dict]:
        records = self._collection(entity).records
        for index in range(bisect.bisect_right(ids, after_id), len(ids)):
            record = records.get(ids[index])
            if record is not None:
                yield record

    def list(self, entity: str) -> list[dict]:
        return list(self.iter_records(entity, self.ids(entity)))

    def count(self, entity: str) -> int:
        return len(self.ids(entity))

    # --- writes ----------------------------------------------------------------------------

    def create(self, entity: str, record: dict, *, actor: int | None = None) -> dict:
        with self._lock:
            collection = self._collection(entity)
            new = {k: v for k, v in record.items() if v is not None}
            new["id"] = self._allocate_id(entity, collection)
            self._insert(collection, new)
        self._notify("Create", collection.spec.name, None, new, actor)
        return new

    def update(self, entity: str, record_id: int, changes: dict, *, actor: int | None = None) -> dict:
        """Apply `changes` (None clears a field); NotFoundError when there is no such record."""
        with self._lock:
            collection = self._collection(entity)
            old = self.get(entity, record_id)
            if old is None:
                raise NotFoundError(record_id)
            new = dict(old)
            for key, value in changes.items():
                if value is None:
                    new.pop(key, None)
                elif key != "id":
                    new[key] = value
            collection.records[record_id] = new  # one item swap: atomic for readers
            parent_field = collection.spec.parent_field
            if parent_field and old.get(parent_field) != new.get(parent_field):
                self._unindex(collection, old)
                self._index(collection, new)
        self._notify("Update", collection.spec.name, old, new, actor)
        return new

    def delete(self, entity: str, record_id: int, *, actor: int | None = None) -> dict:
        with self._lock:
            collection = self._collection(entity)
            old = self.get(entity, record_id)
            if old is None:
                raise NotFoundError(record_id)
            if collection.ids is not None:
                collection.ids = without_id(collection.ids, record_id)
            self._unindex(collection, old)
            del collection.records[record_id]
        self._notify("Delete", collection.spec.name, old, None, actor)
        return old

    # --- internals -------------------------------------------------------------------------

    def _allocate_id(self, entity: str, collection: _Collection) -> int:
        space = next((names for names in SHARED_ID_SPACES if entity.lower() in names), None)
        if space is not None:
            if space not in self._space_next:
                if any(name in self._lazy for name in space):
                    self._space_next[space] = CREATED_LAZY_IDS
                else:
                    self._space_next[space] = 1 + max(
                        (max(self._collection(name).records, default=0) for name in space), default=0
                    )
            allocated = self._space_next[space]
            self._space_next[space] += 1
            return allocated
        if not collection.next_id:
            if entity.lower() in self._lazy:
                collection.next_id = CREATED_LAZY_IDS
            else:
                collection.next_id = max(collection.records, default=0) + 1
        allocated = collection.next_id
        collection.next_id += 1
        return allocated

    def _insert(self, collection: _Collection, record: dict) -> None:
        collection.records[record["id"]] = record
        if collection.ids is not None:
            collection.ids = with_id(collection.ids, record["id"])
        self._index(collection, record)

    def _index(self, collection: _Collection, record: dict) -> None:
        parent_field = collection.spec.parent_field
        parent = record.get(parent_field) if parent_field else None
        if parent is not None:
            collection.by_parent[parent] = with_id(collection.by_parent.get(parent, []), record["id"])

    def _unindex(self, collection: _Collection, record: dict) -> None:
        parent_field = collection.spec.parent_field
        parent = record.get(parent_field) if parent_field else None
        if parent is not None and parent in collection.by_parent:
            collection.by_parent[parent] = without_id(collection.by_parent[parent], record["id"])

    def _materialize(self, entity: str, parent_id: int) -> None:
        lazy = self._lazy.get(entity.lower())
        if lazy is None or lazy.all_done or parent_id in lazy.done:
            return
        with self._lock:
            if parent_id in lazy.done:
                return
            if self._collection(lazy.parent_entity).records.get(parent_id) is not None:
                collection = self._collection(entity)
                collection.ids = None  # many small inserts: sort once when next asked
                for record in lazy.generate(parent_id):
                    collection.records[record["id"]] = record
                    self._index(collection, record)
            lazy.done.add(parent_id)  # last: lock-free readers see the children once it is set

    def _materialize_all(self, entity: str) -> None:
        lazy = self._lazy.get(entity.lower())
        if lazy is None or lazy.all_done:
            return
        with self._lock:
            if lazy.all_done:
                return
            for parent_id in list(self._collection(lazy.parent_entity).records):
                self._materialize(entity, parent_id)
            lazy.all_done = True

    def _notify(
        self, action: str, entity: str, old: dict | None, new: dict | None, actor: int | None
    ) -> None:
        for listener in self._listeners:
            listener(action, entity, old, new, actor)
