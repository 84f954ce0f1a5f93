"""The Autotask webhook receiver's own half: signature, parsing, what gets re-read."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from psa.autotask.webhook import (
    InvalidCallback,
    SignatureMismatch,
    SignatureMissing,
    callback_receive,
    delivery_parse,
    signature_compute,
    signature_verify,
)
from psa.providers import RefreshRequest

# Reference: webhooks.md §4 test vectors (key "secret123", the exact body bytes).
CREATE = (
    b'{"Action":"Create","Guid":"g","EntityType":"Ticket","Id":1,"Fields":{},'
    b'"EventTime":"2025-01-01T00:00:00Z","SequenceNumber":1,"PersonID":2}'
)
UPDATE_ESCAPED = (
    b'{"Action":"Update","Guid":"g","EntityType":"Ticket","Id":1,"Fields":{"Title":"A \\u0026 B caf\\u00E9"},'
    b'"EventTime":"2025-01-01T00:00:00Z","SequenceNumber":2,"PersonID":2}'
)
SECRET = "secret123"


def test_it_signs_like_the_reference_vectors():
    assert signature_compute(body=CREATE, secret=SECRET) == "sha1=fXzMZCUTsLvdjkgWHwfViWmt5Oo="
    assert signature_compute(body=UPDATE_ESCAPED, secret=SECRET) == "sha1=YmBh70ciyrSFCeE706Ljbxr4M8A="


def test_it_accepts_a_matching_signature_with_or_without_prefix_case():
    signature_verify(body=CREATE, secret=SECRET, signature="sha1=fXzMZCUTsLvdjkgWHwfViWmt5Oo=")
    signature_verify(body=CREATE, secret=SECRET, signature=" SHA1=fXzMZCUTsLvdjkgWHwfViWmt5Oo= ")


@pytest.mark.parametrize("signature", [None, "", "   "])
def test_it_refuses_a_missing_signature(signature):
    with pytest.raises(SignatureMissing) as caught:
        signature_verify(body=CREATE, secret=SECRET, signature=signature)
    assert caught.value.status == 401


@pytest.mark.parametrize(
    "signature",
    [
        "sha1=YmBh70ciyrSFCeE706Ljbxr4M8A=",  # another body's
        "sha1=not base64!",
        "fXzMZCUTsLvdjkgWHwfViWmt5Oo",  # truncated
    ],
)
def test_it_refuses_a_wrong_signature(signature):
    with pytest.raises(SignatureMismatch) as caught:
        signature_verify(body=CREATE, secret=SECRET, signature=signature)
    assert caught.value.status == 401


def test_a_re_serialised_body_no_longer_matches():
    # The HMAC is over the bytes Autotask sent: reading and re-writing the JSON changes them.
    reserialised = json.dumps(json.loads(UPDATE_ESCAPED), separators=(",", ":"), ensure_ascii=False).encode()
    assert reserialised != UPDATE_ESCAPED
    with pytest.raises(SignatureMismatch):
        signature_verify(body=reserialised, secret=SECRET, signature="sha1=YmBh70ciyrSFCeE706Ljbxr4M8A=")


def test_it_refuses_when_no_secret_is_set():
    with pytest.raises(SignatureMismatch):
        signature_verify(body=CREATE, secret="", signature="sha1=fXzMZCUTsLvdjkgWHwfViWmt5Oo=")


def test_it_reads_keys_in_any_case():
    delivery = delivery_parse(
        b'{"action":"Update","guid":"G","entityType":"TicketNote","ID":"7","fields":{"TicketID":"42"},'
        b'"eventTime":"2025-01-01T00:00:00Z","sequenceNumber":"3","personId":9}'
    )
    assert (delivery.action, delivery.entity_type, delivery.record_id) == ("update", "ticketnote", 7)
    assert delivery.fields == {"ticketid": "42"} and delivery.sequence == 3 and delivery.guid == "G"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1,2]",
        b"\xff\xfe",
        b'{"EntityType":"Ticket","Id":1}',  # no Action
        b'{"Action":"Update","Id":1}',  # no EntityType
        b'{"Action":"Update","EntityType":"Ticket"}',  # no Id
        b'{"Action":"Update","EntityType":"Ticket","Id":"x"}',
        b'{"Action":"Update","EntityType":"Ticket","Id":-4}',
        b'{"Action":"Update","EntityType":"Ticket","Id":true}',
        b'{"Action":"Update","EntityType":"Ticket","Id":1,"Fields":[1]}',
    ],
)
def test_it_refuses_malformed_deliveries(body):
    with pytest.raises(InvalidCallback) as caught:
        delivery_parse(body)
    assert caught.value.status == 400


def _connection(secret: str = SECRET):
    return SimpleNamespace(pk=1, callback_secret=secret)


def _receive(body: bytes, secret: str = SECRET):
    headers = {"X-Hook-Signature": signature_compute(body=body, secret=secret)}
    return callback_receive(connection=_connection(), body=body, headers=headers, query={})


def test_a_ticket_delivery_asks_for_that_ticket():
    result = _receive(CREATE)
    assert result.refreshes == [RefreshRequest("ticket", 1)]
    assert result.message_id == "g:1" and result.happened_at is not None


def test_a_ticket_note_delivery_asks_for_its_tickets_notes():
    body = b'{"Action":"Create","Guid":"n","EntityType":"TicketNote","Id":5,"Fields":{"TicketID":"42"},"SequenceNumber":1}'
    assert _receive(body).refreshes == [RefreshRequest("ticket", 42, "notes")]


def test_a_ticket_note_without_its_ticket_asks_for_the_note():
    body = b'{"Action":"Delete","Guid":"n","EntityType":"TicketNote","Id":5,"Fields":{},"SequenceNumber":2}'
    assert _receive(body).refreshes == [RefreshRequest("ticket_note", 5)]


def test_a_company_delivery_asks_for_the_company():
    body = b'{"Action":"Update","Guid":"c","EntityType":"Company","Id":9,"Fields":{"CompanyName":"X"}}'
    result = _receive(body)
    assert result.refreshes == [RefreshRequest("company", 9)] and result.message_id == ""


def test_other_entities_are_acknowledged_and_ignored():
    body = b'{"Action":"Update","Guid":"c","EntityType":"Contact","Id":9,"Fields":{}}'
    result = _receive(body)
    assert result.refreshes == [] and "Contact".lower() in result.ignored


def test_a_signed_deactivation_reports_the_registration_lost():
    body = b'{"Action":"Deactivated","Guid":"w-guid","EntityType":"Ticket"}'
    result = _receive(body)
    assert result.refreshes == [] and "w-guid" in result.registration_lost


def test_an_unsigned_deactivation_changes_nothing():
    body = b'{"Action":"Deactivated","Guid":"w-guid","EntityType":"Ticket"}'
    with pytest.raises(SignatureMissing):
        callback_receive(connection=_connection(), body=body, headers={}, query={})
    with pytest.raises(SignatureMismatch):
        callback_receive(
            connection=_connection(),
            body=body,
            headers={"X-Hook-Signature": signature_compute(body=body, secret="someone else's")},
            query={},
        )
