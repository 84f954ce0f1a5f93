"""One bad value never takes a page down: out-of-range dates are coerced (and counted), a
fractional id and an unparsable record are skipped (and counted), the rest of the page lands."""

from __future__ import annotations

import pytest

from boards.models import Ticket
from psa.sandbox.faults import FAR_DATE, YEAR_ZERO_DATE
from sync.engine.services import mirror_upsert_records, sync_tier
from sync.mapping.coerce import coerce_for_field
from tests.boards.conftest import logged_in, make_tenant
from tests.sync.conftest import sandbox_connection, ticket

TICKETS = "service/tickets"


def _in_scope_ticket_ids(sandbox) -> list[int]:
    return [t["id"] for t in sandbox.store.list(TICKETS) if not t.get("closedFlag")]


@pytest.mark.parametrize(
    "text",
    [FAR_DATE, YEAR_ZERO_DATE, "9999-06-01T12:00:00Z", "0001-01-01T05:00:00Z"],
)
def test_it_coerces_a_date_no_reader_can_hold_to_null_and_says_so(text):
    assert coerce_for_field(Ticket._meta.get_field("date_entered"), text) == (None, True)


def test_it_keeps_dates_inside_the_years_every_reader_holds():
    field = Ticket._meta.get_field("date_entered")
    for text in ("9998-06-01T00:00:00-05:00", "0002-01-01T00:00:00Z", "2030-05-15T10:30:00Z"):
        value, coerced = coerce_for_field(field, text)
        assert value is not None and not coerced
    assert coerce_for_field(Ticket._meta.get_field("required_date"), "9999-12-31") == (None, True)


def test_it_mirrors_a_page_with_bad_values_and_counts_them(db, sandbox, fast_client):
    connection = sandbox_connection(sandbox)
    sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")
    far, zero, fractional, mangled, deep = _in_scope_ticket_ids(sandbox)[:5]
    sandbox.store.update(TICKETS, mangled, {"summary": "changed while mangled"})
    sandbox.faults = (
        f"far_date@{TICKETS}={far},year0@{TICKETS}={zero},fractional_id@{TICKETS}={fractional},"
        f"mangle@{TICKETS}={mangled},deep@{TICKETS}={deep}"
    )
    mirror = Ticket.objects.filter(connection=connection)
    before = mirror.count()

    [run] = sync_tier(connection_id=connection.pk, tier="core", entity="service_tickets")

    assert (run.coerced, run.skipped, run.fetched) == (2, 3, before)
    # the row of the ticket sent as id 1.5 is not deleted: it may be that very record
    assert run.status == "refused" and run.deleted == 0
    assert "1 record(s) without a usable id" in run.error
    assert "1.5 is not a whole number" in run.error and "RecursionError" in run.error
    assert f"service_tickets {mangled}: unparsable record" in run.error
    assert mirror.count() == before  # skipped records keep their rows, no phantom #1 appeared
    assert mirror.get(psa_id=far).date_entered is None and mirror.get(psa_id=zero).date_entered is None
    assert mirror.get(psa_id=mangled).summary != "changed while mangled"  # kept as it was
    assert not mirror.filter(psa_id=1).exclude(psa_id__in=_in_scope_ticket_ids(sandbox)).exists()


def test_it_never_turns_a_fractional_id_into_another_records_row(connection):
    counts = mirror_upsert_records(
        connection=connection, entity="service_tickets", records=[ticket(7), {**ticket(8), "id": 1.5}]
    )
    assert (counts["created"], counts["skipped"]) == (1, 1)
    assert list(Ticket.objects.values_list("psa_id", flat=True)) == [7]


@pytest.mark.parametrize("date_entered", [FAR_DATE, YEAR_ZERO_DATE])
def test_it_keeps_the_board_pages_up_with_a_date_out_of_range(db, date_entered):
    tenant = make_tenant("acme", board_name="Service", username="ann")
    record = ticket(
        100,
        board={"id": 1, "name": "Board 1"},
        status={"id": 10, "name": "New"},
        _info={"lastUpdated": "2030-05-15T09:00:00Z", "dateEntered": date_entered},
    )
    counts = mirror_upsert_records(
        connection=tenant["connection"], entity="service_tickets", records=[record]
    )
    assert counts["coerced"] == 1
    client, board_id = logged_in(tenant["user"]), tenant["board"].id
    for url in (
        f"/boards/{board_id}/",
        f"/boards/{board_id}/columns/",
        f"/api/boards/{board_id}/cards/",
        f"/boards/{board_id}/cards/100/",
    ):
        assert client.get(url).status_code == 200, url


def test_it_skips_a_record_nested_too_deeply_to_store_and_keeps_the_rest(connection):
    nested: list = []
    for _ in range(600):  # the JSON parser reads this; cleaning it for jsonb recursed too deep
        nested = [nested]
    records = [ticket(7), ticket(8, customFields=nested)]
    counts = mirror_upsert_records(connection=connection, entity="service_tickets", records=records)
    assert (counts["created"], counts["skipped"]) == (1, 1)
    assert list(Ticket.objects.values_list("psa_id", flat=True)) == [7]


def test_it_heals_a_row_stored_with_a_date_no_reader_can_hold(db):
    from django.db import connection as database

    tenant = make_tenant("acme", board_name="Service", username="ann")
    with database.cursor() as cursor:  # what a sync stored before dates were bounded
        cursor.execute(
            f"UPDATE {Ticket._meta.db_table} SET date_entered = %s::timestamptz WHERE psa_id = 100",
            [FAR_DATE],
        )
    record = ticket(100, board={"id": 1, "name": "Board 1"}, status={"id": 10, "name": "New"})
    record["_info"] = {"lastUpdated": "2030-05-15T09:00:00Z", "dateEntered": FAR_DATE}
    mirror_upsert_records(connection=tenant["connection"], entity="service_tickets", records=[record])
    assert logged_in(tenant["user"]).get(f"/boards/{tenant['board'].id}/").status_code == 200
