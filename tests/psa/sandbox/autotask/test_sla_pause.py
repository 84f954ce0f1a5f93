"""A waiting status pauses a ticket's SLA in the Autotask sandbox: serviceLevelAgreementPausedNext
EventHours is set (the hours that were left to the next due date) and cleared when it resumes."""

from __future__ import annotations

from psa.sandbox.autotask import AutotaskSandbox
from psa.sandbox.autotask.picklists import COMPLETE_STATUS, WAITING_STATUSES
from tests.psa.sandbox.autotask.conftest import ANCHOR, Caller

PAUSED = "serviceLevelAgreementPausedNextEventHours"


def test_a_waiting_status_pauses_the_sla_and_leaving_it_resumes():
    sandbox = AutotaskSandbox(scale="tiny", seed=2, anchor=ANCHOR)  # never started: serve()
    call = Caller(sandbox)
    ticket = next(
        t
        for t in sandbox.store.list("Tickets")
        if t.get("serviceLevelAgreementID") and t["status"] not in (*WAITING_STATUSES, COMPLETE_STATUS)
    )
    assert ticket.get(PAUSED) is None

    def patch(status: int) -> dict:
        code, body = call("PATCH", "Tickets", {"id": ticket["id"], "status": status})
        assert code == 200, body
        return call("GET", f"Tickets/{ticket['id']}")[1]["item"]

    assert patch(7)[PAUSED] >= 0  # Waiting Customer
    assert patch(8).get(PAUSED) is None  # In Progress: the clock runs again
