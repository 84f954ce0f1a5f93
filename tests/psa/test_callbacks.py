import base64
import hashlib
import hmac
import json

import pytest
import requests
import responses

from psa.connectwise import callbacks
from psa.connectwise.callbacks import (
    KEY_FETCHES_PER_MINUTE,
    InvalidCallback,
    KeyUnavailable,
    SignatureMismatch,
    SignatureMissing,
    UntrustedKeyUrl,
    callback_parse,
    callback_url,
    callbacks_ensure,
    key_url_check,
    signature_compute,
    signature_verify,
    signing_key_fetch,
)
from tests.support.callbacks import payload
from tests.support.cloud_psa import SITE

pytestmark = pytest.mark.usefixtures("fresh_cache")

KEY_URL = f"{SITE}/v4_6_release/system/callbackkey/index.rails?id=1"


def body(**overrides) -> bytes:
    """The developer guide's sample callback (ticket 57937), as the receiver tests post it."""
    sample = {
        "ID": 57937,
        "Entity": json.dumps({"id": 57937, "recordType": "ServiceTicket"}),
        "Metadata": {"key_url": KEY_URL},
        "CallbackObjectRecId": 26567,
    }
    return payload(**{**sample, **overrides})


def test_it_computes_the_signature_as_the_developer_guide_sample():
    raw = b'{"ID":1}'
    key = hashlib.sha256(b"s3cret").digest()
    expected = base64.b64encode(hmac.new(key, raw, hashlib.sha256).digest()).decode()
    assert signature_compute(body=raw, signing_key="s3cret") == expected


def test_it_accepts_a_good_signature_and_rejects_tampered_wrong_key_and_missing():
    raw = body()
    good = signature_compute(body=raw, signing_key="k1")
    signature_verify(body=raw, signing_key="k1", signature=good)
    with pytest.raises(SignatureMismatch):
        signature_verify(body=raw.replace(b"57937", b"57938"), signing_key="k1", signature=good)
    with pytest.raises(SignatureMismatch):
        signature_verify(body=raw, signing_key="k2", signature=good)
    with pytest.raises(SignatureMissing):
        signature_verify(body=raw, signing_key="k1", signature=None)
    with pytest.raises(SignatureMismatch):
        signature_verify(body=raw, signing_key="k1", signature="not base64 ✓")


def test_it_parses_the_payload_and_decodes_entity_twice():
    payload = callback_parse(body())
    assert (payload.type, payload.action, payload.record_id) == ("ticket", "updated", 57937)
    assert payload.key_url == KEY_URL
    assert payload.record_type == "ServiceTicket"
    deleted = callback_parse(body(Action="deleted", Entity=None))
    assert deleted.entity is None and deleted.action == "deleted"


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1, 2]",
        b"\xff\xfe",
        body(Type=None),
        body(ID="abc"),
        body(ID=True),
        body(ID=-3),
        body(Action="exploded"),
        body(Metadata={}),
        body(Metadata="x"),
        body(ID=1.5),  # became record 1, a phantom
        body(ID="1.5"),
        body(ID=2**63),
        body(Entity="[" * 50_000),  # a hostile Entity: nested beyond the decoder's recursion
        body(Entity='{"id": 1, "x": ' + "[" * 3000 + "]" * 3000 + "}"),
        b'{"Type": "ticket", "Action": "updated", "ID": 1e400, "Metadata": {"key_url": "k"}}',
        b"[" * 50_000,
        b'{"a": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    ],
)
def test_it_rejects_malformed_bodies(raw):
    with pytest.raises(InvalidCallback):
        callback_parse(raw)


def test_it_tolerates_an_unreadable_entity():
    assert callback_parse(body(Entity="{not json")).entity is None


@pytest.mark.parametrize(
    "key_url",
    [
        "https://evil.example.com/v4_6_release/system/callbackkey",
        "http://na.myconnectwise.net/v4_6_release/system/callbackkey",
        "https://na.myconnectwise.net:8443/x",
        "https://user:pw@na.myconnectwise.net/x",
        "https://169.254.169.254/latest/meta-data",
        "ftp://na.myconnectwise.net/x",
        "https://na.myconnectwise.net.evil.com/x",
    ],
)
def test_it_refuses_key_urls_off_the_connections_host(key_url):
    with pytest.raises(UntrustedKeyUrl):
        key_url_check(key_url=key_url, site_url=SITE)


def test_it_allows_the_site_and_api_host_and_loopback_http_for_a_sandbox():
    key_path = "system/callbackkey/index.rails?companyName=acme&keyId=3"
    key_url_check(key_url=KEY_URL, site_url=SITE)
    key_url_check(key_url=f"https://api-na.myconnectwise.net/v2025_1/{key_path}", site_url=SITE)
    key_url_check(key_url=f"http://127.0.0.1:5555/v2025_1/{key_path}", site_url="http://127.0.0.1:5555")
    with pytest.raises(UntrustedKeyUrl):
        key_url_check(key_url=f"http://127.0.0.1:6666/v2025_1/{key_path}", site_url="http://127.0.0.1:5555")


@pytest.mark.parametrize(
    "path",
    [
        "/v4_6_release/apis/3.0/system/members",
        "/v4_6_release/apis/3.0/company/companies?pageSize=1000",
        "/v4_6_release/system/callbackkey/index.rails/../../apis/3.0/system/info",
        "/system/callbackkey/index.rails",
        "/v4_6_release/login/login.aspx",
        "/",
    ],
)
def test_it_refuses_other_paths_of_the_psa_host(path):
    with pytest.raises(UntrustedKeyUrl, match="signing-key path"):
        key_url_check(key_url=f"https://na.myconnectwise.net{path}", site_url=SITE)


@responses.activate
def test_it_limits_key_fetches_per_connection(fresh_cache):
    forged = [f"{KEY_URL}&n={n}" for n in range(50)]  # the real path, a new cache key each time
    for url in forged:
        responses.get(url, json={"signing_key": "k"})
    outcomes = []
    for url in forged:
        try:
            outcomes.append(signing_key_fetch(connection_id=1, key_url=url, site_url=SITE))
        except KeyUnavailable:
            outcomes.append("refused")
    assert len(responses.calls) == KEY_FETCHES_PER_MINUTE
    assert outcomes.count("refused") == 50 - KEY_FETCHES_PER_MINUTE
    responses.get(f"{KEY_URL}&other", json={"signing_key": "k"})
    assert signing_key_fetch(connection_id=2, key_url=f"{KEY_URL}&other", site_url=SITE) == "k"


@responses.activate
def test_it_never_sends_a_request_to_an_untrusted_key_url():
    responses.get("https://evil.example.com/key", json={"signing_key": "k"})
    with pytest.raises(UntrustedKeyUrl):
        signing_key_fetch(connection_id=1, key_url="https://evil.example.com/key", site_url=SITE)
    assert len(responses.calls) == 0


@responses.activate
def test_it_fetches_the_key_once_and_caches_it():
    responses.get(KEY_URL, json={"signing_key": "k1"})
    assert signing_key_fetch(connection_id=1, key_url=KEY_URL, site_url=SITE) == "k1"
    assert signing_key_fetch(connection_id=1, key_url=KEY_URL, site_url=SITE) == "k1"
    assert len(responses.calls) == 1
    # another connection does not share the cached key
    signing_key_fetch(connection_id=2, key_url=KEY_URL, site_url=SITE)
    assert len(responses.calls) == 2


@responses.activate
def test_it_does_not_follow_a_redirecting_key_url():
    responses.get(KEY_URL, status=302, headers={"Location": "https://evil.example.com/key"})
    responses.get("https://evil.example.com/key", json={"signing_key": "k"})
    with pytest.raises(KeyUnavailable):
        signing_key_fetch(connection_id=1, key_url=KEY_URL, site_url=SITE)
    assert [c.request.url for c in responses.calls] == [KEY_URL]


@responses.activate
@pytest.mark.parametrize(
    "answer",
    [
        {"status": 500, "json": {"message": "boom"}},
        {"status": 200, "body": "nope"},
        {"status": 200, "json": {"other": 1}},
        {"body": requests.ConnectTimeout("slow")},
    ],
)
def test_it_reports_an_unusable_key_answer(answer):
    responses.get(KEY_URL, **answer)
    with pytest.raises(KeyUnavailable):
        signing_key_fetch(connection_id=1, key_url=KEY_URL, site_url=SITE)


def test_it_builds_the_callback_url_ending_with_record_id():
    assert (
        callback_url(public_url="https://topleft.example.com/", webhook_token="tok")
        == "https://topleft.example.com/hooks/connectwise/tok/?recordId="
    )


class FakeCallbacksClient:
    def __init__(self, entries):
        self.entries = {e["id"]: e for e in entries}
        self.next_id = 100
        self.deleted, self.posted = [], []

    def list_all(self, path, **kw):
        assert path == "system/callbacks"
        return list(self.entries.values())

    def post(self, path, body):
        self.next_id += 1
        self.posted.append(body)
        self.entries[self.next_id] = {"id": self.next_id, **body}
        return self.entries[self.next_id]

    def delete(self, path):
        entry_id = int(path.rsplit("/", 1)[1])
        self.deleted.append(entry_id)
        del self.entries[entry_id]


def test_it_adds_and_removes_only_the_differences():
    url = callback_url(public_url="https://new.example.com", webhook_token="tok")
    old_url = callback_url(public_url="https://old.example.com", webhook_token="tok")
    client = FakeCallbacksClient(
        [
            {"id": 1, "url": url, "type": "ticket", "level": "owner", "objectId": 1},
            {"id": 2, "url": url, "type": "ticket", "level": "owner", "objectId": 1},  # duplicate
            {"id": 3, "url": old_url, "type": "company", "level": "owner", "objectId": 1},  # stale URL
            {"id": 4, "url": url, "type": "contact", "level": "owner", "objectId": 1},  # not wanted
            {
                "id": 5,
                "url": "https://someone-else.example.com/hook",
                "type": "ticket",
                "level": "owner",
                "objectId": 1,
            },
        ]
    )
    changes = callbacks_ensure(client=client, url=url, webhook_token="tok")
    assert sorted(client.deleted) == [2, 3, 4]
    assert sorted(p["type"] for p in client.posted) == ["company", "opportunity", "project", "schedule"]
    assert all(p["level"] == "owner" and p["objectId"] == 1 and p["url"] == url for p in client.posted)
    assert 5 in client.entries  # another integration's registration is left alone
    assert [e["id"] for e in changes.kept] == [1]
    # a second run changes nothing
    client.deleted.clear(), client.posted.clear()
    again = callbacks_ensure(client=client, url=url, webhook_token="tok")
    assert (again.added, again.removed, client.deleted) == ([], [], [])
    assert len(again.kept) == len(callbacks.CALLBACK_TYPES)
