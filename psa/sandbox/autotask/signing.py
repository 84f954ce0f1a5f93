"""Webhook bodies as Autotask writes them, and their `X-Hook-Signature`.

Reference: webhooks.md §4 — compact JSON in .NET System.Text.Json's default encoding (inside
strings `&<>'"+` and the backtick as `\\uXXXX`, every non-ASCII character as `\\uXXXX`,
upper-case hex), signed as `sha1=` + base64(HMAC-SHA1(key = UTF-8 secret, message = the body
bytes)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
ALWAYS_ESCAPED = frozenset("&<>'\"+`")


def _escape(char: str) -> str:
    if char in SHORT_ESCAPES:
        return SHORT_ESCAPES[char]
    code = ord(char)
    if char in ALWAYS_ESCAPED or code < 0x20 or code > 0x7E:
        if code > 0xFFFF:  # astral characters as a UTF-16 surrogate pair
            code -= 0x10000
            return f"\\u{0xD800 + (code >> 10):04X}\\u{0xDC00 + (code & 0x3FF):04X}"
        return f"\\u{code:04X}"
    return char


def _string(text: str) -> str:
    return '"' + "".join(_escape(char) for char in text) + '"'


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, dict):
        return "{" + ",".join(f"{_string(str(k))}:{_encode(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_encode(v) for v in value) + "]"
    return json.dumps(value)  # numbers, true/false, null


def dotnet_json(value: Any) -> bytes:
    return _encode(value).encode("ascii")


def signature(body: bytes, secret: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).digest()
    return "sha1=" + base64.b64encode(digest).decode("ascii")
