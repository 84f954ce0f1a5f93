"""A listing page that does not decode: asked for again, then read record by record (one bad
record is handed back as UnparsableRecord, the rest of the page as usual)."""

from __future__ import annotations

import pytest

from psa.connectwise.client import ConnectWiseClient
from psa.errors import PSAError
from psa.lenient import UnparsableRecord
from tests.support.cloud_psa import BASE, SITE

URL = BASE + "company/companies"
GOOD = '[{"id":1,"name":"a"},{"id":2,"name":"b"},{"id":3,"name":"c"}]'
MANGLED = '[{"id":1,"name":"a"},{"id":2,"name":tru},{"id":3,"name":"c"}]'
DEEP = '[{"id":1},{"id":2,"x":' + "[" * 3000 + "]" * 3000 + '},{"id":3,"s":"],\\"{"}]'


def _client() -> ConnectWiseClient:
    return ConnectWiseClient(
        site_url=SITE,
        company_id="acme",
        public_key="pub",
        private_key="priv",
        client_id="11111111-2222-3333-4444-555555555555",
        sleep=lambda s: None,
    )


def _api_calls(cloud_psa) -> int:
    return sum(1 for call in cloud_psa.calls if "/apis/3.0/" in call.request.url)


def _serve(cloud_psa, *bodies: str) -> None:
    for body in bodies:
        cloud_psa.get(URL, body=body, content_type="application/json")


def test_it_asks_again_for_a_page_that_did_not_decode(cloud_psa):
    _serve(cloud_psa, MANGLED, GOOD)
    assert _client().list_all("company/companies") == [
        {"id": 1, "name": "a"},
        {"id": 2, "name": "b"},
        {"id": 3, "name": "c"},
    ]
    assert _api_calls(cloud_psa) == 2


@pytest.mark.parametrize(("body", "error"), [(MANGLED, "JSONDecodeError"), (DEEP, "RecursionError")])
def test_it_reads_a_page_record_by_record_when_it_fails_twice(cloud_psa, body, error):
    _serve(cloud_psa, body, body)
    first, bad, last = _client().list_all("company/companies", keep_unparsable=True)
    assert first["id"] == 1 and last["id"] == 3
    assert isinstance(bad, UnparsableRecord) and bad.psa_id == 2 and bad.error.startswith(error)
    assert _api_calls(cloud_psa) == 2


def test_it_fails_the_listing_of_a_caller_that_did_not_ask_for_unparsable_records(cloud_psa):
    _serve(cloud_psa, MANGLED, MANGLED)
    with pytest.raises(PSAError, match="1 record"):
        _client().list_all("company/companies")


def test_it_fails_the_listing_when_the_answer_is_no_array_at_all(cloud_psa):
    _serve(cloud_psa, "[{oops", "[{oops")
    with pytest.raises(PSAError, match="not JSON"):
        _client().list_all("company/companies")
