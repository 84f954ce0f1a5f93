from django.core.management import call_command
from django.db import connection as db_connection

from sync.models import Connection


def test_it_creates_then_updates_by_name(db):
    args = ["--name", "acme", "--site", "https://na.myconnectwise.net", "--company", "acme",
            "--public-key", "pub", "--private-key", "priv", "--client-id", "guid"]
    call_command("connection_add", *args)
    call_command("connection_add", *args[:-2], "--client-id", "guid2")
    conn = Connection.objects.get(name="acme")
    assert Connection.objects.count() == 1
    assert conn.client_id == "guid2"
    assert conn.private_key == "priv"


def test_it_encrypts_keys_at_rest(db):
    Connection.objects.create(name="x", site_url="https://s", company_id="c",
                              public_key="PUBLIC", private_key="SECRET")
    with db_connection.cursor() as cur:
        cur.execute("select public_key, private_key from sync_connection")
        stored = cur.fetchone()
    assert "SECRET" not in stored[1] and "PUBLIC" not in stored[0]
    assert Connection.objects.get(name="x").private_key == "SECRET"


def test_repr_never_shows_keys(db):
    conn = Connection(name="x", public_key="PUBLIC", private_key="SECRET")
    assert "SECRET" not in repr(conn) and "PUBLIC" not in repr(conn)
