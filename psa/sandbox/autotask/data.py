"""Seeded, deterministic Autotask data: the same (scale, seed, anchor) give the same records.

Scales share their names and ticket counts with the ConnectWise half (tiny 30, small 500,
medium 10k, large 100k tickets). Dates lie before `anchor`. This module makes the set-up and people
(roles, departments, resources, companies, contacts); data_work.py makes the work (tickets,
service calls, projects, opportunities, time entries). Ticket notes are made lazily per ticket.
"""

from __future__ import annotations

import gc
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from psa.sandbox import texts
from psa.sandbox.autotask.picklists import COMPANY_TYPES
from psa.sandbox.autotask.store import AutotaskStore
from psa.sandbox.autotask.wire import wire_time

API_USER_ID = 29682885  # the API-only resource the sandbox's credentials belong to
FIRST_RESOURCE_ID = 29682900
FIRST_COMPANY_ID = 174
ROLES = (
    (29682831, "Help Desk", 95.0),
    (29682832, "Field Technician", 125.0),
    (29682834, "Network Engineer", 150.0),
    (29682835, "Project Manager", 140.0),
    (29682836, "Account Manager", 110.0),
    (29682837, "Legacy Consultant", 90.0),  # inactive
)
DEPARTMENTS = ((29682841, "Service Desk"), (29682842, "Professional Services"), (29682843, "Sales"))


@dataclass(frozen=True)
class Scale:
    tickets: int
    companies: int
    resources: int
    opportunities: int
    projects: int


SCALES = {
    "tiny": Scale(tickets=30, companies=8, resources=5, opportunities=8, projects=2),
    "small": Scale(tickets=500, companies=120, resources=25, opportunities=120, projects=20),
    "medium": Scale(tickets=10_000, companies=1_500, resources=120, opportunities=1_000, projects=300),
    "large": Scale(tickets=100_000, companies=10_000, resources=300, opportunities=5_000, projects=2_000),
}


class People:
    """Set-up records and people; keeps what the work generator picks from."""

    def __init__(self, store: AutotaskStore, *, scale: str, seed: int, anchor: datetime) -> None:
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
        self.store, self.seed, self.anchor, self.scale = store, seed, anchor, SCALES[scale]
        self.active_resources: list[int] = []
        self.roles_of: dict[int, list[int]] = {}  # resource id → its service desk roles
        self.company_ids: list[int] = []
        self.contacts_of: dict[int, list[int]] = {}

    def rng(self, part: str) -> random.Random:
        return random.Random(f"{self.seed}:autotask:{part}")

    def days_ago(self, rng: random.Random, most: int) -> datetime:
        return self.anchor - timedelta(days=rng.uniform(0, most), seconds=rng.randint(0, 86_399))

    def stamp(self, rng: random.Random, since: datetime, moment: datetime) -> datetime:
        """A change stamp: `moment` when it lies before the anchor, else a moment between `since`
        and the anchor. Never the anchor itself: a real database stamps each change when it
        happens, and the changes tier asks for stamps `gt` its watermark, so records clamped to
        one shared instant would be listed again on every run."""
        if moment < self.anchor:
            return moment
        if since >= self.anchor:
            return self.anchor - timedelta(seconds=rng.uniform(1, 3600))
        return since + (self.anchor - since) * rng.uniform(0.5, 0.999)

    def generate(self) -> None:
        self._roles_and_departments()
        self._resources()
        self._companies()

    def _roles_and_departments(self) -> None:
        self.store.load(
            "Roles",
            [
                {
                    "id": role_id,
                    "name": name,
                    "hourlyRate": rate,
                    "hourlyFactor": 1.0,
                    "isActive": name != "Legacy Consultant",
                    "isSystemRole": False,
                    "roleType": 1,
                }
                for role_id, name, rate in ROLES
            ],
        )
        self.store.load(
            "Departments",
            [
                {"id": i, "name": name, "number": str(n), "primaryLocationID": 1}
                for n, (i, name) in enumerate(DEPARTMENTS)
            ],
        )

    def _resources(self) -> None:
        rng, seen = self.rng("resources"), set[str]()
        resources = [_api_user()]
        role_departments: list[dict] = []
        desk_roles: list[dict] = []
        active_roles = [role_id for role_id, name, _ in ROLES if name != "Legacy Consultant"]
        for n in range(self.scale.resources):
            resource_id = FIRST_RESOURCE_ID + n * 3  # id gaps, like a real database
            first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
            login = texts.identifier_for(first, last, seen)
            active = n < 3 or rng.random() > 0.08
            resources.append(
                {
                    "id": resource_id,
                    "firstName": first,
                    "lastName": last,
                    "userName": login,
                    "email": f"{login}@sandbox.example",
                    "emailTypeCode": "1",
                    "isActive": active,
                    "licenseType": 1,
                    "resourceType": "Employee",
                    "title": rng.choice(texts.TITLES),
                    "hireDate": wire_time(self.days_ago(rng, 3000)),
                    "userType": 1,
                    "locationID": 1,
                    "payrollType": 1,
                    "numberFormat": "x,xxx.xx",
                }
            )
            roles = rng.sample(active_roles, rng.randint(1, 2))
            self.roles_of[resource_id] = roles
            if active:
                self.active_resources.append(resource_id)
            for index, role_id in enumerate(roles):
                department = DEPARTMENTS[0 if role_id in active_roles[:3] else 1][0]
                role_departments.append(
                    {
                        "id": len(role_departments) + 1,
                        "resourceID": resource_id,
                        "roleID": role_id,
                        "departmentID": department,
                        "isActive": True,
                        "isDefault": index == 0,
                        "isDepartmentLead": n == 0,
                    }
                )
                desk_roles.append(
                    {
                        "id": len(desk_roles) + 1,
                        "resourceID": resource_id,
                        "roleID": role_id,
                        "isActive": True,
                        "isDefault": index == 0,
                    }
                )
        self.store.load("Resources", resources)
        self.store.load("ResourceRoleDepartments", role_departments)
        self.store.load("ResourceServiceDeskRoles", desk_roles)

    def _companies(self) -> None:
        rng = self.rng("companies")
        companies: list[dict] = []
        contacts: list[dict] = []
        locations: list[dict] = []
        for n in range(self.scale.companies):
            company_id = FIRST_COMPANY_ID + n + (n // 7)  # a gap every seven ids
            created = self.days_ago(rng, 3000)
            touched = created + (self.anchor - created) * rng.random()
            record = {
                "id": company_id,
                "companyName": texts.company_name(rng, n + 1),
                "companyNumber": f"C{company_id:06d}",
                "companyType": rng.choices([c.value for c in COMPANY_TYPES], weights=(70, 8, 10, 4, 4, 4))[0],
                "phone": f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                "city": rng.choice(texts.CITIES),
                "isActive": rng.random() > 0.05,
                "ownerResourceID": rng.choice(self.active_resources),
                "territoryID": rng.choice((1, 1, 2, 3, None)),
                "createDate": wire_time(created),
                "lastActivityDate": wire_time(touched),
                "lastTrackedModifiedDateTime": wire_time(touched),
            }
            if rng.random() < 0.3:
                record["_udf"] = {"Account Tier": rng.choice(("Gold", "Silver", "Bronze"))}
            companies.append({key: value for key, value in record.items() if value is not None})
            self.company_ids.append(company_id)
            locations.append(
                {"id": n + 1, "companyID": company_id, "name": "Primary", "isPrimary": True, "isActive": True}
            )
            self.contacts_of[company_id] = []
            for _ in range(rng.randint(0, 4)):
                contact_id = 30_000 + len(contacts) * 2
                first, last = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
                contacts.append(
                    {
                        "id": contact_id,
                        "companyID": company_id,
                        "firstName": first,
                        "lastName": last,
                        "emailAddress": f"{texts.ascii_fold(first)}.{texts.ascii_fold(last)}@customer.example",
                        "isActive": 1,
                        "createDate": wire_time(created),
                        "lastModifiedDate": wire_time(touched),
                        "lastActivityDate": wire_time(touched),
                    }
                )
                self.contacts_of[company_id].append(contact_id)
        self.store.load("Companies", companies)
        self.store.load("Contacts", contacts)
        self.store.load("CompanyLocations", locations)


def _api_user() -> dict:
    return {
        "id": API_USER_ID,
        "firstName": "API",
        "lastName": "Sandbox Integration",
        "userName": "api-user",
        "email": "api-user@sandbox.example",
        "emailTypeCode": "1",
        "isActive": True,
        "licenseType": 7,
        "resourceType": "Employee",
        "userType": 17,
        "locationID": 1,
        "payrollType": 1,
        "numberFormat": "x,xxx.xx",
    }


def generate(store: AutotaskStore, *, scale: str, seed: int, anchor: datetime) -> People:
    """Fill `store`; the cyclic collector is paused meanwhile (millions of live dicts, no cycles)."""
    from psa.sandbox.autotask.data_work import Work

    enabled = gc.isenabled()
    gc.disable()
    try:
        people = People(store, scale=scale, seed=seed, anchor=anchor)
        people.generate()
        Work(people).generate()
    finally:
        if enabled:
            gc.enable()
    return people
