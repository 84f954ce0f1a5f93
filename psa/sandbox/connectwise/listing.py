"""Pieces of a listing answer (api.py): the cache of recent queries' matching records, the
Link header, and a /search body read as query parameters."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict

from psa.sandbox.replies import BadRequest, Reply


class AnswerCache:
    """The last few queries' matching records (list of stored records, never mutated), keyed by
    path, conditions, orderBy and the collection's version: a write makes its entries unreachable."""

    SIZE = 16

    def __init__(self) -> None:
        self._entries: OrderedDict[tuple, list[dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> list[dict] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple, records: list[dict]) -> None:
        with self._lock:
            self._entries[key] = records
            while len(self._entries) > self.SIZE:
                self._entries.popitem(last=False)


def add_link_header(reply: Reply, links: list[tuple[str, str]], *, forward_only: bool) -> None:
    """RFC 5988 links. A forward-only answer always has the header ("There will always be a link
    header", developer guide): with no next page it is empty. Clients rely on both: the
    ConnectWiseManageAPI PowerShell module takes a missing header for an endpoint without
    forward-only paging and stops on an empty next URL; ex_cwmanage stops on an empty pageId."""
    if links:
        reply.headers.append(("Link", ", ".join(f'<{url}>; rel="{rel}"' for url, rel in links)))
    elif forward_only:
        reply.headers.append(("Link", ""))


def search_body(body: bytes) -> dict[str, str]:
    """The /search JSON body as query parameters (conditions, orderBy, fields, page, pageSize)."""
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        raise BadRequest("the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadRequest("the search body must be a JSON object")
    # customFieldConditions is not served: dropped like any key a search body does not take.
    allowed = {"conditions", "orderby", "fields", "page", "pagesize", "childconditions"}
    return {
        key.lower(): str(value) for key, value in data.items() if key.lower() in allowed and value is not None
    }
