"""`{Entity}/entityInformation`, `/fields` and `/userDefinedFields`.

Reference: api.md §5 (shapes, camelCase names, picklist values with string `value`) and
webhooks.md §2 (the webhook field picklist: `{X}WebhookFields` `fieldID` lists the watched
entity's fields, `value` = Autotask's internal field id, `label` = the field name).
"""

from __future__ import annotations

from psa.sandbox.autotask import picklists, udfs
from psa.sandbox.autotask.picklists import Choice
from psa.sandbox.autotask.schema import EntitySpec, FieldSpec, spec_of

WEBHOOK_ENTITIES = {
    "TicketWebhooks": "Tickets",
    "TicketNoteWebhooks": "TicketNotes",
    "CompanyWebhooks": "Companies",
    "ContactWebhooks": "Contacts",
}
WATCHED = {
    "TicketWebhookFields": "Tickets",
    "TicketNoteWebhookFields": "TicketNotes",
    "CompanyWebhookFields": "Companies",
    "ContactWebhookFields": "Contacts",
}
FIELD_ID_BASE = {"Tickets": 1_000, "TicketNotes": 2_000, "Companies": 3_000, "Contacts": 4_000}
WATCHED_UDFS = {
    "TicketWebhookUdfFields": "Tickets",
    "CompanyWebhookUdfFields": "Companies",
    "ContactWebhookUdfFields": "Contacts",
}
UDF_ID_BASE = {"Tickets": 5_000, "Companies": 6_000, "Contacts": 7_000}


def webhook_field_choices(watched: str) -> tuple[Choice, ...]:
    """Autotask's internal ids of the watched entity's standard fields (stable: table order)."""
    base = FIELD_ID_BASE[watched]
    return tuple(
        Choice(base + n, spec.name, system=True)
        for n, spec in enumerate(spec_of(watched).fields.values())
        if spec.name != "id"
    )


def field_name_of(watched: str, field_id: int) -> str | None:
    return next((c.label for c in webhook_field_choices(watched) if c.value == field_id), None)


def webhook_udf_choices(watched: str) -> tuple[Choice, ...]:
    """Internal ids of the watched entity's user-defined fields (`udfFieldID` picklist)."""
    base = UDF_ID_BASE[watched]
    return tuple(Choice(base + n, udf.name, system=False) for n, udf in enumerate(udfs.definitions(watched)))


def udf_name_of(watched: str, udf_id: int) -> str | None:
    return next((c.label for c in webhook_udf_choices(watched) if c.value == udf_id), None)


def entity_information(spec: EntitySpec) -> dict:
    return {
        "info": {
            "name": spec.name[:-1] if spec.name.endswith("s") else spec.name,
            "canCreate": spec.can_create,
            "canUpdate": spec.can_update,
            "canQuery": True,
            "canDelete": spec.can_delete,
            "hasUserDefinedFields": bool(udfs.definitions(spec.name)),
            "supportsWebhookCallouts": spec.name in WEBHOOK_ENTITIES.values(),
            "userAccessForCreate": "All" if spec.can_create else "None",
            "userAccessForDelete": "All" if spec.can_delete else "None",
            "userAccessForQuery": "All",
            "userAccessForUpdate": "All" if spec.can_update else "None",
        }
    }


def choices_for(spec: EntitySpec, field: FieldSpec) -> tuple[Choice, ...]:
    if spec.name in WATCHED and field.name == "fieldID":
        return webhook_field_choices(WATCHED[spec.name])
    if spec.name in WATCHED_UDFS and field.name == "udfFieldID":
        return webhook_udf_choices(WATCHED_UDFS[spec.name])
    return picklists.choices(spec.name, field.name)


# Fields whose entityInformation name is cased otherwise than their key on records: items carry
# `displayColorRGB`, the field list `displayColorRgb` (django-autotask 1.20 looks the picklist up
# by that name, and its captured fixtures show both spellings).
LISTED_NAMES = {("TicketCategories", "displayColorRGB"): "displayColorRgb"}


def field_information(spec: EntitySpec) -> dict:
    fields = []
    for field in spec.fields.values():
        choices = choices_for(spec, field)
        is_picklist = field.picklist or bool(choices)
        fields.append(
            {
                "name": LISTED_NAMES.get((spec.name, field.name), field.name),
                "dataType": field.type,
                "length": field.length or 0,
                "isRequired": field.required,
                "isReadOnly": field.read_only,
                "isQueryable": True,
                "isReference": field.reference is not None,
                "referenceEntityType": field.reference or "",
                "isPickList": is_picklist,
                "picklistValues": picklists.wire_choices(choices) if is_picklist else None,
                "picklistParentValueField": picklists.PICKLIST_PARENTS.get((spec.name, field.name), ""),
                "isSupportedWebhookField": spec.name in WEBHOOK_ENTITIES.values() and field.name != "id",
            }
        )
    return {"fields": fields}


def udf_information(spec: EntitySpec) -> dict:
    return {"fields": udfs.wire_definitions(spec.name)}
