"""The Autotask entity fields the catalog is checked against, kept in the repository.

`entities.tsv` is trimmed from the wire reference (shared/reference/autotask/entities.tsv, built
from the service's Swagger document, field lists generated from live entityInformation/fields
and SOAP field info): one line per field of each entity the catalog lists. Regenerate it from
there when the catalog starts reading another entity.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

SPEC = Path(__file__).with_name("entities.tsv")


@cache
def entity_fields() -> dict[str, dict[str, tuple[str, str]]]:
    """entity → field → (type, isPickList)."""
    fields: dict[str, dict[str, tuple[str, str]]] = {}
    for line in SPEC.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        entity, field, kind, picklist = line.split("\t")
        fields.setdefault(entity, {})[field] = (kind, picklist)
    return fields
