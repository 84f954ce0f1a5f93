"""The ConnectWise half of the PSA sandbox: REST 3.0 the way ConnectWise speaks it.

Product code (demo, integration tests, fault tests, benchmarks), not a test mock. Start it with
`python manage.py psa_sandbox --port 8765 --scale small --seed 1`, or in-process:

    with SandboxServer(scale="small", seed=1) as sandbox:   # port 0: any free port
        sandbox.url, sandbox.credentials, sandbox.store, sandbox.stats

Entity names (SandboxStore.list/get/create/update/delete) are the ConnectWise paths, nested
collections keep the `{parentId}` placeholder and carry their parent in a field:

    service/tickets                      project/tickets (same id space as service tickets)
    service/tickets/{parentId}/notes     (ticketId; also served at project/tickets/{parentId}/notes)
    sales/opportunities                  sales/opportunities/{parentId}/notes (opportunityId)
    sales/opportunities/statuses         sales/opportunities/types        sales/stages
    system/members                       system/locations (territories)   service/locations
    company/companies                    company/companies/statuses
    project/projects                     project/statuses
    schedule/entries (type "S" = ticket assignment, objectId = ticket id)
    schedule/statuses  schedule/types    schedule/calendars
    schedule/holidayLists                schedule/holidayLists/{parentId}/holidays (holidayList/id)
    service/boards                       service/boards/{parentId}/statuses|types|subtypes|items (board/id),
                                         service/boards/{parentId}/teams (boardId)
    service/priorities                   service/SLAs    service/SLAs/{parentId}/priorities (sla/id)
    time/entries                         system/callbacks
    set-up collections (schema_setup.py, read-only, data_setup.py / data_links.py): company/contacts
    (+ /types), company/companies/types, company/companies/{parentId}/sites|teams (company/id),
    company/teamRoles, company/communicationTypes, company/noteTypes, company/countries,
    company/configurations/statuses, finance/agreements (+ /types), sales/probabilities,
    sales/opportunities/ratings, sales/activities (+ /statuses, /types), service/sources,
    time/workTypes, time/workRoles, project/phaseStatuses, project/projectTypes,
    project/projects/{parentId}/phases|teamMembers (projectId), system/securityroles,
    system/departments, system/standardNotes, system/timeZoneSetups, system/myCompany/other,
    service/boards/{parentId}/typeSubTypeItemAssociations (board/id)

API paths answer under the codebase companyinfo reports and under `v4_6_release/`.

Notes are generated lazily per ticket / opportunity: `store.list(notes_entity)` without a
parent_id shows only the notes some request (or `list(..., parent_id=N)`) has already touched.

Service tickets keep ConnectWise's own SLA state (sla.py: goals per SLA priority counted in the
SLA calendar's working hours, paused in waiting statuses, moved on by statuses and flagged notes);
tickets carry their model's whole field set (schema_tickets.py).

Data are deterministic for a seed and an `anchor` (default: the start of the current UTC day;
generated dates lie before it). Writes bump `_info.lastUpdated` to the real current time.
See schema.py (fields), api.py/writes.py (semantics), faults.py, notify.py (callbacks).
"""

from psa.sandbox.connectwise.server import DEFAULT_CLIENT_ID, SandboxServer
from psa.sandbox.connectwise.store import SandboxStore
from psa.sandbox.faults import FaultSpec

__all__ = ["DEFAULT_CLIENT_ID", "FaultSpec", "SandboxServer", "SandboxStore"]
