"""Encryption at rest for secrets (PSA keys) with a Fernet key from the environment."""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    key = settings.FIELD_ENCRYPTION_KEY
    if not key:  # settings always derive one; an empty key is a broken configuration
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty")
    return Fernet(key)


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise ValueError("stored secret cannot be decrypted with FIELD_ENCRYPTION_KEY") from None


class EncryptedJSONField(models.TextField):
    """A JSON object stored as Fernet ciphertext (a connection's credentials document): the
    database only ever holds the ciphertext, Python code the decoded dict."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        return json.loads(decrypt(value))

    def to_python(self, value):
        if isinstance(value, dict):
            return value
        if value is None or value == "":
            return {}
        return json.loads(value)

    def get_prep_value(self, value):
        return encrypt(json.dumps(value or {}, sort_keys=True))

    def value_to_string(self, obj) -> str:  # serialisers (dumpdata) get the ciphertext, never keys
        return self.get_prep_value(self.value_from_object(obj))


class EncryptedTextField(models.TextField):
    """Stores Fernet ciphertext; Python code only ever sees the plaintext."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        if value is None or value == "":
            return value
        return encrypt(str(value))
