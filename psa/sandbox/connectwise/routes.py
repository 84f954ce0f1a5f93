"""Route matching for `/{codebase}apis/3.0/...` paths: which collection, which operation.

Every (method, path) served here is a real ConnectWise endpoint (endpoints.tsv); a test checks it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from psa.sandbox.connectwise import views
from psa.sandbox.connectwise.info import INFO_PATHS, info_operations, own_path_operations
from psa.sandbox.connectwise.schema import ALIASES, SPECS, EntitySpec, spec_for

# operation → methods allowed
OPERATIONS = {
    "list": ("GET", "POST"),
    "count": ("GET",),
    "search": ("POST",),
    "item": ("GET", "PUT", "PATCH", "DELETE"),
    # the slim `{Model}Info` shape of a collection, where ConnectWise has one (info.py)
    "info": ("GET",),
    "info_count": ("GET",),
    "info_item": ("GET",),
}


@dataclass(frozen=True)
class Route:
    spec: EntitySpec
    operation: str  # list | count | search | item
    template: str  # for stats, e.g. "service/tickets/{id}"
    parent_entity: str | None  # collection the {parentId} must exist in


@dataclass(frozen=True)
class Match:
    route: Route
    parent_id: int | None
    record_id: int | None
    path: str  # the requested path, e.g. "service/boards/3/statuses"


def _compile(path: str) -> str:
    return re.escape(path).replace(re.escape("{parentId}"), r"(?P<parent>\d+)")


def _routes() -> list[tuple[re.Pattern, Route]]:
    table: list[tuple[re.Pattern, Route]] = []
    paths = [(spec.key, spec, spec.parent) for spec in SPECS]
    paths += [(alias, spec_for(target), parent) for alias, (target, parent) in ALIASES.items()]
    for path, target in INFO_PATHS.items():
        spec = spec_for(target)
        for operation, suffix, template in own_path_operations(path):
            pattern = re.compile(f"^{_compile(path)}{suffix}$", re.IGNORECASE)
            table.append((pattern, Route(spec, operation, template, spec.parent)))
    for path, spec, parent in paths:
        base = _compile(path)
        operations = [
            ("list", "", path),
            ("count", "/count", f"{path}/count"),
            ("item", r"/(?P<id>\d+)", f"{path}/{{id}}"),
        ]
        if spec.searchable:
            operations.append(("search", "/search", f"{path}/search"))
        operations += info_operations(path, spec)
        for operation, suffix, template in operations:
            table.append(
                (re.compile(f"^{base}{suffix}$", re.IGNORECASE), Route(spec, operation, template, parent))
            )
    return table


ROUTES = _routes()


def match(api_path: str) -> Match | None:
    path = api_path.strip("/")
    for pattern, route in ROUTES:
        found = pattern.match(path)
        if found:
            groups = found.groupdict()
            parent = int(groups["parent"]) if groups.get("parent") else None
            record = int(groups["id"]) if groups.get("id") else None
            return Match(route, parent, record, path)
    return None


def served_endpoints() -> list[tuple[str, str]]:
    """(method, "/path") pairs the sandbox answers, in endpoints.tsv notation."""
    pairs = [("GET", "/system/info"), ("GET", "/system/callbacks"), ("GET", "/system/callbacks/count")]
    pairs += views.served_endpoints()
    for _pattern, route in ROUTES:
        template = "/" + route.template
        for method in OPERATIONS[route.operation]:
            if method != "GET" and route.operation != "search" and method not in route.spec.writes:
                continue
            pairs.append((method, template))
    return sorted(set(pairs))
