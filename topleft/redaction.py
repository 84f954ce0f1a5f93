"""Secrets that must never reach a log line: the webhook receivers' URL tokens.

A receiver's URL (`/hooks/<provider>/<token>/`) carries its connection's secret token; access
logs (gunicorn), the development server and Django's request logger print the path."""

from __future__ import annotations

import re

_HOOK_TOKEN = re.compile(r"(/hooks/[A-Za-z0-9_-]+/)[^/?\s\"]+")


def redact_hook_tokens(text: str) -> str:
    """`/hooks/connectwise/abc123/?recordId=5` → `/hooks/connectwise/<token>/?recordId=5`."""
    return _HOOK_TOKEN.sub(r"\1<token>", text)
