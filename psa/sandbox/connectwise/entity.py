"""EntitySpec: how the sandbox serves one ConnectWise collection (see psa.sandbox.connectwise.schema)."""

from __future__ import annotations

from dataclasses import dataclass, field

from psa.connectwise.spec import model_fields


@dataclass(frozen=True)
class EntitySpec:
    key: str  # the ConnectWise path, e.g. "service/boards/{parentId}/statuses"
    model: str  # models.tsv model name
    fields: tuple[str, ...]
    parent: str | None = None  # key of the parent collection for nested paths
    parent_field: str | None = None  # path in the record holding the parent id ("board/id")
    writes: frozenset[str] = frozenset()  # POST / PATCH / DELETE allowed on this collection
    searchable: bool = False  # POST {path}/search
    callback_type: str | None = None  # system/callbacks type notified of changes
    references: dict[str, str | None] = field(default_factory=dict)  # field → entity it points to
    board_scoped: frozenset[str] = frozenset()  # references resolved within the record's board
    required: tuple[str, ...] = ()  # fields a POST must carry
    datetimes: tuple[str, ...] = ()  # normalised to 2026-01-02T03:04:05Z on write
    max_lengths: dict[str, int] = field(default_factory=dict)

    @property
    def nested(self) -> bool:
        return self.parent is not None


def whole_model(model: str) -> tuple[str, ...]:
    """Every field of `model` (models.tsv): what a collection filled like a real site may carry."""
    return tuple(model_fields()[model])


def child(key: str, model: str, parent: str, parent_field: str) -> EntitySpec:
    """A read-only nested collection carrying the whole model."""
    return EntitySpec(key, model, whole_model(model), parent=parent, parent_field=parent_field)


def plain(key: str, model: str) -> EntitySpec:
    """A read-only top-level collection carrying the whole model."""
    return EntitySpec(key, model, whole_model(model))
