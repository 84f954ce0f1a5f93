"""The ConnectWise half of `POST /hooks/connectwise/<token>/` (the neutral half is sync/webhooks.py).

Authenticates the body with the `x-content-signature` of the key behind `Metadata.key_url`
(psa/connectwise/callbacks.py), then says which record to re-read: tickets, opportunities,
projects and companies by their own id; a schedule entry of type S (a ticket assignment) as its
ticket. Everything else is acknowledged and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from django.apps import apps
from django.core.cache import cache

from psa.connectwise import callbacks
from psa.connectwise.credentials import site_url_of
from psa.providers import CallbackResult, RefreshRequest
from psa.timestamps import parse_psa_time

# Callback types named like the refresh kinds they ask for (psa/connectwise/refresh.py).
REFRESHED_TYPES = frozenset({"ticket", "opportunity", "project", "company"})
SCHEDULE_HINT = "schedule"  # a schedule-entry (assignment) callback: re-read the ticket's assignments


def callback_receive(
    *, connection: Any, body: bytes, headers: Mapping[str, str], query: Mapping[str, str]
) -> CallbackResult:
    """The refresh a signed ConnectWise callback asks for. Raises callbacks.CallbackError."""
    payload = callbacks.callback_parse(body)
    _authenticate(connection, payload, body, headers.get(callbacks.SIGNATURE_HEADER))
    _check_record_id(query, payload)
    about = CallbackResult(
        [],
        summary=f"type={payload.type} id={payload.record_id} action={payload.action}",
        message_id=payload.message_id,
        happened_at=_last_updated(payload.entity),
    )
    if payload.type == "schedule":
        ticket_id = _ticket_of_schedule_entry(connection, payload)
        if ticket_id is None:
            return replace(about, ignored="not a ticket assignment")
        return replace(about, refreshes=[RefreshRequest("ticket", ticket_id, SCHEDULE_HINT)])
    if payload.type not in REFRESHED_TYPES:
        return replace(about, ignored=f"type {payload.type!r} is not mirrored")
    request = RefreshRequest(
        payload.type, payload.record_id, payload.record_type, version=record_version(payload.entity)
    )
    return replace(about, refreshes=[request])


def _info_last_updated(record: dict | None) -> Any:
    """The record's `_info.lastUpdated` as the PSA wrote it (None when absent)."""
    info = record.get("_info") if isinstance(record, dict) else None
    return info.get("lastUpdated") if isinstance(info, dict) else None


def _last_updated(record: dict | None) -> datetime | None:
    """When the record changed (its `_info.lastUpdated`, the PSA's clock); None when unknown."""
    return parse_psa_time(_info_last_updated(record))


def record_version(record: dict | None) -> str:
    """A ConnectWise record's version for echo checks: its `_info.lastUpdated` ('' unknown)."""
    value = _info_last_updated(record)
    return json.dumps(value) if value else ""


def _authenticate(
    connection: Any, payload: callbacks.CallbackPayload, body: bytes, signature: str | None
) -> None:
    if not signature or not signature.strip():
        raise callbacks.SignatureMissing(f"{callbacks.SIGNATURE_HEADER} header is missing")
    site_url = site_url_of(connection)
    signing_key = callbacks.signing_key_fetch(
        connection_id=connection.pk, key_url=payload.key_url, site_url=site_url
    )
    try:
        callbacks.signature_verify(body=body, signing_key=signing_key, signature=signature)
    except callbacks.SignatureMismatch:
        # The PSA may have rotated its key: drop the cached one and try once with a fresh copy,
        # at most once a minute per connection so forged requests cannot make us hammer the PSA.
        if not _refetch_allowed(connection.pk):
            raise
        callbacks.signing_key_forget(connection_id=connection.pk, key_url=payload.key_url)
        signing_key = callbacks.signing_key_fetch(
            connection_id=connection.pk, key_url=payload.key_url, site_url=site_url
        )
        callbacks.signature_verify(body=body, signing_key=signing_key, signature=signature)


def _refetch_allowed(connection_id: int) -> bool:
    try:
        return bool(cache.add(f"sync:callbackkey-refetch:{connection_id}", 1, 60))
    except Exception:  # cache down: no refetch (the signature fails now; the PSA retries later)
        return False


def _check_record_id(query: Mapping[str, str], payload: callbacks.CallbackPayload) -> None:
    # The PSA appends the id to our `?recordId=`; when present it must agree with the body.
    given = (query.get("recordId") or "").strip()
    if given and given != str(payload.record_id):
        raise callbacks.InvalidCallback("recordId in the URL does not match ID in the body")


def _ticket_of_schedule_entry(connection: Any, payload: callbacks.CallbackPayload) -> int | None:
    """Ticket id of a type-S schedule entry (ticket assignment), from the callback or the mirror."""
    entity: dict = payload.entity or {}
    kind: dict = entity["type"] if isinstance(entity.get("type"), dict) else {}
    if entity and kind.get("identifier") not in (None, "S"):
        return None
    object_id = entity.get("objectId")
    if isinstance(object_id, int) and not isinstance(object_id, bool) and object_id > 0:
        return object_id
    assignment = apps.get_model("boards", "TicketAssignment")
    return (
        assignment.objects.filter(connection=connection, psa_id=payload.record_id)
        .values_list("ticket_psa_id", flat=True)
        .first()
    )
