"""ConnectWise PSA as a provider (psa/providers.py): what the neutral code may ask of it."""

from __future__ import annotations

from typing import Any

from psa.connectwise import callbacks, credentials
from psa.connectwise.catalog import CATALOG  # catalog and pushers load models: import once apps are ready
from psa.connectwise.client import ConnectWiseClient
from psa.connectwise.pushers import PUSHERS
from psa.connectwise.webhook import callback_receive
from psa.errors import PSAError
from psa.providers import BoardRules, CallbackHandler, Provider, RefreshHandler


def connection_test(connection: Any) -> dict:
    """companyinfo (fresh, not cached), then `system/info` with the connection's keys."""
    try:
        client = ConnectWiseClient.from_connection(connection, interactive=True)
        info = client.company_info(refresh=True)
        system = client.system_info()
    except PSAError as err:
        return {"ok": False, "error": str(err), "error_type": type(err).__name__}
    details = {
        "company_name": info.get("CompanyName", ""),
        "codebase": info.get("Codebase", ""),
        "version_code": info.get("VersionCode", ""),
        "version": system.get("version", ""),
        "is_cloud": system.get("isCloud"),
        "server_time_zone": system.get("serverTimeZone", ""),
        "api_url": client.api_base,
        "requests_made": client.requests_made,
    }
    summary = (
        f"{details['company_name']}, PSA {details['version']} (codebase {details['codebase']}, "
        f"API {details['api_url']})"
    )
    return {"ok": True, "summary": summary, **details}


def callbacks_listed(*, connection: Any) -> list[dict]:
    """This connection's system/callbacks entries, as the neutral commands show registrations."""
    return [
        {
            "id": entry.get("id"),
            "what": f"{entry.get('type')} ({entry.get('level')})",
            "state": "inactive" if entry.get("inactiveFlag") else "active",
            "url": entry.get("url"),
        }
        for entry in callbacks.connection_callbacks_list(connection=connection)
    ]


# Reference: developer guide "Service boards": a status belongs to one service board, and a
# ticket may only take the statuses of its own board.
BOARD_RULES = BoardRules(
    ticket_statuses=lambda statuses, ticket: statuses.filter(board_psa_id=ticket.board_psa_id),
    board_statuses=lambda statuses, psa_board_ids: statuses.filter(board_psa_id__in=psa_board_ids),
)


PROVIDER = Provider(
    name="connectwise",
    label="ConnectWise PSA",
    credential_fields=credentials.FIELDS,
    credentials_clean=credentials.credentials_clean,
    client_for=ConnectWiseClient.from_connection,
    connection_test=connection_test,
    describe=credentials.describe,
    catalog=CATALOG,
    board_rules=BOARD_RULES,
    refresh=RefreshHandler.from_module("psa.connectwise.refresh"),
    pushers=PUSHERS,
    callbacks=CallbackHandler(
        receive=callback_receive,
        ensure=callbacks.connection_callbacks_ensure,
        listed=callbacks_listed,
        remove=callbacks.connection_callbacks_remove,
    ),
)
