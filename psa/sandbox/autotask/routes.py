"""Which operation a request path names.

Reference: api.md §1 — paths are case-insensitive (`atservicesrest/v1.0`, `ATServicesRest/V1.0`)
and a trailing slash is accepted (django-autotask sends `…/fields/`). Under `V1.0/`:
`{Entity}`, `{Entity}/query[/count|/next]`, `{Entity}/{id}`, `{Entity}/entityInformation[/fields|
/userDefinedFields]`, `{Parent}/{parentId}/{Child}[/{id}|/entityInformation…]`, `Version`,
`ThresholdInformation`, `ZoneInformation`.
"""

from __future__ import annotations

from dataclasses import dataclass

from psa.sandbox.autotask.schema import EntitySpec, child_routes, entity

PREFIX = "/atservicesrest/"
API_VERSION = "v1.0"
# versioninformation lists "1.0"; go-autotask and KelvinTegelaar/AutotaskAPI put that value as it
# comes into the discovery path (`/atservicesrest/1.0/zoneInformation`), so zone discovery takes it.
LISTED_VERSION = "1.0"


@dataclass(frozen=True)
class Route:
    kind: str  # zone, versions, version, threshold, collection, query, count, next, item, info, unknown
    spec: EntitySpec | None = None
    record_id: int | None = None
    parent_id: int | None = None  # set for child routes ({Parent}/{parentId}/{Child})
    info: str = ""  # "", "fields" or "userdefinedfields" for kind == "info"
    api_path: str = ""  # the path after `V1.0/`, as sent (for forced errors)

    @property
    def form(self) -> str:
        """The Swagger operation form (schema.EntitySpec.operations)."""
        if self.parent_id is not None:
            return "child_item" if self.record_id is not None else "child"
        return {"item": "item", "query": "query", "count": "count"}.get(self.kind, "root")


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() or (text.startswith("-") and text[1:].isdigit()) else None


def resolve(path: str) -> Route:
    lowered = path.lower()
    if not lowered.startswith(PREFIX):
        return Route("unknown")
    rest = path[len(PREFIX) :].strip("/")
    segments = [s for s in rest.split("/") if s]
    lowered_segments = [s.lower() for s in segments]
    if lowered_segments == ["versioninformation"]:
        return Route("versions")
    if not lowered_segments or lowered_segments[0] not in (API_VERSION, LISTED_VERSION):
        return Route("unknown")
    api_path = "/".join(segments[1:])
    route = _api_route(segments[1:], lowered_segments[1:])
    if lowered_segments[0] == LISTED_VERSION and route.kind != "zone":
        return Route("unknown")
    return Route(route.kind, route.spec, route.record_id, route.parent_id, route.info, api_path)


def _api_route(segments: list[str], lowered: list[str]) -> Route:
    if lowered == ["zoneinformation"]:
        return Route("zone")
    if lowered == ["version"]:
        return Route("version")
    if lowered == ["thresholdinformation"]:
        return Route("threshold")
    if not segments:
        return Route("unknown")
    if len(segments) >= 3 and _number(segments[1]) is not None:
        child = child_routes().get(f"{lowered[0]}/{lowered[2]}")
        if child is None:
            return Route("unknown")
        parent_id = _number(segments[1])
        return _tail(child, segments[3:], lowered[3:], parent_id)
    spec = entity(segments[0])
    if spec is None:
        return Route("unknown")
    return _tail(spec, segments[1:], lowered[1:], None)


def _tail(spec: EntitySpec, segments: list[str], lowered: list[str], parent_id: int | None) -> Route:
    if not lowered:
        return Route("collection", spec, parent_id=parent_id)
    if lowered[0] == "entityinformation" and len(lowered) <= 2:
        info = lowered[1] if len(lowered) == 2 else ""
        if info in ("", "fields", "userdefinedfields"):
            return Route("info", spec, info=info)
        return Route("unknown")
    if parent_id is None and lowered[0] == "query":
        kinds = {(): "query", ("count",): "count", ("next",): "next"}
        kind = kinds.get(tuple(lowered[1:]))
        return Route(kind, spec) if kind else Route("unknown")
    if len(lowered) == 1 and _number(segments[0]) is not None:
        return Route("item", spec, record_id=_number(segments[0]), parent_id=parent_id)
    return Route("unknown")
