"""Log-in throttling (django-axes) and transport security (`check --deploy` with DEBUG=0)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


@pytest.fixture
def ann(db):
    return User.objects.create_user("ann", password="right-password")


def attempt(client: Client, username: str, password: str, address: str = "198.51.100.7"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_it_locks_an_account_out_after_the_failure_limit_with_a_clear_message(ann):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(client, "ann", "guess").status_code == 200  # the form again, with its error
    locked = attempt(client, "ann", "guess")
    assert locked.status_code == 429
    assert "Too many failed log-ins" in locked.content.decode()
    assert "15 minutes" in locked.content.decode()
    # even the right password waits for the cool-off, from any address
    assert attempt(Client(), "ann", "right-password", address="203.0.113.9").status_code == 429


def test_it_throttles_one_address_trying_many_accounts(ann):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, f"user{n}", "guess")
    assert attempt(client, "ann", "right-password").status_code == 429
    assert attempt(Client(), "ann", "right-password", address="203.0.113.9").status_code == 302


def test_it_forgets_failures_after_a_successful_log_in(ann):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        attempt(client, "ann", "guess")
    assert attempt(client, "ann", "right-password").status_code == 302
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert attempt(Client(), "ann", "guess").status_code == 200


def test_it_passes_the_deployment_check_with_debug_off(tmp_path):
    environment = {
        key: value for key, value in os.environ.items() if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="topleft.settings",
        DEBUG="0",
        SECRET_KEY="a-production-secret-" + "x7Qp2LmZ9rT4vB8nK1sD" * 3,
        FIELD_ENCRYPTION_KEY="q0o0sXy5Xn8P3s9Zz7m8Y3pG2wH1vK4bL6cD9eF0gH8=",
        ALLOWED_HOSTS="topleft.example.com",
        PUBLIC_URL="https://topleft.example.com",
        TOPLEFT_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
