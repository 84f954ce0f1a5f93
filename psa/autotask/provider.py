"""Datto Autotask PSA as a provider (psa/providers.py): what the neutral code may ask of it."""

from __future__ import annotations

from typing import Any

from psa.autotask import callbacks, credentials
from psa.autotask.catalog import CATALOG  # catalog and pushers load models: import once apps are ready
from psa.autotask.client import AutotaskClient
from psa.autotask.pushers import PUSHERS
from psa.autotask.webhook import callback_receive
from psa.errors import PSAError
from psa.providers import BoardRules, CallbackHandler, Provider, RefreshHandler, Terms


def connection_test(connection: Any) -> dict:
    """Zone discovery (it tells an unknown user), then one authenticated call:
    ThresholdInformation, which also says how much of the hour's requests are used."""
    try:
        client = AutotaskClient.from_connection(connection, interactive=True)
        threshold = client.threshold_information()
    except PSAError as err:
        return {"ok": False, "error": str(err), "error_type": type(err).__name__}
    zone = client.zone
    details = {
        "zone_name": zone.name,
        "database_id": zone.database_id,
        "api_url": zone.api_base,
        "requests_this_hour": threshold.current,
        "threshold_per_hour": threshold.limit,
        "requests_made": client.requests_made,
    }
    summary = (
        f"Autotask zone {zone.name or zone.url} (database {zone.database_id}, API {zone.api_base}); "
        f"{threshold.current} of {threshold.limit} requests used this hour"
    )
    return {"ok": True, "summary": summary, **details}


# Reference: api.md §5 — ticket statuses are one picklist for the whole database (and tasks use
# the same list): a ticket may take any active status, whatever its queue; a board over any
# queues may show every status as a column (an inactive one too, as ConnectWise boards may: its
# tickets must stay visible).
BOARD_RULES = BoardRules(
    ticket_statuses=lambda statuses, ticket: statuses.filter(inactive=False),
    board_statuses=lambda statuses, psa_board_ids: statuses,
)


PROVIDER = Provider(
    name="autotask",
    label="Datto Autotask PSA",
    credential_fields=credentials.FIELDS,
    credentials_clean=credentials.credentials_clean,
    client_for=AutotaskClient.from_connection,
    connection_test=connection_test,
    describe=credentials.describe,
    catalog=CATALOG,
    board_rules=BOARD_RULES,
    refresh=RefreshHandler.from_module("psa.autotask.refresh"),
    pushers=PUSHERS,
    # Reference: api.md — Autotask's tickets sit in queues and are worked by resources.
    terms=Terms(member="resource", members="resources", psa_board="queue", psa_boards="queues"),
    callbacks=CallbackHandler(
        receive=callback_receive,
        ensure=callbacks.connection_callbacks_ensure,
        listed=callbacks.connection_callbacks_list,
        remove=callbacks.connection_callbacks_remove,
        rotates_secret=True,
    ),
)
