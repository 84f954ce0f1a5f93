"""Answers to ConnectWise API requests (routing done, auth, limits and faults already passed).

Reads: list with conditions / fields / orderBy, navigable paging (page, pageSize, RFC 5988
Link header with first/prev/next/last) and forward-only paging (header pagination-type:
forward-only, pageId = id > pageId, ordered by id, a next link only when more records follow,
else an empty Link header), `/count`, `/search` (POST, conditions in the JSON body), get by
id, and the same over listings computed per request (views.py: a ticket's allNotes,
timeentries, scheduleentries). Writes live in writes.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from psa.sandbox.connectwise import views, writes
from psa.sandbox.connectwise.conditions import ConditionError
from psa.sandbox.connectwise.info import shaped
from psa.sandbox.connectwise.listing import AnswerCache, add_link_header, search_body
from psa.sandbox.connectwise.query import Filter, projector, sorter
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.routes import OPERATIONS, Match, match
from psa.sandbox.connectwise.schema import EntitySpec, parent_id_of
from psa.sandbox.connectwise.store import SandboxStore
from psa.sandbox.faults import ForcedErrors, ListingFaults
from psa.sandbox.replies import BadRequest, Reply, encode_json, error

# Reference: endpoints.tsv GET /system/info (model Info: version, isCloud, serverTimeZone, cloudRegion)
SYSTEM_INFO = {
    "version": "v2025.1.98765",
    "isCloud": False,
    "serverTimeZone": "Eastern Standard Time",
    "cloudRegion": "NA",
}
DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 1000


def _int_param(query: dict[str, str], name: str, default: int | None) -> int | None:
    raw = query.get(name.lower())
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {raw!r}") from None


def _paging(query: dict[str, str], headers: dict[str, str]) -> tuple[int, bool]:
    """(page size, forward-only) of a listing request; orderBy is refused with forward-only."""
    size = _int_param(query, "pageSize", DEFAULT_PAGE_SIZE)
    forward_only = headers.get("pagination-type", "").lower() == "forward-only"
    if forward_only and query.get("orderby"):
        raise BadRequest("orderBy cannot be used with forward-only pagination (always ordered by id)")
    return max(1, min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)), forward_only


def _page_number(query: dict[str, str]) -> int:
    return max(_int_param(query, "page", 1) or 1, 1)


class Api:
    def __init__(
        self, store: SandboxStore, refs: RefBuilder, forced: ForcedErrors, *, public_base: str
    ) -> None:
        self.store, self.refs, self.forced = store, refs, forced
        self.public_base = public_base  # e.g. "http://127.0.0.1:8765/v2025_1/apis/3.0/"
        self._json_cache: dict[tuple[str, int], tuple[dict, bytes]] = {}
        self._answers = AnswerCache()

    def handle(
        self,
        method: str,
        api_path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        listings: ListingFaults | None = None,
    ) -> tuple[Reply, str]:
        """The reply and the route template (for stats); `listings`: the faults to apply to
        forward-only listings (faults.py)."""
        if api_path.strip("/").lower() == "system/info" and method == "GET":
            return Reply(200, SYSTEM_INFO), "system/info"
        view = views.match(api_path)
        if view is not None:
            return self._view(method, view, api_path, query, headers), view.template
        found = match(api_path)
        if found is None:
            return error(404, "NotFound", f"/{api_path} is not a ConnectWise endpoint"), "unknown"
        route = found.route
        if method not in OPERATIONS[route.operation] or (
            method != "GET" and route.operation != "search" and method not in route.spec.writes
        ):
            return error(
                405, "MethodNotAllowed", f"{method} is not allowed on /{route.template}"
            ), route.template
        try:
            reply = self._dispatch(method, found, api_path, query, headers, body, listings or ListingFaults())
            return reply, route.template
        except (BadRequest, ConditionError) as err:
            return _refusal(err, route.spec), route.template

    def _dispatch(
        self,
        method: str,
        found: Match,
        api_path: str,
        query: dict[str, str],
        headers: dict[str, str],
        body: bytes,
        listings: ListingFaults,
    ) -> Reply:
        route = found.route
        if found.parent_id is not None and not self._parent_exists(found):
            return error(404, "NotFound", f"{route.parent_entity} record {found.parent_id} not found")
        if route.operation in ("count", "info_count"):
            return Reply(200, {"count": len(self._ordered(found, Filter.of(query), None))})
        if route.operation in ("item", "info_item"):
            return self._item(method, found, query, headers, body)
        if method == "POST" and route.operation == "list":
            return writes.create(self, found, query, headers, body)
        if route.operation == "search":
            # Links carry only the URL's own parameters: the client re-POSTs the body, and
            # copying long conditions into a header would overflow it.
            return self._list(
                found, api_path, {**query, **search_body(body)}, headers, link_query=query, listings=listings
            )
        return self._list(found, api_path, query, headers, listings=listings)

    def _view(
        self,
        method: str,
        view: views.ViewMatch,
        api_path: str,
        query: dict[str, str],
        headers: dict[str, str],
    ) -> Reply:
        """A computed listing (views.py): GET only, the ticket must exist."""
        if method != "GET":
            return error(405, "MethodNotAllowed", f"{method} is not allowed on /{view.template}")
        ticket = self.store.get(view.ticket_entity, view.ticket_id)
        if ticket is None:
            return error(404, "NotFound", f"{view.ticket_entity} record {view.ticket_id} not found")
        try:
            records = view.view.build(self.store, self.refs, view.ticket_entity, ticket)
            if view.count:
                predicate = Filter.of(query).predicate(view.spec)
                return Reply(200, {"count": sum(1 for r in records if predicate is None or predicate(r))})
            return self._list_computed(view.spec, records, api_path, query, headers)
        except (BadRequest, ConditionError) as err:
            return _refusal(err, view.spec)

    def _list_computed(
        self,
        spec: EntitySpec,
        records: list[dict],
        api_path: str,
        query: dict[str, str],
        headers: dict[str, str],
    ) -> Reply:
        """conditions, orderBy, fields and both paging modes over records built for this request."""
        predicate = Filter.of(query).predicate(spec)
        matching = [r for r in records if predicate(r)] if predicate else records
        page_size, forward_only = _paging(query, headers)
        if forward_only:
            after = _int_param(query, "pageId", None)
            ordered = sorted((r for r in matching if after is None or r["id"] > after), key=lambda r: r["id"])
            page = ordered[:page_size]
            more = len(ordered) > page_size
            links = [(self._url(api_path, query, pageId=page[-1]["id"]), "next")] if more else []
        else:
            sort = sorter(spec, query.get("orderby"))
            ordered = sort(matching) if sort else matching
            number = _page_number(query)
            page = ordered[(number - 1) * page_size : number * page_size]
            links = self._navigable_links(
                api_path, query, number, max(math.ceil(len(ordered) / page_size), 1)
            )
        project = projector(spec, query.get("fields"))
        reply = Reply(200, [project(r) for r in page] if project else page)
        add_link_header(reply, links, forward_only=forward_only)
        return reply

    def _parent_exists(self, found: Match) -> bool:
        parent = found.route.parent_entity
        return parent is not None and self.store.get(parent, int(found.parent_id or 0)) is not None

    # --- reading ---------------------------------------------------------------------------

    def _matching(self, found: Match, narrowed: Filter, after_id: int | None) -> Iterator[dict]:
        spec = found.route.spec
        predicate = narrowed.predicate(spec)
        records = self.store.iter_records(spec.key, parent_id=found.parent_id, after_id=after_id)
        if self._forced_empty(found):
            return iter(())
        if not self._reachable(found):
            records = iter(())  # nested collections are only reachable through their parent
        if predicate is None:
            return records
        return (record for record in records if predicate(record))

    def _forced_empty(self, found: Match) -> bool:
        empty = self.forced.empty_lists
        if empty is None:  # matched against the collection path, e.g. "service/tickets"
            return False
        return bool(empty.search(found.route.spec.key) or empty.search(_collection_path(found)))

    def _list(
        self,
        found: Match,
        api_path: str,
        query: dict[str, str],
        headers: dict[str, str],
        link_query: dict[str, str] | None = None,
        listings: ListingFaults | None = None,
    ) -> Reply:
        spec = found.route.spec
        faults_for = (spec.key, _collection_path(found))
        link_query = query if link_query is None else link_query
        page_size, forward_only = _paging(query, headers)
        project = shaped(found.route, projector(spec, query.get("fields")))
        if forward_only:
            page_id = _int_param(query, "pageId", None)
            records, more = self._forward_page(
                found, Filter.of(query), page_id, page_size, listings, faults_for
            )
            links = []
            if more and records:
                links.append((self._url(api_path, link_query, pageId=records[-1]["id"]), "next"))
        else:
            page = _page_number(query)
            records, total = self._navigable_page(found, query, page, page_size)
            last = max(math.ceil(total / page_size), 1)
            links = self._navigable_links(api_path, link_query, page, last)
        faulty = (
            listings.page_bytes(faults_for, [project(r) if project else r for r in records])
            if listings
            else None
        )
        if faulty is not None:
            reply = Reply(200, raw=faulty)
        elif project:
            reply = Reply(200, [project(r) for r in records])
        else:  # whole records: reuse each one's encoding (pages of 1000 full tickets stay cheap)
            reply = Reply(200, raw=b"[" + b",".join(self._encoded(spec.key, r) for r in records) + b"]")
        add_link_header(reply, links, forward_only=forward_only)
        return reply

    def _navigable_page(
        self, found: Match, query: dict[str, str], page: int, size: int
    ) -> tuple[list[dict], int]:
        """One page and the number of matching records. Without conditions or orderBy the page
        is a slice of the sorted ids; otherwise the matching records are found (and sorted) once
        per collection version, so every later page of the same query is a slice too."""
        spec, start = found.route.spec, (page - 1) * size
        narrowed, order_by = Filter.of(query), query.get("orderby")
        plain = narrowed.empty and not (order_by or "").strip()
        if plain and self._reachable(found) and not self._forced_empty(found):
            ids = self.store.id_list(spec.key, parent_id=found.parent_id)
            chosen = (self.store.get(spec.key, i) for i in ids[start : start + size])
            return [r for r in chosen if r is not None], len(ids)
        ordered = self._ordered(found, narrowed, order_by)
        return ordered[start : start + size], len(ordered)

    def _ordered(self, found: Match, narrowed: Filter, order_by: str | None) -> list[dict]:
        """Every matching record in answer order, cached per (query, collection version)."""
        spec = found.route.spec
        if found.parent_id is not None:
            self.store.id_list(spec.key, parent_id=found.parent_id)  # lazy children first
        key = (found.path.lower(), narrowed, order_by, self.store.version(spec.key))
        if self._forced_empty(found):
            return []
        cached = self._answers.get(key)
        if cached is not None:
            return cached
        ordered = list(self._matching(found, narrowed, None))
        sort = sorter(spec, order_by)
        if sort is not None:
            ordered = sort(ordered)
        self._answers.put(key, ordered)
        return ordered

    def _reachable(self, found: Match) -> bool:
        return found.parent_id is not None or not found.route.spec.nested

    def _encoded(self, entity: str, record: dict) -> bytes:
        # Records are replaced on every write, never mutated, so the cached bytes are valid
        # exactly while the cached object is still the stored record.
        key = (entity, record["id"])
        cached = self._json_cache.get(key)
        if cached is not None and cached[0] is record:
            return cached[1]
        encoded = encode_json(record)
        self._json_cache[key] = (record, encoded)
        return encoded

    def _forward_page(
        self,
        found: Match,
        narrowed: Filter,
        page_id: int | None,
        size: int,
        listings: ListingFaults | None = None,
        faults_for: tuple[str, ...] = (),
    ) -> tuple[list[dict], bool]:
        page: list[dict] = []
        records = self._matching(found, narrowed, page_id)
        if listings is not None and listings.items:
            records = listings.visible(faults_for, records, lambda: self._matching(found, narrowed, None))
        for record in records:
            if len(page) == size:
                return page, True  # one more record matches: there is a next page
            page.append(record)
        return page, False

    def _navigable_links(
        self, api_path: str, query: dict[str, str], page: int, last: int
    ) -> list[tuple[str, str]]:
        links = []
        if page > 1:
            links.append((self._url(api_path, query, page=1), "first"))
            links.append((self._url(api_path, query, page=min(page - 1, last)), "prev"))
        if page < last:
            links.append((self._url(api_path, query, page=page + 1), "next"))
        links.append((self._url(api_path, query, page=last), "last"))
        return links

    def _url(self, api_path: str, query: dict[str, str], **changes: Any) -> str:
        params = {k: v for k, v in query.items() if k not in ("page", "pageid")}
        params.update({k: str(v) for k, v in changes.items()})
        return f"{self.public_base}{api_path.strip('/')}?{urlencode(params)}"

    def _item(
        self, method: str, found: Match, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> Reply:
        spec = found.route.spec
        record = self.store.get(spec.key, int(found.record_id or 0))
        if (
            record is not None
            and found.parent_id is not None
            and parent_id_of(spec, record) != found.parent_id
        ):
            record = None
        if record is None:
            return error(404, "NotFound", f"{spec.model} with id {found.record_id} was not found.")
        if method == "PATCH":
            return writes.patch(self, found, record, query, headers, body)
        if method == "PUT":
            return writes.replace(self, found, record, query, headers, body)
        if method == "DELETE":
            return writes.delete(self, found, query, headers)
        project = shaped(found.route, projector(spec, query.get("fields")))
        return Reply(200, project(record) if project else record)


def _refusal(err: BadRequest | ConditionError, spec: EntitySpec) -> Reply:
    if isinstance(err, BadRequest):
        return error(400, err.code, err.message, err.errors)
    return error(
        400,
        "InvalidObject",
        f"Invalid conditions: {err}",
        [{"code": "InvalidField", "message": str(err), "resource": spec.model}],
    )


def _collection_path(found: Match) -> str:
    """The requested collection, e.g. "service/boards/3/statuses" (without /count or /search,
    in whatever case the route matched)."""
    path = found.path.strip("/")
    suffix = {"count": "/count", "search": "/search"}.get(found.route.operation, "")
    return path[: len(path) - len(suffix)] if suffix else path
