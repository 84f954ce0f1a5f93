"""The Autotask catalog against the entity fields of the wire reference (psa/autotask/spec)."""

from psa.autotask.catalog import CATALOG
from psa.autotask.listing import JOINED, JOINS, PICKLIST, include_fields
from psa.autotask.spec import entity_fields
from psa.catalog import CHANGES


def test_every_listed_entity_and_requested_field_exists():
    spec = entity_fields()
    for entity in CATALOG.entities.values():
        if entity.path.startswith(PICKLIST):
            continue
        root = entity.path.removeprefix(JOINED)
        assert root in spec, entity.name
        known = set(spec[root])
        for join in JOINS.get(root, ()) if entity.path.startswith(JOINED) else ():
            assert join.link in known, entity.name  # the link is a field of the listed record...
            assert set(join.fields) <= set(spec[join.entity]), entity.name  # ...or of one joined before
            known |= set(join.fields)
        unknown = set(include_fields(entity.mapping.api_fields)) - known
        assert not unknown, f"{entity.name}: {sorted(unknown)}"


def test_every_picklist_is_a_field_autotask_may_list_values_for():
    spec = entity_fields()
    for entity in CATALOG.entities.values():
        if entity.path.startswith(PICKLIST):
            owner, _, field = entity.path.removeprefix(PICKLIST).partition(".")
            assert spec[owner][field][1] in ("true", "?"), entity.name


def test_change_stamps_are_datetime_fields_and_narrow_the_changes_tier():
    spec = entity_fields()
    for name in CATALOG.tier_entities(CHANGES):
        entity = CATALOG.entity(name)
        assert spec[entity.path][entity.mapping.stamp][0] == "datetime", name
    assert "members" not in CATALOG.tier_entities(CHANGES)  # Resources have no change stamp
