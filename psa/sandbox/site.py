"""What the shared HTTP front (host.py) asks of each PSA's half of the sandbox.

One port can serve several PSAs (ConnectWise under its codebase paths, Autotask under
`/atservicesrest/`) and several tenants of one PSA: the host asks each site in turn whether it
claims a request, and the first that does answers it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from psa.sandbox.replies import Reply


@dataclass(frozen=True)
class SandboxRequest:
    method: str  # upper-case
    path: str  # URL-decoded path as sent, e.g. "/v2025_1/apis/3.0/service/tickets"
    query: dict[str, str] = field(default_factory=dict)  # names lower-cased (the last value wins)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # (name, value) as sent, in order
    headers: dict[str, str] = field(default_factory=dict)  # names lower-cased
    body: bytes = b""


class Site(Protocol):
    name: str  # the provider's name, e.g. "connectwise"

    def claims(self, request: SandboxRequest) -> bool: ...

    # The answer; None when the path turns out to be no route of this site (a plain 404).
    def serve(self, request: SandboxRequest) -> Reply | None: ...

    def start(self) -> object: ...  # background threads (activity, callback delivery)

    def stop(self) -> None: ...
