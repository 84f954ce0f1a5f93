"""Signed callbacks (webhooks) to every matching `system/callbacks` registration.

Reference: developer guide "Callbacks (Webhooks)" and psa-api-facts.md. ConnectWise appends the
record id to the registered URL and POSTs
`{"MessageId","FromUrl","CompanyId","MemberId","Action","Type","ID","Entity","Metadata":{"key_url"},
"CallbackObjectRecId"}` (Entity: the record as a JSON string, null on delete) with
`x-content-signature: base64(HMAC_SHA256(key=SHA256(utf8(signing_key)), raw body))`; GET key_url
answers `{"signing_key": ...}`. Delivery: 5 s timeout, any 2xx is success, retried on
404/409/419/429 after 2 s then 4 s. Sent from a thread pool: a write never waits for it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import requests

from psa.sandbox.connectwise.schema import spec_for
from psa.sandbox.connectwise.store import SandboxStore

logger = logging.getLogger("psa.sandbox.callbacks")

RETRY_STATUSES = frozenset({404, 409, 419, 429})
LEVEL_FIELDS = {
    "board": "board",
    "status": "status",
    "statusid": "status",
    "company": "company",
    "territory": "territory",
    "member": "member",
    "type": "type",
    "project": "project",
    "phase": "phase",
}


def sign(body: bytes, signing_key: str) -> str:
    key = hashlib.sha256(signing_key.encode("utf-8")).digest()
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def registration_matches(registration: dict, callback_type: str, record: dict) -> bool:
    if registration.get("inactiveFlag") or str(registration.get("type", "")).lower() != callback_type:
        return False
    level = str(registration.get("level", "")).lower()
    if level == "owner":
        return True
    object_id = registration.get("objectId")
    if level == callback_type:
        return record.get("id") == object_id
    field = LEVEL_FIELDS.get(level)
    reference = record.get(field) if field else None
    return isinstance(reference, dict) and reference.get("id") == object_id


class CallbackNotifier:
    def __init__(
        self,
        store: SandboxStore,
        *,
        site_url: str,
        codebase: str,
        company: str,
        count: Callable[[str], None],
        retry_delays: tuple[float, ...] = (2.0, 4.0),
        workers: int = 4,
    ) -> None:
        self.store, self.site_url, self.codebase, self.company = store, site_url, codebase, company
        self.signing_key = uuid.uuid4().hex + uuid.uuid4().hex
        self.key_id = uuid.uuid4().hex[:12]
        self.retry_delays = retry_delays
        self.deliveries: deque[dict] = deque(maxlen=1000)  # newest last: url, action, id, status
        self._count = count  # the server's stats counter (thread-safe)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sandbox-callback")
        self._pending = 0
        self._idle = threading.Condition()
        self._stopping = threading.Event()

    @property
    def key_url(self) -> str:
        return (
            f"{self.site_url}/{self.codebase}system/callbackkey/index.rails"
            f"?companyName={quote(self.company)}&keyId={self.key_id}"
        )

    def on_change(self, action: str, entity: str, record: dict, skip_callback: bool) -> None:
        """Store listener: queue one POST per matching registration (never blocks the write)."""
        callback_type = spec_for(entity).callback_type
        if callback_type is None:
            return
        if skip_callback:
            self._count("callbacks_skipped")
            return
        registrations = [
            r
            for r in self.store.iter_records("system/callbacks")
            if registration_matches(r, callback_type, record)
        ]
        for registration in registrations:
            body = self._body(action, entity, callback_type, record, registration)
            url = f"{registration['url']}{record['id']}"
            with self._idle:
                self._pending += 1
            self._executor.submit(self._deliver, url, body, action, record["id"])

    def _body(self, action: str, entity: str, callback_type: str, record: dict, registration: dict) -> bytes:
        shown = record
        if entity == "project/tickets":  # the payload tells ticket kinds apart by recordType
            shown = {**record, "recordType": "ProjectTicket"}
        payload = {
            "MessageId": str(uuid.uuid4()),
            "FromUrl": self.site_url,
            "CompanyId": self.company,
            "MemberId": str(record.get("_info", {}).get("updatedBy") or "sandbox-api"),
            "Action": action,
            "Type": callback_type,
            "ID": record["id"],
            "Entity": None if action == "deleted" else json.dumps(shown, ensure_ascii=False),
            "Metadata": {"key_url": self.key_url},
            "CallbackObjectRecId": registration["id"],
        }
        return json.dumps(payload, ensure_ascii=False).encode("utf-8")

    def _deliver(self, url: str, body: bytes, action: str, record_id: int) -> None:
        headers = {"Content-Type": "application/json", "x-content-signature": sign(body, self.signing_key)}
        status: int | str = "error"
        try:
            for attempt in range(len(self.retry_delays) + 1):
                try:
                    status = requests.post(url, data=body, headers=headers, timeout=5).status_code
                except requests.RequestException as err:
                    status = type(err).__name__
                if isinstance(status, int) and (200 <= status < 300 or status not in RETRY_STATUSES):
                    break
                if attempt < len(self.retry_delays) and self._stopping.wait(self.retry_delays[attempt]):
                    break
            ok = isinstance(status, int) and 200 <= status < 300
            self._count("callbacks_sent" if ok else "callbacks_failed")
            self.deliveries.append({"url": url, "action": action, "id": record_id, "status": status})
            if not ok:
                logger.info("callback to %s failed: %s", url, status)
        finally:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every queued callback was delivered or given up; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)

    def stop(self) -> None:
        self._stopping.set()
        self._executor.shutdown(wait=False, cancel_futures=True)
