import pytest
import responses
from responses import matchers

from psa.autotask.query import cond, query_text
from psa.errors import AuthError, BadRequest, ConfigurationError, ServerError
from tests.psa.autotask.mock import (
    API,
    CODE,
    DISCOVERY,
    SECRET,
    USER,
    ZONE,
    api_calls,
    body_of,
    make_client,
    page,
    threshold_answer,
    zone_answer,
)

pytestmark = pytest.mark.django_db


def test_it_discovers_the_zone_without_auth_and_caches_it(autotask):
    autotask.post(API + "Companies/query", json=page([{"id": 1}]))
    assert make_client().list_all("Companies") == [{"id": 1}]
    discovery = autotask.calls[0].request
    assert discovery.url == DISCOVERY + "v1.0/zoneInformation?user=api%40acme.example"
    assert "Secret" not in discovery.headers and "ApiIntegrationCode" not in discovery.headers
    make_client().list_all("Companies")  # a second client: the zone comes from the cache
    assert sum("zoneInformation" in c.request.url for c in autotask.calls) == 1


def test_it_sends_the_auth_headers_on_every_call_and_impersonates_only_writes(autotask):
    autotask.post(API + "Tickets/query", json=page([]))
    autotask.patch(API + "Tickets", json={"itemId": 7})
    client = make_client()
    client.list_all("Tickets")
    client.update("Tickets", 7, {"status": 5}, impersonate=31)
    query, patch = (c.request for c in api_calls(autotask))
    for request in (query, patch):
        assert (
            request.headers["ApiIntegrationCode"],
            request.headers["UserName"],
            request.headers["Secret"],
        ) == (CODE, USER, SECRET)
    assert "ImpersonationResourceId" not in query.headers
    assert patch.headers["ImpersonationResourceId"] == "31"
    assert body_of(api_calls(autotask)[1]) == {"status": 5, "id": 7}


def test_a_401_rediscovers_the_zone_once_and_retries_where_it_moved(fresh_cache):
    moved = "https://webservices15.autotask.net/ATServicesRest/"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        zone_answer(rsps)
        threshold_answer(rsps)
        threshold_answer(rsps, url=moved)
        rsps.post(API + "Companies/query/count", status=401)
        rsps.get(DISCOVERY + "v1.0/zoneInformation", json={"url": moved, "ci": 4242})
        rsps.post(moved + "V1.0/Companies/query/count", json={"queryCount": 3})
        assert make_client().count("Companies") == 3


def test_a_401_where_the_zone_did_not_move_is_a_clear_auth_error(fresh_cache):
    with responses.RequestsMock() as rsps:
        zone_answer(rsps)
        threshold_answer(rsps)
        rsps.post(API + "Companies/query/count", status=401)
        with pytest.raises(AuthError, match="username and secret"):
            make_client().count("Companies")
        # discovery, the 401, discovery again: no blind retry of the 401
        assert [
            c.request.url.split("/")[-1].split("?")[0] for c in rsps.calls if "Threshold" not in c.request.url
        ] == ["zoneInformation", "count", "zoneInformation"]


def test_an_unknown_user_is_told_at_zone_discovery(fresh_cache):
    with responses.RequestsMock() as rsps:
        rsps.get(
            DISCOVERY + "v1.0/zoneInformation",
            status=500,
            json={"errors": ["Zone information could not be determined"]},
        )
        with pytest.raises(AuthError, match="does not know the API user"):
            make_client().count("Companies")
        assert len(rsps.calls) == 1


def test_it_pages_by_posting_the_same_body_to_next_page_url(autotask):
    next_url = API + "Tickets/query/next?paging=%7b%22pageSize%22%3a2%7d"
    autotask.post(API + "Tickets/query", json=page([{"id": 1}, {"id": 2}], next_url))
    autotask.post(
        next_url,
        json=page([{"id": 3}]),
        match=[matchers.query_string_matcher("paging=%7b%22pageSize%22%3a2%7d")],
    )
    pages = list(
        make_client().iter_pages(
            "Tickets",
            conditions=query_text(cond("status", "noteq", 5)),
            fields=["id", "title", "@parent", "_info/lastUpdated", "queueID"],
            page_size=1000,
        )
    )
    assert pages == [[{"id": 1}, {"id": 2}], [{"id": 3}]]
    first, second = (body_of(c) for c in api_calls(autotask))
    assert (
        first
        == second
        == {
            "filter": [{"op": "noteq", "field": "status", "value": 5}],
            "MaxRecords": 500,
            "IncludeFields": ["id", "title", "queueID"],
        }
    )


def test_it_follows_a_get_form_next_url_with_get_and_refuses_another_host(autotask):
    get_form = API + "Companies/query/next?paging=x&search=%7b%7d"
    autotask.post(API + "Companies/query", json=page([{"id": 1}], get_form))
    autotask.get(get_form, json=page([{"id": 2}], "https://evil.example/V1.0/Companies/query/next?paging=y"))
    pages = make_client().iter_pages("Companies")
    assert next(pages) == [{"id": 1}]
    assert next(pages) == [{"id": 2}]
    with pytest.raises(Exception, match="another host"):
        next(pages)


def test_an_unfiltered_listing_sends_id_gte_0_and_after_id_resumes_with_id_gt(autotask):
    autotask.post(API + "Resources/query", json=page([]))
    client = make_client()
    list(client.iter_pages("Resources"))
    list(client.iter_pages("Resources", after_id=725))
    assert body_of(api_calls(autotask)[0])["filter"] == [{"op": "gte", "field": "id", "value": 0}]
    assert body_of(api_calls(autotask)[1])["filter"] == [{"op": "gt", "field": "id", "value": 725}]


def test_long_in_lists_become_several_queries_under_500_conditions(autotask):
    autotask.post(API + "TicketNotes/query", json=page([{"id": 9}]))
    autotask.post(API + "TicketNotes/query/count", json={"queryCount": 2})
    client = make_client()
    conditions = query_text(cond("noteType", "noteq", 13), cond("ticketID", "in", list(range(1, 1001))))
    assert client.list_all("TicketNotes", conditions=conditions) == [{"id": 9}] * 3
    assert client.count("TicketNotes", conditions=conditions) == 6
    sent = [body_of(c)["filter"] for c in api_calls(autotask)[:3]]
    assert [len(f[-1]["value"]) for f in sent] == [499, 499, 2]


def test_get_treats_404_and_item_null_as_gone(autotask):
    autotask.get(API + "Tickets/1", json={"item": {"id": 1, "title": "x"}})
    autotask.get(API + "Tickets/2", json={"item": None})
    autotask.get(API + "Tickets/3", status=404)
    client = make_client()
    assert client.get("Tickets/1") == {"id": 1, "title": "x"}
    assert client.get("Tickets/2") is None and client.get("Tickets/3") is None


def test_a_business_rule_500_is_final_and_names_the_rule(autotask):
    autotask.post(
        API + "Tickets", status=500, json={"errors": ["Ticket title is required.", "Queue is invalid."]}
    )
    with pytest.raises(BadRequest) as caught:
        make_client().create("Tickets", {"queueID": 1})
    assert caught.value.psa_message == "Ticket title is required.; Queue is invalid."
    assert "Ticket title is required." in str(caught.value)
    assert len([c for c in autotask.calls if c.request.method == "POST"]) == 1


def test_a_bare_500_and_a_429_are_retried(autotask):
    autotask.post(API + "Tickets/query/count", status=500)
    autotask.post(API + "Tickets/query/count", status=429)
    autotask.post(API + "Tickets/query/count", json={"queryCount": 4})
    assert make_client().count("Tickets") == 4


def test_a_bare_500_that_persists_is_a_server_error(autotask):
    autotask.post(API + "Tickets/query/count", status=503)
    with pytest.raises(ServerError):
        make_client().count("Tickets")


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (
            405,
            {"Message": "The requested resource does not support http method 'GET'."},
            BadRequest,
            "does not support",
        ),
        (
            500,
            {"errors": ["The logged in Resource does not have the adequate permissions"]},
            AuthError,
            "security level",
        ),
        (500, {"errors": ["IntegrationCode is invalid"]}, AuthError, "refused the credentials"),
        (200, {"errors": ["Something went wrong"]}, BadRequest, "Something went wrong"),
    ],
)
def test_it_parses_autotask_error_bodies(autotask, status, body, error, text):
    autotask.get(API + "Tickets/5", status=status, json=body)
    with pytest.raises(error, match=text):
        make_client().get("Tickets/5")


def test_writes_answer_the_item_id_on_root_and_child_collections(autotask):
    autotask.post(API + "Tickets/7/Notes", json={"itemId": 70})
    autotask.delete(API + "Tickets/7/SecondaryResources/3", json={"itemId": 3})
    client = make_client()
    assert (
        client.create("Tickets/7/Notes", {"title": "t", "description": "d", "noteType": 1, "publish": 1})
        == 70
    )
    assert client.delete("Tickets/7/SecondaryResources", 3) == 3


def test_picklists_are_listed_as_records(autotask):
    autotask.get(
        API + "Tickets/entityInformation/fields",
        json={
            "fields": [
                {
                    "name": "Status",
                    "isPickList": True,
                    "picklistValues": [
                        {
                            "value": "5",
                            "label": "Complete",
                            "isActive": True,
                            "sortOrder": 9,
                            "isSystem": True,
                        },
                        {
                            "value": "1",
                            "label": "New",
                            "isActive": True,
                            "sortOrder": 1,
                            "isDefaultValue": True,
                        },
                        {"value": "x", "label": "Broken"},
                    ],
                },
            ]
        },
    )
    client = make_client()
    records = client.list_all("picklist:Tickets.status")
    assert [r["id"] for r in records] == ["x", 1, 5]
    assert records[1] == {
        "id": 1,
        "name": "New",
        "isActive": True,
        "sortOrder": 1,
        "isDefaultValue": True,
        "isSystem": False,
        "parentValue": "",
    }
    assert client.count("picklist:Tickets.status") == 3
    assert sum("entityInformation" in c.request.url for c in autotask.calls) == 1  # once per client


def test_it_refuses_to_start_without_credentials():
    from psa.autotask.client import AutotaskClient

    with pytest.raises(ConfigurationError):
        AutotaskClient(username=USER, secret="", integration_code=CODE)


def test_the_zone_url_answered_is_the_api_base(autotask):
    assert make_client().api_base == ZONE + "V1.0/"
