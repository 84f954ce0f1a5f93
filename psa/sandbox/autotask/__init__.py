"""The Datto Autotask half of the PSA sandbox: Autotask's REST API v1.0 as a site of the sandbox
host (psa.sandbox.host), with seeded data at the shared scales and signed webhook callouts.

    with AutotaskSandbox(scale="small", seed=1) as sandbox:   # owns a host on a free port
        sandbox.url, sandbox.zone_url, sandbox.credentials, sandbox.store, sandbox.stats

Wire facts: shared/reference/autotask/ (api.md, webhooks.md; entities.tsv and endpoints.tsv are
carried here trimmed as entities.tsv and operations.tsv). Entity names in the store are the REST
root names (`Tickets`, `TicketNotes`, `TicketWebhooks`...); records are sparse (unset = null on
the wire) and keep user-defined field values in `_udf`. Ticket notes are generated lazily per
ticket (every ticket's at once the first time the whole collection is queried).

Modules: schema (fields, operations), store, data/data_work/data_tickets (seeded records),
filters/query (search grammar, keyset paging), routes/api (requests), writes/rules (writes and
business rules), attachments (ticket files), metadata/picklists/udfs (entityInformation), guards
(auth, threshold, thread limit), webhooks/signing (callouts), activity (random edits), sandbox
(the site).
"""

from psa.sandbox.autotask.sandbox import AutotaskSandbox
from psa.sandbox.autotask.webhooks import DeliveryPolicy

__all__ = ["AutotaskSandbox", "DeliveryPolicy"]
