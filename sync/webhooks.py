"""The ConnectWise callback receiver: `POST /hooks/connectwise/<connection webhook token>/`.

It authenticates (URL token, then the vendor signature), answers within milliseconds and leaves
the work to a coalesced `realtime` refresh (sync/refresh.py). It makes no PSA call itself except
the cached signing-key fetch. Bad input is answered with a 4xx and never enqueues anything:
unknown token 404, body over 1 MB 413, not JSON / missing fields 400, signature missing or
wrong 401, key_url not on the connection's PSA host 403.

A valid callback is answered 2xx only once its refresh is queued durably: in Redis, or in
PostgreSQL while Redis is down (sync/refresh_fallback.py); with both down it answers a retryable
503. Logs name the connection, never the URL token (it is the receiver's credential).
"""

from __future__ import annotations

import json
import logging
import re
import time

from django.apps import apps
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from psa.connectwise import callbacks
from sync import metrics, refresh
from sync.models import Connection
from sync.refresh_fallback import refresh_request_durably
from sync.tasks_realtime import enqueue_refresh

logger = logging.getLogger("sync.webhooks")

MAX_BODY_BYTES = 1024 * 1024
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what sync.models.connection.new_webhook_token makes


def _answer(status: int, message: str, **extra) -> JsonResponse:
    response = JsonResponse({"detail": message, **extra}, status=status)
    # Django's request logger would log every 4xx with the path, and the path carries the token,
    # the receiver's only credential: our own log lines name the connection instead.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def _read_body(request: HttpRequest) -> bytes | None:
    """The raw body, or None when it is larger than MAX_BODY_BYTES (read no further than that)."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = request.read(MAX_BODY_BYTES + 1)
    return None if len(body) > MAX_BODY_BYTES else body


@csrf_exempt
def connectwise_callback(request: HttpRequest, token: str) -> JsonResponse:
    received_at = time.time()
    if request.method != "POST":  # not require_POST: it would log the path, token included
        response = _answer(405, "only POST")
        response["Allow"] = "POST"
        return response
    connection = None
    if _TOKEN_SHAPE.fullmatch(token):  # e.g. a NUL byte, which PostgreSQL would refuse with a 500
        connection = Connection.objects.filter(
            webhook_token=token, provider=Connection.Provider.CONNECTWISE, enabled=True
        ).first()
    if connection is None:
        logger.warning(
            "callback to an unknown URL token rejected (404) from %s", request.META.get("REMOTE_ADDR")
        )
        metrics.webhook_rejected(None, "unknown_url")
        return _answer(404, "unknown callback URL")
    body = _read_body(request)
    if body is None:
        logger.warning(
            "callback for connection %s rejected (413): body over %s bytes", connection.pk, MAX_BODY_BYTES
        )
        metrics.webhook_rejected(connection.pk, "body_too_large")
        return _answer(413, "body too large")
    try:
        payload = callbacks.callback_parse(body)
        _authenticate(connection, payload, body, request.headers.get(callbacks.SIGNATURE_HEADER))
        _check_record_id(request, payload)
    except callbacks.CallbackError as err:
        logger.warning("callback for connection %s rejected (%s): %s", connection.pk, err.status, err)
        metrics.webhook_rejected(connection.pk, err)
        return _answer(err.status, str(err))
    return metrics.webhook_answered(connection.pk, _dispatch(connection, payload, received_at))


def _authenticate(
    connection: Connection, payload: callbacks.CallbackPayload, body: bytes, signature: str | None
) -> None:
    if not signature or not signature.strip():
        raise callbacks.SignatureMissing(f"{callbacks.SIGNATURE_HEADER} header is missing")
    signing_key = callbacks.signing_key_fetch(
        connection_id=connection.pk, key_url=payload.key_url, site_url=connection.site_url
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
            connection_id=connection.pk, key_url=payload.key_url, site_url=connection.site_url
        )
        callbacks.signature_verify(body=body, signing_key=signing_key, signature=signature)


def _refetch_allowed(connection_id: int) -> bool:
    try:
        return bool(cache.add(f"sync:callbackkey-refetch:{connection_id}", 1, 60))
    except Exception:  # cache down: no refetch (the signature fails now; the PSA retries later)
        return False


def _check_record_id(request: HttpRequest, payload: callbacks.CallbackPayload) -> None:
    # The PSA appends the id to our `?recordId=`; when present it must agree with the body.
    given = (request.GET.get("recordId") or "").strip()
    if given and given != str(payload.record_id):
        raise callbacks.InvalidCallback("recordId in the URL does not match ID in the body")


def _dispatch(connection: Connection, payload: callbacks.CallbackPayload, received_at: float) -> JsonResponse:
    if payload.type == "schedule":
        ticket_id = _ticket_of_schedule_entry(connection, payload)
        if ticket_id is None:
            return _answer(202, "ignored: not a ticket assignment", queued=False)
        kind, psa_id, hint = "ticket", ticket_id, refresh.SCHEDULE_HINT
    elif payload.type in refresh.KINDS:  # callback types are named like the refresh kinds
        kind, psa_id, hint = payload.type, payload.record_id, payload.record_type
    else:
        logger.info("callback type %r for connection %s ignored (not mirrored)", payload.type, connection.pk)
        return _answer(202, f"ignored: type {payload.type!r} is not mirrored", queued=False)
    if is_echo(connection_id=connection.pk, kind=kind, psa_id=psa_id, entity=payload.entity):
        return _answer(202, "ignored: echo of our own write-back", queued=False)
    try:
        where = refresh_request_durably(
            connection_id=connection.pk, kind=kind, psa_id=psa_id, hint=hint, enqueue=enqueue_refresh
        )
    except DatabaseError:
        logger.error("connection=%s callback not queued: Redis and PostgreSQL both failed", connection.pk)
        return _answer(503, "cannot queue the refresh right now; retry later", queued=False)
    logger.info(
        "callback accepted connection=%s type=%s id=%s action=%s kind=%s refresh_id=%s queue=%s received_at=%.3f",
        connection.pk,
        payload.type,
        payload.record_id,
        payload.action,
        kind,
        psa_id,
        where,
        received_at,
    )
    return _answer(202, "queued", queued=True)


def _ticket_of_schedule_entry(connection: Connection, payload: callbacks.CallbackPayload) -> int | None:
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


# --- echo suppression ---------------------------------------------------------------------------

ECHO_SECONDS = 120


def _echo_key(connection_id: int, kind: str, psa_id: int) -> str:
    return f"sync:echo:{connection_id}:{kind}:{psa_id}"


def echo_remember(*, connection_id: int, kind: str, psa_id: int, record: dict) -> None:
    """After a successful push: the callback carrying exactly this version is our own echo."""
    version = _version(record)
    if version:
        cache.set(_echo_key(connection_id, kind, psa_id), version, ECHO_SECONDS)


def is_echo(*, connection_id: int, kind: str, psa_id: int, entity: dict | None) -> bool:
    version = _version(entity or {})
    if not version:
        return False
    try:
        return cache.get(_echo_key(connection_id, kind, psa_id)) == version
    except Exception:  # cache down: refresh anyway (an echo costs one PSA read, a miss costs data)
        return False


def _version(record: dict) -> str:
    info = record.get("_info") if isinstance(record, dict) else None
    value = info.get("lastUpdated") if isinstance(info, dict) else None
    return json.dumps(value) if value else ""
