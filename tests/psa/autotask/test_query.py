from datetime import UTC, datetime, timedelta, timezone

import pytest

from psa.autotask.query import (
    all_of,
    any_of,
    changed_since_on,
    cond,
    condition_count,
    narrowed,
    query_filter,
    query_text,
    split_in,
)


def test_it_builds_every_operator():
    for op in ("eq", "noteq", "gt", "gte", "lt", "lte", "beginsWith", "endsWith", "contains"):
        assert cond("title", op, "x") == {"op": op, "field": "title", "value": "x"}
    assert cond("dueDateTime", "exist") == {"op": "exist", "field": "dueDateTime"}
    assert cond("dueDateTime", "notExist") == {"op": "notExist", "field": "dueDateTime"}
    assert cond("status", "in", (1, 5)) == {"op": "in", "field": "status", "value": [1, 5]}
    assert cond("status", "notIn", [5]) == {"op": "notIn", "field": "status", "value": [5]}
    assert cond("Customer Rank", "eq", "A", udf=True)["udf"] is True


def test_it_refuses_malformed_conditions():
    with pytest.raises(ValueError, match="unknown Autotask operator"):
        cond("status", "ne", 1)
    with pytest.raises(ValueError, match="takes no value"):
        cond("status", "exist", 1)
    with pytest.raises(ValueError, match="needs a value"):
        cond("status", "eq")
    with pytest.raises(ValueError, match="list"):
        cond("status", "in", 5)


def test_it_writes_datetimes_as_utc_with_milliseconds_and_keeps_booleans():
    when = datetime(2026, 1, 2, 4, 4, 5, 123456, tzinfo=timezone(timedelta(hours=1)))
    assert cond("lastActivityDate", "gt", when)["value"] == "2026-01-02T03:04:05.123Z"
    assert cond("isActive", "eq", False)["value"] is False


def test_it_nests_groups_and_round_trips_as_text():
    text = query_text(
        cond("status", "noteq", 5), any_of(cond("queueID", "eq", 8), all_of(cond("priority", "eq", 1), None))
    )
    assert query_filter(text) == [
        {"op": "noteq", "field": "status", "value": 5},
        {
            "op": "or",
            "items": [
                {"op": "eq", "field": "queueID", "value": 8},
                {"op": "and", "items": [{"op": "eq", "field": "priority", "value": 1}]},
            ],
        },
    ]
    assert query_filter(None) == [] and query_filter('{"filter": [{"op": "exist", "field": "id"}]}') == [
        {"op": "exist", "field": "id"}
    ]


def test_changed_since_ands_the_entitys_stamp():
    when = datetime(2026, 5, 1, tzinfo=UTC)
    narrow = changed_since_on("lastModifiedDateTime")
    assert query_filter(narrow(None, when)) == [
        {"op": "gt", "field": "lastModifiedDateTime", "value": "2026-05-01T00:00:00.000Z"}
    ]
    assert len(query_filter(narrow(narrowed(None, cond("status", "eq", 1)), when))) == 2


def test_in_values_count_as_conditions_and_long_lists_are_split():
    items = [
        cond("status", "noteq", 5),
        any_of(cond("a", "eq", 1), cond("b", "in", [1, 2, 3])),
        cond("id", "in", list(range(1, 1201))),
    ]
    assert condition_count(items) == 1 + 4 + 1200
    chunks = split_in(items)
    assert len(chunks) == 3
    assert all(condition_count(chunk) <= 500 for chunk in chunks)
    ids = [v for chunk in chunks for item in chunk if item.get("field") == "id" for v in item["value"]]
    assert ids == list(range(1, 1201))
    assert split_in([cond("id", "in", [1, 2])]) == [[cond("id", "in", [1, 2])]]


def test_it_refuses_to_split_what_cannot_be_split():
    with pytest.raises(ValueError, match="no top-level 'in'"):
        split_in([any_of(cond("id", "in", list(range(600))))])
