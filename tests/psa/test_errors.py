import base64
import datetime as dt
from email.utils import format_datetime

import pytest
import requests
import responses

from psa.connectwise.client import ConnectWiseClient
from psa.errors import (
    AuthError,
    BadRequest,
    ConfigurationError,
    NotFound,
    PermanentError,
    PSAError,
    RateLimited,
    RetryableError,
    ServerError,
    TransportError,
    error_from_response,
    parse_retry_after,
)
from tests.support.cloud_psa import BASE, INFO_URL, SITE

URL = BASE + "service/tickets/5"


def _response(status, *, json=None, text=None, headers=None):
    with responses.RequestsMock() as mock:
        if json is not None:
            mock.get(URL, status=status, json=json, headers=headers or {})
        else:
            mock.get(URL, status=status, body=text or "", headers=headers or {})
        return requests.get(URL)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthError),
        (403, AuthError),
        (404, NotFound),
        (405, BadRequest),
        (409, BadRequest),
        (422, BadRequest),
        (429, RateLimited),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
    ],
)
def test_it_maps_each_status_to_its_error_class(status, cls):
    error = error_from_response(_response(status, json={"code": "X", "message": "m"}), method="GET", url=URL)
    assert type(error) is cls
    assert error.status == status and error.method == "GET" and error.url == URL


def test_it_places_classes_in_the_retryable_and_permanent_branches():
    for cls in (RateLimited, ServerError, TransportError):
        assert issubclass(cls, RetryableError) and issubclass(cls, PSAError)
    for cls in (AuthError, NotFound, BadRequest, ConfigurationError):
        assert issubclass(cls, PermanentError) and not issubclass(cls, RetryableError)


def test_it_keeps_the_psa_message_code_and_body():
    body = {
        "code": "InvalidObject",
        "message": "Ticket object is invalid",
        "errors": [{"code": "NullValue", "message": "summary may not be empty", "resource": "ticket"}],
    }
    error = error_from_response(_response(400, json=body), method="PATCH", url=URL)
    assert error.psa_code == "InvalidObject"
    assert "Ticket object is invalid" in error.psa_message
    assert "summary may not be empty" in error.psa_message
    assert error.body == body
    text = str(error)
    assert text.startswith(f"PATCH {URL} → HTTP 400")
    assert "summary may not be empty" in text


def test_it_reads_retry_after_seconds_or_http_dates(frozen_now):
    error = error_from_response(
        _response(
            429,
            json={"error": "ConnectWiseAPI", "message": "Too many requests."},
            headers={"Retry-After": "30"},
        ),
        method="GET",
        url=URL,
    )
    assert error.retry_after == 30
    assert "Too many requests." in str(error)
    later = frozen_now + dt.timedelta(seconds=120)
    assert parse_retry_after(format_datetime(later, usegmt=True)) == 120
    assert parse_retry_after(format_datetime(frozen_now - dt.timedelta(seconds=5), usegmt=True)) == 0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None


def test_it_keeps_a_non_json_body_as_text():
    error = error_from_response(_response(502, text="<html>Bad gateway</html>"), method="GET", url=URL)
    assert error.body == "<html>Bad gateway</html>"
    assert "Bad gateway" in str(error)


@responses.activate
def test_it_never_shows_the_keys_in_error_text_or_reprs():
    responses.get(INFO_URL, json={"Codebase": "v2025_1/"})
    responses.get(URL, status=401, json={"code": "Unauthorized", "message": "Authentication failed"})
    client = ConnectWiseClient(
        site_url=SITE,
        company_id="acme",
        public_key="PUBLICKEY1",
        private_key="PRIVATEKEY2",
        client_id="guid",
    )
    with pytest.raises(AuthError) as caught:
        client.get("service/tickets/5")
    token = base64.b64encode(b"acme+PUBLICKEY1:PRIVATEKEY2").decode()
    for text in (str(caught.value), repr(caught.value), repr(client)):
        assert "PUBLICKEY1" not in text and "PRIVATEKEY2" not in text and token not in text
    assert "Authentication failed" in str(caught.value)
