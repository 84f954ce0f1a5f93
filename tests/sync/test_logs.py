"""The sync run and outbox log lines name their connection, run and outbox entry."""

from __future__ import annotations

import logging

import pytest

from psa.connectwise.client import ConnectWiseClient
from sync import outbox
from sync.engine.prefetch import prefetched
from sync.engine.run import sync_entity
from sync.models import OutboxEntry
from tests.support.cloud_psa import BASE
from tests.support.logs import captured_lines
from tests.sync.conftest import FakePSA
from topleft.logs import log_context

pytestmark = pytest.mark.usefixtures("fresh_cache", "frozen_now")


def test_it_names_the_connection_and_run_of_a_failed_sync_run(connection):
    psa = FakePSA({"system/members": [{"id": 1, "identifier": "ann"}]})
    psa.fail_after_pages = 0
    with captured_lines() as lines:
        run = sync_entity(connection=connection, entity="members", tier="core", client=psa)
    assert run.status == "failed"
    [failure] = [r for r in lines.records() if r["logger"] == "sync.engine"]
    assert "failed" in failure["message"]
    assert (failure["connection_id"], failure["run_id"]) == (connection.pk, run.pk)


def test_it_keeps_the_log_ids_on_the_prefetch_threads_lines():
    def pages():
        for number in (1, 2):
            logging.getLogger("psa.http").warning("fetching page %s", number)
            yield number

    with captured_lines() as lines, log_context(connection_id=5):
        assert list(prefetched(pages())) == [1, 2]
    assert [(r["message"], r["connection_id"]) for r in lines.records()] == [
        ("fetching page 1", 5),
        ("fetching page 2", 5),
    ]


def test_it_names_the_connection_and_entry_on_every_line_of_a_push(connection, cloud_psa):
    entry = OutboxEntry.objects.create(
        connection=connection,
        action="ticket_status",
        kind="ticket",
        psa_id=501,
        payload={"status_id": 12},
    )
    cloud_psa.patch(f"{BASE}service/tickets/501", status=503, json={"code": "Down", "message": "maintenance"})
    client = ConnectWiseClient.from_connection(connection, interactive=True)
    client.http.sleep = lambda seconds: None
    with captured_lines() as lines:
        assert outbox.outbox_push(entry_id=entry.pk, client=client) == "retry"
    records = lines.records()
    assert {r["logger"] for r in records} >= {"psa.http", "sync.outbox"}  # retries, then the release
    assert all((r["connection_id"], r["outbox_entry_id"]) == (connection.pk, entry.pk) for r in records)
