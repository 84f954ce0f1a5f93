"""A PSA connection: one PSA instance, one tenant."""

from __future__ import annotations

import secrets

from django.db import models

from topleft.crypto import EncryptedJSONField


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class Connection(models.Model):
    name = models.CharField(max_length=100, unique=True)
    # A name in psa.providers.REGISTRY (no model choices: a new provider needs no migration here).
    provider = models.CharField(max_length=20, default="connectwise")
    # The provider's credentials document (psa/<provider>/credentials.py), one encrypted JSON
    # object: keys and secrets never sit in plain columns and are never shown back.
    credentials = EncryptedJSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    closed_ticket_retention_days = models.PositiveIntegerField(default=7)
    background_budget_per_minute = models.PositiveIntegerField(
        null=True, blank=True, help_text="Requests/minute for background work; empty = the default"
    )
    webhook_token = models.CharField(max_length=64, unique=True, default=new_webhook_token)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        # Never include the keys: reprs end up in logs and tracebacks.
        return f"<Connection {self.pk} {self.name!r} {self.provider}>"
