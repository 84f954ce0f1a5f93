"""The PSA callback receiver: `POST /hooks/<provider>/<connection webhook token>/`.

Provider-neutral: it finds the connection by provider and URL token, bounds the body, lets the
provider authenticate and read it (psa/<provider>/, `Provider.callbacks.receive`), drops echoes of
our own writes (sync/echo.py) and queues a coalesced `realtime` refresh (sync/refresh_queue.py).
It answers within milliseconds and makes no PSA call itself beyond what the provider needs to
check a signature. Bad input is answered with a 4xx and never enqueues anything: unknown
provider or token 404, body over 1 MB 413, malformed 400, signature missing or wrong 401,
untrusted key location 403, never a 500. A replayed delivery is acknowledged and dropped
(sync/replay.py).

A valid callback is answered 2xx only once its refresh is queued durably: in Redis, or in
PostgreSQL while Redis is down (sync/refresh_fallback.py); with both down it answers a retryable
503. Logs name the connection, never the URL token (it is the receiver's credential).
"""

from __future__ import annotations

import logging
import re
import time

from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from psa.providers import REGISTRY, CallbackRejected, RefreshRequest, provider_get
from sync import metrics
from sync.callbacks_health import callbacks_lost
from sync.echo import is_echo
from sync.models import Connection
from sync.refresh_fallback import refresh_request_durably
from sync.replay import replay_reason
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


def _connection_for(provider: str, token: str) -> Connection | None:
    if provider not in REGISTRY or not _TOKEN_SHAPE.fullmatch(token):  # e.g. a NUL byte: a 500 in SQL
        return None
    return Connection.objects.filter(webhook_token=token, provider=provider, enabled=True).first()


@csrf_exempt
def psa_callback(request: HttpRequest, provider: str, token: str) -> JsonResponse:
    received_at = time.time()
    if request.method != "POST":  # not require_POST: it would log the path, token included
        response = _answer(405, "only POST")
        response["Allow"] = "POST"
        return response
    connection = _connection_for(provider, token)
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
        result = provider_get(provider).callbacks.receive(
            connection=connection, body=body, headers=request.headers, query=request.GET
        )
    except CallbackRejected as err:
        logger.warning("callback for connection %s rejected (%s): %s", connection.pk, err.status, err)
        metrics.webhook_rejected(connection.pk, err)
        return _answer(err.status, str(err))
    if replayed := replay_reason(connection_id=connection.pk, result=result, body=body):
        logger.warning(
            "callback for connection %s dropped as a replay: %s (%s)", connection.pk, replayed, result.summary
        )
        metrics.webhook_rejected(connection.pk, "replay")
        return _answer(202, f"ignored: replay ({replayed})", queued=False)
    if result.registration_lost:
        callbacks_lost(connection=connection, reason=result.registration_lost)
    if not result.refreshes:
        logger.info(
            "callback for connection %s ignored: %s (%s)", connection.pk, result.ignored, result.summary
        )
        metrics.webhook_received(connection.pk, "ignored")
        return _answer(202, f"ignored: {result.ignored}", queued=False)
    return _queue(connection, result.refreshes, result.summary, received_at)


def _queue(
    connection: Connection, refreshes: list[RefreshRequest], summary: str, received_at: float
) -> JsonResponse:
    wanted = [
        r
        for r in refreshes
        if not is_echo(connection_id=connection.pk, kind=r.kind, psa_id=r.psa_id, version=r.version)
    ]
    if not wanted:
        metrics.webhook_received(connection.pk, "ignored")
        return _answer(202, "ignored: echo of our own write-back", queued=False)
    try:
        places = [
            refresh_request_durably(
                connection_id=connection.pk,
                kind=r.kind,
                psa_id=r.psa_id,
                hint=r.hint,
                enqueue=enqueue_refresh,
            )
            for r in wanted
        ]
    except DatabaseError:
        logger.error("connection=%s callback not queued: Redis and PostgreSQL both failed", connection.pk)
        metrics.webhook_rejected(connection.pk, "not_queued")
        return _answer(503, "cannot queue the refresh right now; retry later", queued=False)
    for r, where in zip(wanted, places, strict=True):
        logger.info(
            "callback accepted connection=%s %s kind=%s refresh_id=%s queue=%s received_at=%.3f",
            connection.pk,
            summary,
            r.kind,
            r.psa_id,
            where,
            received_at,
        )
    metrics.webhook_received(connection.pk, "queued")
    return _answer(202, "queued", queued=True)
