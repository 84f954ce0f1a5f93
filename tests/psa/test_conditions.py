import datetime as dt
from decimal import Decimal
from urllib.parse import quote_plus

import pytest

from psa.connectwise.conditions import (
    all_of,
    any_of,
    cond,
    encoded_length,
    in_list,
    literal,
    not_,
    split_in,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", '"plain"'),
        ('say "hi"', '"say \\"hi\\""'),
        ("C:\\temp\\", '"C:\\\\temp\\\\"'),
        ('a\\"b', '"a\\\\\\"b"'),
        ("Café ☕ שלום", '"Café ☕ שלום"'),
        ("", '""'),
        (True, "True"),
        (False, "False"),
        (None, "null"),
        (0, "0"),
        (-42, "-42"),
        (1.5, "1.5"),
        (Decimal("12.50"), "12.50"),
    ],
)
def test_it_formats_literals(value, expected):
    assert literal(value) == expected


def test_it_formats_datetimes_in_brackets_as_utc_with_z():
    aware = dt.datetime(2026, 1, 2, 5, 4, 5, 999, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert literal(aware) == "[2026-01-02T03:04:05Z]"
    assert literal(dt.datetime(2026, 1, 2, 3, 4, 5)) == "[2026-01-02T03:04:05Z]"
    assert literal(dt.date(2026, 1, 2)) == "[2026-01-02T00:00:00Z]"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), Decimal("NaN"), object(), b"bytes"])
def test_it_refuses_values_without_a_condition_form(value):
    with pytest.raises((ValueError, TypeError)):
        literal(value)


def test_it_builds_comparisons_with_reference_paths():
    assert cond("board/id", "=", 5) == "board/id = 5"
    assert cond("closedFlag", "=", False) == "closedFlag = False"
    assert cond("summary", "CONTAINS", 'x"y') == 'summary contains "x\\"y"'
    assert cond("summary", "not   like", "VPN*") == 'summary not like "VPN*"'
    assert cond("_info/lastUpdated", ">", dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)) == (
        "_info/lastUpdated > [2026-01-02T03:04:05Z]"
    )
    assert cond("id", "in", [1, 2]) == "id in (1,2)"
    assert cond("id", "not in", [1, 2]) == "id not in (1,2)"


@pytest.mark.parametrize("field", ["id = 1 or id", "board/", "/id", "a b", 'x"', "", "id)"])
def test_it_refuses_field_paths_that_could_change_the_condition(field):
    with pytest.raises(ValueError):
        cond(field, "=", 1)


def test_it_refuses_unknown_operators():
    with pytest.raises(ValueError):
        cond("id", "== 1 or id =", 2)


def test_it_combines_with_parentheses_and_drops_empty_parts():
    a, b, c = "board/id = 1", "closedFlag = False", "id > 5"
    assert all_of(a, b) == "(board/id = 1) and (closedFlag = False)"
    assert any_of(a, all_of(b, c)) == "(board/id = 1) or ((closedFlag = False) and (id > 5))"
    assert all_of(a, None, "") == a
    assert all_of() == ""
    assert not_(a) == "not (board/id = 1)"
    with pytest.raises(ValueError):
        not_("")


def test_it_builds_in_lists_of_any_literal():
    assert in_list("status/name", ["New", 'Say "x"']) == 'status/name in ("New","Say \\"x\\"")'
    with pytest.raises(ValueError):
        in_list("id", [])


def test_it_splits_5000_ids_so_every_condition_stays_short_and_covers_every_id_once():
    ids = list(range(100_000, 105_000))
    parts = split_in("id", ids, extra="closedFlag = False", max_chars=1500)
    assert len(parts) > 1
    seen = []
    for part in parts:
        assert encoded_length(part) <= 1500
        assert part.startswith("(closedFlag = False) and (id in (")
        inner = part[part.index("in (") + 4 : -2]
        seen.extend(int(x) for x in inner.split(","))
    assert seen == ids
    # greedy packing: no chunk could have taken the next id
    first_len = encoded_length(parts[0])
    assert first_len + len(quote_plus(",100000")) > 1500


def test_it_splits_strings_with_escapes_and_drops_duplicates():
    values = ['a"b', "c\\d", "é", 'a"b']
    parts = split_in("identifier", values, max_chars=60)
    joined = " ".join(parts)
    assert joined.count('"a\\"b"') == 1
    assert all(encoded_length(p) <= 60 for p in parts)


def test_it_returns_no_conditions_for_no_values_and_refuses_impossible_limits():
    assert split_in("id", []) == []
    with pytest.raises(ValueError):
        split_in("id", [1], extra="summary = " + literal("x" * 2000), max_chars=1500)
    with pytest.raises(ValueError):
        split_in("summary", ["y" * 200], max_chars=50)
