import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest
import responses

from psa.connectwise.client import ConnectWiseClient, replace_ops
from psa.connectwise.conditions import split_in
from psa.errors import ConfigurationError, NotFound, PSAError
from tests.support.cloud_psa import BASE, COMPANY_INFO, INFO_URL, SITE

pytestmark = pytest.mark.usefixtures("fresh_cache")


def make_client(site=SITE, **kw):
    options = dict(
        site_url=site,
        company_id="acme",
        public_key="pub",
        private_key="priv",
        client_id="11111111-2222-3333-4444-555555555555",
        api_version="2025.1",
        sleep=lambda s: None,
    )
    options.update(kw)
    return ConnectWiseClient(**options)


def query(call):
    return {k: v[0] for k, v in parse_qs(urlsplit(call.request.url).query).items()}


def api_calls(cloud_psa):
    return [c for c in cloud_psa.calls if "/apis/3.0/" in c.request.url]


def records(first, last):
    return [{"id": i} for i in range(first, last + 1)]


# --- headers and discovery --------------------------------------------------------------------


def test_it_sends_basic_auth_client_id_and_versioned_accept_on_every_api_call(cloud_psa):
    cloud_psa.get(BASE + "system/info", json={"version": "v2025.1.12345", "isCloud": True})
    client = make_client(api_version="2024.3")
    assert client.system_info()["version"] == "v2025.1.12345"
    info_call, api_call = cloud_psa.calls
    headers = api_call.request.headers
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Basic" and base64.b64decode(token).decode() == "acme+pub:priv"
    assert headers["clientId"] == "11111111-2222-3333-4444-555555555555"
    assert headers["Accept"] == "application/vnd.connectwise.com+json; version=2024.3"
    assert "Authorization" not in info_call.request.headers  # companyinfo is unauthenticated


@pytest.mark.parametrize(
    ("site", "info_url", "base"),
    [
        (
            "https://eu.myconnectwise.net/",
            "https://eu.myconnectwise.net/login/companyinfo/acme",
            "https://api-eu.myconnectwise.net/v2025_1/apis/3.0/",
        ),
        (
            "aus.myconnectwise.net",
            "https://aus.myconnectwise.net/login/companyinfo/acme",
            "https://api-aus.myconnectwise.net/v2025_1/apis/3.0/",
        ),
        (
            "https://api-za.myconnectwise.net",
            "https://za.myconnectwise.net/login/companyinfo/acme",
            "https://api-za.myconnectwise.net/v2025_1/apis/3.0/",
        ),
        (
            "https://staging.connectwisedev.com",
            "https://staging.connectwisedev.com/login/companyinfo/acme",
            "https://api-staging.connectwisedev.com/v2025_1/apis/3.0/",
        ),
        (
            "https://psa.example.com:8443",
            "https://psa.example.com:8443/login/companyinfo/acme",
            "https://psa.example.com:8443/v4_6_release/apis/3.0/",
        ),
        (
            "http://127.0.0.1:8765",
            "http://127.0.0.1:8765/login/companyinfo/acme",
            "http://127.0.0.1:8765/v2025_1/apis/3.0/",
        ),
    ],
)
def test_it_discovers_the_api_base_per_site(site, info_url, base):
    with responses.RequestsMock() as rsps:
        codebase = "v4_6_release/" if "example.com" in site else "v2025_1/"
        rsps.get(info_url, json={**COMPANY_INFO, "Codebase": codebase})
        assert make_client(site=site).api_base == base


@pytest.mark.parametrize(
    "site", ["http://na.myconnectwise.net", "http://10.0.0.5", "ftp://x.example", "https://"]
)
def test_it_refuses_plain_http_and_broken_site_urls(site):
    with pytest.raises(ConfigurationError):
        make_client(site=site)


@pytest.mark.parametrize(
    "site", ["http://127.0.0.1:9", "http://127.8.0.1", "http://localhost:8000", "http://[::1]:80"]
)
def test_it_allows_plain_http_only_on_loopback(site):
    assert make_client(site=site).site.scheme == "http"


@pytest.mark.parametrize("missing", ["company_id", "public_key", "private_key", "client_id"])
def test_it_refuses_incomplete_credentials(missing):
    with pytest.raises(ConfigurationError):
        make_client(**{missing: ""})


@pytest.mark.parametrize("body", [None, {}, {"CompanyName": "x", "Codebase": "../evil"}])
def test_it_reports_an_unknown_company_or_bad_codebase_as_configuration_error(body):
    with responses.RequestsMock() as rsps:
        rsps.get(INFO_URL, body=json.dumps(body), content_type="application/json")
        with pytest.raises(ConfigurationError):
            make_client().company_info()


def test_it_caches_company_info_per_site_and_company(cloud_psa):
    cloud_psa.get(BASE + "system/info", json={})
    make_client().system_info()
    make_client().system_info()
    assert sum(1 for c in cloud_psa.calls if c.request.url == INFO_URL) == 1
    assert make_client().company_info()["CompanyName"] == "Acme MSP"
    assert make_client().company_info(refresh=True) == COMPANY_INFO
    assert sum(1 for c in cloud_psa.calls if c.request.url == INFO_URL) == 2


def test_it_rediscovers_the_codebase_after_an_upgrade_404(cloud_psa):
    cloud_psa.replace(responses.GET, INFO_URL, json={**COMPANY_INFO, "Codebase": "v2024_1/"})
    old = "https://api-na.myconnectwise.net/v2024_1/apis/3.0/"
    cloud_psa.get(old + "system/info", json={"version": "old"})
    assert make_client().system_info() == {"version": "old"}
    # The PSA upgrades: the old codebase path is gone (HTML 404), companyinfo says v2025_1/.
    cloud_psa.replace(responses.GET, old + "system/info", status=404, body="<html>Not Found</html>")
    cloud_psa.replace(responses.GET, INFO_URL, json=COMPANY_INFO)
    cloud_psa.get(BASE + "system/info", json={"version": "new"})
    client = make_client()
    assert client.system_info() == {"version": "new"}
    assert client.api_base == BASE
    assert make_client().api_base == BASE  # the cache holds the new codebase


def test_it_does_not_rediscover_on_a_record_not_found(cloud_psa):
    cloud_psa.get(
        BASE + "service/tickets/5",
        status=404,
        json={"code": "NotFound", "message": "Ticket with id 5 not found"},
    )
    with pytest.raises(NotFound, match="Ticket with id 5 not found"):
        make_client().get("/service/tickets/5")
    assert sum(1 for c in cloud_psa.calls if c.request.url == INFO_URL) == 1


# --- paging -----------------------------------------------------------------------------------


def _link(path, page_id):
    return {"Link": f'<{BASE}{path}?pageSize=3&pageId={page_id}>; rel="next"'}


def test_it_pages_forward_only_by_the_link_header_page_id(cloud_psa):
    url = BASE + "service/tickets"
    cloud_psa.get(url, json=records(1, 3), headers=_link("service/tickets", 3))
    cloud_psa.get(url, json=records(4, 6), headers=_link("service/tickets", 6))
    cloud_psa.get(url, json=records(7, 9))  # last page: no next link
    client = make_client()
    pages = list(
        client.iter_pages(
            "service/tickets", conditions="closedFlag = False", fields=["id", "status/id"], page_size=3
        )
    )
    assert [len(p) for p in pages] == [3, 3, 3]
    calls = api_calls(cloud_psa)
    assert [query(c).get("pageId") for c in calls] == [None, "3", "6"]
    for call in calls:
        assert call.request.headers["pagination-type"] == "forward-only"
        assert query(call)["conditions"] == "closedFlag = False"
        assert query(call)["fields"] == "id,status/id" and query(call)["pageSize"] == "3"
        assert "page" not in query(call) and "orderBy" not in query(call)
    assert client.requests_made == 4  # companyinfo + three pages


def test_it_stops_forward_only_paging_on_an_empty_or_short_page(cloud_psa):
    url = BASE + "company/companies"
    cloud_psa.get(url, json=records(1, 3), headers=_link("company/companies", 3))
    cloud_psa.get(url, json=[], headers=_link("company/companies", 3))
    assert make_client().list_all("company/companies", page_size=3) == records(1, 3)
    cloud_psa.replace(responses.GET, url, json=records(1, 2), headers=_link("company/companies", 2))
    assert make_client().list_all("company/companies", page_size=3) == records(1, 2)


def test_it_pages_by_number_when_forward_only_is_off(cloud_psa):
    url = BASE + "system/info/locations"
    cloud_psa.get(
        url, json=records(1, 2), headers={"Link": f'<{url}?page=2>; rel="next", <{url}?page=3>; rel="last"'}
    )
    cloud_psa.get(url, json=records(3, 4), headers={"Link": f'<{url}?page=3>; rel="next"'})
    cloud_psa.get(url, json=records(5, 5))
    pages = list(
        make_client().iter_pages(
            "system/info/locations", page_size=2, forward_only=False, order_by="name asc"
        )
    )
    assert pages == [records(1, 2), records(3, 4), records(5, 5)]
    calls = api_calls(cloud_psa)
    assert [query(c)["page"] for c in calls] == ["1", "2", "3"]
    assert all(query(c)["orderBy"] == "name asc" for c in calls)
    assert all("pagination-type" not in c.request.headers for c in calls)


def test_it_stops_numbered_paging_when_the_link_header_has_no_next(cloud_psa):
    url = BASE + "service/priorities"
    cloud_psa.get(url, json=records(1, 2), headers={"Link": f'<{url}?page=1>; rel="first"'})
    assert make_client().list_all("service/priorities", page_size=2, forward_only=False) == records(1, 2)
    assert len(api_calls(cloud_psa)) == 1


def test_it_refuses_order_by_with_forward_only_paging():
    with pytest.raises(ValueError):
        list(make_client().iter_pages("service/tickets", order_by="id desc"))


def test_it_keeps_every_url_under_2000_chars_for_5000_ids(cloud_psa):
    url = BASE + "service/tickets"
    cloud_psa.get(url, json=[])
    client = make_client()
    fields = ["id", "summary", "board/id", "status/id", "_info/lastUpdated"]
    chunks = split_in("id", range(1_000_000, 1_005_000), extra="closedFlag = False")
    for condition in chunks:
        list(client.iter_pages("service/tickets", conditions=condition, fields=fields))
    calls = api_calls(cloud_psa)
    assert len(calls) == len(chunks) > 1
    assert max(len(c.request.url) for c in calls) < 2000
    sent = set()
    for call in calls:
        inner = query(call)["conditions"].split("in (")[1].rstrip(")")
        sent.update(int(x) for x in inner.split(","))
    assert sent == set(range(1_000_000, 1_005_000))


def test_it_searches_with_conditions_in_the_body(cloud_psa):
    url = BASE + "service/tickets/search"
    cloud_psa.post(url, json=records(1, 2))
    cloud_psa.post(url, json=records(3, 3))
    long_condition = split_in("id", range(10_000), max_chars=100_000)[0]
    pages = list(make_client().search("service/tickets", conditions=long_condition, fields="id", page_size=2))
    assert pages == [records(1, 2), records(3, 3)]
    bodies = [json.loads(c.request.body) for c in api_calls(cloud_psa)]
    assert bodies[0] == {"conditions": long_condition, "page": 1, "pageSize": 2}
    assert bodies[1]["page"] == 2
    assert all(len(c.request.url) < 2000 for c in api_calls(cloud_psa))
    with pytest.raises(ValueError):
        next(make_client().search("company/companies", conditions="id = 1"))


# --- single records and writes ----------------------------------------------------------------


def test_it_counts_gets_posts_patches_and_deletes(cloud_psa):
    cloud_psa.get(BASE + "service/tickets/count", json={"count": 42})
    cloud_psa.get(BASE + "service/tickets/5", json={"id": 5})
    cloud_psa.post(BASE + "service/tickets/5/notes", status=201, json={"id": 77})
    cloud_psa.patch(BASE + "service/tickets/5", json={"id": 5, "status": {"id": 12}})
    cloud_psa.delete(BASE + "schedule/entries/9", status=204)
    client = make_client()
    assert client.count("service/tickets", conditions="closedFlag = False") == 42
    assert client.get("service/tickets/5") == {"id": 5}
    assert client.post("service/tickets/5/notes", {"text": "hi", "internalAnalysisFlag": True}) == {"id": 77}
    ops = replace_ops({"status/id": 12, "summary": "New"})
    assert client.patch("/service/tickets/5", ops)["status"] == {"id": 12}
    assert client.delete("schedule/entries/9") is None
    count_call, _, post_call, patch_call, _ = api_calls(cloud_psa)
    assert query(count_call)["conditions"] == "closedFlag = False"
    assert json.loads(post_call.request.body) == {"text": "hi", "internalAnalysisFlag": True}
    assert json.loads(patch_call.request.body) == [
        {"op": "replace", "path": "status", "value": {"id": 12}},
        {"op": "replace", "path": "summary", "value": "New"},
    ]
    assert client.requests_made == 6


def test_it_builds_replace_ops_with_whole_reference_objects():
    assert replace_ops({"board/id": 3, "board/name": "Help", "resources": "ab,cd"}) == [
        {"op": "replace", "path": "board", "value": {"id": 3, "name": "Help"}},
        {"op": "replace", "path": "resources", "value": "ab,cd"},
    ]
    assert replace_ops({"status": {"id": 4}}) == [{"op": "replace", "path": "status", "value": {"id": 4}}]
    with pytest.raises(ValueError):
        replace_ops({"status": 4, "status/id": 5})


class BrokenCache:
    def get(self, *a, **kw):
        raise ConnectionError("redis down")

    set = delete = get


def test_it_keeps_working_when_the_cache_is_down(cloud_psa, monkeypatch):
    from psa.connectwise import discovery

    monkeypatch.setattr(discovery, "cache", BrokenCache())
    cloud_psa.get(BASE + "system/info", json={"version": "v1"})
    assert make_client().system_info() == {"version": "v1"}


def test_it_continues_after_the_last_id_when_the_next_link_has_no_page_id(cloud_psa):
    url = BASE + "service/tickets"
    cloud_psa.get(url, json=records(1, 3), headers={"Link": f'<{url}?pageSize=3>; rel="next"'})
    cloud_psa.get(url, json=records(4, 5))
    assert ids_of(make_client().list_all("service/tickets", page_size=3)) == [1, 2, 3, 4, 5]
    assert [query(c).get("pageId") for c in api_calls(cloud_psa)] == [None, "3"]


def test_it_refuses_a_next_link_that_does_not_advance(cloud_psa):
    url = BASE + "service/tickets"
    cloud_psa.get(url, json=records(1, 3), headers=_link("service/tickets", 3))
    cloud_psa.get(url, json=records(4, 6), headers=_link("service/tickets", 3))
    with pytest.raises(PSAError, match="did not advance"):
        make_client().list_all("service/tickets", page_size=3)


def ids_of(rows):
    return [r["id"] for r in rows]
