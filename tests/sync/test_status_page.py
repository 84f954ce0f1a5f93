"""The operators' sync status pages: access, content, "sync now" and the last day's chart."""

from __future__ import annotations

import math
from datetime import timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from boards.models import Membership, Ticket
from psa.connectwise.catalog import CATALOG
from sync import tasks
from sync.locks import lock_claim
from sync.models import Connection, SyncRun
from sync.tiers import TIERS
from sync.views.chart import runs_chart, tier_executions
from tests.support.connections import make_connection

CORE_ENTITIES = CATALOG.tier_entities("core")
REFERENCE_ENTITIES = CATALOG.tier_entities("reference")


def make_user(
    username: str, *, connection: Connection | None = None, role: str = "member", staff: bool = False
):
    user = get_user_model().objects.create_user(username=username, password="pw", is_staff=staff)
    if connection is not None:
        Membership.objects.create(user=user, connection=connection, role=role)
    return user


def add_run(
    connection, tier, entity, *, started, seconds=2.0, status="succeeded", fetched=10, error="", requests=1
) -> SyncRun:
    return SyncRun.objects.create(
        connection=connection,
        tier=tier,
        entity=entity,
        started_at=started,
        finished_at=started + timedelta(seconds=seconds),
        status=status,
        fetched=fetched,
        created=fetched,
        requests=requests,
        error=error,
    )


def add_tier_execution(
    connection,
    tier,
    entities,
    *,
    started,
    seconds_each=1.0,
    failing=None,
    status="failed",
    error="boom",
    fetched=100,
) -> None:
    """Entity runs back to back, the way sync_tier writes them."""
    moment = started
    for entity in entities:
        bad = entity == failing
        add_run(
            connection,
            tier,
            entity,
            started=moment,
            seconds=seconds_each,
            fetched=fetched,
            status=status if bad else "succeeded",
            error=error if bad else "",
        )
        moment += timedelta(seconds=seconds_each, milliseconds=5)


@pytest.fixture
def status_url(connection):
    return reverse("sync:connection-status", args=[connection.pk])


@pytest.fixture
def run_url(connection):
    return reverse("sync:tier-sync-now", args=[connection.pk])


# --- access ------------------------------------------------------------------------------------


def test_it_sends_anonymous_users_to_the_login_page(client, status_url, run_url):
    for url in (status_url, reverse("sync:status-index")):
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    assert client.post(run_url, {"tier": "core"}).status_code == 302


def test_it_answers_404_to_users_without_the_admin_role_on_the_connection(
    client, connection, status_url, run_url
):
    other = make_connection("globex", site_url="https://cw.example", company_id="globex")
    for user in (
        make_user("member", connection=connection, role="member"),
        make_user("admin-elsewhere", connection=other, role="admin"),
        make_user("nobody"),
    ):
        client.force_login(user)
        assert client.get(status_url).status_code == 404
        with mock.patch.object(tasks.sync_connection_tier, "apply_async") as enqueue:
            assert client.post(run_url, {"tier": "core"}).status_code == 404
        enqueue.assert_not_called()


def test_it_shows_the_page_to_staff_and_to_connection_admins(client, connection, status_url):
    for user in (make_user("staff", staff=True), make_user("boss", connection=connection, role="admin")):
        client.force_login(user)
        assert client.get(status_url).status_code == 200


def test_it_lists_only_the_connections_a_user_may_operate(client, connection):
    other = make_connection("globex", site_url="https://cw.example", company_id="globex")
    client.force_login(make_user("boss", connection=connection, role="admin"))
    page = client.get(reverse("sync:status-index")).content.decode()
    assert reverse("sync:connection-status", args=[connection.pk]) in page
    assert "globex" not in page
    client.force_login(make_user("staff", staff=True))
    page = client.get(reverse("sync:status-index")).content.decode()
    assert "acme" in page and reverse("sync:connection-status", args=[other.pk]) in page


def test_it_links_the_status_page_from_the_connection_admin(client, connection):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw"))
    page = client.get(reverse("admin:sync_connection_changelist")).content.decode()
    assert reverse("sync:connection-status", args=[connection.pk]) in page


# --- content -----------------------------------------------------------------------------------


def test_it_shows_the_last_run_per_tier_and_the_failures_with_their_error_text(
    client, connection, status_url
):
    now = timezone.now()
    add_run(
        connection,
        "core",
        "companies",
        started=now - timedelta(days=3),
        status="refused",
        error="refused: would delete 900 of 1000 companies (90% > 50%)",
    )
    add_tier_execution(connection, "core", CORE_ENTITIES, started=now - timedelta(minutes=10), fetched=250)
    add_tier_execution(
        connection,
        "reference",
        REFERENCE_ENTITIES,
        started=now - timedelta(hours=5),
        failing="time_entries",
        error="ServerError: 503 from the PSA, gave up after 6 attempts",
    )
    Ticket.objects.create(connection=connection, psa_id=1, summary="one", kind=Ticket.Kind.SERVICE)
    client.force_login(make_user("staff", staff=True))
    response = client.get(status_url)
    page = response.content.decode()
    rows = {row.tier.name: row for row in response.context["tiers"]}
    assert rows["core"].last["status"] == "succeeded"
    assert rows["core"].last["fetched"] == 250 * len(CORE_ENTITIES)
    assert rows["core"].next_run_at == rows["core"].last["started_at"] + timedelta(minutes=30)
    assert not rows["core"].overdue
    assert rows["reference"].last["status"] == "failed" and rows["reference"].overdue  # 5 h ago, every 4 h
    assert rows["changes"].last is None and "never ran" in page
    assert "503 from the PSA, gave up after 6 attempts" in page
    assert "would delete 900 of 1000 companies" in page
    assert "time_entries" in page
    assert dict(response.context["counts"])["service_tickets"] == 1


def test_it_sums_every_chunk_of_the_latest_notes_fan_out(client, connection, status_url):
    now = timezone.now()
    add_run(connection, "notes", "service_notes", started=now - timedelta(days=1, minutes=5), fetched=999)
    for chunk in range(3):  # today's fan-out: three chunks back to back, the last one failed
        add_run(
            connection,
            "notes",
            "service_notes",
            started=now - timedelta(minutes=10 - 2 * chunk),
            seconds=100,
            fetched=50,
            requests=100,
            status="failed" if chunk == 2 else "succeeded",
            error="1 of 100 parents failed" if chunk == 2 else "",
        )
    client.force_login(make_user("staff", staff=True))
    rows = {row.tier.name: row for row in client.get(status_url).context["tiers"]}
    last = rows["notes"].last
    assert last["chunks"] == 3 and last["fetched"] == 150 and last["requests"] == 300
    assert last["status"] == "failed" and last["failed_entities"] == ["service_notes"]
    assert last["started_at"] == now - timedelta(minutes=10)


def test_it_marks_a_tier_whose_lease_is_held_as_running(client, connection, status_url):
    lock_claim(connection_id=connection.pk, tier="core")
    client.force_login(make_user("staff", staff=True))
    rows = {row.tier.name: row for row in client.get(status_url).context["tiers"]}
    assert rows["core"].running_until is not None
    assert rows["reference"].running_until is None


# --- sync now ----------------------------------------------------------------------------------


def test_it_enqueues_exactly_one_tier_task_on_commit_when_sync_now_is_pressed(
    client, connection, run_url, status_url, django_capture_on_commit_callbacks
):
    client.force_login(make_user("boss", connection=connection, role="admin"))
    with mock.patch.object(tasks.sync_connection_tier, "apply_async") as enqueue:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(run_url, {"tier": "core"})
        enqueue.assert_not_called()  # nothing leaves before the transaction commits
        for callback in callbacks:
            callback()
    assert response.status_code == 302 and response.url == status_url
    enqueue.assert_called_once()
    args, kwargs = enqueue.call_args
    assert args == ((connection.pk, "core"),)
    assert kwargs["queue"] == "sync" and kwargs["time_limit"] == TIERS["core"].time_limit_seconds
    followed = client.get(status_url).content.decode()
    assert "Queued the core tier for acme" in followed


def test_it_plans_notes_on_the_notes_queue(client, connection, run_url, django_capture_on_commit_callbacks):
    client.force_login(make_user("staff", staff=True))
    with (
        mock.patch.object(tasks.plan_notes, "apply_async") as plan,
        mock.patch.object(tasks.sync_connection_tier, "apply_async") as tier_task,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(run_url, {"tier": "notes"})
    plan.assert_called_once_with((connection.pk,), queue="notes")
    tier_task.assert_not_called()


def test_it_does_not_enqueue_when_the_tier_is_running_disabled_unknown_or_not_posted(
    client, connection, run_url, django_capture_on_commit_callbacks
):
    client.force_login(make_user("staff", staff=True))
    lock_claim(connection_id=connection.pk, tier="core")
    with mock.patch.object(tasks.sync_connection_tier, "apply_async") as enqueue:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            running = client.post(run_url, {"tier": "core"}, follow=True)
            unknown = client.post(run_url, {"tier": "everything"}, follow=True)
            assert client.get(run_url).status_code == 405
            Connection.objects.filter(pk=connection.pk).update(enabled=False)
            disabled = client.post(run_url, {"tier": "reference"}, follow=True)
    assert callbacks == []
    enqueue.assert_not_called()
    assert "already running" in running.content.decode()
    assert "Unknown tier" in unknown.content.decode()
    assert "is disabled" in disabled.content.decode()


# --- the last day's chart ----------------------------------------------------------------------


def test_it_charts_a_day_of_runs_per_tier_with_failures_marked(client, connection, status_url):
    now = timezone.now()
    for half_hour in range(48):  # core every 30 min; the 10th execution fails on tickets
        add_tier_execution(
            connection,
            "core",
            CORE_ENTITIES,
            started=now - timedelta(minutes=30 * half_hour + 1),
            failing="service_tickets" if half_hour == 10 else None,
            error="ServerError: 502",
        )
    for quarter in range(6):  # reference every 4 h, one refused
        add_tier_execution(
            connection,
            "reference",
            REFERENCE_ENTITIES[:5],
            started=now - timedelta(hours=4 * quarter, minutes=7),
            seconds_each=3.0,
            failing="boards" if quarter == 2 else None,
            status="refused",
            error="refused: would delete 60 of 100 boards",
            fetched=40,
        )
    add_tier_execution(
        connection, "core", CORE_ENTITIES, started=now - timedelta(hours=30)
    )  # outside the day

    executions = tier_executions(connection=connection, since=now - timedelta(hours=24), until=now)
    core, reference = executions["core"], executions["reference"]
    assert len(core) == 48 and len(reference) == 6 and executions["changes"] == []
    assert all(e.entities == len(CORE_ENTITIES) for e in core)
    assert core[0].records == 100 * len(CORE_ENTITIES)
    assert [e.status for e in core].count("failed") == 1
    assert [e.status for e in reference].count("refused") == 1
    assert reference[0].duration_seconds == pytest.approx(5 * 3.0 + 4 * 0.005, abs=0.01)
    failed = next(e for e in core if e.bad)
    assert failed.errors == ["service_tickets: ServerError: 502"]

    chart = runs_chart(connection=connection, now=now)
    duration_panel, records_panel = chart["panels"]
    core_dots = next(s for s in duration_panel["series"] if s["tier"] == "core")["dots"]
    assert len(core_dots) == 48 and sum(d["bad"] for d in core_dots) == 1
    assert all(chart["left"] <= d["x"] <= chart["right"] for d in core_dots)
    # Log axes: durations 0.1 s .. 100 s (the longest execution, reference, takes ~15 s),
    # records 1 .. 1000 (a core execution fetched 800): one decade every 120 / 3 = 40 units.
    assert [line["label"] for line in duration_panel["grid"]] == ["0.1", "1", "10", "100"]
    assert [line["label"] for line in records_panel["grid"]] == ["1", "10", "100", "1000"]
    ref_dots = next(s for s in records_panel["series"] if s["tier"] == "reference")["dots"]
    assert {d["y"] for d in ref_dots} == {round(records_panel["bottom"] - math.log10(200) * 40, 1)}
    core_records = next(s for s in records_panel["series"] if s["tier"] == "core")["dots"]
    assert all(d["y"] < ref_dots[0]["y"] for d in core_records)  # 800 records sit above 200

    client.force_login(make_user("staff", staff=True))
    page = client.get(status_url).content.decode()
    assert page.count('class="run bad"') == 2 * 2  # two bad executions, drawn in both panels
    assert "refused: would delete 60 of 100 boards" in page
