"""Many ConnectWise tenants on one sandbox port: each its own company, keys, data and faults."""

from __future__ import annotations

import time

import pytest
import requests

from psa.connectwise.client import ConnectWiseClient
from psa.errors import AuthError, ServerError
from psa.http import RetryPolicy
from psa.sandbox.connectwise.tenants import SandboxTenants, tenant_faults_parse

pytestmark = pytest.mark.usefixtures("fresh_cache")

QUICK = RetryPolicy("quick", attempts=2, base=0.01, cap=0.05, connect_timeout=2, read_timeout=5)


@pytest.fixture(scope="module")
def tenants():
    with SandboxTenants(3, scale="tiny", seed=5, faults={2: "500=1"}) as running:
        yield running


def _client(credentials: dict) -> ConnectWiseClient:
    return ConnectWiseClient(**credentials, policy=QUICK, sleep=lambda _: None)


def _ticket_ids(client: ConnectWiseClient) -> list[int]:
    return [t["id"] for page in client.iter_pages("service/tickets", fields=["id"]) for t in page]


def test_it_answers_each_tenant_from_its_own_data_on_one_port(tenants):
    first, second = tenants.credentials(0), tenants.credentials(1)
    assert first["site_url"] == second["site_url"] == tenants.url
    assert first["company_id"] != second["company_id"] and first["private_key"] != second["private_key"]
    created = tenants.site(1).store.create("service/tickets", {"summary": "only in tenant 1"})
    assert created["id"] in _ticket_ids(_client(second))
    assert created["id"] not in _ticket_ids(_client(first))
    assert tenants.site(0).stats["requests"] >= 1 and tenants.site(1).stats["requests"] >= 1


def test_it_refuses_a_tenant_company_with_another_tenants_keys(tenants):
    mixed = {**tenants.credentials(0), "private_key": tenants.credentials(1)["private_key"]}
    with pytest.raises(AuthError):
        _client(mixed).count("service/tickets")


def test_it_tells_each_company_its_own_info_and_no_one_an_unknown_company(tenants):
    for index in (0, 2):
        company = tenants.credentials(index)["company_id"]
        info = requests.get(f"{tenants.url}/login/companyinfo/{company}", timeout=5).json()
        assert info["CompanyID"] == company
    assert requests.get(f"{tenants.url}/login/companyinfo/nobody", timeout=5).status_code == 404


def test_it_applies_a_tenants_faults_to_that_tenant_only(tenants):
    with pytest.raises(ServerError):
        _client(tenants.credentials(2)).count("service/tickets")
    assert _client(tenants.credentials(0)).count("service/tickets") == tenants.site(0).store.count(
        "service/tickets"
    )


def test_it_reads_tenant_fault_ranges():
    assert tenant_faults_parse(["0-2:latency_ms=2000", "4:500=1"], 5) == {
        0: "latency_ms=2000",
        1: "latency_ms=2000",
        2: "latency_ms=2000",
        4: "500=1",
    }
    for wrong in ("5:500=1", "x:500=1", "1", "2-1:500=1"):
        with pytest.raises(ValueError):
            tenant_faults_parse([wrong], 5)


def test_it_seeds_a_thousand_tiny_tenants_on_one_host():
    started = time.perf_counter()
    many = SandboxTenants(1000, scale="tiny")
    try:
        assert len({site.company for site in many.sites}) == 1000
        assert many.site(999).store.count("service/tickets") == 30
    finally:
        many.stop()
    print(f"\n1000 tiny tenants generated in {time.perf_counter() - started:.1f} s")
