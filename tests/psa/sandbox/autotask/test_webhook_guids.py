"""A restarted Autotask sandbox is a new Autotask database for the webhooks it is given: their
GUIDs are new, so the receiver's replay guard (GUID + SequenceNumber) does not drop the new
run's first callouts as replays of the previous run's (`make run` stopped and started again)."""

from __future__ import annotations

from psa.sandbox.autotask import AutotaskSandbox
from tests.psa.sandbox.autotask.conftest import ANCHOR, Caller


def _guid_of_the_first_webhook(seed: int) -> str:
    call = Caller(AutotaskSandbox(scale="tiny", seed=seed, anchor=ANCHOR))  # never started: serve()
    status, body = call("POST", "TicketWebhooks", {
        "isActive": True, "name": "TopLeft", "webhookUrl": "https://topleft.example.com/hooks/autotask/t/", "deactivationUrl": "https://topleft.example.com/off",
        "secretKey": "s" * 32, "isSubscribedToCreateEvents": True, "isSubscribedToUpdateEvents": True,
        "isSubscribedToDeleteEvents": True, "sendThresholdExceededNotification": False})  # fmt: skip
    assert status == 200, body
    return call("GET", f"TicketWebhooks/{body['itemId']}")[1]["item"]["webhookGUID"]


def test_each_sandbox_run_gives_its_webhooks_new_guids():
    first, again = _guid_of_the_first_webhook(1), _guid_of_the_first_webhook(1)
    assert first and again and first != again
