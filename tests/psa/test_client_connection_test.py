import pytest
import responses
from django.contrib.messages import get_messages
from django.urls import reverse

from sync.services.connections import connection_test
from tests.support.cloud_psa import BASE, INFO_URL, SITE
from tests.support.connections import make_connection

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


@pytest.fixture
def connection():
    return make_connection("Acme", site_url=SITE, client_id="11111111-2222-3333-4444-555555555555")


@responses.activate
def test_it_reports_version_and_codebase_of_a_working_connection(connection):
    responses.get(
        INFO_URL, json={"CompanyName": "Acme MSP", "Codebase": "v2025_1/", "VersionCode": "v2025.1"}
    )
    responses.get(
        BASE + "system/info", json={"version": "v2025.1.99", "isCloud": True, "serverTimeZone": "UTC"}
    )
    result = connection_test(connection=connection)
    assert result["ok"] is True
    assert result["codebase"] == "v2025_1/" and result["version"] == "v2025.1.99"
    assert result["api_url"] == BASE and result["requests_made"] == 2


@responses.activate
def test_it_reports_the_exact_psa_error_without_retrying_a_401(connection):
    responses.get(INFO_URL, json={"CompanyName": "Acme MSP", "Codebase": "v2025_1/"})
    responses.get(
        BASE + "system/info", status=401, json={"code": "Unauthorized", "message": "Authentication failed."}
    )
    result = connection_test(connection=connection)
    assert result["ok"] is False and result["error_type"] == "AuthError"
    assert "HTTP 401" in result["error"] and "Authentication failed." in result["error"]
    assert "priv" not in result["error"]
    assert len(responses.calls) == 2


@responses.activate
def test_it_reports_an_unknown_company(connection):
    responses.get(INFO_URL, body="null", content_type="application/json")
    result = connection_test(connection=connection)
    assert result == {"ok": False, "error": result["error"], "error_type": "ConfigurationError"}
    assert "'acme' is unknown" in result["error"]


def test_it_reports_plain_http_on_a_public_host(connection):
    connection.credentials = {**connection.credentials, "site_url": "http://eu.myconnectwise.net"}
    result = connection_test(connection=connection)
    assert result["ok"] is False and "https is required" in result["error"]


@responses.activate
def test_it_shows_the_result_from_the_admin_action(admin_client, connection):
    failing = make_connection("Broken", site_url="https://psa.example.com", company_id="nobody")
    responses.get(INFO_URL, json={"CompanyName": "Acme MSP", "Codebase": "v2025_1/"})
    responses.get(BASE + "system/info", json={"version": "v2025.1.99"})
    responses.get(
        "https://psa.example.com/login/companyinfo/nobody", body="null", content_type="application/json"
    )
    response = admin_client.post(
        reverse("admin:sync_connection_changelist"),
        {"action": "test_connection", "_selected_action": [connection.pk, failing.pk]},
        follow=True,
    )
    assert response.status_code == 200
    shown = {m.level_tag: m.message for m in get_messages(response.wsgi_request)} or {
        m.level_tag: m.message for m in response.context["messages"]
    }
    assert (
        "Acme: OK" in shown["success"] and "v2025.1.99" in shown["success"] and "v2025_1/" in shown["success"]
    )
    assert "Broken: FAILED" in shown["error"] and "'nobody' is unknown" in shown["error"]
