"""Fixtures for the sync engine tests: a connection and an in-memory PSA double for unit tests
(integration tests use the real client against the PSA sandbox instead)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from psa.errors import ServerError
from sync.models import Connection


@pytest.fixture
def connection(db) -> Connection:
    return Connection.objects.create(
        name="acme", site_url="https://na.myconnectwise.net", company_id="acme",
        public_key="pub", private_key="priv", client_id="guid", closed_ticket_retention_days=7,
    )


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

    def iter_pages(self, path, *, conditions=None, fields=None, page_size=1000, forward_only=True,
                   order_by=None):
        self.calls.append({"path": path, "conditions": conditions, "fields": fields})
        records = sorted(self.data.get(path, []), key=lambda r: r.get("id") if isinstance(r, dict)
                         and isinstance(r.get("id"), int) else 0)
        for start in range(0, max(len(records), 1), page_size):
            with self._lock:
                self.requests_made += 1
                if self.fail_after_pages is not None and self._served >= self.fail_after_pages:
                    raise ServerError("500 from the fake PSA", status=500)
                self._served += 1
            if self.before_page:
                self.before_page(path)
            page = records[start:start + page_size]
            if not page:
                return
            yield page


@pytest.fixture
def fake_psa() -> FakePSA:
    return FakePSA()


def ticket(psa_id: int, *, updated: str = "2026-11-01T10:00:00Z", closed: bool = False, **extra) -> dict:
    record = {
        "id": psa_id, "summary": f"Ticket {psa_id}", "board": {"id": 1, "name": "Help Desk"},
        "status": {"id": 11, "name": "New"}, "closedFlag": closed, "company": {"id": 5, "name": "Acme"},
        "resources": "jdoe", "budgetHours": 1.5, "_info": {"lastUpdated": updated, "dateEntered": updated},
    }
    record.update(extra)
    return record
