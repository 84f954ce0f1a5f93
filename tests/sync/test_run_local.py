"""`make run`'s console: the banner (URL and logins, printed last and again on Enter) and the
local admin login it prints."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from sync.management.commands.run_local import ADMIN_PASSWORD, Command, admin_login_ensure, banner
from tests.support.waiting import wait_until


def test_it_prints_the_url_and_both_logins_in_a_short_banner():
    text = banner(
        web_url="http://127.0.0.1:8000", sandbox_url="http://127.0.0.1:8765", log_path="var/run.log"
    )
    lines = text.strip().splitlines()
    assert len(lines) <= 8
    assert "http://127.0.0.1:8000/boards/" in lines[1]
    assert any("demo / topleft-demo" in line for line in lines)
    assert any("http://127.0.0.1:8000/admin/  admin / topleft-admin" in line for line in lines)
    assert any("var/run.log" in line for line in lines)
    assert "Enter shows this again" in lines[-2]


@pytest.mark.django_db
def test_it_makes_an_admin_login_that_works_and_keeps_working():
    admin_login_ensure()
    user = get_user_model().objects.get(username="admin")
    user.set_password("changed")
    user.is_superuser = False
    user.save()
    admin_login_ensure()  # the next `make run` prints a login that works again
    assert get_user_model().objects.filter(username="admin").count() == 1
    client = Client()
    logged_in = client.post("/admin/login/?next=/admin/", {"username": "admin", "password": ADMIN_PASSWORD})
    assert logged_in.status_code == 302  # the real login form (django-axes wants a request)
    assert client.get("/admin/").status_code == 200


def test_it_prints_the_banner_again_on_enter(monkeypatch):
    out = io.StringIO()
    command = Command(stdout=out)
    monkeypatch.setattr("sys.stdin", io.StringIO("\n\n"))
    command.reprint_on_enter("THE BANNER")
    wait_until(lambda: out.getvalue().count("THE BANNER") == 2)
