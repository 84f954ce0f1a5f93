"""A PSA connection: one PSA instance, one tenant."""

from __future__ import annotations

import secrets

from django.db import models

from topleft.crypto import EncryptedTextField


def new_webhook_token() -> str:
    return secrets.token_urlsafe(32)


class Connection(models.Model):
    class Provider(models.TextChoices):
        CONNECTWISE = "connectwise", "ConnectWise PSA"
        AUTOTASK = "autotask", "Datto Autotask PSA"

    name = models.CharField(max_length=100, unique=True)
    provider = models.CharField(max_length=20, choices=Provider.choices, default=Provider.CONNECTWISE)
    site_url = models.CharField(max_length=255, help_text="PSA site, e.g. https://na.myconnectwise.net")
    company_id = models.CharField(max_length=100)
    public_key = EncryptedTextField()
    private_key = EncryptedTextField()
    client_id = models.CharField(max_length=100, blank=True)
    api_version = models.CharField(max_length=20, default="2025.1")
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
