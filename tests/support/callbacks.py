"""ConnectWise callback bodies and posting them to the receiver, as the PSA does."""

import json
import uuid
from datetime import UTC, datetime

from psa.connectwise.callbacks import signature_compute
from tests.support.clock import psa_time
from tests.support.cloud_psa import SITE

KEY_URL = f"{SITE}/v4_6_release/system/callbackkey/index.rails?id=9"
SIGNING_KEY = "the-signing-key"


def changed_just_now() -> str:
    """A record's lastUpdated a moment before the receiver's clock (the receiver refuses callbacks
    about old changes as replays), whatever today's date."""
    return psa_time(datetime.now(UTC), seconds=-5)


def payload(**overrides) -> bytes:
    """A callback body; every call is a new delivery (its own MessageId) unless one is given."""
    data = {
        "MessageId": str(uuid.uuid4()),
        "FromUrl": SITE,
        "CompanyId": "acme",
        "MemberId": 7,
        "Action": "updated",
        "Type": "ticket",
        "ID": 501,
        "Entity": json.dumps(
            {"id": 501, "recordType": "ServiceTicket", "_info": {"lastUpdated": changed_just_now()}}
        ),
        "Metadata": {"key_url": KEY_URL},
        "CallbackObjectRecId": 1,
    }
    data.update(overrides)
    return json.dumps(data).encode()


def post(client, connection, raw: bytes, *, signature: str | None = "sign", record_id=None, token=None):
    headers = {}
    if signature == "sign":
        signature = signature_compute(body=raw, signing_key=SIGNING_KEY)
    if signature is not None:
        headers["HTTP_X_CONTENT_SIGNATURE"] = signature
    url = f"/hooks/connectwise/{token or connection.webhook_token}/?recordId="
    if record_id is not None:
        url += str(record_id)
    return client.post(url, data=raw, content_type="application/json", **headers)
