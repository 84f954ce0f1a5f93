"""Running a query: the body (`filter`, `IncludeFields`, `MaxRecords`), keyset pages on id and
the paging URLs.

Reference: api.md §3 "Paging" — rows come in ascending id order; `nextPageUrl` is
`…/{Entity}/query/next?paging={"pageSize":500,"previousIds":[-1],"nextIds":[725]}` (lower-case
`%7b` escapes, 725 = the last id of the page) with the original `search` echoed for the GET
form and without it for the POST form (which must be POSTed again with the same body). The
sandbox reads `nextIds[0]` as "rows after this id" and `previousIds` as the stack of the earlier
pages' starts, which also gives `prevPageUrl` (null on page one; its real format is unverified).
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from psa.sandbox.autotask.filters import Compiled, QueryError, compile_filter, prop
from psa.sandbox.autotask.schema import EntitySpec
from psa.sandbox.autotask.store import AutotaskStore, Ids
from psa.sandbox.autotask.wire import to_wire

MAX_RECORDS = 500
FIRST_PAGE = -1


@dataclass
class QueryRequest:
    compiled: Compiled
    include: list[str] | None  # wire names; None = every field
    max_records: int


@dataclass
class Paging:
    page_size: int
    previous: list[int]  # starts of the pages before this one
    after: int  # this page holds the matching rows with id > after


def parse_query(spec: EntitySpec, body: Any) -> QueryRequest:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise QueryError("Invalid query syntax. The query must be a JSON object.")
    max_records = prop(body, "maxrecords")
    if max_records is None:
        max_records = MAX_RECORDS
    try:
        max_records = int(max_records)
    except (TypeError, ValueError):
        raise QueryError(f"'{max_records}' is not a valid value for MaxRecords.") from None
    if not 1 <= max_records <= MAX_RECORDS:
        raise QueryError("MaxRecords must be between 1 and 500.")
    return QueryRequest(compile_filter(spec, prop(body, "filter")), _include(spec, body), max_records)


def _include(spec: EntitySpec, body: dict) -> list[str] | None:
    names = prop(body, "includefields")
    if not names:
        return None
    if not isinstance(names, list):
        raise QueryError("Invalid query syntax. IncludeFields must be an array of field names.")
    # Unknown names are skipped rather than refused: a client may ask for a field this
    # sandbox's trimmed field table lacks.
    fields = (spec.field(str(name)) for name in names)
    return list(dict.fromkeys(f.name for f in fields if f is not None and f.name != "userDefinedFields"))


def candidate_ids(store: AutotaskStore, spec: EntitySpec, compiled: Compiled) -> Ids:
    """The sorted ids worth testing: narrowed by top-level `eq`/`in` on id or the parent field."""
    wanted_ids = compiled.narrowing.get("id")
    parent_field = (spec.parent_field or "").lower()
    parents = compiled.narrowing.get(parent_field) if parent_field else None
    if parents is not None:
        from_parents = sorted({i for parent in parents for i in store.child_ids(spec.name, parent)})
        return [i for i in from_parents if wanted_ids is None or i in wanted_ids]
    if wanted_ids is not None:  # get() also makes lazy children appear when asked for by id
        return sorted(i for i in wanted_ids if store.get(spec.name, i) is not None)
    return store.ids(spec.name)


def matching(store: AutotaskStore, spec: EntitySpec, request: QueryRequest, after: int) -> Iterator[dict]:
    predicate = request.compiled.predicate
    ids = candidate_ids(store, spec, request.compiled)
    return (record for record in store.iter_records(spec.name, ids, after) if predicate(record))


def run_page(
    store: AutotaskStore, spec: EntitySpec, request: QueryRequest, paging: Paging
) -> tuple[list[dict], bool, int | None]:
    """The page's wire items, whether more rows match after it, and its last record's id (which
    the next page starts after, even when IncludeFields leaves the id out of the items)."""
    rows: list[dict] = []
    more = False
    for record in matching(store, spec, request, paging.after):
        if len(rows) == paging.page_size:
            more = True
            break
        rows.append(record)
    last_id = rows[-1]["id"] if rows else None
    return [to_wire(spec, record, request.include) for record in rows], more, last_id


def count(store: AutotaskStore, spec: EntitySpec, request: QueryRequest) -> int:
    return sum(1 for _ in matching(store, spec, request, FIRST_PAGE))


def url_encode(text: str) -> str:
    """Percent-encoding as .NET writes it in these URLs: lower-case hex escapes (`%7b`)."""
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(text, safe=""))


def paging_text(paging: Paging) -> str:
    return json.dumps(
        {"pageSize": paging.page_size, "previousIds": paging.previous, "nextIds": [paging.after]},
        separators=(",", ":"),
    )


def parse_paging(text: str | None) -> Paging:
    try:
        data = json.loads(text or "")
        page_size = int(data["pageSize"])
        previous = [int(i) for i in data.get("previousIds") or []]
        after = int((data.get("nextIds") or [FIRST_PAGE])[0])
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        raise QueryError("Invalid paging parameter.") from None
    if not 1 <= page_size <= MAX_RECORDS:
        raise QueryError("Invalid paging parameter.")
    return Paging(page_size, previous, after)


def neighbours(paging: Paging, last_id: int | None, more: bool) -> tuple[Paging | None, Paging | None]:
    """The paging of the page before this one and of the one after it (None where there is none)."""
    following = None
    if more and last_id is not None:
        following = Paging(paging.page_size, [*paging.previous, paging.after], last_id)
    preceding = None
    if paging.previous:
        preceding = Paging(paging.page_size, paging.previous[:-1], paging.previous[-1])
    return preceding, following


def page_urls(
    base: str, spec: EntitySpec, paging: Paging, last_id: int | None, more: bool, search: str | None
) -> tuple[str | None, str | None]:
    """(prevPageUrl, nextPageUrl) for a page; `search` is echoed in the GET form only."""
    tail = f"&search={url_encode(search)}" if search is not None else ""
    stem = f"{base}{spec.name}/query/next?paging="
    preceding, following = neighbours(paging, last_id, more)
    return _page_url(stem, preceding, tail), _page_url(stem, following, tail)


def _page_url(stem: str, paging: Paging | None, tail: str) -> str | None:
    return None if paging is None else stem + url_encode(paging_text(paging)) + tail


class RememberedQueries:
    """The query behind each POST-form page URL handed out lately, for clients that POST a
    nextPageUrl without the body (go-autotask, and others: api.md §3 says to send the same body,
    but what the live service does without one is unknown). Bounded: the oldest are forgotten."""

    def __init__(self, capacity: int = 2_000) -> None:
        self.capacity = capacity
        self._queries: OrderedDict[tuple[str, str], QueryRequest] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, spec: EntitySpec, pagings: tuple[Paging | None, ...], query: QueryRequest) -> None:
        with self._lock:
            for paging in pagings:
                if paging is not None:
                    key = (spec.name, paging_text(paging))
                    self._queries[key] = query
                    self._queries.move_to_end(key)
            while len(self._queries) > self.capacity:
                self._queries.popitem(last=False)

    def recall(self, spec: EntitySpec, paging: Paging) -> QueryRequest | None:
        with self._lock:
            return self._queries.get((spec.name, paging_text(paging)))


def envelope(items: list[dict], request_count: int, urls: tuple[str | None, str | None]) -> dict:
    return {
        "items": items,
        "pageDetails": {
            "count": len(items),
            "requestCount": request_count,
            "prevPageUrl": urls[0],
            "nextPageUrl": urls[1],
        },
    }
