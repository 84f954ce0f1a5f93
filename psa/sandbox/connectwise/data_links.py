"""Seeded records hanging off companies, projects and boards: contacts, company sites and teams,
agreements, project phases and team members, sales activities, each board's type/subtype/item
associations and system/myCompany/other.

Ids other records use are kept on the Generator (`contacts_by_company`, `sites_by_company`,
`phases_by_project`) so tickets, opportunities and projects point at records that exist.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from psa.sandbox import texts
from psa.sandbox.connectwise.data_reference import complete
from psa.sandbox.connectwise.store import record_time

if TYPE_CHECKING:
    from psa.sandbox.connectwise.data import Generator

CONTACT_TITLES = ("Office Manager", "IT Director", "CFO", "Operations Lead", "Receptionist", "Owner")
PHASE_NAMES = ("Discovery", "Design", "Build", "Migration", "Cut-over", "Hand-off")
BILLING_METHODS = ("ActualRates", "FixedFee", "NotToExceed", "OverrideRate")
ACTIVITY_NAMES = ("Follow-up call", "Send proposal", "Demo meeting", "Check in on quote")
STREETS = ("Main St", "Oak Ave", "Harbor Blvd", "Rua Augusta", "Bahnhofstrasse", "High Street")


def ref(gen: Generator, entity: str, record: dict, field: str) -> dict:
    return gen.refs.ref(entity, record, field)


def first(gen: Generator, entity: str) -> dict:
    return gen.store.list(entity)[0]


class Links:
    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        self.info = gen._info

    def _rng(self, part: str) -> random.Random:
        return self.gen._rng(f"links:{part}")

    # --- companies -------------------------------------------------------------------------

    def company_children(self) -> None:
        """Sites and contacts of every company, then the company's `site` and `defaultContact`."""
        gen, rng = self.gen, self._rng("contacts")
        country = ref(gen, "company/countries", first(gen, "company/countries"), "country")
        types = gen.store.list("company/contacts/types")
        email_type, phone_type = gen.store.list("company/communicationTypes")[:2]
        sites: list[dict] = []
        contacts: list[dict] = []
        for company in gen.companies:
            entered = datetime.fromisoformat(company["_info"]["dateEntered"].replace("Z", "+00:00"))
            for n in range(1 + (rng.random() < 0.1)):
                site = self._site(company, len(sites) + 1, n, country, rng)
                site["_info"] = self.info(entered, entered, "admin1")
                sites.append(site)
                gen.sites_by_company.setdefault(company["id"], []).append(site)
            for n in range(rng.choice((1, 1, 2, 2, 3))):
                contact = self._contact(company, len(contacts) + 1, n, country, rng)
                contact["communicationItems"] = self._communications(contact, email_type, phone_type, rng)
                contact["types"] = [ref(gen, "company/contacts/types", rng.choice(types), "type")]
                contact["_info"] = self.info(entered, entered + timedelta(days=rng.randint(0, 60)), "admin1")
                contacts.append(complete("company/contacts", contact))
                gen.contacts_by_company.setdefault(company["id"], []).append(contacts[-1])
        gen.store.load("company/companies/{parentId}/sites", sites)
        gen.store.load("company/contacts", contacts)
        for company in gen.companies:
            company["site"] = ref(
                gen, "company/companies/{parentId}/sites", gen.sites_by_company[company["id"]][0], "site"
            )
            company["defaultContact"] = ref(
                gen, "company/contacts", gen.contacts_by_company[company["id"]][0], "defaultContact"
            )
        gen.store.load("company/companies", gen.companies)

    def _site(self, company: dict, site_id: int, n: int, country: dict, rng: random.Random) -> dict:
        return complete(
            "company/companies/{parentId}/sites",
            {
                "id": site_id,
                "name": "Main" if n == 0 else "Branch Office",
                "addressLine1": f"{rng.randint(1, 9999)} {rng.choice(STREETS)}",
                "city": company.get("city"),
                "zip": f"{rng.randint(10000, 99999)}",
                "country": country,
                "phoneNumber": company.get("phoneNumber"),
                "primaryAddressFlag": n == 0,
                "defaultShippingFlag": n == 0,
                "defaultBillingFlag": n == 0,
                "defaultMailingFlag": n == 0,
                "company": ref(self.gen, "company/companies", company, "company"),
            },
        )

    def _contact(self, company: dict, contact_id: int, n: int, country: dict, rng: random.Random) -> dict:
        first_name, last_name = rng.choice(texts.FIRST_NAMES), rng.choice(texts.LAST_NAMES)
        site = self.gen.sites_by_company[company["id"]][0]
        return {
            "id": contact_id,
            "firstName": first_name,
            "lastName": last_name,
            "company": ref(self.gen, "company/companies", company, "company"),
            "site": ref(self.gen, "company/companies/{parentId}/sites", site, "site"),
            "addressLine1": site["addressLine1"],
            "city": company.get("city"),
            "zip": site["zip"],
            "country": country,
            "title": rng.choice(CONTACT_TITLES),
            "inactiveFlag": rng.random() < 0.03,
            "defaultFlag": n == 0,
            "defaultBillingFlag": n == 0,
            "defaultPhoneType": "Direct",
            "defaultPhoneNbr": f"555{rng.randint(1000000, 9999999)}",
            "companyLocation": company.get("territory"),
        }

    def _communications(self, contact: dict, email: dict, phone: dict, rng: random.Random) -> list[dict]:
        address = f"{contact['firstName']}.{contact['lastName']}@client{contact['company']['id']}.example.com"
        return [
            {
                "id": contact["id"] * 2,
                "type": ref(self.gen, "company/communicationTypes", email, "type"),
                "value": address.lower().replace(" ", ""),
                "defaultFlag": True,
                "communicationType": "Email",
            },
            {
                "id": contact["id"] * 2 + 1,
                "type": ref(self.gen, "company/communicationTypes", phone, "type"),
                "value": contact["defaultPhoneNbr"],
                "defaultFlag": True,
                "communicationType": "Phone",
            },
        ]

    def company_teams(self) -> None:
        gen, rng = self.gen, self._rng("company-teams")
        teams: list[dict] = []
        role = first(gen, "company/teamRoles")
        department = first(gen, "system/departments")
        for company in gen.companies:
            if rng.random() < 0.3:
                member = rng.choice(gen.members)
                teams.append(
                    complete(
                        "company/companies/{parentId}/teams",
                        {
                            "id": len(teams) + 1,
                            "company": ref(gen, "company/companies", company, "company"),
                            "teamRole": ref(gen, "company/teamRoles", role, "teamRole"),
                            "location": member.get("defaultLocation"),
                            "department": ref(gen, "system/departments", department, "department"),
                            "member": gen.member_refs[member["id"]],
                            "accountManagerFlag": True,
                            "_info": company["_info"],
                        },
                    )
                )
        gen.store.load("company/companies/{parentId}/teams", teams)

    def agreements(self) -> None:
        gen, rng = self.gen, self._rng("agreements")
        records: list[dict] = []
        types = gen.store.list("finance/agreements/types")
        sla = ref(gen, "service/SLAs", first(gen, "service/SLAs"), "sla")
        department = ref(gen, "system/departments", first(gen, "system/departments"), "department")
        for company in gen.companies:
            if rng.random() >= 0.4:
                continue
            agreement_type = rng.choice(types)
            start = gen.anchor - timedelta(days=rng.randint(30, 1500))
            ended = rng.random() < 0.15
            record = {
                "id": len(records) + 1,
                "name": f"{company['name'][:60]} - {agreement_type['name']}",
                "type": ref(gen, "finance/agreements/types", agreement_type, "type"),
                "company": ref(gen, "company/companies", company, "company"),
                "contact": ref(gen, "company/contacts", gen.contacts_by_company[company["id"]][0], "contact"),
                "site": company["site"],
                "location": company.get("territory"),
                "department": department,
                "startDate": record_time(start),
                "endDate": record_time(start + timedelta(days=365)) if ended else None,
                "noEndingDateFlag": not ended,
                "sla": sla,
                "agreementStatus": "Expired" if ended else "Active",
                "billTime": agreement_type["billTime"],
                "billExpenses": agreement_type["billExpenses"],
                "billProducts": agreement_type["billProducts"],
                "employeeCompRate": agreement_type["employeeCompRate"],
                "employeeCompNotExceed": agreement_type["employeeCompNotExceed"],
                "invoicingCycle": agreement_type["invoicingCycle"],
                "applicationUnits": agreement_type.get("applicationUnits"),
                "applicationLimit": agreement_type.get("applicationLimit"),
                "applicationCycle": agreement_type.get("applicationCycle"),
                "applicationUnlimitedFlag": agreement_type["applicationUnlimitedFlag"],
                "billAmount": float(rng.choice((0, 500, 1200, 2500))),
                "periodType": "Current",
                "_info": self.info(start, start + timedelta(days=rng.randint(0, 30)), "admin1"),
            }
            records.append(complete("finance/agreements", record))
        gen.store.load("finance/agreements", records)

    # --- projects --------------------------------------------------------------------------

    def project_children(self) -> None:
        """Phases and team members of every project (`phases_by_project` for project tickets)."""
        gen, rng = self.gen, self._rng("phases")
        phases: list[dict] = []
        members: list[dict] = []
        statuses = gen.store.list("project/phaseStatuses")
        work_role = ref(gen, "time/workRoles", gen.store.list("time/workRoles")[-1], "workRole")
        for project in gen.projects:
            start = datetime.fromisoformat(project["estimatedStart"].replace("Z", "+00:00"))
            for n in range(rng.randint(2, 5)):
                phase = self._phase(project, len(phases) + 1, n, start, rng.choice(statuses), rng)
                phases.append(phase)
                gen.phases_by_project.setdefault(project["id"], []).append(phase)
            for member in rng.sample(gen.members, k=min(len(gen.members), rng.randint(1, 3))):
                members.append(
                    {
                        "id": len(members) + 1,
                        "projectId": project["id"],
                        "hours": float(rng.choice((8, 16, 40, 80))),
                        "member": gen.member_refs[member["id"]],
                        "workRole": work_role,
                        "startDate": project["estimatedStart"],
                        "endDate": project["estimatedEnd"],
                        "_info": project["_info"],
                    }
                )
        gen.store.load("project/projects/{parentId}/phases", phases)
        gen.store.load("project/projects/{parentId}/teamMembers", members)

    def _phase(
        self, project: dict, phase_id: int, n: int, start: datetime, status: dict, rng: random.Random
    ) -> dict:
        begins = start + timedelta(days=14 * n)
        hours = float(rng.choice((8, 16, 24, 40)))
        record = {
            "id": phase_id,
            "projectId": project["id"],
            "description": PHASE_NAMES[n % len(PHASE_NAMES)],
            "board": project["board"],
            "status": self.gen.refs.ref("project/phaseStatuses", status, "status"),
            "wbsCode": str(n + 1),
            "billTime": "Billable",
            "billExpenses": "Billable",
            "billProducts": "Billable",
            "markAsMilestoneFlag": n == 0,
            "billingMethod": project["billingMethod"],
            "scheduledHours": hours,
            "budgetHours": hours,
            "actualHours": round(hours * rng.random(), 2),
            "scheduledStart": record_time(begins),
            "scheduledEnd": record_time(begins + timedelta(days=13)),
            "deadlineDate": record_time(begins + timedelta(days=14)),
            "locationId": project.get("location", {}).get("id"),
            "businessUnitId": project.get("department", {}).get("id"),
            "_info": project["_info"],
        }
        return complete("project/projects/{parentId}/phases", record)

    # --- sales, boards, my company ---------------------------------------------------------

    def activities(self, opportunities: list[dict]) -> None:
        gen, rng = self.gen, self._rng("activities")
        records: list[dict] = []
        statuses, types = (
            gen.store.list("sales/activities/statuses"),
            gen.store.list("sales/activities/types"),
        )
        where = ref(gen, "service/locations", gen.store.list("service/locations")[1], "where")
        schedule_status = ref(gen, "schedule/statuses", first(gen, "schedule/statuses"), "scheduleStatus")
        for opportunity in opportunities:
            for _ in range(rng.choice((0, 0, 1, 2))):
                begins = datetime.fromisoformat(opportunity["_info"]["dateEntered"].replace("Z", "+00:00"))
                begins += timedelta(hours=rng.randint(1, 24 * 30))
                record = {
                    "id": len(records) + 1,
                    "name": rng.choice(ACTIVITY_NAMES),
                    "type": ref(gen, "sales/activities/types", rng.choice(types), "type"),
                    "company": opportunity["company"],
                    "contact": opportunity.get("contact"),
                    "status": ref(gen, "sales/activities/statuses", rng.choice(statuses), "status"),
                    "opportunity": ref(gen, "sales/opportunities", opportunity, "opportunity"),
                    "notes": rng.choice(texts.NOTE_SNIPPETS),
                    "dateStart": record_time(begins),
                    "dateEnd": record_time(begins + timedelta(minutes=30)),
                    "assignedBy": opportunity["primarySalesRep"],
                    "assignTo": opportunity["primarySalesRep"],
                    "scheduleStatus": schedule_status,
                    "where": where,
                    "_info": self.info(begins, begins, opportunity["primarySalesRep"]["identifier"]),
                }
                records.append(complete("sales/activities", record))
        gen.store.load("sales/activities", records)

    def board_associations(self) -> None:
        gen, rng = self.gen, self._rng("associations")
        records: list[dict] = []
        for board in gen.store.list("service/boards"):
            board_ref = ref(gen, "service/boards", board, "board")
            subtypes = gen.store.list("service/boards/{parentId}/subtypes", parent_id=board["id"])
            items = gen.store.list("service/boards/{parentId}/items", parent_id=board["id"])
            for board_type in gen.store.list("service/boards/{parentId}/types", parent_id=board["id"]):
                for subtype in rng.sample(subtypes, k=min(len(subtypes), 3)):
                    record = {
                        "id": len(records) + 1,
                        "type": ref(gen, "service/boards/{parentId}/types", board_type, "type"),
                        "subType": ref(gen, "service/boards/{parentId}/subtypes", subtype, "subType"),
                        "item": ref(gen, "service/boards/{parentId}/items", rng.choice(items), "item")
                        if items and rng.random() < 0.5
                        else None,
                        "board": board_ref,
                        "_info": board["_info"],
                    }
                    records.append(complete("service/boards/{parentId}/typeSubTypeItemAssociations", record))
        gen.store.load("service/boards/{parentId}/typeSubTypeItemAssociations", records)

    def my_company(self, site_host: str) -> None:
        gen = self.gen
        record = {
            "id": 1,
            "defaultFromAddress": "help@sandbox.example.com",
            "portalUrlOverride": "",
            "siteUrl": site_host,
            "contactSync": "Disabled",
            "serverTimeZone": ref(
                gen, "system/timeZoneSetups", first(gen, "system/timeZoneSetups"), "serverTimeZone"
            ),
            "defaultCalendar": ref(
                gen, "schedule/calendars", first(gen, "schedule/calendars"), "defaultCalendar"
            ),
            "useSslFlag": True,
            "_info": first(gen, "schedule/calendars")["_info"],
        }
        gen.store.load("system/myCompany/other", [complete("system/myCompany/other", record)])
