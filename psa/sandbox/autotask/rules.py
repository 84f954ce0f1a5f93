"""Business rules run inside a write: server-kept stamps, resource assignment, completion, and
the webhook entities' own rules.

Reference: WYRE-AI/msp-claude-plugins #32 (live message, reproduced word for word): "When
assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID.";
webhooks.md §2 (duplicate callouts, isReady once a field is subscribed, webhookGUID). The
inactive-resource and role-membership wording is unverified.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from psa.sandbox.autotask.data_tickets import sla_due_dates
from psa.sandbox.autotask.data_work import project_duration, service_call_duration
from psa.sandbox.autotask.metadata import WEBHOOK_ENTITIES
from psa.sandbox.autotask.picklists import COMPLETE_STATUS, WAITING_STATUSES
from psa.sandbox.autotask.schema import EntitySpec, entity
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.wire import parse_time

# entity → (stamped on create, stamped on every write)
STAMPS = {
    "Tickets": (("createDate",), ("lastActivityDate", "lastTrackedModificationDateTime")),
    "TicketNotes": (("createDateTime",), ("lastActivityDate",)),
    "TaskNotes": (("createDateTime",), ("lastActivityDate",)),
    "ProjectNotes": (("createDateTime",), ("lastActivityDate",)),
    "Companies": (("createDate",), ("lastActivityDate", "lastTrackedModifiedDateTime")),
    "Contacts": (("createDate",), ("lastModifiedDate", "lastActivityDate")),
    "Projects": (("createDateTime",), ("lastActivityDateTime",)),
    "Tasks": (("createDateTime",), ("lastActivityDateTime",)),
    "Phases": (("createDate",), ("lastActivityDateTime",)),
    "Opportunities": (("createDate",), ("lastActivity",)),
    "TimeEntries": (("createDateTime",), ("lastModifiedDateTime",)),
    "ServiceCalls": (("createDateTime",), ("lastModifiedDateTime",)),
}
CREATORS = {
    "Tickets": "creatorResourceID",
    "TicketNotes": "creatorResourceID",
    "TaskNotes": "creatorResourceID",
}
# child entity → (parent entity, its change stamp): a note touches its ticket's activity date
PARENT_ACTIVITY = {
    "TicketNotes": ("Tickets", "lastActivityDate"),
    "TaskNotes": ("Tasks", "lastActivityDateTime"),
}
ASSIGNED = {
    "Tickets": ("assignedResourceID", "assignedResourceRoleID"),
    "Tasks": ("assignedResourceID", "assignedResourceRoleID"),
    "TicketSecondaryResources": ("resourceID", "roleID"),
    "TaskSecondaryResources": ("resourceID", "roleID"),
    "TimeEntries": ("resourceID", "roleID"),
}
# webhook child entity → the field two children of one webhook may not share
WEBHOOK_CHILD_KEYS = {
    f"{kind}Webhook{child}": key
    for kind in ("Ticket", "TicketNote", "Company", "Contact")
    for child, key in (
        ("Fields", "fieldID"),
        ("UdfFields", "udfFieldID"),
        ("ExcludedResources", "resourceID"),
    )
}


class WriteError(Exception):
    """A write the service refuses: 500 {"errors": [message]}."""


class Rules:
    def __init__(self, store: AutotaskStore, clock: Callable[[], str], *, guid_seed: int | str) -> None:
        self.store, self.clock = store, clock
        # Webhook GUIDs differ between sandbox runs (as Autotask never reuses one): a receiver
        # that remembers (GUID, SequenceNumber) to drop replays must not take a restarted
        # sandbox's first callouts for replays of the previous run's (`make run` twice).
        self._guid_seed, self._guids = f"{guid_seed}:{uuid.uuid4().hex}", 0

    # --- hooks (called by writes.Writer) -----------------------------------------------------

    def before_create(self, spec: EntitySpec, record: dict, actor: int) -> dict:
        now = self.clock()
        created, touched = STAMPS.get(spec.name, ((), ()))
        for name in (*created, *touched):
            record[name] = now
        if spec.name in CREATORS:
            record[CREATORS[spec.name]] = actor
        self._check_assignment(spec, {}, record)
        if spec.name == "Tickets":
            record["lastActivityResourceID"], record["lastActivityPersonType"] = actor, 1
            record["ticketNumber"] = (
                f"T{now[:10].replace('-', '')}.{len(self.store.ids('Tickets')) % 10000:04d}"
            )
            self._sla_on_create(record)
            self._completion({}, record, actor)
            self._sla_pause({}, record)
        if spec.name == "ServiceCalls":
            record["duration"] = service_call_duration(record)
        if spec.name == "Projects":  # a new project has no task done yet
            record["completedPercentage"], record["duration"] = 0, project_duration(record)
        if spec.name in WEBHOOK_ENTITIES:
            self._check_duplicate_webhook(spec, record, None)
            record["webhookGUID"] = self._guid()
            record.setdefault("ownerResourceID", actor)
            record["isReady"] = False
        if spec.name in WEBHOOK_CHILD_KEYS:
            self._check_webhook_child(spec, record)
        return record

    def before_update(self, spec: EntitySpec, old: dict, changes: dict, actor: int) -> dict:
        now = self.clock()  # one reading: an update's stamps show one moment (as on create)
        for name in STAMPS.get(spec.name, ((), ()))[1]:
            changes[name] = now
        new = {**old, **changes}
        self._check_assignment(spec, old, new)
        if spec.field("lastActivityResourceID") is not None:  # tickets, tasks, projects
            changes["lastActivityResourceID"] = actor
        if spec.name == "Tickets":
            changes.update(self._completion(old, new, actor))
            changes.update(self._sla_pause(old, new))
        if spec.name == "ServiceCalls":
            changes["duration"] = service_call_duration(new)
        if spec.name == "Projects":
            changes["duration"] = project_duration(new)
        if spec.name in WEBHOOK_ENTITIES:
            self._check_duplicate_webhook(spec, new, old["id"])
        return changes

    def before_delete(self, spec: EntitySpec, old: dict, actor: int) -> None:
        """Nothing refuses a delete the Swagger offers; cascades run in after_write."""

    def after_write(self, spec: EntitySpec, old: dict | None, new: dict | None, actor: int) -> None:
        if spec.name in PARENT_ACTIVITY and new is not None:
            parent_entity, stamp = PARENT_ACTIVITY[spec.name]
            parent_id = new.get(spec.parent_field or "")
            if parent_id is not None and self.store.get(parent_entity, parent_id) is not None:
                # The note's own moment, not a second reading of the clock (a millisecond later).
                when = new.get(STAMPS[spec.name][1][0]) or self.clock()
                touched = {stamp: when, "lastActivityResourceID": actor, "lastActivityPersonType": 1}
                self.store.update(parent_entity, parent_id, touched, actor=actor)
        if spec.name.endswith(("WebhookFields", "WebhookUdfFields")):
            self._refresh_ready(spec, (new or old or {}).get("webhookID"))
        if spec.name in WEBHOOK_ENTITIES and new is None and old is not None:
            self._delete_webhook_children(spec, old["id"])

    # --- rules -------------------------------------------------------------------------------

    def _check_assignment(self, spec: EntitySpec, old: dict, new: dict) -> None:
        fields = ASSIGNED.get(spec.name)
        if fields is None:
            return
        resource_field, role_field = fields
        resource_id, role_id = new.get(resource_field), new.get(role_field)
        if (resource_id is None) != (role_id is None):
            raise WriteError(
                "When assigning a Resource, you must assign both a assignedResourceID and assignedResourceRoleID."
            )
        unchanged = old.get(resource_field) == resource_id and old.get(role_field) == role_id
        if resource_id is None or unchanged:
            return
        resource = self.store.get("Resources", resource_id)
        if resource is None or not resource.get("isActive"):
            raise WriteError(f"The resource {resource_id} is inactive and cannot be assigned.")
        roles = {
            self.store.get("ResourceServiceDeskRoles", i).get("roleID")  # type: ignore[union-attr]
            for i in self.store.child_ids("ResourceServiceDeskRoles", resource_id)
        }
        if role_id not in roles and spec.name != "TimeEntries":
            raise WriteError(f"Role {role_id} is not an active service desk role of resource {resource_id}.")

    def _sla_on_create(self, record: dict) -> None:
        sla_id = record.get("serviceLevelAgreementID")
        if sla_id is not None:
            record.update(sla_due_dates(sla_id, parse_time(record["createDate"])))

    def _completion(self, old: dict, new: dict, actor: int) -> dict:
        """Complete (status 5) stamps completion and the SLA verdict; reopening clears them."""
        was, now_complete = old.get("status") == COMPLETE_STATUS, new.get("status") == COMPLETE_STATUS
        if now_complete and not was:
            stamp = self.clock()
            due = new.get("resolvedDueDateTime")
            changes = {
                "completedDate": stamp,
                "resolvedDateTime": stamp,
                "completedByResourceID": actor,
                "serviceLevelAgreementHasBeenMet": due is not None and stamp <= due,
            }
        elif was and not now_complete:
            changes = dict.fromkeys(("completedDate", "resolvedDateTime", "completedByResourceID"))
            changes["serviceLevelAgreementHasBeenMet"] = None
        else:
            return {}
        new.update(changes)
        return changes

    def _sla_pause(self, old: dict, new: dict) -> dict:
        """A waiting status pauses the ticket's SLA: serviceLevelAgreementPausedNextEventHours holds
        the hours that were left to its next due date while it is paused, and is cleared when the
        ticket leaves the waiting statuses (as the seeded data have it, data_tickets.py)."""
        field = "serviceLevelAgreementPausedNextEventHours"
        paused = new.get("serviceLevelAgreementID") is not None and new.get("status") in WAITING_STATUSES
        was = old.get(field) is not None
        if paused and not was:
            now = parse_time(self.clock())
            stages = (
                ("firstResponseDueDateTime", "firstResponseDateTime"),
                ("resolutionPlanDueDateTime", "resolutionPlanDateTime"),
                ("resolvedDueDateTime", "resolvedDateTime"),
            )
            due = [parse_time(new[d]) for d, met in stages if new.get(d) and not new.get(met)]
            left = (min(due) - now).total_seconds() / 3600 if due else 0.0
            changes: dict[str, float | None] = {field: round(max(0.0, left), 2)}
        elif was and not paused:
            changes = {field: None}
        else:
            return {}
        new.update(changes)
        return changes

    def _check_duplicate_webhook(self, spec: EntitySpec, record: dict, own_id: int | None) -> None:
        # Reference: webhooks.md §2 — same entity, same webhookUrl and same event type are
        # duplicates, inactive ones and other owners' included.
        events = ("isSubscribedToCreateEvents", "isSubscribedToUpdateEvents", "isSubscribedToDeleteEvents")
        url = str(record.get("webhookUrl") or "").lower()
        for other in self.store.list(spec.name):
            if other["id"] == own_id or str(other.get("webhookUrl") or "").lower() != url:
                continue
            if any(record.get(event) and other.get(event) for event in events):
                raise WriteError("A webhook with the same URL and event type already exists for this entity.")

    def _check_webhook_child(self, spec: EntitySpec, record: dict) -> None:
        key = WEBHOOK_CHILD_KEYS[spec.name]
        for sibling_id in self.store.child_ids(spec.name, record["webhookID"]):
            sibling = self.store.get(spec.name, sibling_id)
            if sibling is not None and sibling.get(key) == record.get(key):
                raise WriteError(f"The webhook already has this {key}.")

    def _refresh_ready(self, spec: EntitySpec, webhook_id: int | None) -> None:
        """Ready once it has a field or UDF field (webhooks.md §2: one is needed to fire)."""
        prefix = spec.name.removesuffix("UdfFields").removesuffix("Fields")
        webhook_entity = prefix + "s"
        if webhook_id is None or self.store.get(webhook_entity, webhook_id) is None:
            return
        children = [f"{prefix}Fields", f"{prefix}UdfFields"]
        ready = any(self.store.child_ids(child, webhook_id) for child in children if entity(child))
        if self.store.get(webhook_entity, webhook_id).get("isReady") != ready:  # type: ignore[union-attr]
            self.store.update(webhook_entity, webhook_id, {"isReady": ready})

    def _delete_webhook_children(self, spec: EntitySpec, webhook_id: int) -> None:
        prefix = spec.name.removesuffix("s")
        for child in (f"{prefix}Fields", f"{prefix}UdfFields", f"{prefix}ExcludedResources"):
            if entity(child) is None:
                continue  # TicketNote webhooks have no UDF fields
            for child_id in list(self.store.child_ids(child, webhook_id)):
                self.store.delete(child, child_id)

    def _guid(self) -> str:
        self._guids += 1
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"autotask-sandbox:{self._guid_seed}:{self._guids}"))
