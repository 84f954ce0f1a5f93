"""AutotaskSandbox: the Autotask site of the sandbox host (psa.sandbox.site.Site).

Pipeline of an API call: zone/version discovery (no auth, never faulted or limited) → the
three credential headers → the hourly threshold → injected fault and latency → forced test
errors → the per-endpoint thread limit → psa.sandbox.autotask.api.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from psa.sandbox.autotask.activity import Activity
from psa.sandbox.autotask.api import MAX_QUERY_STRING, AutotaskApi, errors, no_route
from psa.sandbox.autotask.data import API_USER_ID, generate
from psa.sandbox.autotask.guards import (
    BAD_CODE_MESSAGE,
    Credentials,
    HourlyThreshold,
    ThreadLimit,
    authenticate,
    empty_401,
)
from psa.sandbox.autotask.routes import PREFIX, Route, resolve
from psa.sandbox.autotask.rules import Rules
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.webhooks import DeliveryPolicy, WebhookDelivery
from psa.sandbox.autotask.wire import wire_time
from psa.sandbox.autotask.writes import Writer
from psa.sandbox.faults import FaultSpec
from psa.sandbox.host import SandboxHost
from psa.sandbox.replies import Reply
from psa.sandbox.site import SandboxRequest, SiteKnobs, start_of_today

DEFAULT_USERNAME = "api-user@sandbox.example"
DEFAULT_SECRET = "sandbox-secret"
DEFAULT_INTEGRATION_CODE = "SANDBOX0INTEGRATION0CODE001"  # 27 characters, like a real tracking id
ZONE_NAME = "America East"


def now_text() -> str:
    return wire_time(datetime.now(UTC))


class AutotaskSandbox(SiteKnobs):
    name = "autotask"

    def __init__(
        self,
        host: SandboxHost | None = None,
        *,
        scale: str = "small",
        seed: int = 1,
        username: str = DEFAULT_USERNAME,
        secret: str = DEFAULT_SECRET,
        integration_code: str = DEFAULT_INTEGRATION_CODE,
        anchor: datetime | None = None,
        faults: str | FaultSpec | None = None,
        activity_per_second: float = 0.0,
        threshold_per_hour: int = 10_000,
        threshold_window_seconds: float = 3600.0,
        threshold_refusal_status: int = 429,
        threshold_latency_ms: float = 0.0,
        threads_per_endpoint: int = 3,
        unknown_user: str = "500",
        bad_code: str = "500",
        webhook_policy: DeliveryPolicy | None = None,
        bind: str = "127.0.0.1",
        port: int = 0,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ) -> None:
        self.owns_host = host is None
        self.host = host or SandboxHost(bind, port, tls_cert, tls_key)
        self.scale, self.seed = scale, seed
        self.anchor = anchor or start_of_today()
        self.auth = Credentials(
            username, secret, integration_code, unknown_user=unknown_user, bad_code=bad_code
        )
        self.knobs_init(faults, seed)
        self.threshold = HourlyThreshold(
            threshold_per_hour,
            window_seconds=threshold_window_seconds,
            refusal_status=threshold_refusal_status,
        )
        # Autotask slows calls once half the hourly threshold is used (third parties saw 0.5-1 s).
        self.threshold_latency_ms = threshold_latency_ms
        self.threads = ThreadLimit(self.stats, self._stats_lock, threads_per_endpoint)
        self.store = AutotaskStore()
        self.people = generate(self.store, scale=scale, seed=seed, anchor=self.anchor)
        self.writer = Writer(self.store, Rules(self.store, now_text, guid_seed=seed))
        self.api = AutotaskApi(self.store, self.writer, api_base=self.api_base)
        self.webhooks = WebhookDelivery(
            self.store,
            count=self._count,
            api_user=API_USER_ID,
            policy=webhook_policy or DeliveryPolicy(),
        )
        self.store.add_listener(self.webhooks.on_change)
        self.activity = Activity(self, per_second=activity_per_second, seed=seed)
        # On a shared host (several PSAs on one port) the host's owner starts and stops this site.
        self.host.add(self)

    # --- where it is -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.host.url

    @property
    def zone_url(self) -> str:
        # Reference: api.md §1 — the zone `url` ends with "/"; clients append "v1.0/".
        return f"{self.host.url}/ATServicesRest/"

    @property
    def api_base(self) -> str:
        return f"{self.zone_url}V1.0/"

    @property
    def discovery_url(self) -> str:
        return f"{self.host.url}/atservicesrest/v1.0/zoneInformation?user={self.auth.username}"

    @property
    def credentials(self) -> dict[str, str]:
        return {
            "username": self.auth.username,
            "secret": self.auth.secret,
            "integration_code": self.auth.integration_code,
            "zone_url": self.zone_url,
        }

    # --- life cycle (Site) -------------------------------------------------------------------

    def stop_delivery(self) -> None:
        self.webhooks.stop()

    # --- knobs for tests ---------------------------------------------------------------------

    def other_integrations_used(self, requests: int) -> None:
        """Other integrations of this database made `requests` calls just now: they count
        towards the shared hourly threshold and ThresholdInformation."""
        self.threshold.spend(requests)

    def wait_for_callbacks(self, timeout: float = 10.0) -> bool:
        return self.webhooks.wait_idle(timeout)

    def record_counts(self) -> dict[str, int]:
        names = ("Tickets", "Companies", "Contacts", "Resources", "Projects", "Tasks", "Opportunities",
                 "TimeEntries", "ServiceCalls", "TicketSecondaryResources")  # fmt: skip
        return {name: self.store.count(name) for name in names}

    # --- requests (Site) ---------------------------------------------------------------------

    def claims(self, request: SandboxRequest) -> bool:
        return request.path.lower().startswith(PREFIX)

    def serve(self, request: SandboxRequest) -> Reply:
        self._count("requests")
        route = resolve(request.path)
        if route.kind == "versions":
            return Reply(200, {"apiVersions": ["1.0"]})
        if route.kind == "zone":
            return self._zone(request)
        if request.method == "GET" and len(_query_string(request)) > MAX_QUERY_STRING:
            return no_route(request)
        refusal = authenticate(self.auth, request.headers)
        if refusal is not None:
            self._count("auth_refused")
            return refusal
        if route.kind == "unknown":
            return no_route(request)
        if self.threshold.acquire() is not None:
            self._count("threshold_refused")
            return self.threshold.refusal()
        return self._faulted(request) or self._guarded(request, route)

    def _zone(self, request: SandboxRequest) -> Reply:
        # Reference: api.md §1 — no auth; an unknown user answers 500 with this message.
        code = request.headers.get("apiintegrationcode")
        if code is not None and code != self.auth.integration_code:
            return errors(BAD_CODE_MESSAGE)
        if request.query.get("user", "").lower() != self.auth.username.lower():
            return errors("Zone information could not be determined")
        return Reply(200, {"zoneName": ZONE_NAME, "url": self.zone_url, "webUrl": f"{self.url}/", "ci": 1})

    def _faulted(self, request: SandboxRequest) -> Reply | None:
        spec = self.injector.spec
        latency_ms = spec.latency_ms
        if self.threshold_latency_ms and self.threshold.busy():
            latency_ms += self.threshold_latency_ms
            self._count("threshold_slowed")
        if latency_ms and self.host.stopping.wait(latency_ms / 1000):
            return Reply(503, {"errors": ["The sandbox is stopping."]})
        fault = self.injector.decide()
        if fault is None:
            return None
        self._count(f"fault_{fault}")
        if fault == "500":
            return errors("An unexpected error occurred (injected fault).")
        if fault == "429":
            return errors("Too many requests (injected fault).", 429)
        return Reply(0, fault=fault, timeout_s=spec.timeout_s)

    def _guarded(self, request: SandboxRequest, route: Route) -> Reply:
        forced = self.forced.take(request.method, route.api_path)
        if forced is not None:
            return empty_401() if forced.status == 401 else errors(forced.message, forced.status)
        if route.kind == "version":
            return Reply(
                200, {"majorVersion": 1, "minorVersion": 0, "build": 2025, "customerType": "Sandbox"}
            )
        if route.kind == "threshold":
            return Reply(
                200,
                {
                    "externalRequestThreshold": self.threshold.per_minute,
                    "requestThresholdTimeframe": int(self.threshold.window_seconds // 60),
                    "currentTimeframeRequestCount": self.threshold.used(),
                },
            )
        actor = self._actor(request)
        if isinstance(actor, Reply):
            return actor
        endpoint = route.spec.name if route.spec else route.kind
        with self.threads.slot(self.auth.integration_code, endpoint):
            self._count(f"{request.method} {endpoint}")
            reply = self.api.answer(request, route, actor)
        return self.answer_or_lose(request.method, route.api_path, reply)

    def _actor(self, request: SandboxRequest) -> int | Reply:
        """The resource a write acts as: ImpersonationResourceId when sent, else the API user."""
        raw = request.headers.get("impersonationresourceid", "").strip()
        if not raw or request.method == "GET":
            return API_USER_ID
        resource = self.store.get("Resources", int(raw)) if re.fullmatch(r"\d+", raw) else None
        if resource is None or not resource.get("isActive"):
            return errors(f"Impersonation failed: {raw} is not an active resource.")
        return resource["id"]


def _query_string(request: SandboxRequest) -> str:
    return "&".join(f"{name}={value}" for name, value in request.pairs)
