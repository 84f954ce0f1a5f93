"""User-defined fields: their definitions (`entityInformation/userDefinedFields`) and the values
records carry (`_udf`, shown as `userDefinedFields: [{"name", "value"}]`).

Reference: api.md §5 — every UDF of the entity is listed on each record, `value` a string or null.
"""

from __future__ import annotations

from dataclasses import dataclass

from psa.sandbox.autotask.picklists import Choice, wire_choices


@dataclass(frozen=True)
class Udf:
    name: str
    type: str = "string"
    length: int = 100
    required: bool = False
    choices: tuple[Choice, ...] = ()
    description: str = ""


UDFS: dict[str, tuple[Udf, ...]] = {
    "Tickets": (
        Udf("Customer Reference", description="The customer's own ticket number"),
        Udf("Billing Approved", choices=(Choice(1, "Yes", system=False), Choice(2, "No", system=False))),
        Udf("Root Cause", length=500),
    ),
    "Companies": (Udf("Account Tier"), Udf("Onboarded On", type="datetime")),
    "Projects": (Udf("Budget Code"),),
    "Opportunities": (Udf("Lead Channel"),),
}


def definitions(entity: str) -> tuple[Udf, ...]:
    return UDFS.get(entity, ())


def wire_values(entity: str, record: dict) -> list[dict]:
    values = record.get("_udf") or {}
    return [{"name": udf.name, "value": values.get(udf.name)} for udf in definitions(entity)]


def wire_definitions(entity: str) -> list[dict]:
    return [
        {
            "name": udf.name,
            "label": udf.name,
            "type": udf.type,
            "length": udf.length,
            "description": udf.description,
            "isRequired": udf.required,
            "isReadOnly": False,
            "isQueryable": True,
            "isReference": False,
            "referenceEntityType": "",
            "isPickList": bool(udf.choices),
            "picklistValues": wire_choices(udf.choices) if udf.choices else None,
            "picklistParentValueField": "",
            "defaultValue": None,
            "isSupportedWebhookField": entity in ("Tickets", "Companies"),
        }
        for udf in definitions(entity)
    ]


def merged(entity: str, current: dict | None, sent: list) -> dict:
    """A record's UDF values after a write sent `userDefinedFields: [{"name","value"}]`;
    names match case-insensitively, unknown names are refused by the caller (KeyError)."""
    known = {udf.name.lower(): udf.name for udf in definitions(entity)}
    values = dict(current or {})
    for item in sent:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or item.get("Name") or "")
        if name.lower() not in known:
            raise KeyError(name)
        value = item.get("value", item.get("Value"))
        values[known[name.lower()]] = None if value is None else str(value)
    return {k: v for k, v in values.items() if v is not None}
