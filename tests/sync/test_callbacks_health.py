"""A PSA switching our callback registration off: seen on the status page, ensured again."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

import pytest
from django.conf import settings

from psa.errors import PSAError
from psa.providers import CallbackResult, provider_get
from sync import callbacks_health
from tests.support.callbacks import payload, post

pytestmark = pytest.mark.usefixtures("fresh_cache")


@pytest.fixture
def provider_says(monkeypatch):
    """Make the connection's provider answer every callback with `result` and record ensures."""
    real = provider_get("connectwise")
    ensured: list[dict] = []

    def use(result: CallbackResult, ensure_error: Exception | None = None):
        def ensure(**kw):
            ensured.append(kw)
            if ensure_error is not None:
                raise ensure_error
            return SimpleNamespace(added=[1], removed=[], kept=[])

        callbacks = replace(real.callbacks, receive=lambda **kw: result, ensure=ensure)
        fake = replace(real, callbacks=callbacks)
        monkeypatch.setattr("sync.webhooks.provider_get", lambda name: fake)
        monkeypatch.setattr("sync.callbacks_health.provider_for", lambda connection: fake)
        return ensured

    return use


@pytest.fixture
def reensures(monkeypatch):
    calls = []
    monkeypatch.setattr(
        callbacks_health.callbacks_reensure, "apply_async", lambda args, queue: calls.append((args, queue))
    )
    return calls


def test_a_lost_registration_shows_on_the_status_page_and_is_ensured_again(
    client, admin_client, connection, provider_says, reensures, enqueued, django_capture_on_commit_callbacks
):
    provider_says(
        CallbackResult([], ignored="deactivated", registration_lost="the PSA switched webhook 7 off")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, connection, payload())
    assert response.status_code == 202 and enqueued == []
    connection.refresh_from_db()
    assert connection.callback_health["state"] == "lost"
    assert reensures == [((connection.pk,), "realtime")]
    page = admin_client.get(f"/sync/connections/{connection.pk}/").content.decode()
    assert "switched our registration off" in page and "webhook 7 off" in page
    assert "switched off by the PSA" in admin_client.get("/sync/").content.decode()


def test_a_failed_reensure_is_recorded_and_retried(connection, provider_says):
    connection.callback_health = {"state": "lost", "reason": "x", "at": "2026-01-01T00:00:00+00:00"}
    connection.save()
    ensured = provider_says(CallbackResult([]), ensure_error=PSAError("the PSA refused"))
    with pytest.raises(PSAError):
        callbacks_health.callbacks_reensure.apply(args=(connection.pk,), throw=True, retries=99)
    connection.refresh_from_db()
    assert len(ensured) == 1 and connection.callback_health["retry_error"] == "the PSA refused"


def test_reensuring_calls_the_providers_ensure_and_clears_the_health(connection, provider_says):
    connection.callback_health = {"state": "lost", "reason": "x", "at": "2026-01-01T00:00:00+00:00"}
    connection.save()
    ensured = provider_says(CallbackResult([]))
    assert callbacks_health.callbacks_reensure.apply(args=(connection.pk,)).get() == "ensured"
    connection.refresh_from_db()
    assert connection.callback_health == {}
    [call] = ensured
    assert call["connection"].pk == connection.pk and call["public_url"] == settings.PUBLIC_URL


def test_an_ordinary_callback_leaves_the_health_alone(client, connection, provider_says, reensures, enqueued):
    provider_says(CallbackResult([], ignored="not mirrored"))
    assert post(client, connection, payload()).status_code == 202
    connection.refresh_from_db()
    assert connection.callback_health == {} and reensures == []
