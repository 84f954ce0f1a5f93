"""Every record of every collection the sandbox serves is one a client generated from the
ConnectWise 2025.1 spec accepts (tests/psa/sandbox/contract.py), at every scale.

Checked: every record of every collection and child collection at small and medium scale.
At large scale, every record of the set-up and reference collections; of the four big ones
(tickets, project tickets, schedule and time entries: 40k-100k each) a deterministic sample, every
SAMPLE_STEP-th record plus every record bringing a field not seen before; notes for
every LARGE_NOTE_PARENT_STEP-th parent plus the first and last (the walk would otherwise
materialise half a million lazily made notes).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

import pytest

from psa.connectwise.spec import model_fields
from psa.sandbox.connectwise.data import SCALES, Generator
from psa.sandbox.connectwise.query import getter_factory, projector, sorter
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.rules import Rules
from psa.sandbox.connectwise.schema import NOTE_ENTITIES, SPECS, TICKET_ENTITIES, EntitySpec
from psa.sandbox.connectwise.store import SandboxStore
from tests.psa.sandbox.conftest import ANCHOR
from tests.psa.sandbox.contract import problems

SEEDS = {"tiny": 5, "small": 7, "medium": 3, "large": 1}
LARGE_NOTE_PARENT_STEP = 25
SAMPLE_STEP = 10
SAMPLED_AT_LARGE = ("service/tickets", "project/tickets", "schedule/entries", "time/entries")


def generated(scale: str) -> SandboxStore:
    store = SandboxStore()
    refs = RefBuilder("http://127.0.0.1:1/v2025_1/apis/3.0/")
    store.hooks = Rules(refs)
    Generator(store, refs, scale=scale, seed=SEEDS[scale], anchor=ANCHOR).generate()
    return store


def parents_of(store: SandboxStore, spec: EntitySpec, scale: str) -> list[int]:
    parents = TICKET_ENTITIES if spec.parent in TICKET_ENTITIES else (spec.parent,)
    ids = [i for key in parents for i in store.ids(key)]
    if spec.key in NOTE_ENTITIES and scale == "large":
        return sorted({*ids[::LARGE_NOTE_PARENT_STEP], ids[0], ids[-1]})
    return ids


def records_of(store: SandboxStore, spec: EntitySpec, scale: str) -> Iterator[dict]:
    if not spec.nested:
        records = store.iter_records(spec.key)
        yield from sampled(records) if scale == "large" and spec.key in SAMPLED_AT_LARGE else records
        return
    for parent_id in parents_of(store, spec, scale):
        yield from store.iter_records(spec.key, parent_id=parent_id)


def sampled(records: Iterator[dict]) -> Iterator[dict]:
    """Every SAMPLE_STEP-th record, and every record carrying a field no earlier one had (so each
    field of the collection is checked at least once, whatever its frequency)."""
    seen: set[str] = set()
    for index, record in enumerate(records):
        if index % SAMPLE_STEP == 0 or not seen.issuperset(record):
            seen.update(record)
            yield record


def summary(found: Counter, examples: dict[str, str]) -> str:
    lines = [f"{count:>7} × {pattern}   e.g. {examples[pattern]}" for pattern, count in found.most_common(40)]
    return f"{sum(found.values())} problems of {len(found)} kinds:\n" + "\n".join(lines)


@pytest.fixture(scope="module", params=sorted(SCALES, key=lambda s: SCALES[s].tickets))
def scale_store(request) -> tuple[str, SandboxStore]:
    return request.param, generated(request.param)


def test_it_serves_only_records_a_spec_generated_client_accepts(scale_store):
    scale, store = scale_store
    found: Counter = Counter()
    examples: dict[str, str] = {}
    checked: Counter = Counter()
    for spec in SPECS:
        for record in records_of(store, spec, scale):
            checked[spec.key] += 1
            for problem in problems(spec.model, record, f"{spec.key}#{record.get('id')}"):
                pattern = re.sub(r"#\d+|\[\d+\]", "", problem.split(": ", 1)[0]) + ": " + _kind(problem)
                found[pattern] += 1
                examples.setdefault(pattern, problem[:200])
    empty = [spec.key for spec in SPECS if not checked[spec.key] and spec.key != "system/callbacks"]
    assert empty == [], f"collections without records at {scale}: {empty}"
    assert not found, summary(found, examples)


def _kind(problem: str) -> str:
    detail = problem.split(": ", 1)[1]
    return re.sub(r"'[^']*'$|\d{4}-[^ ]+|\{.*\}|\[.*\]", "…", detail)[:90]


def test_it_lets_conditions_order_by_and_fields_name_every_field_of_the_model(sandbox):
    for spec in SPECS:
        record = next(records_of(sandbox.store, spec, "small"), None)
        for name in model_fields()[spec.model]:
            getter_factory(spec)(name)  # raises ConditionError for a name the sandbox refuses
            assert sorter(spec, f"{name} desc") is not None
            if record is not None and name in record:
                assert projector(spec, name)(record) == {name: record[name]}


def served_collections() -> list[EntitySpec]:
    return [spec for spec in SPECS if not spec.key.endswith("/notes")]


@pytest.mark.parametrize("spec", served_collections(), ids=lambda spec: spec.key)
def test_it_answers_every_collection_over_http_with_contract_records(spec, api, sandbox):
    if spec.nested:
        parent_id = next(
            p
            for p in parents_of(sandbox.store, spec, "small")
            if sandbox.store.id_list(spec.key, parent_id=p)
        )
        path = spec.key.replace("{parentId}", str(parent_id))
    else:
        path = spec.key
    listed = api.get(path, params={"pageSize": 1000})
    assert listed.status_code == 200, listed.text
    records = listed.json()
    assert records or spec.key == "system/callbacks", path
    assert [p for r in records for p in problems(spec.model, r, path)][:5] == []
    if records:
        one = api.get(f"{path}/{records[-1]['id']}")
        assert one.status_code == 200 and one.json() == records[-1]
        counted = api.get(f"{path}/count").json()["count"]
        assert counted == len(sandbox.store.id_list(spec.key, parent_id=parent_id if spec.nested else None))
