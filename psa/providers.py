"""The provider seam: one registry entry per PSA.

Like healthchecks' integrations, each PSA is a folder (`psa/<name>/`) whose `provider` module
declares one `Provider`: how to build its client (sized to the PSA's rate limit), the
credentials it needs, its entity catalog, its callback receiver and registrar, its
single-record refresh, its write-back pushers and its board rules. The provider-neutral code
(sync/, boards/, the commands) never imports a provider folder: it asks this registry, which
imports the folder on first use.

Adding a PSA = its folder, its sandbox folder, its tests and one line in REGISTRY.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import import_module
from typing import Any, Protocol

from psa.catalog import Catalog

# provider name (stored on every Connection) → the module that defines its PROVIDER
REGISTRY: dict[str, str] = {
    "connectwise": "psa.connectwise.provider",
    "autotask": "psa.autotask.provider",
}


class PSAClient(Protocol):
    """What the neutral engine asks of a provider's client: paged listings and counts of a
    catalog path narrowed by the catalog's own query, and how many requests it has sent."""

    @property
    def requests_made(self) -> int: ...

    def iter_pages(
        self,
        path: str,
        *,
        conditions: str | None = None,
        fields: Iterable[str] | str | None = None,
        page_size: int = ...,
        keep_unparsable: bool = False,
        after_id: int | None = None,
    ) -> Iterator[list]: ...

    def count(self, path: str, *, conditions: str | None = None) -> int: ...


class CredentialsInvalid(ValueError):
    """A credentials document the provider refuses: `errors` maps each field to a plain message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {message}" for name, message in self.errors.items()))


@dataclass(frozen=True)
class CredentialField:
    """One entry of a provider's credentials document (as the admin form and the command show it)."""

    name: str
    label: str
    secret: bool = False  # stored encrypted like the rest, and never shown back
    required: bool = True
    default: str = ""
    help: str = ""


def credential_fields_clean(
    fields: Iterable[CredentialField], document: Mapping[str, Any], *, psa: str
) -> tuple[dict[str, str], dict[str, str]]:
    """(cleaned, errors) of the checks every provider makes: each field a stripped string with
    its default filled in, required ones present, no unknown field. The provider adds its own."""
    fields = tuple(fields)
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for spec in fields:
        value = str(document.get(spec.name) or spec.default).strip()
        if value:
            cleaned[spec.name] = value
        elif spec.required:
            errors[spec.name] = "required"
    unknown = sorted(set(document) - {spec.name for spec in fields})
    if unknown:
        errors["credentials"] = f"unknown fields for {psa}: {', '.join(unknown)}"
    return cleaned, errors


@dataclass(frozen=True)
class RefreshHandler:
    """Re-reading records a callback (or a rejected write-back) named."""

    # (*, connection_id, items: list[RefreshItem], started_at, client=None) → {"updated", "deleted"}
    records: Callable[..., dict[str, int]]
    # (*, connection_id, kind, psa_id, hint="", client=None, assignments=None) → "updated" | "deleted"
    record: Callable[..., str]

    @classmethod
    def from_module(cls, module: str) -> RefreshHandler:
        """The `records_refresh` and `record_refresh` of `module`, looked up on each call (the
        module loads models, and tests may swap the functions)."""
        return cls(
            records=lambda **kw: import_module(module).records_refresh(**kw),
            record=lambda **kw: import_module(module).record_refresh(**kw),
        )


@dataclass(frozen=True)
class BoardRules:
    """Which statuses a PSA lets a ticket take. Each rule narrows a queryset of the connection's
    mirrored statuses (boards.BoardStatus), so boards stay provider-neutral."""

    # (statuses, ticket) → those the ticket may move to (ConnectWise: its service board's own).
    ticket_statuses: Callable[[Any, Any], Any]
    # (statuses, PSA board ids) → those a board over these PSA boards / queues offers as columns.
    board_statuses: Callable[[Any, list[int]], Any]


@dataclass(frozen=True)
class Terms:
    """The PSA's own words for what boards show (lower case), so an Autotask dispatcher reads
    "queue" and "resource" where a ConnectWise one reads "PSA board" and "member"."""

    member: str = "member"
    members: str = "members"
    psa_board: str = "PSA board"
    psa_boards: str = "PSA boards"


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    credential_fields: tuple[CredentialField, ...]
    # Checks a credentials document; returns the cleaned one or raises CredentialsInvalid.
    credentials_clean: Callable[[Mapping[str, Any]], dict[str, str]]
    # (connection, *, interactive=False, policy=None) → the PSA client for that connection.
    client_for: Callable[..., Any]
    # (connection) → {"ok": True, details...} or {"ok": False, "error": ...}; never raises.
    connection_test: Callable[[Any], dict]
    # (connection) → a short, secret-free description: "https://na.myconnectwise.net (acme)".
    describe: Callable[[Any], str]
    callbacks: CallbackHandler
    catalog: Catalog  # the mirrored entities (psa/<provider>/catalog.py)
    board_rules: BoardRules
    refresh: RefreshHandler
    # outbox action → (client, entry) that sends the change and stores the PSA's answer
    pushers: Mapping[str, Callable[[Any, Any], None]]
    terms: Terms = Terms()


class CallbackRejected(Exception):
    """A callback the receiver refuses; `status` is the HTTP answer (400 malformed, 401 bad or
    missing signature, 403 untrusted key location, 503 the PSA's key is unavailable: retry)."""

    status = 400


@dataclass(frozen=True)
class RefreshRequest:
    """What an accepted callback asks for: re-read one record of `kind` (a refresh kind of the
    provider) from the PSA. `version` is the record version the callback carries ('' unknown),
    compared with our own last write to drop its echo."""

    kind: str
    psa_id: int
    hint: str = ""
    version: str = ""


@dataclass(frozen=True)
class CallbackResult:
    refreshes: list[RefreshRequest]
    ignored: str = ""  # why nothing is refreshed, when refreshes is empty
    summary: str = ""  # one log-friendly line: type, action, id
    # For dropping replays: the PSA's id of this delivery ('' when it sends none) and when the
    # change it reports happened (None when unknown).
    message_id: str = ""
    happened_at: datetime | None = None
    # Set when the PSA says it switched our registration off (why): the receiver records it on
    # the connection (status page) and re-ensures the registrations.
    registration_lost: str = ""


@dataclass(frozen=True)
class CallbackHandler:
    """A provider's webhooks: the receiver (`POST /hooks/<provider>/<token>/`) and the registrar
    (`manage.py callbacks`, the admin action)."""

    # (*, connection, body: bytes, headers, query) → CallbackResult; raises CallbackRejected.
    # Authenticates the body (the vendor's signature) before trusting anything in it.
    receive: Callable[..., CallbackResult]
    # (*, connection, public_url[, rotate_secret=True]) → changes with added/removed/kept
    ensure: Callable[..., Any]
    listed: Callable[..., list[dict]]  # (*, connection) → {"id", "what", "state", "url"} per registration
    remove: Callable[..., list[dict]]  # (*, connection) → the registrations removed
    rotates_secret: bool = False  # ensure takes rotate_secret=True (we choose the signing secret)


class UnknownProvider(LookupError):
    pass


@cache
def provider_get(name: str) -> Provider:
    try:
        module = REGISTRY[name]
    except KeyError:
        raise UnknownProvider(f"unknown PSA provider {name!r}; choose from {', '.join(REGISTRY)}") from None
    return import_module(module).PROVIDER


def provider_for(connection: Any) -> Provider:
    return provider_get(connection.provider)


def catalog_for(connection: Any) -> Catalog:
    """The entity catalog of the connection's PSA."""
    return provider_get(connection.provider).catalog


def provider_names() -> list[str]:
    return list(REGISTRY)


def provider_choices() -> list[tuple[str, str]]:
    """(name, label) per registered provider, for model and form choices."""
    return [(name, provider_get(name).label) for name in REGISTRY]
