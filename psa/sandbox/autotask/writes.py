"""Create, update (PATCH partial, PUT full) and delete, with the service's field checks.

Reference: api.md §4 — create answers `{"itemId": N}`; PATCH/PUT carry the id in the body,
not the URL; PUT clears omitted writable fields; a missing record answers 500 with
`No matching records found`. Business errors are 500 `{"errors": [...]}` (§6). Messages seen
live are reproduced word for word: "Value does not reference an existing entity for taskType . "
(a missing or unknown picklist/reference value, WYRE-AI/autotask-mcp #46); the others'
wording is unverified.
"""

from __future__ import annotations

from typing import Any

from psa.sandbox.autotask import attachments, picklists, udfs
from psa.sandbox.autotask.metadata import choices_for
from psa.sandbox.autotask.rules import Rules, WriteError
from psa.sandbox.autotask.schema import EntitySpec, FieldSpec
from psa.sandbox.autotask.store import AutotaskStore, NotFoundError
from psa.sandbox.autotask.wire import ValueProblem, typed

NO_MATCH = "No matching records found"
# What a DELETE of a missing record answers, word for word: django-autotask 1.20 tells a missing
# record from a server error by this whole text (api.NO_RECORD_ERROR_MESSAGE, matched with `in`).
NO_MATCH_ON_DELETE = (
    "No message. No matching records found. The logged in Resource may not have the required "
    "permissions to delete the data."
)
# referenceEntityType → the entity holding those ids (references to entities the sandbox does
# not serve are not checked)
REFERENCES = {
    "Resource": "Resources",
    "Role": "Roles",
    "Account": "Companies",
    "Ticket": "Tickets",
    "Task": "Tasks",
    "Project": "Projects",
    "Phase": "Phases",
    "Contact": "Contacts",
    "Department": "Departments",
    "ServiceCall": "ServiceCalls",
    "ServiceCallTicket": "ServiceCallTickets",
    "Contract": "Contracts",
    "AllocationCode": "BillingCodes",
    "ContractExclusionSet": "ContractExclusionSets",
    "TicketWebhooks": "TicketWebhooks",
    "TicketNoteWebhooks": "TicketNoteWebhooks",
    "CompanyWebhooks": "CompanyWebhooks",
    "ContactWebhooks": "ContactWebhooks",
}


def missing_reference(name: str) -> WriteError:
    return WriteError(f"Value does not reference an existing entity for {name} . ")


class Writer:
    def __init__(self, store: AutotaskStore, rules: Rules) -> None:
        self.store, self.rules = store, rules

    # --- operations --------------------------------------------------------------------------

    def create(self, spec: EntitySpec, body: Any, parent_id: int | None, actor: int) -> int:
        sent, udf_items = self._fields(spec, body)
        sent.pop("id", None)
        self._bind_parent(spec, sent, parent_id)
        for name, value in sent.items():
            field = spec.fields[name.lower()]
            if field.read_only and not field.required and value is not None:
                raise WriteError(f"{field.name} is a read-only field and cannot be set.")
        record = {name: value for name, value in sent.items() if value is not None}
        for field in spec.fields.values():
            if field.required and field.name != "id" and record.get(field.name) is None:
                if field.picklist or field.reference:
                    raise missing_reference(field.name)
                raise WriteError(f"Missing required field: {field.name}.")
        self._check_values(spec, record, record)
        if udf_items is not None:
            record["_udf"] = self._udfs(spec, None, udf_items)
        record = self.rules.before_create(spec, record, actor)
        if spec.name in attachments.ENTITIES:
            record = attachments.on_create(record, actor, self.rules.clock())
        created = self.store.create(spec.name, record, actor=actor)
        self.rules.after_write(spec, None, created, actor)
        return created["id"]

    def update(self, spec: EntitySpec, body: Any, parent_id: int | None, actor: int, *, full: bool) -> int:
        sent, udf_items = self._fields(spec, body)
        record_id = sent.pop("id", None)
        if record_id is None:
            raise WriteError("An id is required to update an entity.")
        old = self._existing(spec, record_id, parent_id)
        changes = self._changes(spec, old, sent, full=full)
        new = {**old, **changes}
        for field in spec.fields.values():
            if field.required and field.name != "id" and new.get(field.name) is None:
                raise (
                    missing_reference(field.name)
                    if field.picklist
                    else WriteError(f"Missing required field: {field.name}.")
                )
        self._check_values(spec, {k: v for k, v in changes.items() if v is not None}, new)
        if udf_items is not None:
            changes["_udf"] = self._udfs(spec, old, udf_items) or None
        changes = self.rules.before_update(spec, old, changes, actor)
        updated = self.store.update(spec.name, record_id, changes, actor=actor)
        self.rules.after_write(spec, old, updated, actor)
        return record_id

    def delete(self, spec: EntitySpec, record_id: int, parent_id: int | None, actor: int) -> int:
        try:
            old = self._existing(spec, record_id, parent_id)
        except WriteError:
            raise WriteError(NO_MATCH_ON_DELETE) from None
        self.rules.before_delete(spec, old, actor)
        try:
            self.store.delete(spec.name, record_id, actor=actor)
        except NotFoundError:
            raise WriteError(NO_MATCH_ON_DELETE) from None
        self.rules.after_write(spec, old, None, actor)
        return record_id

    # --- checks ------------------------------------------------------------------------------

    def _existing(self, spec: EntitySpec, record_id: int, parent_id: int | None) -> dict:
        """The record to change; NO_MATCH when there is none (under the URL's parent, if any)."""
        old = self.store.get(spec.name, record_id)
        if old is None or (parent_id is not None and old.get(spec.parent_field or "") != parent_id):
            raise WriteError(NO_MATCH)
        return old

    def _fields(self, spec: EntitySpec, body: Any) -> tuple[dict[str, Any], list | None]:
        """The body's known fields under their wire names, typed (unknown properties are ignored,
        as the service's JSON binding does); and the userDefinedFields array if sent."""
        if not isinstance(body, dict):
            raise WriteError("The request body must be a JSON object.")
        sent: dict[str, Any] = {}
        udf_items = None
        for key, value in body.items():
            if key.lower() == "userdefinedfields":
                udf_items = value if isinstance(value, list) else []
                continue
            field = spec.field(key)
            if field is None:
                continue
            try:
                sent[field.name] = typed(field, value)
            except ValueProblem as problem:
                raise WriteError(str(problem)) from None
        return sent, udf_items

    def _bind_parent(self, spec: EntitySpec, sent: dict, parent_id: int | None) -> None:
        parent_field = spec.parent_field
        if parent_id is None or parent_field is None:
            return
        if sent.get(parent_field) not in (None, parent_id):
            raise WriteError(f"The {parent_field} in the body does not match the parent id in the URL.")
        sent[parent_field] = parent_id

    def _changes(self, spec: EntitySpec, old: dict, sent: dict, *, full: bool) -> dict:
        changes: dict[str, Any] = {}
        for name, value in sent.items():
            field = spec.fields[name.lower()]
            if value == old.get(name):
                continue  # clients PATCH whole records back: unchanged read-only values pass
            if field.read_only:
                raise WriteError(f"{field.name} is a read-only field and cannot be updated.")
            changes[name] = value
        if full:  # Reference: api.md §4 — PUT clears the writable fields it omits
            for field in spec.fields.values():
                if field.name not in sent and not field.read_only and not field.required:
                    if old.get(field.name) is not None:
                        changes[field.name] = None
        return changes

    def _check_values(self, spec: EntitySpec, values: dict, record: dict) -> None:
        for name, value in values.items():
            field = spec.fields.get(name.lower())
            if field is None or value is None:
                continue
            self._check_picklist(spec, field, value, record)
            target = REFERENCES.get(field.reference or "")
            if target and self.store.get(target, value) is None:
                raise missing_reference(field.name)

    def _check_picklist(self, spec: EntitySpec, field: FieldSpec, value: Any, record: dict) -> None:
        choices = choices_for(spec, field)
        if not choices:
            return
        choice = next((c for c in choices if c.value == value), None)
        if choice is None or not choice.active:
            raise missing_reference(field.name)
        parent_field = picklists.PICKLIST_PARENTS.get((spec.name, field.name))
        if parent_field and choice.parent is not None and record.get(parent_field) != choice.parent:
            raise WriteError(
                f"{field.name} {value} does not belong to {parent_field} {record.get(parent_field)}."
            )

    def _udfs(self, spec: EntitySpec, old: dict | None, items: list) -> dict:
        try:
            return udfs.merged(spec.name, (old or {}).get("_udf"), items)
        except KeyError as unknown:
            raise WriteError(f"Unable to find user-defined field {unknown.args[0]} on {spec.name}.") from None
