"""Fixtures for the sync engine tests: a connection and an in-memory PSA double for unit tests
(integration tests use the real client against the PSA sandbox instead)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
import responses

from psa.errors import ServerError
from sync.models import Connection
from tests.support import callbacks
from tests.support.clock import FROZEN_NOW, psa_time
from tests.support.connections import make_connection


@pytest.fixture
def connection(db) -> Connection:
    return make_connection("acme", fields={"closed_ticket_retention_days": 7})


class FakePSA:
    """Answers `iter_pages` from a dict of path → records, like the real client's interface.

    Records are served ordered by id in pages of `page_size` (forward-only semantics); every
    call is remembered with its conditions and fields so tests can assert what was asked.
    """

    def __init__(self, data: dict[str, list] | None = None):
        self.data: dict[str, list] = data or {}
        self.calls: list[dict] = []
        self.requests_made = 0
        self.fail_after_pages: int | None = None  # raise ServerError once this many pages were served
        self.before_page: Callable[[str], None] | None = None
        self._served = 0
        self._lock = threading.Lock()

    def iter_pages(
        self,
        path,
        *,
        conditions=None,
        fields=None,
        page_size=1000,
        forward_only=True,
        order_by=None,
        keep_unparsable=False,
    ):
        self.calls.append({"path": path, "conditions": conditions, "fields": fields})
        records = sorted(
            self.data.get(path, []),
            key=lambda r: r.get("id") if isinstance(r, dict) and isinstance(r.get("id"), int) else 0,
        )
        for start in range(0, max(len(records), 1), page_size):
            with self._lock:
                self.requests_made += 1
                if self.fail_after_pages is not None and self._served >= self.fail_after_pages:
                    raise ServerError("500 from the fake PSA", status=500)
                self._served += 1
            if self.before_page:
                self.before_page(path)
            page = records[start : start + page_size]
            if not page:
                return
            yield page

    def count(self, path, *, conditions=None):
        """The PSA's own count of a listing (like `GET {path}/count`; conditions are ignored,
        as the listing above ignores them)."""
        with self._lock:
            self.requests_made += 1
        return len(self.data.get(path, []))


@pytest.fixture
def fake_psa() -> FakePSA:
    return FakePSA()


# When `ticket()` records were last changed in the PSA: two weeks before the frozen "now", so a
# test under `frozen_now` sees them in the past on any real date.
TICKET_UPDATED_AT = FROZEN_NOW - timedelta(days=14)


def ticket(psa_id: int, *, updated: str = psa_time(TICKET_UPDATED_AT), closed: bool = False, **extra) -> dict:
    record = {
        "id": psa_id,
        "summary": f"Ticket {psa_id}",
        "board": {"id": 1, "name": "Help Desk"},
        "status": {"id": 11, "name": "New"},
        "closedFlag": closed,
        "company": {"id": 5, "name": "Acme"},
        "resources": "jdoe",
        "budgetHours": 1.5,
        "_info": {"lastUpdated": updated, "dateEntered": updated},
    }
    record.update(extra)
    return record


# --- the PSA sandbox: fast retries, a connection to it, and a mirror ↔ PSA diff ---------------

FAST_POLICY_KW = dict(
    attempts=10, base=0.01, cap=0.05, connect_timeout=2, read_timeout=10, default_retry_after=0.01
)


@pytest.fixture
def fast_client(monkeypatch):
    """The real ConnectWise client with short retry sleeps (the sandbox's faults stay real)."""
    from psa.connectwise.client import ConnectWiseClient
    from psa.connectwise.credentials import credentials_of
    from psa.http import RetryPolicy
    from sync.engine import clients

    policy = RetryPolicy("test", **FAST_POLICY_KW)

    def build(connection):
        keys = credentials_of(connection)
        return ConnectWiseClient(
            site_url=keys.site_url,
            company_id=keys.company_id,
            public_key=keys.public_key,
            private_key=keys.private_key,
            client_id=keys.client_id,
            policy=policy,
        )

    monkeypatch.setattr(clients, "client_for", build)
    return build


@pytest.fixture
def sandbox_options() -> dict:
    """Extra SandboxServer options for `sandbox`; a module that needs some overrides this fixture."""
    return {}


@pytest.fixture
def sandbox(sandbox_options):
    """The PSA sandbox (small, seed 1) on an ephemeral port, for one test."""
    from psa.sandbox.connectwise.server import SandboxServer

    with SandboxServer(scale="small", seed=1, **sandbox_options) as server:
        yield server


def sandbox_connection(sandbox, name: str = "sandbox") -> Connection:
    return Connection.objects.create(
        name=name,
        provider="connectwise",
        credentials=dict(sandbox.credentials),
        closed_ticket_retention_days=7,
    )


def changes_watermarked(*connections: Connection, since: datetime | None = None) -> None:
    """The full tier ran at `since` (default: now) for these ConnectWise connections: their
    changes tier lists what changed since then."""
    from django.utils import timezone

    from psa.connectwise.catalog import CATALOG
    from sync.models import Watermark
    from sync.tiers import tier_entities

    last_updated = since or timezone.now()
    Watermark.objects.bulk_create(
        Watermark(connection=connection, entity=name, last_updated=last_updated)
        for connection in connections
        for name in tier_entities("changes", CATALOG)
    )


def _parse(text):
    from boards.models import Ticket
    from sync.mapping.coerce import coerce_for_field

    return coerce_for_field(Ticket._meta.get_field("closed_at"), text)[0]


def in_scope(entity: str, record: dict, connection: Connection, now) -> bool:
    """The scope rules of psa/connectwise/catalog.py, restated in Python for the diff."""
    from datetime import timedelta

    if entity in ("service_tickets", "project_tickets"):
        if not record.get("closedFlag"):
            return True
        closed = _parse(record.get("closedDate"))
        return closed is not None and closed > now - timedelta(days=connection.closed_ticket_retention_days)
    if entity == "ticket_assignments":
        return (record.get("type") or {}).get("identifier") == "S" and not record.get("doneFlag")
    if entity == "time_entries":
        started = _parse(record.get("timeStart"))
        return started is not None and started > now - timedelta(days=90)
    return True


def _expected(sandbox, connection, entity, now) -> dict[int, dict]:
    from psa.connectwise.catalog import CATALOG
    from sync.mapping.spec import map_record

    ENTITIES, MAPPINGS = CATALOG.entities, {n: e.mapping for n, e in CATALOG.mirrored().items()}
    spec, mapping = ENTITIES[entity], MAPPINGS[entity]
    if spec.parent is None:
        pairs = [(None, r) for r in sandbox.store.list(spec.path) if in_scope(entity, r, connection, now)]
    elif spec.parent in MAPPINGS and ENTITIES[spec.parent].parent is None and entity.endswith("notes"):
        parent_model = MAPPINGS[spec.parent]
        parent_ids = parent_model.model.objects.filter(
            connection=connection, **parent_model.scope_filter
        ).values_list("psa_id", flat=True)
        pairs = [(p, r) for p in parent_ids for r in sandbox.store.list(spec.path, parent_id=p)]
    else:
        parent_ids = [p["id"] for p in sandbox.store.list(ENTITIES[spec.parent].path)]
        pairs = [(p, r) for p in parent_ids for r in sandbox.store.list(spec.path, parent_id=p)]
    rows = [map_record(mapping, r, connection_id=connection.pk, parent_id=p)[0] for p, r in pairs]
    if mapping.enrich:  # what the mirror holds is the mapped record as the entity enriches it
        mapping.enrich(connection.pk, rows)
    return {row["psa_id"]: row for row in rows}


def mirror_diff(sandbox, connection, entities=None) -> list[str]:
    """Every difference between the mirror and the sandbox (missing, extra, field values)."""
    from django.utils import timezone

    from psa.connectwise.catalog import CATALOG
    from sync.tiers import tier_entities

    MAPPINGS = {n: e.mapping for n, e in CATALOG.mirrored().items()}
    now = timezone.now()
    names = entities or [*tier_entities("reference", CATALOG), *tier_entities("core", CATALOG)]
    problems: list[str] = []
    for entity in names:
        mapping = MAPPINGS[entity]
        expected = _expected(sandbox, connection, entity, now)
        columns = ["psa_updated_at", *mapping.columns, *mapping.fixed]
        rows = mapping.model.objects.filter(connection=connection, **mapping.scope_filter)
        if entity.endswith("notes"):
            parent_column = next(c for c, s in mapping.columns.items() if s == "@parent")
            parents = {row[parent_column] for row in expected.values()}
            rows = rows.filter(**{f"{parent_column}__in": parents})
        actual = {row["psa_id"]: row for row in rows.values("psa_id", *columns)}
        for missing in sorted(set(expected) - set(actual))[:5]:
            problems.append(f"{entity} {missing}: missing from the mirror")
        for extra in sorted(set(actual) - set(expected))[:5]:
            problems.append(f"{entity} {extra}: in the mirror, not in the PSA")
        for psa_id in sorted(set(expected) & set(actual)):
            for column in columns:
                if expected[psa_id][column] != actual[psa_id][column]:
                    problems.append(
                        f"{entity} {psa_id}.{column}: PSA {expected[psa_id][column]!r} "
                        f"≠ mirror {actual[psa_id][column]!r}"
                    )
    return problems


# --- the ConnectWise callback receiver: the PSA's signing key and the enqueued drains ---------


@pytest.fixture
def psa_key():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(callbacks.KEY_URL, json={"signing_key": callbacks.SIGNING_KEY})
        yield rsps


@pytest.fixture
def enqueued(monkeypatch):
    calls = []
    monkeypatch.setattr("sync.webhooks.enqueue_refresh", lambda **kw: calls.append(kw))
    return calls
