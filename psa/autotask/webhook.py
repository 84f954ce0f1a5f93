"""The Autotask half of `POST /hooks/autotask/<token>/` (the neutral half is sync/webhooks.py).

Reference: webhooks.md §3-§5. Autotask signs each delivery with the secretKey we gave the
webhook: `X-Hook-Signature: sha1=` + base64(HMAC-SHA1(secret, the body bytes)). The signature is
checked over the raw bytes before anything in the body is trusted; only then is the body read
(key case is uncertain, so keys are matched case-insensitively). A delivery is a change notice,
not the record: it asks for a re-read of the ticket (a ticket note's ticket, with its notes) or
company. `Action: Deactivated`, when signed, means Autotask switched our webhook off: the
connection's callback health says so (status page) and the registrar is asked to re-ensure it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psa.providers import CallbackRejected, CallbackResult, RefreshRequest
from psa.timestamps import parse_psa_time
from sync.refresh_queue import NOTES_HINT

logger = logging.getLogger("psa.autotask.webhook")

SIGNATURE_HEADER = "X-Hook-Signature"
SIGNATURE_PREFIX = "sha1="
DEACTIVATED = "deactivated"


class InvalidCallback(CallbackRejected):
    status = 400


class SignatureMissing(CallbackRejected):
    status = 401


class SignatureMismatch(CallbackRejected):
    status = 401


@dataclass(frozen=True)
class Delivery:
    action: str  # lower case: create, update, delete, deactivated
    entity_type: str  # lower case: ticket, ticketnote, company, ...
    record_id: int | None
    fields: dict[str, str]  # lower-cased names
    guid: str
    sequence: int | None
    event_time: datetime | None


def _digest(*, body: bytes, secret: str) -> bytes:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()


def signature_compute(*, body: bytes, secret: str) -> str:
    return SIGNATURE_PREFIX + base64.b64encode(_digest(body=body, secret=secret)).decode("ascii")


def signature_verify(*, body: bytes, secret: str, signature: str | None) -> None:
    """Raises SignatureMissing / SignatureMismatch; compares in constant time."""
    if not signature or not signature.strip():
        raise SignatureMissing(f"{SIGNATURE_HEADER} header is missing")
    if not secret:
        raise SignatureMismatch("no webhook secret is set for this connection: run `callbacks --ensure`")
    sent = signature.strip()
    if sent[: len(SIGNATURE_PREFIX)].lower() == SIGNATURE_PREFIX:
        sent = sent[len(SIGNATURE_PREFIX) :]
    try:
        sent_digest = base64.b64decode(sent, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureMismatch(f"{SIGNATURE_HEADER} is not base64") from None
    if not hmac.compare_digest(sent_digest, _digest(body=body, secret=secret)):
        raise SignatureMismatch(f"{SIGNATURE_HEADER} does not match the body")


def _folded(document: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in document.items()}


def _int_or_none(value: Any, what: str) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise InvalidCallback(f"{what} must be a number")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise InvalidCallback(f"{what} must be a number, not {value!r:.40}") from None
    if number < 0:
        raise InvalidCallback(f"{what} must not be negative")
    return number


def delivery_parse(body: bytes) -> Delivery:
    """The delivery in a (verified) body; raises InvalidCallback for anything malformed."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise InvalidCallback("the body is not JSON") from None
    if not isinstance(document, dict):
        raise InvalidCallback("the body is not a JSON object")
    keys = _folded(document)
    action = keys.get("action")
    entity_type = keys.get("entitytype")
    if not isinstance(action, str) or not action.strip():
        raise InvalidCallback("Action is missing")
    fields = keys.get("fields") or {}
    if not isinstance(fields, dict):
        raise InvalidCallback("Fields must be an object")
    record_id = _int_or_none(keys.get("id"), "Id")
    if action.strip().lower() != DEACTIVATED:
        if not isinstance(entity_type, str) or not entity_type.strip():
            raise InvalidCallback("EntityType is missing")
        if record_id is None:
            raise InvalidCallback("Id is missing")
    return Delivery(
        action=action.strip().lower(),
        entity_type=str(entity_type or "").strip().lower(),
        record_id=record_id,
        fields={str(k).lower(): "" if v is None else str(v) for k, v in fields.items()},
        guid=str(keys.get("guid") or ""),
        sequence=_int_or_none(keys.get("sequencenumber"), "SequenceNumber"),
        event_time=parse_psa_time(keys.get("eventtime")) if keys.get("eventtime") else None,
    )


def refreshes_for(delivery: Delivery) -> tuple[list[RefreshRequest], str]:
    """(what to re-read, why nothing when empty) for a create, update or delete notice."""
    assert delivery.record_id is not None  # delivery_parse ensures it for every record event
    if delivery.entity_type == "ticket":
        return [RefreshRequest("ticket", delivery.record_id)], ""
    if delivery.entity_type == "company":
        return [RefreshRequest("company", delivery.record_id)], ""
    if delivery.entity_type == "ticketnote":
        # The registrar makes TicketID a display-always field, so the payload names the ticket.
        ticket_id = _int_or_none(delivery.fields.get("ticketid"), "Fields.TicketID")
        if ticket_id is None:
            return [RefreshRequest("ticket_note", delivery.record_id)], ""
        return [RefreshRequest("ticket", ticket_id, NOTES_HINT)], ""
    return [], f"entity type {delivery.entity_type!r} is not mirrored"


def callback_receive(
    *,
    connection: Any,
    body: bytes,
    headers: Mapping[str, str],
    query: Mapping[str, str],
) -> CallbackResult:
    """The refresh a signed Autotask delivery asks for. Raises CallbackRejected subclasses."""
    signature_verify(body=body, secret=connection.callback_secret, signature=headers.get(SIGNATURE_HEADER))
    delivery = delivery_parse(body)
    about: dict[str, Any] = dict(
        summary=f"type={delivery.entity_type or '-'} id={delivery.record_id} action={delivery.action} "
        f"seq={delivery.sequence}",
        # Autotask retries a failed delivery with the same sequence number: one id per delivery.
        message_id=f"{delivery.guid}:{delivery.sequence}" if delivery.sequence is not None else "",
        happened_at=delivery.event_time,
    )
    if delivery.action == DEACTIVATED:
        lost = f"Autotask deactivated our webhook {delivery.guid or ''}".strip()
        return CallbackResult([], ignored="our webhook was deactivated", registration_lost=lost, **about)
    refreshes, ignored = refreshes_for(delivery)
    return CallbackResult(refreshes, ignored=ignored, **about)
