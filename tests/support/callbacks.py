"""ConnectWise callback bodies and posting them to the receiver, as the PSA does."""

import json

from psa.connectwise.callbacks import signature_compute
from tests.support.cloud_psa import SITE

KEY_URL = f"{SITE}/v4_6_release/system/callbackkey/index.rails?id=9"
SIGNING_KEY = "the-signing-key"


def payload(**overrides) -> bytes:
    data = {
        "MessageId": "m-1",
        "FromUrl": SITE,
        "CompanyId": "acme",
        "MemberId": 7,
        "Action": "updated",
        "Type": "ticket",
        "ID": 501,
        "Entity": json.dumps(
            {"id": 501, "recordType": "ServiceTicket", "_info": {"lastUpdated": "2026-11-27T07:00:00Z"}}
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
