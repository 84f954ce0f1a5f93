"""POST / PUT / PATCH / DELETE semantics like ConnectWise.

Reference: developer guide "Patch" / "Post" / "Put" / "Delete": PUT replaces the record with its
body (left-out fields defaulted or cleared), PATCH takes a JSON-Patch array
(`[{"op":"replace","path":"status","value":{"id":12}}]`), references are replaced as whole
objects, or by one key as a sub-path (`status/id` = 12, the form many integrations send; the
guide warns a sub-path may give a "false 200", here it names the new reference like a whole
object would); deeper paths are refused with 400. POST answers 201 with the new record, DELETE
answers 204.
References may name the target by id or identifier and must exist (board-scoped ones on the
ticket's board), otherwise 400 InvalidObject with a per-field error, like ConnectWise.
Callbacks are skipped when asked: `skipCallback=true` in the query, as a header, or a
`skipCallback: true` field in the body.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from psa.sandbox.connectwise.conditions import canonical_datetime
from psa.sandbox.connectwise.refs import ReferenceError_, find_target
from psa.sandbox.connectwise.routes import Match
from psa.sandbox.connectwise.rules import NOTES, board_id_of, find_ticket
from psa.sandbox.connectwise.schema import TICKET_ENTITIES, EntitySpec
from psa.sandbox.connectwise.schema_tickets import READ_ONLY
from psa.sandbox.connectwise.store import NotFoundError
from psa.sandbox.replies import BadRequest, Reply, error

if TYPE_CHECKING:
    from psa.sandbox.connectwise.api import Api

API_MEMBER = "sandbox-api"
PATCH_OPS = ("replace", "add", "remove")
# the keys a PATCH may name a reference by, as a sub-path (`status/id`)
REFERENCE_KEYS = frozenset({"id", "identifier", "name"})
# Fields ConnectWise computes and keeps through a PUT that leaves them out (it never clears them).
COMPUTED_ON_WRITE = frozenset(
    {
        "actualHours",
        "closedDate",
        "closedBy",
        "resources",
        "hasChildTicket",
        "dateEntered",
        "enteredBy",
        "dateCreated",
        "createdBy",
        "recordType",
    }
)
INITIAL_NOTES = {
    "initialDescription": "detailDescriptionFlag",
    "initialInternalAnalysis": "internalAnalysisFlag",
    "initialResolution": "resolutionFlag",
}
NUMBERS = frozenset({"budgetHours", "actualHours", "hours", "objectId", "chargeToId", "percentComplete"})
TEXTS = frozenset({"summary", "name", "text", "notes", "resources", "contactName", "url", "description"})
CALLBACK_TYPES = frozenset(
    {
        "activity",
        "agreement",
        "company",
        "contact",
        "configuration",
        "invoice",
        "expense",
        "member",
        "opportunity",
        "productcatalog",
        "project",
        "purchaseorder",
        "schedule",
        "site",
        "ticket",
        "time",
    }
)


def _bad(message: str, spec: EntitySpec, field: str | None = None, code: str = "InvalidField") -> Exception:
    errors = [{"code": code, "message": message, "resource": spec.model, "field": field}]
    return BadRequest(f"{spec.model} object is invalid", errors)


def _json_body(body: bytes, spec: EntitySpec) -> Any:
    try:
        return json.loads(body or b"null")
    except ValueError:
        raise _bad("The request body is not valid JSON", spec, code="InvalidJson") from None


def _skip_callback(query: dict[str, str], headers: dict[str, str], data: Any) -> bool:
    if query.get("skipcallback", "").lower() == "true" or headers.get("skipcallback", "").lower() == "true":
        return True
    return isinstance(data, dict) and data.get("skipCallback") is True


def _check_value(api: Api, spec: EntitySpec, name: str, value: Any, board_id: int | None) -> Any:
    """The stored form of one field value, or a BadRequest."""
    if value is None:
        if name in spec.required:
            raise _bad(f"{name} is required", spec, name, code="NullValue")
        return None
    if name in spec.references:
        target = spec.references[name]
        if not isinstance(value, dict | int) or isinstance(value, bool):
            raise _bad(f'{name} must be a reference object such as {{"id": 1}}', spec, name)
        if target is None:
            return value if isinstance(value, dict) else {"id": value}
        scoped = board_id if name in spec.board_scoped else None
        if name in spec.board_scoped and board_id is None:
            raise _bad(f"{name} needs a board", spec, name)
        try:
            return api.refs.resolve(api.store, target, value, name, board_id=scoped)
        except ReferenceError_:
            where = f" on board {board_id}" if scoped else ""
            raise _bad(
                f"{name} {json.dumps(value)} was not found{where}", spec, name, code="InvalidObject"
            ) from None
    value = _from_json_string(name, value)
    if name.endswith("Flag") and not isinstance(value, bool):
        raise _bad(f"{name} must be true or false, not {value!r}", spec, name)
    if name in NUMBERS and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _bad(f"{name} must be a number, not {value!r}", spec, name)
    if name in TEXTS and not isinstance(value, str):
        raise _bad(f"{name} must be a string", spec, name)
    if name in spec.datetimes:
        try:
            return canonical_datetime(str(value))
        except ValueError:
            raise _bad(f"{name} is not a valid date/time: {value!r}", spec, name) from None
    limit = spec.max_lengths.get(name)
    if limit is not None:
        if not isinstance(value, str):
            raise _bad(f"{name} must be a string", spec, name)
        if len(value) > limit:
            raise _bad(f"The field {name} must be a string with a maximum length of {limit}.", spec, name)
    return value


def _from_json_string(name: str, value: Any) -> Any:
    """ "false" for a flag and "12" for a number, as ConnectWise's JSON reader converts them (the
    developer guide's own callback example sends "inactiveFlag": "false"); anything else as sent."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if name.endswith("Flag") and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if name in NUMBERS:
        try:
            number = float(text)
        except ValueError:
            return value
        return int(number) if number.is_integer() and "." not in text else number
    return value


def _prepare(api: Api, spec: EntitySpec, values: dict, existing: dict | None) -> dict:
    board_id = board_id_of(values, existing)
    if "board" in values and values["board"] is not None:
        values["board"] = _check_value(api, spec, "board", values["board"], None)
        board_id = values["board"]["id"]
    return {
        name: (value if name == "board" else _check_value(api, spec, name, value, board_id))
        for name, value in values.items()
    }


def create(api: Api, found: Match, query: dict[str, str], headers: dict[str, str], body: bytes) -> Reply:
    spec = found.route.spec
    data = _json_body(body, spec)
    values = _body_values(api, found, data)
    skip = _skip_callback(query, headers, data)
    record = api.store.create(
        spec.key, _prepare(api, spec, values, None), skip_callback=skip, updated_by=API_MEMBER
    )
    if spec.key in TICKET_ENTITIES:
        _initial_notes(api, record, data, skip)
    return Reply(201, record)


def _body_values(api: Api, found: Match, data: Any) -> dict:
    """The fields a POST or PUT body gives, checked: a JSON object, required fields present,
    the record's own rules (a time entry's charge, a callback's URL) kept. Fields the PSA
    computes (a ticket's SLA state) are ignored, as ConnectWise does."""
    spec = found.route.spec
    if not isinstance(data, dict):
        raise _bad("The body must be a JSON object", spec, code="InvalidJson")
    computed = READ_ONLY.get(spec.key, frozenset())
    values = {
        k: v for k, v in data.items() if k in spec.fields and k not in ("id", "_info") and k not in computed
    }
    if spec.nested and spec.parent_field:
        values[spec.parent_field.split("/")[0]] = found.parent_id
    for name in spec.required:
        if values.get(name) in (None, ""):
            raise _bad(f"{name} is required", spec, name, code="NullValue")
    _entity_checks(api, spec, values)
    return values


def _initial_notes(api: Api, ticket: dict, data: dict, skip_callback: bool) -> None:
    """`initialDescription` / `initialInternalAnalysis` / `initialResolution` of a new ticket
    become its first notes (ConnectWise never returns these fields on the ticket). Dated at the
    ticket's entry, they are part of it, not a response (psa.sandbox.connectwise.rules)."""
    for field, flag in INITIAL_NOTES.items():
        text = data.get(field)
        if not isinstance(text, str) or not text.strip():
            continue
        note = {
            "ticketId": ticket["id"],
            "text": text,
            flag: True,
            "internalFlag": flag == "internalAnalysisFlag",
            "dateCreated": ticket["_info"]["dateEntered"],
        }
        api.store.create(NOTES, note, skip_callback=skip_callback, updated_by=API_MEMBER)


def _entity_checks(api: Api, spec: EntitySpec, values: dict) -> None:
    """Rules ConnectWise enforces on particular records before they are created."""
    if spec.key == "schedule/entries":
        values.setdefault("type", {"identifier": "S"})
        entry_type = find_target(api.store, "schedule/types", values["type"])
        if entry_type is not None and entry_type.get("identifier") == "S" and not _ticket_exists(api, values):
            raise _bad(f"objectId {values.get('objectId')!r} is not a ticket", spec, "objectId")
    elif spec.key == "time/entries":
        charge_type = values.get("chargeToType")
        if charge_type not in ("ServiceTicket", "ProjectTicket", "ChargeCode", "Activity"):
            raise _bad(f"chargeToType {charge_type!r} is not valid", spec, "chargeToType")
        if charge_type in ("ServiceTicket", "ProjectTicket"):
            ticket = _ticket(api, values.get("chargeToId"))
            if ticket is None:
                raise _bad(f"chargeToId {values.get('chargeToId')!r} is not a ticket", spec, "chargeToId")
            values.setdefault(
                "company", {"id": ticket.get("company", {}).get("id")} if ticket.get("company") else None
            )
    elif spec.key == "system/callbacks":
        url = values.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            raise _bad(f"url {url!r} is not an http(s) URL", spec, "url")
        if str(values.get("type", "")).lower() not in CALLBACK_TYPES:
            raise _bad(f"type {values.get('type')!r} is not a callback type", spec, "type")


def _ticket(api: Api, ticket_id: Any) -> dict | None:
    return find_ticket(api.store, ticket_id)[1]


def _ticket_exists(api: Api, values: dict) -> bool:
    return _ticket(api, values.get("objectId")) is not None


def patch(
    api: Api, found: Match, record: dict, query: dict[str, str], headers: dict[str, str], body: bytes
) -> Reply:
    spec = found.route.spec
    operations = _json_body(body, spec)
    if not isinstance(operations, list) or not operations:
        raise _bad(
            'PATCH needs a JSON array of operations: [{"op":"replace","path":...,"value":...}]',
            spec,
            code="InvalidJson",
        )
    changes: dict[str, Any] = {}
    skip = _skip_callback(query, headers, None)
    for operation in operations:
        name, value = _operation(spec, operation)
        if name == "skipCallback":
            skip = skip or value is True
            continue
        changes[name] = value
    try:
        updated = api.store.update(
            spec.key,
            record["id"],
            _prepare(api, spec, changes, record),
            skip_callback=skip,
            updated_by=API_MEMBER,
        )
    except NotFoundError:
        return error(404, "NotFound", f"{spec.model} with id {record['id']} was not found.")
    return Reply(200, updated)


def replace(
    api: Api, found: Match, record: dict, query: dict[str, str], headers: dict[str, str], body: bytes
) -> Reply:
    """PUT: the body replaces the record. Fields it leaves out fall back to what the PSA defaults
    them to, or are cleared (developer guide "Put"); what ConnectWise computes itself (SLA
    state, hours, audit and closing stamps) stays. connectwise-rest and connectpyse send it."""
    spec = found.route.spec
    data = _json_body(body, spec)
    values = _body_values(api, found, data)
    if spec.board_scoped and values.get("board") is None and record.get("board") is not None:
        values["board"] = record["board"]  # left out, the ticket stays on its board (status is read there)
    skip = _skip_callback(query, headers, data)
    replacement = _prepare(api, spec, values, None)
    api.store.hooks.fill_defaults(api.store, spec, replacement)
    kept = READ_ONLY.get(spec.key, frozenset()) | COMPUTED_ON_WRITE
    for name in kept - values.keys():  # a default (a new ticket's 0 hours) must not replace them
        replacement.pop(name, None)
    cleared = {name: None for name in record if name not in replacement and name not in kept and name != "id"}
    try:
        updated = api.store.update(
            spec.key, record["id"], {**cleared, **replacement}, skip_callback=skip, updated_by=API_MEMBER
        )
    except NotFoundError:
        return error(404, "NotFound", f"{spec.model} with id {record['id']} was not found.")
    return Reply(200, updated)


def _operation(spec: EntitySpec, operation: Any) -> tuple[str, Any]:
    if not isinstance(operation, dict):
        raise _bad("each PATCH operation must be an object", spec, code="InvalidJson")
    op = str(operation.get("op", "")).lower()
    path = str(operation.get("path", "")).strip().strip("/")
    if op not in PATCH_OPS:
        raise _bad(f"unsupported PATCH op {operation.get('op')!r}", spec, path or None)
    field, _, key = path.partition("/")
    if spec.key in TICKET_ENTITIES and path == "skipCallback":
        return "skipCallback", operation.get("value")
    name = next((f for f in spec.fields if f.lower() == field.lower()), None)
    if name is None:
        raise _bad(f"{field!r} is not a field of {spec.model}", spec, path or None)
    if name in ("id", "_info") or name in READ_ONLY.get(spec.key, ()):
        raise _bad(f"{name} is read-only", spec, name)
    if key:
        return name, _reference_by(spec, name, key, op, operation.get("value"))
    return name, None if op == "remove" else operation.get("value")


def _reference_by(spec: EntitySpec, name: str, key: str, op: str, value: Any) -> dict:
    """`{"op":"replace","path":"status/id","value":5}`: the reference named by that one key.
    ConnectWise takes this form (integrations commonly move a ticket with status/id, board/id,
    owner/identifier); anything deeper, or into a field that is no reference, is refused."""
    wanted = key.lower()
    if name not in spec.references or op == "remove" or wanted not in REFERENCE_KEYS:
        raise _bad(
            f"{name}/{key}: replace {name!r} as a whole object (or by its id, identifier or name)",
            spec,
            f"{name}/{key}",
        )
    if wanted == "id" and isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # "5" from a form field names the same record as 5
    return {wanted: value}


def delete(api: Api, found: Match, query: dict[str, str], headers: dict[str, str]) -> Reply:
    spec = found.route.spec
    try:
        api.store.delete(
            spec.key, int(found.record_id or 0), skip_callback=_skip_callback(query, headers, None)
        )
    except NotFoundError:
        return error(404, "NotFound", f"{spec.model} with id {found.record_id} was not found.")
    return Reply(204)
