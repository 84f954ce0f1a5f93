"""Registering our Autotask webhooks: `manage.py callbacks --ensure|--list|--remove`, the admin.

Reference: webhooks.md §1-§2. TopLeft listens to tickets (TicketWebhooks); ticket notes and
companies are cheap to add and keep cards fresher. Each webhook points at this connection's
receiver URL (also its deactivation URL: an unsigned call there changes nothing), is signed with
the connection's own secret (generated here, stored encrypted, rotated on demand), subscribes to
the fields the mirror shows (ids discovered from the `{X}WebhookFields` picklist) and excludes
the integration's own resource, so writes made without impersonation don't echo back.

Calls are made one at a time: Autotask allows 3 concurrent requests per endpoint and
integration, and parallel field posts are known to hit it (webhooks.md §2). Ensuring is a diff:
what is right is kept, what is missing is added, what is stale (duplicates, extra fields) removed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from typing import Any

from psa.autotask.query import cond, query_text
from psa.errors import PSAError

logger = logging.getLogger("psa.autotask.callbacks")

SECRET_LENGTH = 48  # webhooks.md §2: secretKey ≤ 64 letters, digits or symbols


@dataclass(frozen=True)
class WebhookKind:
    entity: str  # the webhook entity, e.g. "TicketWebhooks"
    watched: str  # what it watches, for the listing
    subscribed: tuple[str, ...]  # a change to one of these fires an Update
    display_always: tuple[str, ...] = ()  # always in the payload (ids we route on)


# The fields the mirror shows (psa/autotask/catalog.py): a change elsewhere needs no re-read.
WEBHOOK_KINDS = (
    WebhookKind(
        "TicketWebhooks",
        "Tickets",
        subscribed=(
            "status",
            "priority",
            "queueID",
            "assignedResourceID",
            "assignedResourceRoleID",
            "title",
            "companyID",
            "contactID",
            "dueDateTime",
            "issueType",
            "subIssueType",
            "ticketType",
            "serviceLevelAgreementHasBeenMet",
        ),
    ),
    WebhookKind(
        "TicketNoteWebhooks",
        "Ticket notes",
        subscribed=("title", "description", "noteType", "publish"),
        display_always=("ticketID",),
    ),
    WebhookKind("CompanyWebhooks", "Companies", subscribed=("companyName", "isActive", "phone")),
)


@dataclass
class RegistrationChanges:
    added: list[dict] = field(default_factory=list)
    removed: list[dict] = field(default_factory=list)
    kept: list[dict] = field(default_factory=list)


def callback_url(*, public_url: str, webhook_token: str) -> str:
    return f"{public_url.rstrip('/')}/hooks/autotask/{webhook_token}/"


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_LENGTH)[:SECRET_LENGTH]


def _fold(name: str) -> str:
    return "".join(name.split()).lower()


def field_ids(client: Any, kind: WebhookKind) -> dict[str, int]:
    """Our field name (folded) → Autotask's field id, from the `fieldID` picklist of
    `{X}WebhookFields` (value = id, label = field name; webhooks.md §2 "Child: Fields")."""
    # Reference: webhooks.md §2 GET /V1.0/TicketWebhookFields/entityInformation/fields
    picklist = client.entity_field(kind.entity.removesuffix("s") + "Fields", "fieldID")
    if picklist is None:
        raise PSAError(f"{kind.entity}: the webhook field picklist has no fieldID")
    ids = {}
    for value in picklist.get("picklistValues") or []:
        label, raw = str(value.get("label") or ""), str(value.get("value") or "")
        if label and raw.strip().isdigit():
            ids[_fold(label)] = int(raw)
    return ids


def desired_fields(client: Any, kind: WebhookKind) -> dict[int, tuple[bool, bool]]:
    """field id → (isSubscribedField, isDisplayAlwaysField) for the fields this tenant has."""
    ids = field_ids(client, kind)
    wanted: dict[int, tuple[bool, bool]] = {}
    for name in kind.subscribed + kind.display_always:
        if _fold(name) not in ids:
            logger.warning("%s: Autotask offers no webhook field %r; not subscribed", kind.entity, name)
            continue
        wanted[ids[_fold(name)]] = (name in kind.subscribed, name in kind.display_always)
    if not any(subscribed for subscribed, _ in wanted.values()):
        raise PSAError(f"{kind.entity}: none of the fields we need can be subscribed to")
    return wanted


def own_resource_id(client: Any, username: str) -> int | None:
    """The integration's own resource (the API user), to exclude from every webhook."""
    # Reference: entities.tsv Resources.userName / email; api.md §3 POST Resources/query
    conditions = query_text(
        {"op": "or", "items": [cond("userName", "eq", username), cond("email", "eq", username)]}
    )
    found = client.list_all("Resources", conditions=conditions, fields=("id",))
    return int(found[0]["id"]) if found else None


def _webhook_body(*, name: str, url: str, secret: str) -> dict:
    return {
        "name": name[:50],
        "webhookUrl": url,
        "deactivationUrl": url,
        "secretKey": secret,
        "isActive": True,
        "isSubscribedToCreateEvents": True,
        "isSubscribedToUpdateEvents": True,
        "isSubscribedToDeleteEvents": True,
        "sendThresholdExceededNotification": False,
    }


def _ours(client: Any, kind: WebhookKind, token: str, url: str = "") -> list[dict]:
    """This connection's webhooks of one kind (by the URL token, so a changed PUBLIC_URL still
    finds the old ones), those already at `url` first."""
    # Reference: webhooks.md §1 POST /V1.0/TicketWebhooks/query
    found = client.list_all(kind.entity, conditions=query_text(cond("webhookUrl", "contains", f"/{token}/")))
    return sorted(found, key=lambda entry: (entry.get("webhookUrl") != url, int(entry.get("id") or 0)))


def _children(client: Any, kind: WebhookKind, webhook_id: int, child: str) -> list[dict]:
    # Reference: webhooks.md §1 GET /V1.0/TicketWebhooks/{parentId}/Fields (and ExcludedResources)
    body = client.json("GET", f"{kind.entity}/{webhook_id}/{child}")
    items = body.get("items") if isinstance(body, dict) else None
    return [item for item in items or [] if isinstance(item, dict)]


def _sync_fields(
    client: Any, kind: WebhookKind, webhook_id: int, wanted: dict[int, tuple[bool, bool]]
) -> None:
    present = {}
    for item in _children(client, kind, webhook_id, "Fields"):
        key = (
            int(item.get("fieldID") or 0),
            bool(item.get("isSubscribedField")),
            bool(item.get("isDisplayAlwaysField")),
        )
        if key[0] not in wanted or key[1:] != wanted[key[0]] or key[0] in present:
            client.delete(f"{kind.entity}/{webhook_id}/Fields", int(item["id"]))
        else:
            present[key[0]] = item
    for field_id, (subscribed, display_always) in wanted.items():
        if field_id not in present:  # sequentially: the 3-thread limit (webhooks.md §2)
            client.create(
                f"{kind.entity}/{webhook_id}/Fields",
                {
                    "webhookID": webhook_id,
                    "fieldID": field_id,
                    "isSubscribedField": subscribed,
                    "isDisplayAlwaysField": display_always,
                },
            )


def _sync_excluded(client: Any, kind: WebhookKind, webhook_id: int, resource_id: int | None) -> None:
    present = {
        int(i.get("resourceID") or 0) for i in _children(client, kind, webhook_id, "ExcludedResources")
    }
    if resource_id is not None and resource_id not in present:
        client.create(
            f"{kind.entity}/{webhook_id}/ExcludedResources",
            {"webhookID": webhook_id, "resourceID": resource_id},
        )


def _needs_update(existing: dict, body: dict, *, rotate: bool) -> bool:
    shown = {k: v for k, v in body.items() if k != "secretKey"}
    return rotate or any(existing.get(k) != v for k, v in shown.items())


def webhooks_ensure(
    *, client: Any, url: str, token: str, name: str, secret: str, username: str, rotate: bool = False
) -> RegistrationChanges:
    """Make our webhooks match WEBHOOK_KINDS (see the module docstring)."""
    changes = RegistrationChanges()
    resource_id = own_resource_id(client, username)
    body = _webhook_body(name=name, url=url, secret=secret)  # the same for every kind
    for kind in WEBHOOK_KINDS:
        wanted = desired_fields(client, kind)
        existing = _ours(client, kind, token, url)
        for duplicate in existing[1:]:  # one URL, one webhook per entity (webhooks.md §2 duplicates)
            client.delete(kind.entity, int(duplicate["id"]))
            changes.removed.append(_shown(kind, duplicate))
        if existing:
            webhook_id = int(existing[0]["id"])
            if _needs_update(existing[0], body, rotate=rotate):
                client.update(kind.entity, webhook_id, body)
            changes.kept.append(_shown(kind, existing[0]))
        else:
            webhook_id = client.create(kind.entity, body)
            changes.added.append({"id": webhook_id, "what": kind.watched, "url": url})
        _sync_fields(client, kind, webhook_id, wanted)
        _sync_excluded(client, kind, webhook_id, resource_id)
    return changes


def webhooks_list(*, client: Any, token: str) -> list[dict]:
    return [_shown(kind, entry) for kind in WEBHOOK_KINDS for entry in _ours(client, kind, token)]


def webhooks_remove(*, client: Any, token: str) -> list[dict]:
    removed = []
    for kind in WEBHOOK_KINDS:
        for entry in _ours(client, kind, token):
            # Reference: webhooks.md §1 DELETE /V1.0/TicketWebhooks/{id}
            client.delete(kind.entity, int(entry["id"]))
            removed.append(_shown(kind, entry))
    return removed


def _shown(kind: WebhookKind, entry: dict) -> dict:
    state = "active" if entry.get("isActive") else "inactive"
    if entry.get("isActive") and entry.get("isReady") is False:
        state = "not ready"
    return {"id": entry.get("id"), "what": kind.watched, "state": state, "url": entry.get("webhookUrl")}


# --- per connection (the provider's CallbackHandler) -------------------------------------------


def _client_for(connection: Any) -> Any:
    from psa.autotask.client import AutotaskClient  # the client loads settings: import on use

    return AutotaskClient.from_connection(connection, interactive=True)


def connection_callbacks_ensure(
    *, connection: Any, public_url: str, rotate_secret: bool = False
) -> RegistrationChanges:
    """Ensure this connection's webhooks; a first run (or `rotate_secret`) makes a new secret,
    stored only once Autotask holds it (a failure leaves the old one working)."""
    from psa.autotask.credentials import credentials_of

    rotate = rotate_secret or not connection.callback_secret
    secret = new_secret() if rotate else connection.callback_secret
    changes = webhooks_ensure(
        client=_client_for(connection),
        url=callback_url(public_url=public_url, webhook_token=connection.webhook_token),
        token=connection.webhook_token,
        name=f"TopLeft {connection.name}",
        secret=secret,
        username=credentials_of(connection).username,
        rotate=rotate,
    )
    connection.callback_secret = secret
    connection.save(update_fields=["callback_secret", "updated_at"])
    return changes


def connection_callbacks_list(*, connection: Any) -> list[dict]:
    return webhooks_list(client=_client_for(connection), token=connection.webhook_token)


def connection_callbacks_remove(*, connection: Any) -> list[dict]:
    return webhooks_remove(client=_client_for(connection), token=connection.webhook_token)
