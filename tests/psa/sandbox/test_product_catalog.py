"""Every request the mirror makes (catalog path, scope conditions, mapped fields) is one the
sandbox understands: a 200 with records, never a 400 for an unknown field."""

from __future__ import annotations

import pytest
from django.conf import settings

from psa.catalog import ScopeContext
from psa.connectwise.catalog import CATALOG
from tests.psa.sandbox.conftest import ANCHOR

MAPPINGS = {name: entity.mapping for name, entity in CATALOG.mirrored().items()}

PARENT_IDS = {"boards": 1, "slas": 1, "holiday_lists": 1}


@pytest.mark.parametrize("name", sorted(MAPPINGS))
def test_it_answers_the_mirror_request_for(name, api, sandbox):
    entity, mapping = CATALOG.entities[name], MAPPINGS[name]
    # The mirror's own scope, as of the moment the sandbox's data were generated.
    context = ScopeContext(
        now=ANCHOR, closed_ticket_retention_days=30, time_entry_days=settings.SYNC_TIME_ENTRY_DAYS
    )
    if entity.parent:
        parent_entity = CATALOG.entities[entity.parent]
        parent_id = PARENT_IDS.get(entity.parent) or sandbox.store.ids(parent_entity.path)[0]
        path = entity.path_for(parent_id)
    else:
        path = entity.path
    params = {"fields": ",".join(mapping.api_fields), "pageSize": 1000}
    conditions = entity.conditions(context)
    if conditions:
        params["conditions"] = conditions
    response = api.forward(path, **params)
    assert response.status_code == 200, response.text
    if not path.endswith("/notes"):  # a parent may have no notes
        assert response.json(), path
    changed = api.forward(path, conditions="lastUpdated > [2000-01-01T00:00:00Z]", fields="id", pageSize=1)
    assert changed.status_code == 200, changed.text
