"""Connections: provider credentials documents, validated by the provider, encrypted at rest and
never shown back (command, admin, repr), and the migration that made them."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection as db_connection

from sync.models import Connection
from tests.support.connections import cw_credentials, make_connection

CONNECTWISE_ARGS = [
    "--name",
    "acme",
    "--site-url",
    "https://na.myconnectwise.net",
    "--company-id",
    "acme",
    "--public-key",
    "pub",
    "--private-key",
    "priv",
    "--client-id",
    "guid",
]


def test_it_creates_then_updates_by_name(db):
    call_command("connection_add", *CONNECTWISE_ARGS)
    call_command("connection_add", *CONNECTWISE_ARGS[:-2], "--client-id", "guid2")
    conn = Connection.objects.get(name="acme")
    assert Connection.objects.count() == 1
    assert conn.credentials == cw_credentials(client_id="guid2")


def test_it_takes_secrets_from_the_environment_instead_of_the_command_line(db, monkeypatch):
    monkeypatch.setenv("TOPLEFT_PRIVATE_KEY", "from-env")
    args = [a for a in CONNECTWISE_ARGS if a not in ("--private-key", "priv")]
    call_command("connection_add", *args)
    assert Connection.objects.get().credentials["private_key"] == "from-env"


@pytest.mark.parametrize(
    "site, extra, message",
    [
        ("ftp://na.myconnectwise.net", [], "must use https"),
        ("http://na.myconnectwise.net", [], "https is required"),
        ("https://na.myconnectwise.net", ["--retention-days", "-3"], "cannot be negative"),
    ],
)
def test_it_refuses_a_site_or_retention_the_client_could_not_use(db, site, extra, message):
    args = [*CONNECTWISE_ARGS]
    args[args.index("--site-url") + 1] = site
    with pytest.raises(CommandError, match=message):
        call_command("connection_add", *args, *extra)
    assert not Connection.objects.exists()


def test_it_names_every_missing_credential(db):
    with pytest.raises(CommandError) as refused:
        call_command("connection_add", "--name", "acme", "--site-url", "https://na.myconnectwise.net")
    for field in ("company_id", "public_key", "private_key", "client_id"):
        assert f"{field}: required" in str(refused.value)


def test_it_accepts_plain_http_for_a_loopback_sandbox(db):
    args = [*CONNECTWISE_ARGS]
    args[args.index("--site-url") + 1] = "http://127.0.0.1:8765/"
    call_command("connection_add", *args)
    assert Connection.objects.get().credentials["site_url"] == "http://127.0.0.1:8765"


def test_it_encrypts_the_credentials_document_at_rest(db):
    make_connection("x", public_key="PUBLIC", private_key="SECRET", company_id="company-c")
    with db_connection.cursor() as cur:
        cur.execute("select credentials from sync_connection")
        [stored] = cur.fetchone()
    assert "SECRET" not in stored and "PUBLIC" not in stored and "company-c" not in stored
    assert Connection.objects.get(name="x").credentials["private_key"] == "SECRET"


def test_repr_never_shows_keys(db):
    conn = Connection(name="x", credentials=cw_credentials(public_key="PUBLIC", private_key="SECRET"))
    assert "SECRET" not in repr(conn) and "PUBLIC" not in repr(conn)


def _admin_form(**overrides) -> dict:
    form = {
        "name": "acme",
        "provider": "connectwise",
        "connectwise__site_url": "https://na.myconnectwise.net",
        "connectwise__company_id": "acme",
        "connectwise__public_key": "pub",
        "connectwise__private_key": "priv",
        "connectwise__client_id": "guid",
        "connectwise__api_version": "2025.1",
        "enabled": "on",
        "closed_ticket_retention_days": "7",
        "background_budget_per_minute": "",
    }
    return {**form, **overrides}


def test_it_never_shows_keys_back_in_the_admin_and_keeps_them_when_left_blank(admin_client):
    conn = make_connection("acme", public_key="PUBLIC-K", private_key="SECRET-K")
    page = admin_client.get(f"/admin/sync/connection/{conn.pk}/change/").content.decode()
    assert "SECRET-K" not in page and "PUBLIC-K" not in page
    assert "https://na.myconnectwise.net" in page  # the site is shown, only secrets are not
    form = _admin_form(
        connectwise__public_key="", connectwise__private_key="", connectwise__client_id="guid2"
    )
    response = admin_client.post(f"/admin/sync/connection/{conn.pk}/change/", form)
    assert response.status_code == 302
    conn.refresh_from_db()
    assert conn.credentials == cw_credentials(
        public_key="PUBLIC-K", private_key="SECRET-K", client_id="guid2"
    )


def test_it_refuses_a_plain_http_public_site_in_the_admin(admin_client):
    form = _admin_form(connectwise__site_url="http://na.myconnectwise.net")
    response = admin_client.post("/admin/sync/connection/add/", form)
    assert response.status_code == 200 and "https is required" in response.content.decode()
    assert not Connection.objects.exists()
    assert admin_client.post("/admin/sync/connection/add/", _admin_form()).status_code == 302
    assert Connection.objects.get().credentials["site_url"] == "https://na.myconnectwise.net"


def test_it_requires_the_keys_of_a_new_connection_in_the_admin(admin_client):
    response = admin_client.post("/admin/sync/connection/add/", _admin_form(connectwise__private_key=""))
    assert response.status_code == 200 and "required" in response.content.decode()
    assert not Connection.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_connectwise_columns_into_the_encrypted_document():
    from django.db.migrations.executor import MigrationExecutor

    before = ("sync", "0005_pending_refreshes")  # the last migration with the key columns
    executor = MigrationExecutor(db_connection)
    executor.migrate([before])
    old_state = executor.loader.project_state(before).apps
    legacy_keys = {
        "site_url": "https://eu.myconnectwise.net",
        "company_id": "legacy-co",
        "public_key": "OLD-PUBLIC",
        "private_key": "OLD-SECRET",
        "client_id": "legacy-guid",
        "api_version": "2024.1",
    }
    old_state.get_model("sync", "Connection").objects.create(
        name="legacy", webhook_token="legacy-token", **legacy_keys
    )
    executor = MigrationExecutor(db_connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    moved = Connection.objects.get(name="legacy")
    assert moved.credentials == cw_credentials(**legacy_keys)
    with db_connection.cursor() as cur:
        cur.execute("select credentials from sync_connection where name = 'legacy'")
        assert "OLD-SECRET" not in cur.fetchone()[0]
