import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db_connection

from sync.models import Connection


def test_it_creates_then_updates_by_name(db):
    args = [
        "--name",
        "acme",
        "--site",
        "https://na.myconnectwise.net",
        "--company",
        "acme",
        "--public-key",
        "pub",
        "--private-key",
        "priv",
        "--client-id",
        "guid",
    ]
    call_command("connection_add", *args)
    call_command("connection_add", *args[:-2], "--client-id", "guid2")
    conn = Connection.objects.get(name="acme")
    assert Connection.objects.count() == 1
    assert conn.client_id == "guid2"
    assert conn.private_key == "priv"


@pytest.mark.parametrize(
    "site, extra, message",
    [
        ("ftp://na.myconnectwise.net", [], "must use https"),
        ("http://na.myconnectwise.net", [], "https is required"),
        ("https://na.myconnectwise.net", ["--retention-days", "-3"], "cannot be negative"),
    ],
)
def test_it_refuses_a_site_or_retention_the_client_could_not_use(db, site, extra, message):
    args = [
        "--name",
        "acme",
        "--site",
        site,
        "--company",
        "acme",
        "--public-key",
        "pub",
        "--private-key",
        "priv",
    ]
    with pytest.raises(CommandError, match=message):
        call_command("connection_add", *args, *extra)
    assert not Connection.objects.exists()


def test_it_accepts_plain_http_for_a_loopback_sandbox(db):
    call_command(
        "connection_add",
        "--name",
        "sandbox",
        "--site",
        "http://127.0.0.1:8765",
        "--company",
        "c",
        "--public-key",
        "pub",
        "--private-key",
        "priv",
    )
    assert Connection.objects.get().site_url == "http://127.0.0.1:8765"


def test_it_encrypts_keys_at_rest(db):
    Connection.objects.create(
        name="x", site_url="https://s", company_id="c", public_key="PUBLIC", private_key="SECRET"
    )
    with db_connection.cursor() as cur:
        cur.execute("select public_key, private_key from sync_connection")
        stored = cur.fetchone()
    assert "SECRET" not in stored[1] and "PUBLIC" not in stored[0]
    assert Connection.objects.get(name="x").private_key == "SECRET"


def test_repr_never_shows_keys(db):
    conn = Connection(name="x", public_key="PUBLIC", private_key="SECRET")
    assert "SECRET" not in repr(conn) and "PUBLIC" not in repr(conn)


def test_it_never_shows_keys_back_in_the_admin_and_keeps_them_when_left_blank(admin_client):
    conn = Connection.objects.create(
        name="acme",
        site_url="https://na.myconnectwise.net",
        company_id="acme",
        public_key="PUBLIC-K",
        private_key="SECRET-K",
        client_id="guid",
    )
    page = admin_client.get(f"/admin/sync/connection/{conn.pk}/change/").content.decode()
    assert "SECRET-K" not in page and "PUBLIC-K" not in page
    form = {
        "name": "acme",
        "provider": "connectwise",
        "site_url": conn.site_url,
        "company_id": "acme",
        "public_key": "",
        "private_key": "",
        "client_id": "guid2",
        "api_version": "2025.1",
        "enabled": "on",
        "closed_ticket_retention_days": "7",
        "background_budget_per_minute": "",
    }
    response = admin_client.post(f"/admin/sync/connection/{conn.pk}/change/", form)
    assert response.status_code == 302
    conn.refresh_from_db()
    assert (conn.client_id, conn.public_key, conn.private_key) == ("guid2", "PUBLIC-K", "SECRET-K")


def test_it_refuses_a_plain_http_public_site_in_the_admin(admin_client):
    form = {
        "name": "acme",
        "provider": "connectwise",
        "site_url": "http://na.myconnectwise.net",
        "company_id": "acme",
        "public_key": "pub",
        "private_key": "priv",
        "client_id": "",
        "api_version": "2025.1",
        "enabled": "on",
        "closed_ticket_retention_days": "7",
        "background_budget_per_minute": "",
    }
    response = admin_client.post("/admin/sync/connection/add/", form)
    assert response.status_code == 200 and "https is required" in response.content.decode()
    assert not Connection.objects.exists()
    form["site_url"] = "https://na.myconnectwise.net"
    assert admin_client.post("/admin/sync/connection/add/", form).status_code == 302
    assert Connection.objects.get().site_url == "https://na.myconnectwise.net"
