import pytest

from psa.autotask.credentials import DEFAULT_ZONE_URL, credentials_clean, describe
from psa.providers import CredentialsInvalid


def test_it_fills_the_default_zone_url():
    cleaned = credentials_clean({"username": " u@x.example ", "secret": "s", "integration_code": "c"})
    assert cleaned == {
        "username": "u@x.example",
        "secret": "s",
        "integration_code": "c",
        "zone_url": DEFAULT_ZONE_URL,
    }


def test_it_names_each_problem_in_plain_words():
    with pytest.raises(CredentialsInvalid) as caught:
        credentials_clean(
            {"username": "u", "zone_url": "http://sandbox.example.com/atservicesrest", "site_url": "x"}
        )
    assert caught.value.errors == {
        "secret": "required",
        "integration_code": "required",
        "credentials": "unknown fields for Autotask: site_url",
        "zone_url": "https is required (plain http only for a sandbox on this machine)",
    }


def test_a_loopback_sandbox_may_use_http_and_the_url_ends_with_a_slash():
    cleaned = credentials_clean(
        {
            "username": "u",
            "secret": "s",
            "integration_code": "c",
            "zone_url": "http://127.0.0.1:8765/atservicesrest",
        }
    )
    assert cleaned["zone_url"] == "http://127.0.0.1:8765/atservicesrest/"


def test_describe_shows_no_secret():
    class Connection:
        credentials = {"username": "u@x.example", "secret": "s3cret", "integration_code": "CODE"}

    text = describe(Connection())
    assert "s3cret" not in text and "CODE" not in text and "u@x.example" in text
