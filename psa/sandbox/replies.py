"""What an API handler returns, and ConnectWise-shaped error bodies `{"code","message","errors"}`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def encode_json(value: Any) -> bytes:
    """A JSON body as the sandbox sends it: compact, UTF-8, non-ASCII characters unescaped."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able; None with 204
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None  # the body already encoded (then `body` is ignored)
    content_type: str = "application/json; charset=utf-8"
    # A fault the front acts out instead of answering: "reset" (TCP RST) or "timeout" (silence
    # for `timeout_s` seconds, until the client gives up or the sandbox stops, then a reset).
    fault: str | None = None
    timeout_s: float = 0.0
    released: Callable[[], None] | None = None  # called once a stalled connection is let go


def error(status: int, code: str, message: str, errors: list | None = None) -> Reply:
    return Reply(status, {"code": code, "message": message, "errors": errors})


class BadRequest(Exception):
    """Answered with 400 and a ConnectWise error body."""

    def __init__(self, message: str, errors: list | None = None, code: str = "InvalidObject") -> None:
        super().__init__(message)
        self.message, self.errors, self.code = message, errors, code
