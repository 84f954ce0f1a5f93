"""Delivering webhook callouts for Tickets, TicketNotes, Companies and Contacts.

Reference: webhooks.md. §2 — a webhook fires only when active and ready (at least one field);
an Update fires only when a subscribed field changed; changes made by an excluded resource
do not fire. §3 — the body `{"Action","Guid","EntityType","Id","Fields","EventTime",
"SequenceNumber","PersonID"}` with PascalCase field names and string values (subscribed fields
that changed plus display-always fields; `{}` on Delete), SequenceNumber counting per webhook.
§4 — signed over the exact bytes sent. §5 — any 2xx succeeds (10 s timeout); a failure is
retried 30 s later, the webhook's later events queued behind it in order; after 5 attempts the
event is dropped into WebhookEventErrorLogs; after 25 consecutive failed events the webhook is
deactivated and its deactivationUrl called (a signed `Action: Deactivated`, also sent to the
main URL as n8n observed). Delays and counts are parameters so tests can shrink them.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import requests

from psa.sandbox.autotask.metadata import WATCHED, WATCHED_UDFS, field_name_of, udf_name_of
from psa.sandbox.autotask.schema import entity
from psa.sandbox.autotask.signing import dotnet_json, signature
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.wire import wire_time

logger = logging.getLogger("psa.sandbox.autotask.webhooks")

# watched entity → (webhook entity, payload EntityType, error-log id field)
WATCHERS = {
    "Tickets": ("TicketWebhooks", "Ticket", "ticketWebhookID"),
    "TicketNotes": ("TicketNoteWebhooks", "TicketNote", "ticketNoteWebhookID"),
    "Companies": ("CompanyWebhooks", "Company", "companyWebhookID"),
    "Contacts": ("ContactWebhooks", "Contact", "contactWebhookID"),
}
WEBHOOK_ENTITY_TYPES = {webhook: entity_type for webhook, entity_type, _ in WATCHERS.values()}
EVENT_FLAGS = {
    "Create": "isSubscribedToCreateEvents",
    "Update": "isSubscribedToUpdateEvents",
    "Delete": "isSubscribedToDeleteEvents",
}


@dataclass(frozen=True)
class DeliveryPolicy:
    timeout_s: float = 10.0
    retry_delay_s: float = 30.0
    attempts: int = 5
    deactivate_after: int = 25


@dataclass
class _Queue:
    events: deque = field(default_factory=deque)  # (body bytes, sequence number)
    running: bool = False
    sequence: int = 0
    consecutive_failures: int = 0


def wire_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "True" if value else "False"  # .NET's Boolean.ToString()
    return str(value)


def pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


FieldKey = tuple[str, str]  # ("field", wire name) or ("udf", UDF name)


def _value(record: dict, key: FieldKey) -> object:
    kind, name = key
    return (record.get("_udf") or {}).get(name) if kind == "udf" else record.get(name)


def _payload_name(key: FieldKey) -> str:
    """Standard fields in PascalCase (`Status`, as in webhooks.md §3); UDFs by their name."""
    kind, name = key
    return name if kind == "udf" else pascal(name)


def _payload(
    webhook: dict, action: str, entity_type: str, record_id: int, fields: dict, sequence: int, person: int
) -> bytes:
    return dotnet_json(
        {
            "Action": action,
            "Guid": webhook.get("webhookGUID"),
            "EntityType": entity_type,
            "Id": record_id,
            "Fields": fields,
            "EventTime": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "SequenceNumber": sequence,
            "PersonID": person,
        }
    )


def _signed_headers(webhook: dict, body: bytes) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Hook-Signature": signature(body, webhook.get("secretKey", "")),
    }


class WebhookDelivery:
    def __init__(
        self,
        store: AutotaskStore,
        *,
        count: Callable[[str], None],
        api_user: int,
        policy: DeliveryPolicy,
    ) -> None:
        self.store = store
        self._count = count  # the sandbox's stats counter (thread-safe)
        self.api_user, self.policy = api_user, policy
        self.deliveries: deque[dict] = deque(maxlen=1000)  # newest last: url, action, id, status
        self._queues: dict[tuple[str, int], _Queue] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0
        self._stopping = threading.Event()

    # --- store listener ----------------------------------------------------------------------

    def on_change(
        self, action: str, entity: str, old: dict | None, new: dict | None, actor: int | None
    ) -> None:
        if entity in WEBHOOK_ENTITY_TYPES:
            self._on_webhook_change(entity, old, new)
            return
        watcher = WATCHERS.get(entity)
        if watcher is None:
            return
        webhook_entity, entity_type, _ = watcher
        record = new or old or {}
        person = actor or self.api_user
        for webhook in self.store.list(webhook_entity):
            fields = self._payload_fields(webhook_entity, webhook, action, old, new)
            if fields is None or self._excluded(webhook_entity, webhook["id"], person):
                continue
            self._enqueue(webhook_entity, webhook, action, entity_type, record["id"], fields, person)

    def _on_webhook_change(self, webhook_entity: str, old: dict | None, new: dict | None) -> None:
        """A webhook deleted or switched off calls its deactivationUrl (webhooks.md §2)."""
        switched_off = old is not None and old.get("isActive") and not (new or {}).get("isActive")
        if not switched_off:
            return
        with self._lock:
            self._pending += 1
        threading.Thread(
            target=self._send_deactivated,
            args=(webhook_entity, old),
            name="autotask-webhook-off",
            daemon=True,
        ).start()

    def _send_deactivated(self, webhook_entity: str, webhook: dict) -> None:
        try:
            self.send_deactivated(webhook_entity, webhook)
        finally:
            with self._lock:
                self._pending -= 1
                self._idle.notify_all()

    def _payload_fields(
        self, webhook_entity: str, webhook: dict, action: str, old: dict | None, new: dict | None
    ) -> dict | None:
        """The payload's Fields, or None when this change does not fire the webhook."""
        if not (webhook.get("isActive") and webhook.get("isReady") and webhook.get(EVENT_FLAGS[action])):
            return None
        if action == "Delete":
            return {}
        assert new is not None
        subscribed, display = self._watched_fields(webhook_entity, webhook["id"])
        if action == "Update":
            changed = {key for key in subscribed if _value(old or {}, key) != _value(new, key)}
            if not changed:
                return None
            shown = changed | display
        else:
            shown = {key for key in subscribed if _value(new, key) is not None} | display
        return {_payload_name(key): wire_value(_value(new, key)) for key in sorted(shown)}

    def _watched_fields(self, webhook_entity: str, webhook_id: int) -> tuple[set[FieldKey], set[FieldKey]]:
        """(subscribed, display-always) fields of a webhook: ("field", name) or ("udf", name)."""
        subscribed: set[FieldKey] = set()
        display: set[FieldKey] = set()
        prefix = webhook_entity.removesuffix("s")
        for child, kind in ((f"{prefix}Fields", "field"), (f"{prefix}UdfFields", "udf")):
            if entity(child) is None:
                continue
            for row_id in self.store.child_ids(child, webhook_id):
                row = self.store.get(child, row_id) or {}
                if kind == "field":
                    name = field_name_of(WATCHED[child], row.get("fieldID") or 0)
                else:
                    name = udf_name_of(WATCHED_UDFS[child], row.get("udfFieldID") or 0)
                if name and row.get("isSubscribedField"):
                    subscribed.add((kind, name))
                if name and row.get("isDisplayAlwaysField"):
                    display.add((kind, name))
        return subscribed, display

    def _excluded(self, webhook_entity: str, webhook_id: int, person: int) -> bool:
        excluded_entity = webhook_entity.removesuffix("s") + "ExcludedResources"
        for row_id in self.store.child_ids(excluded_entity, webhook_id):
            row = self.store.get(excluded_entity, row_id)
            if row is not None and row.get("resourceID") == person:
                return True
        return False

    def _enqueue(
        self,
        webhook_entity: str,
        webhook: dict,
        action: str,
        entity_type: str,
        record_id: int,
        fields: dict,
        person: int,
    ) -> None:
        with self._lock:
            queue = self._queues.setdefault((webhook_entity, webhook["id"]), _Queue())
            queue.sequence += 1
            body = _payload(webhook, action, entity_type, record_id, fields, queue.sequence, person)
            queue.events.append((body, queue.sequence, action, record_id))
            self._pending += 1
            if not queue.running:
                queue.running = True
                threading.Thread(
                    target=self._drain,
                    args=(webhook_entity, webhook["id"], queue),
                    name="autotask-webhook",
                    daemon=True,
                ).start()

    # --- delivery ----------------------------------------------------------------------------

    def _drain(self, webhook_entity: str, webhook_id: int, queue: _Queue) -> None:
        while True:
            with self._lock:
                if not queue.events or self._stopping.is_set():
                    queue.running = False
                    self._pending -= len(queue.events)
                    queue.events.clear()
                    self._idle.notify_all()
                    return
                body, sequence, action, record_id = queue.events[0]
            webhook = self.store.get(webhook_entity, webhook_id)
            delivered = (
                webhook is not None
                and webhook.get("isActive")
                and self._deliver(webhook, body, action, record_id)
            )
            deactivate = False
            if webhook is not None and webhook.get("isActive") and not delivered:
                self._log_error(webhook_entity, webhook_id, body, sequence)
                queue.consecutive_failures += 1
                deactivate = queue.consecutive_failures >= self.policy.deactivate_after
            elif delivered:
                queue.consecutive_failures = 0
            with self._lock:
                queue.events.popleft()
                self._pending -= 1
                self._idle.notify_all()
            if deactivate and webhook is not None:
                self._deactivate(webhook_entity, webhook)

    def _deliver(self, webhook: dict, body: bytes, action: str, record_id: int) -> bool:
        headers = _signed_headers(webhook, body)
        for attempt in range(self.policy.attempts):
            if attempt and self._stopping.wait(self.policy.retry_delay_s):
                return False
            status = self._post(webhook["webhookUrl"], body, headers)
            self.deliveries.append(
                {"url": webhook["webhookUrl"], "action": action, "id": record_id, "status": status}
            )
            if isinstance(status, int) and 200 <= status < 300:
                self._count("webhooks_sent")
                return True
            self._count("webhook_attempts_failed")
        self._count("webhooks_dropped")
        return False

    def _post(self, url: str, body: bytes, headers: dict) -> int | str:
        try:
            return requests.post(url, data=body, headers=headers, timeout=self.policy.timeout_s).status_code
        except requests.RequestException as err:
            return type(err).__name__

    def _log_error(self, webhook_entity: str, webhook_id: int, body: bytes, sequence: int) -> None:
        id_field = next(w[2] for w in WATCHERS.values() if w[0] == webhook_entity)
        self.store.create(
            "WebhookEventErrorLogs",
            {
                "createDateTime": wire_time(datetime.now(UTC)),
                "errorMessage": f"The callout failed {self.policy.attempts} times and was dropped.",
                "payload": body.decode("ascii"),
                "sequenceNumber": sequence,
                id_field: webhook_id,
            },
        )

    def _deactivate(self, webhook_entity: str, webhook: dict) -> None:
        self._count("webhooks_deactivated")
        self.store.update(webhook_entity, webhook["id"], {"isActive": False})  # the listener calls out

    def send_deactivated(self, webhook_entity: str, webhook: dict) -> None:
        """A signed `Action: Deactivated` to the deactivation URL and the main URL."""
        entity_type = WEBHOOK_ENTITY_TYPES[webhook_entity]
        body = _payload(webhook, "Deactivated", entity_type, webhook["id"], {}, 0, self.api_user)
        headers = _signed_headers(webhook, body)
        for url in dict.fromkeys((webhook.get("deactivationUrl"), webhook.get("webhookUrl"))):
            if url:
                status = self._post(url, body, headers)
                self.deliveries.append(
                    {"url": url, "action": "Deactivated", "id": webhook["id"], "status": status}
                )

    # --- life cycle --------------------------------------------------------------------------

    def wait_idle(self, timeout: float = 10.0) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def stop(self) -> None:
        self._stopping.set()
