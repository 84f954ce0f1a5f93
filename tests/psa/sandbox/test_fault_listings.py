"""Listing faults (`KIND@COLLECTION=VALUE`): what a faulty forward-only listing answers, while
`/count` keeps telling the truth."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from psa.sandbox.faults import FAR_DATE, NESTING_DEPTH, YEAR_ZERO_DATE, FaultSpec

TICKETS = "service/tickets"


def _walk(api, path: str, page_size: int = 50) -> list[list[dict]]:
    """Every page of a forward-only listing, following the Link header's next URL."""
    pages, page_id = [], None
    while True:
        params = {"pageSize": page_size, "fields": "id"}
        if page_id is not None:
            params["pageId"] = page_id
        response = api.forward(path, **params)
        assert response.status_code == 200
        pages.append(response.json())
        next_url = response.links.get("next", {}).get("url")
        if not next_url:
            return pages
        page_id = parse_qs(urlsplit(next_url).query)["pageId"][0]


def _count(api, path: str) -> int:
    return api.get(f"{path}/count").json()["count"]


def _ids(pages: list[list[dict]]) -> list[int]:
    return [record["id"] for page in pages for record in page]


def test_it_answers_an_empty_listing_but_the_true_count(fresh_sandbox, fresh_api):
    fresh_sandbox.faults = f"empty@{TICKETS}=1"
    assert fresh_api.forward(TICKETS, pageSize=10).json() == []
    assert _count(fresh_api, TICKETS) == fresh_sandbox.store.count(TICKETS) > 0


def test_it_truncates_a_listing_with_full_pages_that_look_normal(fresh_sandbox, fresh_api):
    everything = _ids(_walk(fresh_api, TICKETS))
    fresh_sandbox.faults = f"truncate@{TICKETS}=0.6"
    pages = _walk(fresh_api, TICKETS)
    listed = _ids(pages)
    assert all(len(page) == 50 for page in pages[:-1])  # full pages, linked as usual
    assert 0.5 < len(listed) / len(everything) < 0.7
    assert set(listed) < set(everything) and listed == sorted(listed)
    assert _count(fresh_api, TICKETS) == len(everything)


def test_it_ends_a_listing_early_at_a_share_of_it(fresh_sandbox, fresh_api):
    everything = _ids(_walk(fresh_api, TICKETS))
    fresh_sandbox.faults = f"end_early@{TICKETS}=0.55"
    listed = _ids(_walk(fresh_api, TICKETS))
    assert listed == everything[: int(len(everything) * 0.55)]
    assert _count(fresh_api, TICKETS) == len(everything)


def test_it_faults_only_the_named_collection_of_a_nested_listing(fresh_sandbox, fresh_api):
    board_ids = [board["id"] for board in fresh_sandbox.store.list("service/boards")]
    fresh_sandbox.faults = f"empty@service/boards/{board_ids[0]}/statuses=1"
    assert fresh_api.forward(f"service/boards/{board_ids[0]}/statuses").json() == []
    assert fresh_api.forward(f"service/boards/{board_ids[1]}/statuses").json() != []
    fresh_sandbox.faults = "empty@service/boards/{parentId}/statuses=1"
    assert fresh_api.forward(f"service/boards/{board_ids[1]}/statuses").json() == []


def test_it_sends_bad_records_among_good_ones(fresh_sandbox, fresh_api):
    first, second, third, fourth, fifth = _ids(_walk(fresh_api, TICKETS))[:5]
    fresh_sandbox.faults = (
        f"far_date@{TICKETS}={first},year0@{TICKETS}={second},fractional_id@{TICKETS}={third},"
        f"mangle@{TICKETS}={fourth},deep@{TICKETS}={fifth}"
    )
    text = fresh_api.forward(TICKETS, pageSize=5).text
    with pytest.raises((ValueError, RecursionError)):
        json.loads(text)
    assert FAR_DATE in text and YEAR_ZERO_DATE in text and '"id":1.5' in text
    assert f'{{"id":{fourth},"summary":"mangled record","board":{{"id":tru}}}}' in text
    assert "[" * NESTING_DEPTH in text
    fresh_sandbox.faults = f"far_date@{TICKETS}={first}"
    [record] = fresh_api.forward(TICKETS, pageSize=1, fields="id,_info/dateEntered").json()
    assert record == {"id": first, "_info": {"dateEntered": FAR_DATE}}


@pytest.mark.parametrize(
    "spec",
    ["truncate@service/tickets=1.5", "mangle@service/tickets=1.5", "sideways@service/tickets=1", "empty@=1"],
)
def test_it_refuses_a_listing_fault_it_cannot_apply(spec):
    with pytest.raises(ValueError):
        FaultSpec.parse(spec)


def test_it_describes_and_clears_listing_faults():
    spec = FaultSpec.parse("500=0.1,truncate@Service/Tickets=0.6")
    assert "truncate@service/tickets=0.6" in spec.describe()
    spec.clear()
    assert spec.listings.items == {} and spec.error_500 == 0
