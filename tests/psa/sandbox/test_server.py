"""Server life cycle: HTTPS with a given certificate, background activity, keep-alive, command."""

from __future__ import annotations

import datetime as dt
import ipaddress
import threading

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from psa.sandbox.connectwise import SandboxServer
from tests.psa.sandbox.conftest import ANCHOR, Api
from tests.support.waiting import wait_until


@pytest.fixture
def certificate(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(cert_path), str(key_path)


def test_it_serves_https_with_the_given_certificate(certificate):
    cert, key = certificate
    with SandboxServer(scale="small", seed=1, anchor=ANCHOR, tls_cert=cert, tls_key=key) as sandbox:
        assert sandbox.url.startswith("https://127.0.0.1:")
        info = requests.get(f"{sandbox.url}/login/companyinfo/sandbox", verify=cert, timeout=5).json()
        assert info["Codebase"] == "v2025_1/"
        api = Api(sandbox)
        # per request: requests lets a CA bundle from the environment override Session.verify
        assert len(api.get("service/tickets", verify=cert).json()) == 25
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"{sandbox.url}/login/companyinfo/sandbox", timeout=5)  # not a trusted CA


def test_it_makes_background_edits_that_bump_last_updated():
    with SandboxServer(scale="small", seed=1, anchor=ANCHOR, activity_per_second=40) as sandbox:
        wait_until(lambda: sandbox.stats["activity_edits"] >= 20, timeout=30)
        assert sandbox.stats["activity_errors"] == 0
        # generated data lie before ANCHOR, edits stamp the real time (ANCHOR is a day before it)
        anchor_text = ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")
        api = Api(sandbox)
        changed = api.forward(
            "service/tickets", conditions=f"lastUpdated > [{anchor_text}]", pageSize=1000
        ).json()
        assert changed
    # stopped with the server: stop() joined the activity thread
    assert not [t for t in threading.enumerate() if t.name == "sandbox-activity" and t.is_alive()]


def test_it_keeps_connections_alive_and_counts_requests_per_route(api, sandbox):
    before = sandbox.stats[("GET", "service/boards")]
    for _ in range(5):
        assert api.get("service/boards").headers.get("Connection", "").lower() != "close"
    assert sandbox.stats[("GET", "service/boards")] == before + 5


def test_it_runs_as_a_management_command(monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    from psa.management.commands.psa_sandbox import Command

    waited = []
    monkeypatch.setattr(Command, "wait_for_stop", lambda self: waited.append(True))
    out = StringIO()
    call_command("psa_sandbox", "--port", "0", "--scale", "small", "--seed", "3", stdout=out)
    text = out.getvalue()
    assert waited and "company id : sandbox" in text and "private key: sandbox-private" in text
    assert "service/tickets 500" in text and "PSA sandbox stopped" in text


@pytest.mark.parametrize(
    ("anchor", "expected"),
    [
        ("2029-01-02T08:00:00", "anchor 2029-01-02"),
        ("now", "anchor 2030-05-15"),
        ("today", "anchor 2030-05-15"),
    ],
)
def test_it_takes_the_data_anchor_from_the_command_line(monkeypatch, frozen_now, anchor, expected):
    from io import StringIO

    from django.core.management import call_command

    from psa.management.commands.psa_sandbox import Command

    monkeypatch.setattr(Command, "wait_for_stop", lambda self: None)
    out = StringIO()
    call_command("psa_sandbox", "--port", "0", "--scale", "small", "--anchor", anchor, stdout=out)
    assert expected in out.getvalue()


def test_it_refuses_an_unreadable_anchor():
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="use today, now or an ISO date-time"):
        call_command("psa_sandbox", "--port", "0", "--anchor", "yesterday-ish")
