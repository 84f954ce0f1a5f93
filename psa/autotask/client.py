"""Autotask REST v1.0 client: zone, auth headers, limits, reads and writes.

Every request goes through `psa.http.RetryingHttp` (timeouts, the ConnectWise retry policy:
429 / 5xx / timeouts retried with backoff and jitter, anything else final) with Autotask's own
error classifier (errors.py: a 500 carrying `errors` is a business rule, final), the database's
hourly budget (budget.py) and the per-endpoint thread limit (threads.py). Listings, counts and
picklists (the engine's PSAClient protocol) are in listing.py.

Paths are relative to the zone's API base (`{zone url}V1.0/`), e.g. `Tickets/query`.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import requests
from django.conf import settings

from psa.autotask import listing, zone
from psa.autotask.budget import HourlyBudget, Threshold, threshold_parse
from psa.autotask.credentials import DEFAULT_ZONE_URL, credentials_of
from psa.autotask.errors import error_for, refusal_in_success
from psa.autotask.threads import EndpointSemaphore
from psa.errors import AuthError, ConfigurationError, NotFound, PSAError, parse_body
from psa.http import BACKGROUND, INTERACTIVE, RetryingHttp, RetryPolicy

logger = logging.getLogger("psa.autotask")


class _ThreadLimitedSession(requests.Session):
    """Holds one of the endpoint's concurrent-request slots for the length of each request."""

    def __init__(self, semaphore: EndpointSemaphore, code_key: str) -> None:
        super().__init__()
        self.semaphore = semaphore
        self.code_key = code_key

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kw: Any) -> requests.Response:
        with self.semaphore.slot(f"autotask-threads:{self.code_key}:{endpoint_of(str(url))}"):
            return super().request(method, url, *args, **kw)


def endpoint_of(url: str) -> str:
    """The object endpoint a URL addresses (`.../V1.0/Tickets/query/next?...` → `tickets`)."""
    path = url.split("?", 1)[0]
    parts = path.split("/")
    lowered = [p.lower() for p in parts]
    index = lowered.index("v1.0") + 1 if "v1.0" in lowered else len(parts) - 1
    return lowered[index] if index < len(parts) else ""


class AutotaskClient:
    """One Autotask API user. Not thread-safe (one per task / thread)."""

    def __init__(
        self,
        *,
        username: str,
        secret: str,
        integration_code: str,
        zone_url: str = DEFAULT_ZONE_URL,
        policy: RetryPolicy = BACKGROUND,
        interactive: bool = False,
        session: requests.Session | None = None,
        semaphore: EndpointSemaphore | None = None,
        budget_storage: str | None = None,
        timeout: float | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (username and secret and integration_code):
            raise ConfigurationError("the connection needs an API username, secret and integration code")
        self.username = username
        self.zone_url = zone_url.rstrip("/") + "/"
        self.interactive = interactive
        self._auth = {"ApiIntegrationCode": integration_code, "UserName": username, "Secret": secret}
        code_key = hashlib.sha256(integration_code.encode()).hexdigest()[:16]
        self.session = session or _ThreadLimitedSession(semaphore or EndpointSemaphore(sleep=sleep), code_key)
        self.http = RetryingHttp(
            policy=policy, session=self.session, read_timeout=timeout, sleep=sleep, error_for=error_for
        )
        # Zone discovery and ThresholdInformation: not drawn from the budget they size.
        self.side_http = RetryingHttp(
            policy=policy, session=self.session, read_timeout=timeout, sleep=sleep, error_for=error_for
        )
        self._budget_storage = budget_storage
        self._sleep = sleep
        self._zone: zone.Zone | None = None
        self.fields_cache: dict[str, list[dict]] = {}  # entity → entityInformation/fields, per client

    @classmethod
    def from_connection(
        cls, connection: Any, *, interactive: bool = False, policy: RetryPolicy | None = None
    ) -> AutotaskClient:
        """A client for a Connection: interactive → short retries and no background reserve,
        unless `policy` says otherwise (a webhook refresh: nobody waits, so background retries)."""
        if getattr(connection, "provider", "") != "autotask":
            raise ConfigurationError(f"connection {connection.name!r} is not an Autotask connection")
        keys = credentials_of(connection)
        policy = policy or (INTERACTIVE if interactive else BACKGROUND)
        return cls(
            username=keys.username,
            secret=keys.secret,
            integration_code=keys.integration_code,
            zone_url=keys.zone_url,
            policy=policy,
            interactive=interactive,
            timeout=None if policy is INTERACTIVE else settings.PSA_TIMEOUT_SECONDS,
        )

    def __repr__(self) -> str:  # never the secret or the code
        return f"<AutotaskClient {self.username!r} via {self.zone_url}>"

    @property
    def requests_made(self) -> int:
        """Every HTTP request actually sent, retries, zone discovery and thresholds included."""
        return self.http.requests_made + self.side_http.requests_made

    # --- zone and budget ---------------------------------------------------------------------

    @property
    def zone(self) -> zone.Zone:
        if self._zone is None:
            self._zone = zone.zone_cached(
                zone_url=self.zone_url, username=self.username
            ) or zone.zone_discover(self.side_http, zone_url=self.zone_url, username=self.username)
            self.http.budget = HourlyBudget(
                self._zone.database_id,
                interactive=self.interactive,
                storage_uri=self._budget_storage,
                reconcile=self.threshold_information,
                sleep=self._sleep,
            )
        return self._zone

    @property
    def api_base(self) -> str:
        return self.zone.api_base

    def _rediscover(self) -> bool:
        """Ask zone discovery again (after a 401); True when the zone moved."""
        old = self._zone.url if self._zone else None
        zone.zone_forget(zone_url=self.zone_url, username=self.username)
        self._zone = None
        moved = self.zone.url != old
        if moved:
            logger.info("Autotask zone of %s moved: %s → %s", self.username, old, self.zone.url)
        return moved

    def threshold_information(self) -> Threshold:
        # Reference: api.md §7 GET ThresholdInformation
        # Not drawn from the budget it sizes (the budget counts it itself when it reconciles).
        return threshold_parse(self.json("GET", "ThresholdInformation", unmetered=True))

    # --- requests ------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.api_base + path.lstrip("/")

    def headers(self, *, impersonate: int | None = None) -> dict[str, str]:
        # Reference: api.md §2 — the three auth headers on every call; ImpersonationResourceId
        # only on writes, when the edit is made for a user linked to a resource.
        headers = {**self._auth, "Content-Type": "application/json", "Accept": "application/json"}
        if impersonate is not None:
            headers["ImpersonationResourceId"] = str(int(impersonate))
        return headers

    def exchange(
        self, method: str, path: str, *, impersonate: int | None = None, unmetered: bool = False, **kw: Any
    ) -> tuple[requests.Response, Any]:
        """The 2xx answer and its body as `parse_body` decodes it (once), or the PSAError; a 401
        rediscovers the zone once and, if it moved, sends the request again there.
        `unmetered`: not drawn from the hourly budget."""
        headers = self.headers(impersonate=impersonate)
        try:
            url = self.url(path)  # resolves the zone (and so the budget) first
            http = self.side_http if unmetered else self.http
            return self._checked(method, http.send(method, url, headers=headers, **kw))
        except AuthError as err:
            if err.status != 401 or path.startswith("http") or not self._rediscover():
                raise
        http = self.side_http if unmetered else self.http
        return self._checked(method, http.send(method, self.url(path), headers=headers, **kw))

    @staticmethod
    def _checked(method: str, response: requests.Response) -> tuple[requests.Response, Any]:
        body = parse_body(response)
        refusal = refusal_in_success(response, body, method=method)
        if refusal:
            raise refusal
        return response, body

    def json(self, method: str, path: str, **kw: Any) -> Any:
        return self.exchange(method, path, **kw)[1]

    # --- reads ---------------------------------------------------------------------------

    def get(self, path: str) -> dict | None:
        """`GET {Entity}/{id}` (or a child item): the record, or None when it is gone.
        Reference: api.md §3 "Count, get by id" — a 404 or `{"item": null}` both mean gone."""
        try:
            body = self.json("GET", path)
        except NotFound:
            return None
        item = body.get("item") if isinstance(body, dict) else None
        return item if isinstance(item, dict) else None

    def entity_fields(self, entity: str) -> list[dict]:
        """`GET {Entity}/entityInformation/fields` (picklist values included), once per client."""
        if entity not in self.fields_cache:
            # Reference: api.md §5 GET {Entity}/entityInformation/fields
            body = self.json("GET", f"{entity}/entityInformation/fields")
            fields = body.get("fields") if isinstance(body, dict) else None
            if not isinstance(fields, list):
                raise PSAError(f"unexpected entityInformation/fields answer for {entity}: {body!r:.120}")
            self.fields_cache[entity] = fields
        return self.fields_cache[entity]

    def entity_field(self, entity: str, name: str) -> dict | None:
        """One field of `entity_fields`, matched case-insensitively (api.md §5: PascalCase
        names seen in 2020 captures), or None."""
        fields = self.entity_fields(entity)
        return next((f for f in fields if str(f.get("name", "")).lower() == name.lower()), None)

    def udf_definitions(self, entity: str) -> list[dict]:
        # Reference: api.md §5 GET {Entity}/entityInformation/userDefinedFields
        body = self.json("GET", f"{entity}/entityInformation/userDefinedFields")
        fields = body.get("fields") if isinstance(body, dict) else None
        return fields if isinstance(fields, list) else []

    # The engine's PSAClient protocol (psa/providers.py): see listing.py.

    def iter_pages(
        self,
        path: str,
        *,
        conditions: str | None = None,
        fields: Iterable[str] | str | None = None,
        page_size: int = listing.MAX_RECORDS,
        keep_unparsable: bool = False,
        after_id: int | None = None,
    ) -> Iterator[list]:
        return listing.pages(
            self, path, conditions=conditions, fields=fields, page_size=page_size, after_id=after_id
        )

    def count(self, path: str, *, conditions: str | None = None) -> int:
        return listing.count(self, path, conditions=conditions)

    def list_all(self, path: str, **kw: Any) -> list[dict]:
        return [record for page in self.iter_pages(path, **kw) for record in page]

    # --- writes --------------------------------------------------------------------------
    # Reference: api.md §4 — create POST, partial update PATCH with the id in the body (not the
    # URL), on the root collection or the parent's child collection; both answer {"itemId": N}.

    def create(self, path: str, body: dict, *, impersonate: int | None = None) -> int:
        """POST a new record (`Tickets`, `Tickets/{id}/Notes`); its id. A create is repeated
        only when Autotask certainly did not act on it (there is no idempotency key)."""
        return _item_id(self.json("POST", path, json=body, impersonate=impersonate, repeatable=False))

    def update(self, path: str, psa_id: int, changes: dict, *, impersonate: int | None = None) -> int:
        """PATCH the changed fields of record `psa_id` (id in the body); its id."""
        body = {**changes, "id": int(psa_id)}
        return _item_id(self.json("PATCH", path, json=body, impersonate=impersonate))

    def delete(self, path: str, psa_id: int, *, impersonate: int | None = None) -> int:
        """DELETE `{path}/{id}` where Autotask allows it (time entries, child links)."""
        return _item_id(self.json("DELETE", f"{path.rstrip('/')}/{int(psa_id)}", impersonate=impersonate))


def _item_id(body: Any) -> int:
    if isinstance(body, dict) and isinstance(body.get("itemId"), int):
        return int(body["itemId"])
    raise PSAError(f"expected {{'itemId': N}}, got {body!r:.120}")
