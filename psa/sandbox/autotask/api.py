"""Answers to authenticated API calls under `{zone url}V1.0/`: queries, counts, paging, items,
child collections, metadata and writes.

Reference: api.md §3 (query forms and envelope), §4 (writes), §5 (metadata), §6 (errors: 500
`{"errors": [...]}` for business errors, ASP.NET's `{"Message": ...}` for a verb a route does not
support (405) and an unknown route (404)).
"""

from __future__ import annotations

import json
from typing import Any

from psa.sandbox.autotask import attachments, metadata
from psa.sandbox.autotask.filters import QueryError
from psa.sandbox.autotask.query import (
    FIRST_PAGE,
    Paging,
    QueryRequest,
    RememberedQueries,
    count,
    envelope,
    neighbours,
    page_urls,
    parse_paging,
    parse_query,
    run_page,
)
from psa.sandbox.autotask.routes import Route
from psa.sandbox.autotask.rules import WriteError
from psa.sandbox.autotask.schema import EntitySpec
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.wire import to_wire
from psa.sandbox.autotask.writes import Writer
from psa.sandbox.replies import Reply
from psa.sandbox.site import SandboxRequest

# IIS refuses longer query strings with a 404 (a long GET next-page URL does: api.md §3,
# KelvinTegelaar/AutotaskAPI#66).
MAX_QUERY_STRING = 16_384


def errors(message: str, status: int = 500) -> Reply:
    return Reply(status, {"errors": [message]})


def not_allowed(method: str) -> Reply:
    return Reply(405, {"Message": f"The requested resource does not support http method '{method}'."})


def no_route(request: SandboxRequest) -> Reply:
    return Reply(
        404, {"Message": f"No HTTP resource was found that matches the request URI '{request.path}'."}
    )


def refused(request: SandboxRequest, spec: EntitySpec, form: str) -> Reply:
    """A verb the URL does not serve. ASP.NET answers 405 where the URL serves other verbs and 404
    where it serves none: `POST /TicketNotes` and `POST /Tasks` answer 404 live (WYRE-AI/autotask-mcp
    #24 and #47, tegwin/AutotaskMCP #1), a GET on a POST-form next-page URL 405 (api.md §3)."""
    return not_allowed(request.method) if spec.offers(form) else no_route(request)


def _json_body(request: SandboxRequest) -> Any:
    if not request.body.strip():
        return None
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise QueryError("The request body is not valid JSON.") from None


class AutotaskApi:
    def __init__(self, store: AutotaskStore, writer: Writer, *, api_base: str) -> None:
        self.store, self.writer, self.api_base = store, writer, api_base
        self.page_queries = RememberedQueries()

    def answer(self, request: SandboxRequest, route: Route, actor: int) -> Reply:
        try:
            return self._answer(request, route, actor)
        except (QueryError, WriteError) as problem:
            return errors(str(problem))

    def _answer(self, request: SandboxRequest, route: Route, actor: int) -> Reply:
        spec, method = route.spec, request.method
        if spec is None:
            return no_route(request)
        if route.kind == "info":
            return self._info(spec, route, method)
        if route.kind in ("query", "count") or (
            route.kind == "collection" and method == "GET" and route.parent_id is None
        ):
            return self._query(request, spec, route)
        if route.kind == "next":
            return self._next(request, spec)
        if route.kind == "item":
            return self._item(request, spec, route, actor)
        return self._collection(request, spec, route, actor)

    # --- reads -------------------------------------------------------------------------------

    def _parsed_query(self, request: SandboxRequest, spec: EntitySpec) -> QueryRequest:
        """The query a GET carries in `search` (JSON) or a POST in its body."""
        if request.method != "GET":
            return parse_query(spec, _json_body(request))
        return self._searched(spec, request.query.get("search"))

    def _searched(self, spec: EntitySpec, text: str | None) -> QueryRequest:
        try:
            body = json.loads(text) if text is not None else None
        except ValueError:
            raise QueryError("The search parameter is not valid JSON.") from None
        return parse_query(spec, body)

    def _query(self, request: SandboxRequest, spec: EntitySpec, route: Route) -> Reply:
        method = request.method
        if route.kind == "collection" and "search" not in request.query:
            return refused(request, spec, "root")  # a plain GET of a root collection
        if method not in ("GET", "POST"):
            return not_allowed(method)
        query = self._parsed_query(request, spec)
        if route.kind == "count":
            return Reply(200, {"queryCount": count(self.store, spec, query)})
        search = request.query.get("search") if method == "GET" else None
        return self._page(spec, query, Paging(query.max_records, [], FIRST_PAGE), search)

    def _next(self, request: SandboxRequest, spec: EntitySpec) -> Reply:
        # Reference: api.md §3 — the POST form's next URL carries no `search` and must be
        # POSTed with the original body; a GET on it answers 405.
        search = request.query.get("search")
        if request.method == "GET" and search is None:
            return not_allowed("GET")
        if request.method not in ("GET", "POST"):
            return not_allowed(request.method)
        paging = parse_paging(request.query.get("paging"))
        if request.method == "POST" and not request.body.strip():  # a next URL POSTed bare
            query = self._remembered(spec, paging) if search is None else self._searched(spec, search)
            return self._page(spec, query, paging, None)
        query = self._parsed_query(request, spec)
        return self._page(spec, query, paging, search if request.method == "GET" else None)

    def _remembered(self, spec: EntitySpec, paging: Paging) -> QueryRequest:
        """The query of the page whose URL a client POSTed back without the body."""
        query = self.page_queries.recall(spec, paging)
        if query is None:
            raise QueryError("The query of this page is no longer known: POST the original query body.")
        return query

    def _page(self, spec: EntitySpec, query: QueryRequest, paging: Paging, search: str | None) -> Reply:
        items, more, last_id = run_page(self.store, spec, query, paging)
        if search is None:  # POST form: its page URLs carry no query
            self.page_queries.remember(spec, neighbours(paging, last_id, more), query)
        urls = page_urls(self.api_base, spec, paging, last_id, more, search)
        return Reply(200, envelope(items, paging.page_size, urls))

    def _info(self, spec: EntitySpec, route: Route, method: str) -> Reply:
        if method != "GET":
            return not_allowed(method)
        if route.info == "fields":
            return Reply(200, metadata.field_information(spec))
        if route.info == "userdefinedfields":
            return Reply(200, metadata.udf_information(spec))
        return Reply(200, metadata.entity_information(spec))

    def _item(self, request: SandboxRequest, spec: EntitySpec, route: Route, actor: int) -> Reply:
        record_id = route.record_id or 0
        if not spec.allows(request.method, route.form):
            return refused(request, spec, route.form)
        if request.method == "DELETE":
            return Reply(200, {"itemId": self.writer.delete(spec, record_id, route.parent_id, actor)})
        record = self.store.get(spec.name, record_id)
        if record is not None and route.parent_id is not None:
            if record.get(spec.parent_field or "") != route.parent_id:
                record = None
        # Reference: api.md §3 — a missing id: 200 {"item": null} satisfies every client.
        if record is None:
            return Reply(200, {"item": None})
        item = to_wire(spec, record)
        if spec.name in attachments.ENTITIES and route.parent_id is not None:
            item = attachments.with_data(item, record)
        return Reply(200, {"item": item})

    # --- child lists and writes --------------------------------------------------------------

    def _collection(self, request: SandboxRequest, spec: EntitySpec, route: Route, actor: int) -> Reply:
        method = request.method
        if not spec.allows(method, route.form):
            return refused(request, spec, route.form)
        if method == "GET":  # a parent's children: GET {Parent}/{parentId}/{Child}
            ids = self.store.child_ids(spec.name, route.parent_id or 0)
            items = [to_wire(spec, record) for record in self.store.iter_records(spec.name, ids)]
            return Reply(200, envelope(items, len(items), (None, None)))
        body = _json_body(request)
        if method == "POST":
            return Reply(200, {"itemId": self.writer.create(spec, body, route.parent_id, actor)})
        item_id = self.writer.update(spec, body, route.parent_id, actor, full=method == "PUT")
        return Reply(200, {"itemId": item_id})
