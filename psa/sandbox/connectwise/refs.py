"""Reference objects as ConnectWise embeds them: `{"id", "name", "_info": {"<field>_href": url}}`.

Members and companies also carry `identifier`; schedule types carry `identifier` (ticket
assignments are found with `type/identifier = "S"`). The builder caches one object per target
record and field name, so 100k tickets pointing at ten statuses share ten small dicts (safe:
records are replaced, never mutated, and a PATCH replaces a reference whole).
"""

from __future__ import annotations

import threading
from typing import Any

from psa.sandbox.connectwise.schema import EntitySpec, parent_id_of, spec_for
from psa.sandbox.connectwise.store import SandboxStore

# Targets whose reference model (models.tsv) carries `identifier`; ScheduleTypeReference has no `name`.
IDENTIFIED = frozenset({"system/members", "company/companies", "schedule/types", "system/departments"})
NAMELESS = frozenset({"schedule/types"})


class ReferenceError_(ValueError):
    """A reference names no existing record (answered with 400 InvalidObject)."""


def display_name(record: dict) -> str | None:
    if "firstName" in record or "lastName" in record:
        return " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p) or None
    if isinstance(record.get("probability"), int) and "name" not in record:  # a sales probability
        return f"{record['probability']}%"
    return record.get("name") or record.get("description")


def ref_id(value: object) -> int | None:
    """The id a reference object names (None for a missing or malformed reference)."""
    return value.get("id") if isinstance(value, dict) else None


class RefBuilder:
    def __init__(self, href_base: str) -> None:
        self.href_base = href_base  # e.g. "http://127.0.0.1:8765/v2025_1/apis/3.0/"
        self._cache: dict[tuple[str, int, str, str | None], dict] = {}
        self._lock = threading.Lock()

    def href(self, spec: EntitySpec, record: dict) -> str:
        path = spec.key
        if spec.nested:
            path = path.replace("{parentId}", str(parent_id_of(spec, record) or 0))
        return f"{self.href_base}{path}/{record['id']}"

    def ref(self, entity: str, record: dict, field: str) -> dict:
        """The reference object stored in field `field` for the target `record` of `entity`."""
        name = display_name(record)
        key = (entity, record["id"], field, name)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        spec = spec_for(entity)
        ref: dict[str, Any] = {"id": record["id"]}
        if "identifier" in record and entity in IDENTIFIED:
            ref["identifier"] = record["identifier"]
        if name is not None and entity not in NAMELESS:
            ref["name"] = name
        ref["_info"] = {f"{field}_href": self.href(spec, record)}
        with self._lock:
            self._cache[key] = ref
        return ref

    def resolve(
        self, store: SandboxStore, entity: str, value: Any, field: str, *, board_id: int | None = None
    ) -> dict:
        """A full reference from what a client sent (`{"id": 5}` or `{"identifier": "jdoe"}`,
        or a bare id); ReferenceError_ when no such record exists (within `board_id` if given)."""
        target = find_target(store, entity, value, board_id=board_id)
        if target is None:
            raise ReferenceError_(f"{field}: {value!r} does not name an existing record")
        return self.ref(entity, target, field)


def find_target(store: SandboxStore, entity: str, value: Any, *, board_id: int | None = None) -> dict | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"id": value}
    if not isinstance(value, dict):
        return None
    wanted_id, identifier, name = value.get("id"), value.get("identifier"), value.get("name")
    spec = spec_for(entity)
    if isinstance(wanted_id, int) and not isinstance(wanted_id, bool):
        record = store.get(entity, wanted_id)
        if (
            record is not None
            and spec.nested
            and board_id is not None
            and parent_id_of(spec, record) != board_id
        ):
            return None
        return record
    if not isinstance(identifier, str) and not isinstance(name, str):
        return None
    candidates = store.iter_records(entity, parent_id=board_id if spec.nested else None)
    for record in candidates:
        if isinstance(identifier, str) and str(record.get("identifier", "")).lower() == identifier.lower():
            return record
        if (
            identifier is None
            and isinstance(name, str)
            and str(display_name(record) or "").lower() == name.lower()
        ):
            return record
    return None
