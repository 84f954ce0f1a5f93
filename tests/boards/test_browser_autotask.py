"""Boards on Autotask, end to end in real headless Chromium against the Autotask sandbox, with a
live server and a real Celery worker: a drag changes the ticket's status in Autotask; a change a
technician makes in Autotask reaches the open board through a signed webhook callout (the time it took is printed: issue 10 asks for 2 s);
a move Autotask refuses (a business rule's 500) snaps back with Autotask's own message; the card
dialog writes notes, priority, resources and time, and closes a ticket as Complete."""

from __future__ import annotations

import time

import pytest

from boards.models import Board, Ticket
from psa.providers import provider_for
from sync.models import Connection
from tests.boards.browser_support import card, column_ids, column_of, drag, open_board, signed_in_page
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.redis]


@pytest.fixture
def autotask(request, worker_servers, transactional_db, fresh_cache):
    """Each test's own Autotask sandbox, the Autotask demo over it with its webhooks registered at
    the live server, and a page logged in as the demo user. The cache starts empty: the sandbox's
    webhook sequence numbers and record ids start over with each sandbox, and the receiver's
    replay guard and the refresh queue keep theirs in the cache (Redis, shared with the worker)."""
    from boards.services.demo import DEMO_AUTOTASK_BOARD, demo_setup
    from psa.sandbox.autotask import AutotaskSandbox
    from psa.sandbox.autotask.webhooks import DeliveryPolicy

    policy = DeliveryPolicy(timeout_s=5, retry_delay_s=0.05, attempts=3, deactivate_after=10)
    with AutotaskSandbox(scale="small", seed=1, webhook_policy=policy) as sandbox:
        demo = demo_setup(sandbox_url=sandbox.url, provider="autotask")
        connection = Connection.objects.get(pk=demo.connection_id)
        provider_for(connection).callbacks.ensure(connection=connection, public_url=worker_servers["url"])
        fake_clock = getattr(request, "param", {}).get("fake_clock", False)  # the close's 10 s undo
        with signed_in_page(worker_servers, demo.username, demo.password, fake_clock=fake_clock) as page:
            yield {
                "sandbox": sandbox,
                "url": worker_servers["url"],
                "page": page,
                "board": Board.objects.get(name=DEMO_AUTOTASK_BOARD),
            }
        # Our writes as a technician (impersonation) call back and queue refreshes: let the
        # worker finish them while this sandbox still answers, or it would spend the next test
        # retrying a sandbox that is gone.
        sandbox.wait_for_callbacks()
        wait_until(lambda: _worker_idle() and _worker_idle(), timeout=60)


def _worker_idle() -> bool:
    """The test's Celery worker has nothing running, reserved or scheduled (a countdown)."""
    from topleft.celery import app

    inspect = app.control.inspect(timeout=0.5)
    return not any(
        any((call() or {}).values()) for call in (inspect.active, inspect.reserved, inspect.scheduled)
    )


def _status(sandbox, psa_id: int) -> int:
    return sandbox.store.get("Tickets", psa_id)["status"]


def _technician(sandbox) -> int:
    from psa.sandbox.autotask.data import API_USER_ID

    return next(
        r["id"] for r in sandbox.store.list("Resources") if r["id"] != API_USER_ID and r.get("isActive")
    )


def test_a_drag_changes_the_ticket_status_in_autotask(autotask):
    page, sandbox, board = autotask["page"], autotask["sandbox"], autotask["board"]
    open_board(page, autotask["url"], board)
    first, second = list(board.columns.all()[:2])
    assert len(second.psa_ids) == 1, "the demo's second column holds one status"
    psa_id = column_ids(page, 0)[0]
    assert _status(sandbox, psa_id) in first.psa_ids
    drag(page, card(psa_id), ".column:nth-of-type(2) .cards")
    wait_until(lambda: column_of(page, psa_id) == second.name)
    wait_until(lambda: _status(sandbox, psa_id) == second.psa_ids[0])
    wait_until(lambda: Ticket.objects.get(psa_id=psa_id).status_psa_id == second.psa_ids[0])
    page.reload()
    wait_until(lambda: column_of(page, psa_id) == second.name)  # the mirror holds it too


def test_a_change_made_in_autotask_shows_on_the_open_board_through_a_signed_webhook(autotask):
    page, sandbox, board = autotask["page"], autotask["sandbox"], autotask["board"]
    open_board(page, autotask["url"], board)
    psa_id = column_ids(page, 0)[-1]
    sent = sandbox.stats["webhooks_sent"]
    started = time.monotonic()
    sandbox.store.update(
        "Tickets", psa_id, {"title": "Printer on fire (changed in Autotask)"}, actor=_technician(sandbox)
    )
    wait_until(lambda: "Printer on fire" in (page.text_content(card(psa_id)) or ""))
    elapsed = time.monotonic() - started
    assert sandbox.stats["webhooks_sent"] > sent  # it came by webhook, not by a sync tier
    assert sandbox.stats["webhook_attempts_failed"] == 0
    # Issue 10 asks for "within 2 s": the figure is reported, not asserted (a loaded machine
    # must not fail the suite); tests/bench/test_bench_autotask_realtime.py measures the path.
    print(f"a change made in Autotask showed on the open board after {elapsed:.2f} s")


def test_a_move_autotask_refuses_snaps_back_with_its_message(autotask):
    page, sandbox, board = autotask["page"], autotask["sandbox"], autotask["board"]
    open_board(page, autotask["url"], board)
    first = board.columns.all()[0]
    psa_id = column_ids(page, 0)[0]
    before = _status(sandbox, psa_id)
    # Reference: api.md §6 — a business rule answers 500 with its reason in `errors`.
    sandbox.force_error("PATCH", r"^Tickets$", 500, "Tickets in this queue cannot leave New before triage")
    drag(page, card(psa_id), ".column:nth-of-type(2) .cards")
    wait_until(lambda: "cannot leave New before triage" in (page.text_content(card(psa_id)) or ""))
    # The message may show a poll before the card is back: both happen, in either order.
    wait_until(lambda: column_of(page, psa_id) == first.name)
    assert "cannot leave New before triage" in (page.text_content(card(psa_id)) or "")
    wait_until(lambda: Ticket.objects.get(psa_id=psa_id).status_psa_id == before)
    assert _status(sandbox, psa_id) == before


def _children(sandbox, entity: str, parent_field: str, parent_id: int) -> list[dict]:
    ids = sandbox.store.child_ids(entity, parent_id)
    return [r for r in sandbox.store.iter_records(entity, sorted(ids)) if r.get(parent_field) == parent_id]


def test_the_card_dialog_writes_note_priority_resource_and_time_to_autotask_as_the_user(autotask):
    from boards.models import Member, Membership

    page, sandbox, board = autotask["page"], autotask["sandbox"], autotask["board"]
    me = Membership.objects.get(user__username="demo", connection=board.connection)
    open_board(page, autotask["url"], board)
    psa_id = column_ids(page, 0)[0]
    page.click(f"{card(psa_id)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] textarea[name=text]")
    assert page.locator("#card-dialog select[aria-label=Resource]").count() == 1  # Autotask's word

    page.fill("#card-dialog textarea[name=text]", "Rebooted the firewall from Autotask's board")
    with page.expect_response(lambda r: "/note/" in r.url):
        page.click("#card-dialog button:has-text('Add note')")
    page.wait_for_selector("#card-dialog .ok")

    page.click("#card-dialog summary:has-text('Priority')")
    current = sandbox.store.get("Tickets", psa_id)["priority"]
    options = page.eval_on_selector_all(
        "#card-dialog select[name=priority] option", "os => os.map(o => +o.value)"
    )
    wanted = next(o for o in options if o != current)
    page.select_option("#card-dialog select[name=priority]", str(wanted))
    with page.expect_response(lambda r: "/priority/" in r.url):
        page.click("#card-dialog button:has-text('Change priority')")
    page.wait_for_selector("#card-dialog .ok:has-text('Priority changed')")

    owner = sandbox.store.get("Tickets", psa_id).get("assignedResourceID")
    helper = (
        Member.objects.filter(connection=board.connection, inactive=False)
        .exclude(psa_id__in=[me.member_psa_id, owner or 0])
        .exclude(identifier="api-user")
        .order_by("psa_id")
        .first()
    )
    page.click("#card-dialog summary:has-text('Resources')")
    page.select_option("#card-dialog select[aria-label=Resource]", str(helper.psa_id))
    with page.expect_response(lambda r: "/resource/" in r.url):  # the dialog re-renders after it
        page.click("#card-dialog button[name=op][value=add]")
    page.wait_for_selector("#card-dialog .ok")

    page.click("#card-dialog summary:has-text('Enter time')")
    page.fill("#card-dialog input[name=minutes]", "30")
    page.fill("#card-dialog form[hx-post$='/time/'] textarea[name=notes]", "Firewall reboot")
    page.click("#card-dialog button:has-text('Save time entry')")
    page.wait_for_selector("#card-dialog .ok:has-text('Time entry queued')")

    wait_until(lambda: sandbox.store.get("Tickets", psa_id)["priority"] == wanted)
    note = wait_until(
        lambda: next(
            (
                n
                for n in _children(sandbox, "TicketNotes", "ticketID", psa_id)
                if "Autotask's board" in n["description"]
            ),
            None,
        )
    )
    assert note["creatorResourceID"] == me.member_psa_id  # written as the demo user's resource
    wait_until(
        lambda: (
            helper.psa_id
            in {
                r["resourceID"]
                for r in sandbox.store.list("TicketSecondaryResources")
                if r["ticketID"] == psa_id
            }
            or sandbox.store.get("Tickets", psa_id).get("assignedResourceID") == helper.psa_id
        )
    )
    entry = wait_until(
        lambda: next(
            (
                t
                for t in sandbox.store.list("TimeEntries")
                if t.get("ticketID") == psa_id and t.get("summaryNotes") == "Firewall reboot"
            ),
            None,
        )
    )
    assert entry["resourceID"] == me.member_psa_id and entry["hoursWorked"] == 0.5


@pytest.mark.parametrize("autotask", [{"fake_clock": True}], indirect=True)
def test_closing_from_the_card_dialog_completes_the_ticket_in_autotask(autotask):
    page, sandbox, board = autotask["page"], autotask["sandbox"], autotask["board"]
    open_board(page, autotask["url"], board)
    psa_id = column_ids(page, 0)[0]
    page.click(f"{card(psa_id)} button[data-action=open]")
    page.wait_for_selector("#card-dialog[open] .close-section")
    page.click("#card-dialog summary:has-text('Close')")
    assert page.eval_on_selector_all(
        "#card-dialog select[aria-label='Closed status'] option", "os => os.map(o => o.textContent)"
    ) == ["Complete"]
    page.click("#card-dialog button:has-text('Close ticket…')")
    page.click("#card-dialog button:has-text('Yes, close it')")
    page.wait_for_selector(".undo-item")
    with page.expect_response(lambda r: "/close/" in r.url) as sent:
        page.clock.fast_forward(10_500)  # past the undo window
    assert sent.value.status == 202
    wait_until(lambda: _status(sandbox, psa_id) == 5)  # Reference: api.md §5 — 5 is Complete
    record = sandbox.store.get("Tickets", psa_id)
    assert record.get("completedDate")  # Autotask stamped the completion
    wait_until(lambda: Ticket.objects.get(psa_id=psa_id).closed)
