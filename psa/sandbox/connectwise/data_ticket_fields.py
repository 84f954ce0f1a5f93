"""The rest of a seeded ticket's fields, as a real ConnectWise site fills them: contact details,
site address, billing defaults, flags, department, currency, parent / child tickets.

Each ticket draws from its own random stream (seed + ticket id), so adding a field here never
shifts the values of the fields psa.sandbox.connectwise.data_tickets draws. References point at records of
the set-up collections (contacts, sites, agreements, sources, departments, phases) when the
store has them; otherwise the field is left out rather than pointing at nothing.
"""

from __future__ import annotations

import random
import uuid
from functools import cache

from psa.sandbox import texts
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.schema import SPEC_BY_KEY
from psa.sandbox.connectwise.store import SandboxStore

STREETS = ("Main St", "Harbour Rd", "Rue de la Paix", "Königstraße", "O'Connell St", "5th Ave")
CHILD_SHARE = 0.05  # tickets split off an earlier ticket of the same company (parentTicketId)


class SetupRefs:
    """References into the set-up collections, by company where they belong to one."""

    def __init__(self, store: SandboxStore, refs: RefBuilder) -> None:
        self.store, self.refs = store, refs
        self._refs: dict[tuple[str, int, str], dict] = {}
        self.contacts = self._by_company("company/contacts")
        self.sites = self._by_company("company/companies/{parentId}/sites")
        self.agreements = self._by_company("finance/agreements")
        self.sources = self._all("service/sources", "source")
        self.departments = self._all("system/departments", "department")

    def _records(self, key: str) -> list[dict]:
        return self.store.list(key) if key in SPEC_BY_KEY else []

    def _all(self, key: str, field: str) -> list[dict]:
        return [self.refs.ref(key, record, field) for record in self._records(key)]

    def _by_company(self, key: str) -> dict[int, list[dict]]:
        grouped: dict[int, list[dict]] = {}
        for record in self._records(key):
            company_id = (record.get("company") or {}).get("id")
            if isinstance(company_id, int):
                grouped.setdefault(company_id, []).append(record)
        return grouped

    def ref(self, key: str, record: dict, field: str) -> dict:
        """RefBuilder.ref, kept per record: 100k tickets point at the same few thousand contacts
        and sites, and the set-up records do not change while tickets are made."""
        cache_key = (key, record["id"], field)
        ref = self._refs.get(cache_key)
        if ref is None:
            ref = self._refs[cache_key] = self.refs.ref(key, record, field)
        return ref

    def phases(self, project_id: int | None) -> list[dict]:
        key = "project/projects/{parentId}/phases"
        if key not in SPEC_BY_KEY or project_id is None:
            return []
        return [self.refs.ref(key, p, "phase") for p in self.store.list(key, parent_id=project_id)]


def common_fields(rng: random.Random, ticket: dict, setup: SetupRefs, company: dict) -> dict:
    """Fields a ticket's model may have (the caller keeps those of its model; None = absent).
    No `currency`: the sandbox serves no finance/currencies for its reference to point at."""
    company_id = company["id"]
    contact = _pick(rng, setup.contacts.get(company_id, []), 0.85)
    site = _pick(rng, setup.sites.get(company_id, []), 0.9)
    name = display(contact) or ticket.get("contactName")
    fields = {
        "contact": setup.ref("company/contacts", contact, "contact") if contact else None,
        "contactName": name,
        "contactPhoneNumber": f"555{rng.randint(1000000, 9999999)}" if name and rng.random() < 0.7 else None,
        "contactPhoneExtension": str(rng.randint(100, 999)) if name and rng.random() < 0.1 else None,
        "contactEmailAddress": _email(name, company) if name and rng.random() < 0.8 else None,
        "site": setup.ref("company/companies/{parentId}/sites", site, "site") if site else None,
        "siteName": (site or {}).get("name") or "Main",
        "addressLine1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
        "addressLine2": f"Suite {rng.randint(100, 900)}" if rng.random() < 0.2 else None,
        "city": company.get("city"),
        "stateIdentifier": rng.choice(("FL", "IL", "NY", "TX", "CA")) if rng.random() < 0.8 else None,
        "zip": f"{rng.randint(10000, 99999)}",
        "country": company.get("country"),
        "agreement": _agreement(rng, setup, company_id),
        "department": rng.choice(setup.departments) if setup.departments else None,
        "approved": rng.random() < 0.97,
        "allowAllClientsPortalView": False,
        "automaticEmailContactFlag": rng.random() < 0.6,
        "automaticEmailResourceFlag": rng.random() < 0.4,
        "automaticEmailCcFlag": False,
        "estimatedExpenseCost": 0.0,
        "estimatedExpenseRevenue": 0.0,
        "estimatedProductCost": 0.0,
        "estimatedProductRevenue": 0.0,
        "estimatedTimeCost": 0.0,
        "estimatedTimeRevenue": 0.0,
        "billingMethod": "ActualRates",
        "subBillingMethod": "ActualRates",
        "billTime": rng.choice(("NoDefault", "Billable", "DoNotBill")),
        "billExpenses": "NoDefault",
        "billProducts": "Billable",
        "mobileGuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
    }
    agreement = fields["agreement"]
    if isinstance(agreement, dict):
        fields["agreementType"] = (agreement.get("type") or {}).get("name")
    return fields


def service_fields(rng: random.Random, setup: SetupRefs) -> dict:
    return {
        "source": rng.choice(setup.sources) if setup.sources else None,
        "hasChildTicket": False,
        "hasMergedChildTicketFlag": False,
        "requestForChangeFlag": rng.random() < 0.03,
        "poNumber": f"PO-{rng.randint(10000, 99999)}" if rng.random() < 0.05 else None,
        "externalXRef": f"RMM-{rng.randint(100000, 999999)}" if rng.random() < 0.1 else None,
    }


def link_children(tickets: list[dict], rng: random.Random) -> None:
    """Some tickets split off an earlier ticket of the same company: `parentTicketId` on the
    child, `hasChildTicket` on the parent (ConnectWise keeps both)."""
    earlier: dict[int, list[dict]] = {}
    for ticket in tickets:
        company_id = ticket["company"]["id"]
        candidates = earlier.setdefault(company_id, [])
        if candidates and rng.random() < CHILD_SHARE:
            parent = rng.choice(candidates)
            ticket["parentTicketId"] = parent["id"]
            parent["hasChildTicket"] = True
        candidates.append(ticket)


def display(record: dict | None) -> str | None:
    if not record:
        return None
    return " ".join(p for p in (record.get("firstName"), record.get("lastName")) if p) or record.get("name")


def _pick(rng: random.Random, records: list[dict], share: float) -> dict | None:
    return rng.choice(records) if records and rng.random() < share else None


def _email(name: str, company: dict) -> str:
    return f"{_email_local(name)}@{_email_domain(company.get('identifier') or 'example')}.example.com"


# Folded once per name and per company (unicode normalisation is slow, and 100k tickets reuse a
# few hundred contact names and one identifier per company).
@cache
def _email_local(name: str) -> str:
    return ".".join(texts.ascii_fold(part) for part in name.split()[:2]) or "contact"


@cache
def _email_domain(identifier: str) -> str:
    return texts.ascii_fold(identifier)


def _agreement(rng: random.Random, setup: SetupRefs, company_id: int) -> dict | None:
    agreement = _pick(rng, setup.agreements.get(company_id, []), 0.6)
    return setup.ref("finance/agreements", agreement, "agreement") if agreement else None
