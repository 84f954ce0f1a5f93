"""The `/info` shape of a collection.

ConnectWise serves `GET {path}/info`, `{path}/info/count` and `{path}/{id}/info` for many
collections: the same records cut down to their `{Model}Info` model (TicketInfo is id, summary,
company and _info). Generated clients offer them (pyconnectwise's `.info`, connectwise-rest's
`get...Info`). Served wherever endpoints.tsv lists them and models.tsv has the Info model;
conditions, orderBy, fields and paging work as on the full records.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from psa.connectwise.spec import endpoints, model_fields
from psa.sandbox.connectwise.entity import EntitySpec

if TYPE_CHECKING:
    from psa.sandbox.connectwise.routes import Route

Projection = Callable[[dict], dict]
# Info fields the full model spells differently: model → {info field: full model field}
RENAMED = {"BoardStatus": {"closedFlag": "closedStatus", "inactiveFlag": "inactive"}}
# Info fields ConnectWise composes: model → {info field: how}
COMPOSED: dict[str, dict[str, Callable[[dict], object]]] = {
    "Member": {
        "fullName": lambda r: " ".join(p for p in (r.get("firstName"), r.get("lastName")) if p) or None
    },
}
# Info listings at a path of their own: path → the collection they shape
INFO_PATHS = {"system/info/members": "system/members"}


def info_operations(path: str, spec: EntitySpec) -> list[tuple[str, str, str]]:
    """(operation, path suffix regex, template) of the info endpoints ConnectWise has for `path`."""
    if info_model(spec) not in model_fields():
        return []
    listed = endpoints()
    candidates = (
        ("info", "/info", f"{path}/info"),
        ("info_count", "/info/count", f"{path}/info/count"),
        ("info_item", r"/(?P<id>\d+)/info", f"{path}/{{id}}/info"),
    )
    return [
        (op, suffix, template) for op, suffix, template in candidates if ("GET", f"/{template}") in listed
    ]


def own_path_operations(path: str) -> list[tuple[str, str, str]]:
    """The operations of an info listing at its own path (`system/info/members`)."""
    candidates = (
        ("info", "", path),
        ("info_count", "/count", f"{path}/count"),
        ("info_item", r"/(?P<id>\d+)", f"{path}/{{id}}"),
    )
    return [
        (op, suffix, template)
        for op, suffix, template in candidates
        if ("GET", f"/{template}") in endpoints()
    ]


def info_model(spec: EntitySpec) -> str:
    return f"{spec.model}Info"


def shaped(route: Route, project: Projection | None) -> Projection | None:
    """The projection of an answer: on an info route the record cut down to its Info model
    first (then `fields=`, if asked); elsewhere `project` unchanged."""
    if not route.operation.startswith("info"):
        return project
    renamed = RENAMED.get(route.spec.model, {})
    composed = COMPOSED.get(route.spec.model, {})
    names = model_fields()[info_model(route.spec)]
    sources = tuple((name, renamed.get(name, name)) for name in names if name not in composed)

    def slim(record: dict) -> dict:
        cut = {name: record[source] for name, source in sources if source in record}
        for name, compose in composed.items():
            value = compose(record)
            if value is not None:
                cut[name] = value
        return project(cut) if project else cut

    return slim
