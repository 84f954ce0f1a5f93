"""Listings and counts the sync engine asks for (psa/providers.py PSAClient), and picklists.

Reference: api.md §3 — `POST {Entity}/query` with `{"filter", "IncludeFields", "MaxRecords"}`
answers `{"items": [...], "pageDetails": {"nextPageUrl"}}`; rows come in ascending id order;
the POST-form next URL is POSTed with the same body (a GET on it is a 405), a GET-form one
(it echoes `search=`) is followed with GET; `nextPageUrl: null` ends the listing. Resuming after
an id is the documented alternative to the paging URL: `id gt N`. `POST {Entity}/query/count`
answers `{"queryCount": N}`.

Picklists (ticket statuses, priorities, queues, ...) are not collections: they are the
`picklistValues` of a field in `{Entity}/entityInformation/fields` (api.md §5). The catalog
names one with a pseudo-path `picklist:{Entity}.{field}`; it is listed here as records
`{"id", "name", "isActive", "sortOrder", "isDefaultValue", "isSystem", "parentValue"}`, one page.

Joined listings (`joined:{Entity}`, JOINS): a link entity whose records mean something only with
the records they point at, e.g. a service call's resource (ServiceCallTicketResources: id,
resourceID, serviceCallTicketID) is on a ticket through ServiceCallTickets and at a time through
ServiceCalls. The pointed-at entities are listed first, whole (their fields only), then each page
of the link entity carries their fields under their own names (`ticketID`, `startDateTime`). A
whole listing per entity costs ceil(N/500) requests each, fewer than asking per page by `in`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from psa.autotask.query import cond, query_filter, split_in
from psa.errors import PSAError

if TYPE_CHECKING:
    from psa.autotask.client import AutotaskClient

MAX_RECORDS = 500  # api.md §3: MaxRecords 1-500
PICKLIST = "picklist:"
# Filter sent when a listing has no condition: accepted by every Autotask version (api.md §3).
EVERYTHING = cond("id", "gte", 0)


JOINED = "joined:"


@dataclass(frozen=True)
class Join:
    """Copy `fields` of the `entity` record whose id is in the listed record's `link` field."""

    link: str
    entity: str
    fields: tuple[str, ...]


# Reference: entities.tsv — ServiceCallTicketResources (resourceID, serviceCallTicketID),
# ServiceCallTickets (serviceCallID, ticketID), ServiceCalls (startDateTime, endDateTime, ...).
JOINS: dict[str, tuple[Join, ...]] = {
    "ServiceCallTicketResources": (
        Join("serviceCallTicketID", "ServiceCallTickets", ("ticketID", "serviceCallID")),
        Join("serviceCallID", "ServiceCalls", ("startDateTime", "endDateTime", "isComplete")),
    ),
}


def picklist_path(entity: str, field: str) -> str:
    return f"{PICKLIST}{entity}.{field}"


def joined_path(entity: str) -> str:
    if entity not in JOINS:
        raise ValueError(f"no join is declared for {entity!r}")
    return f"{JOINED}{entity}"


def include_fields(fields: Iterable[str] | str | None) -> list[str] | None:
    """The top-level names of the mirror's field paths, always with `id` (None: every field)."""
    if fields is None:
        return None
    names = fields.split(",") if isinstance(fields, str) else list(fields)
    tops = [name.split("/", 1)[0].strip() for name in names]
    return list(dict.fromkeys(["id", *(t for t in tops if t and not t.startswith(("@", "_")))]))


def _entity(path: str) -> str:
    entity = path.strip("/")
    if not entity or "/" in entity:
        raise ValueError(f"an Autotask listing path is an entity name such as 'Tickets', not {path!r}")
    return entity


def _body(items: list[dict], fields: list[str] | None, size: int) -> dict:
    body: dict[str, Any] = {"filter": items or [EVERYTHING], "MaxRecords": size}
    if fields:
        body["IncludeFields"] = fields
    return body


def _envelope(client: AutotaskClient, method: str, url: str, body: dict) -> dict:
    """One page's answer; a page that does not decode is asked for once more (a cut-off answer
    may be transient), then fails the listing (nothing mirrored is lost)."""
    for attempt in (1, 2):
        # A query is a read: safe to repeat after any failure, though it is a POST.
        response, decoded = client.exchange(
            method, url, json=body if method == "POST" else None, repeatable=True
        )
        if decoded is None or isinstance(decoded, str):  # empty, or text that is not JSON
            if attempt == 2:
                raise PSAError("the listing page is not JSON", url=response.url, status=response.status_code)
            continue
        if isinstance(decoded, dict) and isinstance(decoded.get("items"), list):
            return decoded
        raise PSAError(f"expected {{'items': [...]}}, got {decoded!r:.120}", url=response.url)
    raise AssertionError("unreachable")


def _next(client: AutotaskClient, details: Any, previous: str) -> tuple[str, str] | None:
    """(method, url) of the next page, or None on the last one."""
    next_url = details.get("nextPageUrl") if isinstance(details, dict) else None
    if not next_url:
        return None
    base, target = urlsplit(client.api_base), urlsplit(next_url)
    if (target.scheme, target.netloc.lower()) != (base.scheme, base.netloc.lower()):
        # The credentials travel in headers: never to another host than the zone's.
        raise PSAError(f"nextPageUrl points to another host: {next_url!r}", url=previous)
    if next_url == previous:
        raise PSAError("the listing's nextPageUrl did not advance", url=previous)
    return ("GET" if "search=" in target.query.lower() else "POST"), next_url


def _query_pages(
    client: AutotaskClient, entity: str, items: list[dict], fields: list[str] | None, size: int
) -> Iterator[list]:
    body = _body(items, fields, size)
    # Reference: api.md §3 POST {Entity}/query, then its pageDetails.nextPageUrl
    method, url = "POST", f"{entity}/query"
    while True:
        envelope = _envelope(client, method, url, body)
        if envelope["items"]:
            yield envelope["items"]
        following = _next(client, envelope.get("pageDetails"), client.url(url))
        if following is None:
            return
        method, url = following


def pages(
    client: AutotaskClient,
    path: str,
    *,
    conditions: str | None = None,
    fields: Iterable[str] | str | None = None,
    page_size: int = MAX_RECORDS,
    after_id: int | None = None,
) -> Iterator[list]:
    """Every page of the listing in ascending id order; `after_id` resumes after that id."""
    if path.startswith(PICKLIST):
        values = picklist_records(client, path)
        yield from ([values] if values else [])
        return
    if path.startswith(JOINED):
        entity = path.removeprefix(JOINED)
        yield from _joined_pages(client, entity, conditions, fields, page_size, after_id)
        return
    entity = _entity(path)
    items = query_filter(conditions)
    if after_id is not None:
        items = [*items, cond("id", "gt", int(after_id))]
    chunks = split_in(items)
    if after_id is not None and len(chunks) > 1:
        raise ValueError("after_id cannot resume a query split over several 'in' chunks")
    size = max(1, min(int(page_size), MAX_RECORDS))
    for chunk in chunks:
        yield from _query_pages(client, entity, chunk, include_fields(fields), size)


def _joined_pages(
    client: AutotaskClient,
    entity: str,
    conditions: str | None,
    fields: Iterable[str] | str | None,
    page_size: int,
    after_id: int | None,
) -> Iterator[list]:
    """The link entity's pages, each record with the fields of the records it points at."""
    joins = JOINS[entity]
    wanted = include_fields(fields)
    copied = {name for join in joins for name in join.fields}
    own = None if wanted is None else [n for n in wanted if n not in copied]
    if own is not None:
        own += [join.link for join in joins if join.link not in copied and join.link not in own]
    tables = {}
    for join in joins:
        rows = (r for page in pages(client, join.entity, fields=["id", *join.fields]) for r in page)
        tables[join.entity] = {r["id"]: r for r in rows if isinstance(r, dict)}
    for page in pages(
        client, entity, conditions=conditions, fields=own, page_size=page_size, after_id=after_id
    ):
        for record in page:
            if not isinstance(record, dict):
                continue  # left for the engine to skip and count
            for join in joins:
                found = tables[join.entity].get(record.get(join.link)) or {}
                record.update({name: found.get(name) for name in join.fields})
        yield page


def count(client: AutotaskClient, path: str, *, conditions: str | None = None) -> int:
    """How many records the listing of `path` with `conditions` holds."""
    if path.startswith(PICKLIST):
        return len(picklist_records(client, path))
    entity, total = _entity(path.removeprefix(JOINED)), 0
    for chunk in split_in(query_filter(conditions)):
        # Reference: api.md §3 POST {Entity}/query/count → {"queryCount": N}
        body = client.json(
            "POST", f"{entity}/query/count", json={"filter": chunk or [EVERYTHING]}, repeatable=True
        )
        if not isinstance(body, dict) or not isinstance(body.get("queryCount"), int):
            raise PSAError(f"unexpected count answer {body!r:.80}", url=client.url(f"{entity}/query/count"))
        total += body["queryCount"]
    return total


def picklist_records(client: AutotaskClient, path: str) -> list:
    """The values of a picklist as records (see the module docstring); a value that is not a
    whole number stays as Autotask sent it, for the engine to skip and count."""
    entity, _, field_name = path.removeprefix(PICKLIST).partition(".")
    field = client.entity_field(entity, field_name)
    if field is None:
        raise PSAError(f"{entity} has no field {field_name!r} in entityInformation/fields")
    records = []
    for value in field.get("picklistValues") or []:
        if not isinstance(value, dict):
            records.append(value)
            continue
        raw = value.get("value")
        psa_id = int(raw) if isinstance(raw, int | str) and str(raw).strip().lstrip("-").isdigit() else raw
        records.append(
            {
                "id": psa_id,
                "name": value.get("label") or "",
                "isActive": value.get("isActive", True),
                "sortOrder": value.get("sortOrder"),
                "isDefaultValue": bool(value.get("isDefaultValue")),
                "isSystem": bool(value.get("isSystem")),
                "parentValue": value.get("parentValue") or "",
            }
        )
    return sorted(
        records, key=lambda r: r["id"] if isinstance(r, dict) and isinstance(r.get("id"), int) else 0
    )
