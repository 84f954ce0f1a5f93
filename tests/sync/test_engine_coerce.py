"""Coercion of messy PSA values into mirror columns (no database needed)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from boards.models import Holiday, Ticket
from psa.connectwise.catalog import CATALOG
from sync.mapping.coerce import coerce_for_field, strip_nul
from sync.mapping.spec import UnmappableRecord, map_record, parse_psa_id

MAPPINGS = {name: entity.mapping for name, entity in CATALOG.mirrored().items()}


def _field(model, name):
    return model._meta.get_field(name)


@pytest.mark.parametrize(
    "value, expected, coerced",
    [
        ("short", "short", False),
        ("x" * 300, "x" * 255, True),
        ("a\x00b", "ab", True),
        (None, "", False),
        (42, "42", True),
        ({"a": 1}, "", True),
        ("émoji 🎉 עברית", "émoji 🎉 עברית", False),
        ("lone \ud800 surrogate", "lone ? surrogate", True),
    ],
)
def test_it_fits_text_into_the_column(value, expected, coerced):
    assert coerce_for_field(_field(Ticket, "summary"), value) == (expected, coerced)


@pytest.mark.parametrize(
    "value, expected, coerced",
    [
        (5, 5, False),
        ("7", 7, True),
        (None, None, False),
        ("x", None, True),
        (2**63, None, True),
        (True, None, True),
        (3.5, None, True),
        (4.0, 4, True),
    ],
)
def test_it_keeps_ids_in_range(value, expected, coerced):
    assert coerce_for_field(_field(Ticket, "board_psa_id"), value) == (expected, coerced)


@pytest.mark.parametrize(
    "value, expected, coerced",
    [
        (1.5, 1.5, False),
        (2, 2, False),
        ("2.5", 2.5, True),
        ("lots", None, True),
        (float("nan"), None, True),
        (1e309, None, True),
    ],
)
def test_it_parses_numbers(value, expected, coerced):
    assert coerce_for_field(_field(Ticket, "budget_hours"), value) == (expected, coerced)


@pytest.mark.parametrize(
    "value, expected, coerced",
    [
        ("2026-01-02T03:04:05Z", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), False),
        ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), False),
        ("2026-01-02", datetime(2026, 1, 2, tzinfo=UTC), False),
        ("31/12/2026", None, True),
        ("2026-13-45T00:00:00Z", None, True),
        (12345, None, True),
        (None, None, False),
        ("", None, False),
    ],
)
def test_it_parses_datetimes_or_drops_them(value, expected, coerced):
    assert coerce_for_field(_field(Ticket, "required_date"), value) == (expected, coerced)


def test_it_parses_dates_and_booleans():
    assert coerce_for_field(_field(Holiday, "date"), "2026-12-25T00:00:00Z") == (date(2026, 12, 25), False)
    assert coerce_for_field(_field(Holiday, "date"), "Christmas") == (None, True)
    assert coerce_for_field(_field(Holiday, "all_day"), None) == (True, False)  # the column default
    assert coerce_for_field(_field(Ticket, "closed"), "true") == (True, True)
    assert coerce_for_field(_field(Ticket, "closed"), None) == (False, False)


def test_it_strips_nul_from_raw_json_deeply():
    cleaned, changed = strip_nul({"a\x00": ["x\x00", {"b": "ok"}], "n": float("inf")})
    assert changed and cleaned == {"a": ["x", {"b": "ok"}], "n": None}
    assert strip_nul({"a": [1, "b"]}) == ({"a": [1, "b"]}, False)
    assert strip_nul(["\udfff"]) == (["?"], True)


@pytest.mark.parametrize(
    "record",
    [{"summary": "no id"}, {"id": "abc"}, {"id": -1}, {"id": True}, [1, 2], None, {"id": 1.5}, {"id": "1.5"}],
)
def test_it_refuses_records_without_a_usable_id(record):
    with pytest.raises(UnmappableRecord):
        map_record(MAPPINGS["service_tickets"], record, connection_id=1)


@pytest.mark.parametrize("value", [1.5, 0.999, 7.25, float("nan"), float("inf"), "2.5", Decimal("3.5")])
def test_it_refuses_a_psa_id_that_is_not_a_whole_number(value):
    # int(1.5) is 1: a fractional id would land on another record's row.
    with pytest.raises(UnmappableRecord):
        parse_psa_id(value)


@pytest.mark.parametrize("value, expected", [(7, 7), ("7", 7), (7.0, 7), (Decimal("8"), 8)])
def test_it_reads_whole_number_psa_ids(value, expected):
    assert parse_psa_id(value) == expected


def test_it_maps_nested_references_and_the_parent_id():
    row, coerced = map_record(
        MAPPINGS["board_statuses"], {"id": 3, "name": "New", "sortOrder": "2"}, connection_id=1, parent_id=9
    )
    assert (row["board_psa_id"], row["sort_order"], row["name"], coerced) == (9, 2, "New", True)
    row, coerced = map_record(
        MAPPINGS["service_tickets"], {"id": 1, "owner": {"id": 4, "identifier": "jd"}}, connection_id=1
    )
    assert (row["owner_psa_id"], row["owner_identifier"], row["owner_name"], row["kind"]) == (
        4,
        "jd",
        "",
        "service",
    )
    assert not coerced and row["raw"] == {"id": 1, "owner": {"id": 4, "identifier": "jd"}}
