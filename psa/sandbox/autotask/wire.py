"""Values on the Autotask wire: datetimes, typed field values and whole records.

Reference: api.md §8 — datetimes are UTC, returned as `2012-10-24T05:00:00.000Z`; clients send
`…Z` with 0, 3 or 6 fractional digits, or no zone at all (then UTC). Records keep datetimes in
the returned form, whose fixed width makes text order equal time order (filters compare text).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from psa.sandbox.autotask.schema import EntitySpec, FieldSpec, spec_of
from psa.sandbox.autotask.udfs import wire_values

DATETIME_PATTERN = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?$",
    re.IGNORECASE,
)


class ValueProblem(ValueError):
    """A value that does not fit its field (answered as a 500 business error)."""


def wire_time(moment: datetime) -> str:
    """`2026-01-02T03:04:05.123Z` (aware datetimes are converted to UTC, naive ones read as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_time(text: str) -> datetime:
    match = DATETIME_PATTERN.match(text.strip())
    if match is None:
        raise ValueProblem(f"'{text}' is not a valid date/time")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    moment = datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro
    )
    if zone and zone.upper() != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset_minutes = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        moment -= timedelta(minutes=offset_minutes)
    return moment.replace(tzinfo=UTC)


def typed(spec: FieldSpec, value: Any) -> Any:
    """`value` as the record stores it for `spec`; "" clears (django-autotask sends "" for None)."""
    if value is None or (value == "" and spec.type != "string"):
        return None
    if spec.type == "boolean":
        return boolean(value, spec.name)
    if spec.is_number:
        if isinstance(value, bool):
            raise ValueProblem(f"'{value}' is not a valid value for {spec.name}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueProblem(f"'{value}' is not a valid value for {spec.name}") from None
        if not number.is_integer():
            raise ValueProblem(f"'{value}' is not a valid value for {spec.name}")
        return int(number)
    if spec.is_decimal:
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueProblem(f"'{value}' is not a valid value for {spec.name}") from None
    if spec.type == "datetime":
        return wire_time(parse_time(str(value)))
    if not isinstance(value, str):
        value = str(value)
    if spec.length and len(value) > spec.length:
        raise ValueProblem(f"Value for field {spec.name} exceeds the maximum length of {spec.length}.")
    return value


def boolean(value: Any, name: str) -> bool:
    # Reference: api.md §3 — booleans must be JSON true/false (or "true"); anything else errors.
    word = boolean_word(value)
    if word is None:
        raise ValueProblem(f"'{value}' is not a valid boolean value for {name}")
    return word


def boolean_word(value: Any) -> bool | None:
    """True/False for a JSON boolean or the words "true"/"false" (any case), else None."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


# Booleans the service leaves null until it knows the answer: django-autotask 1.20 reads this one
# through bool(), and stores every other boolean it syncs straight into NOT NULL columns
# (CompanyLocations.isActive, TimeEntries.isNonBillable, Roles.isSystemRole...), so the live
# service sends those as true/false, never null.
NULLABLE_BOOLEANS = frozenset({("Tickets", "serviceLevelAgreementHasBeenMet")})


def to_wire(spec: EntitySpec, record: dict, include: list[str] | None = None) -> dict:
    """The record as the API sends it: every field (null when unset, false for an unset
    boolean) plus userDefinedFields.

    Reference: api.md §3 — IncludeFields returns only those fields plus userDefinedFields."""
    names = include if include is not None else spec.field_names
    false_when_unset = _false_when_unset(spec.name)
    item = {name: record.get(name) for name in names}
    for name in false_when_unset.intersection(name for name, value in item.items() if value is None):
        item[name] = False
    item["userDefinedFields"] = wire_values(spec.name, record)
    return item


@cache
def _false_when_unset(entity_name: str) -> frozenset[str]:
    spec = spec_of(entity_name)
    return frozenset(
        field.name
        for field in spec.fields.values()
        if field.type == "boolean" and (entity_name, field.name) not in NULLABLE_BOOLEANS
    )
