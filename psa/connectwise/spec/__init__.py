"""The ConnectWise PSA 2025.1 catalog the code and tests are checked against, kept in the repository.

Where the files come from: `endpoints.tsv` (every method + path), `models.tsv` (every model's JSON
fields and their types) and `required.tsv` (the fields each model marks required) were extracted
from ConnectWise's published 2025.1 OpenAPI specification (the "All" API definition). Update them
together when the product moves to a newer codebase.
"""

from __future__ import annotations

import csv
from functools import cache
from pathlib import Path

SPEC_DIR = Path(__file__).resolve().parent


def _rows(name: str) -> list[dict[str, str]]:
    with open(SPEC_DIR / name, newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


@cache
def endpoints() -> frozenset[tuple[str, str]]:
    """Every (method, path) ConnectWise serves, paths as `/service/tickets/{id}`."""
    return frozenset((row["method"], row["path"]) for row in _rows("endpoints.tsv"))


@cache
def model_fields() -> dict[str, dict[str, str]]:
    """model → {json field → spec type} (`*int32`, `NullableBool`, `*TicketReference`, ...)."""
    fields: dict[str, dict[str, str]] = {}
    for row in _rows("models.tsv"):
        fields.setdefault(row["model"], {})[row["json_field"]] = row["type"]
    return fields


@cache
def required_fields() -> dict[str, frozenset[str]]:
    """model → the fields the spec marks required."""
    required: dict[str, set[str]] = {}
    for row in _rows("required.tsv"):
        required.setdefault(row["model"], set()).add(row["json_field"])
    return {model: frozenset(names) for model, names in required.items()}
