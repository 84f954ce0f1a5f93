"""The rest of a member's, company's, project's and opportunity's fields, as a real site fills
them (the spec's enum values; references to seeded set-up records). Drawn from their own random
streams so the fields generated before them keep their values for a seed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from psa.sandbox.connectwise.data_links import first, ref
from psa.sandbox.connectwise.store import record_time

if TYPE_CHECKING:
    from psa.sandbox.connectwise.data import Generator

# Member enums (ConnectWise 2025.1): licenseClass F(ull)/A(PI)/C(ustomer portal)/X(no licence);
# default contact method Office/Home/Mobile; invoicing screens. Class A is the API member's alone
# (data.py): people who own and work tickets are never API members. Ten entries keep the draws.
LICENSE_CLASSES = ("F", "F", "F", "F", "F", "F", "F", "F", "F", "X")
INVOICING_DISPLAY = ("RemainOnInvoicingScreen", "ShowRecentInvoices")
INVOICE_TABS = ("ShowInvoicingTab", "ShowAgreementInvoicingTab")
TAB_FORMATS = ("SummaryList", "DetailList")
PROJECT_BILLING = ("ActualRates", "FixedFee", "NotToExceed", "OverrideRate")


def _when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Profiles:
    def __init__(self, gen: Generator) -> None:
        self.gen = gen
        store = gen.store
        self.security_roles = store.list("system/securityroles")
        self.departments = store.list("system/departments")
        self.work_roles = store.list("time/workRoles")
        self.work_types = store.list("time/workTypes")
        self.time_zone = ref(gen, "system/timeZoneSetups", first(gen, "system/timeZoneSetups"), "timeZone")
        self.country = ref(gen, "company/countries", first(gen, "company/countries"), "country")
        self.calendar = ref(gen, "schedule/calendars", first(gen, "schedule/calendars"), "calendar")

    def _dept(self, record: dict, field: str) -> dict:
        return ref(self.gen, "system/departments", record, field)

    def member(self, member: dict, index: int, rng: random.Random) -> dict:
        gen, boards = self.gen, service_boards(self.gen)
        entered = _when(member["_info"]["dateEntered"])
        phone = f"555{rng.randint(1000000, 9999999)}"
        department = self.departments[index % len(self.departments)]
        return {
            **member,
            "licenseClass": "F" if index == 0 else rng.choice(LICENSE_CLASSES),
            "hireDate": record_time(entered - timedelta(days=rng.randint(0, 30))),
            "inactiveDate": record_time(entered + timedelta(days=200)) if member["inactiveFlag"] else None,
            "officeEmail": member["primaryEmail"],
            "defaultEmail": "Office",
            "officePhone": phone,
            "mobilePhone": f"555{rng.randint(1000000, 9999999)}" if rng.random() < 0.7 else None,
            "defaultPhone": rng.choice(("Office", "Office", "Mobile")),
            "securityRole": ref(
                gen, "system/securityroles", self.security_roles[0 if index == 0 else 2], "securityRole"
            ),
            "adminFlag": index == 0,
            "country": self.country,
            "timeZone": self.time_zone,
            "calendar": self.calendar,
            "defaultDepartment": self._dept(department, "defaultDepartment"),
            "serviceDefaultLocation": member["defaultLocation"],
            "serviceDefaultDepartment": self._dept(department, "serviceDefaultDepartment"),
            "serviceDefaultBoard": ref(
                gen, "service/boards", boards[index % len(boards)], "serviceDefaultBoard"
            ),
            "projectDefaultLocation": member["defaultLocation"],
            "scheduleDefaultLocation": member["defaultLocation"],
            "salesDefaultLocation": member["defaultLocation"],
            "workRole": ref(gen, "time/workRoles", self.work_roles[index % len(self.work_roles)], "workRole"),
            "workType": ref(gen, "time/workTypes", self.work_types[0], "workType"),
            "reportsTo": gen.member_refs.get(100) if index else None,
            "timeApprover": gen.member_refs.get(100),
            "expenseApprover": gen.member_refs.get(100),
            "hourlyCost": float(rng.randint(30, 70)),
            "hourlyRate": float(rng.choice((95, 125, 150, 175))),
            "billableForecast": 75.0,
            "scheduleCapacity": 8.0,
            "daysTolerance": 7,
            "minimumHours": 40.0,
            "includeInUtilizationReportingFlag": True,
            "requireTimeSheetEntryFlag": True,
            "enableMobileFlag": True,
            "invoicingDisplayOptions": rng.choice(INVOICING_DISPLAY),
            "agreementInvoicingDisplayOptions": rng.choice(INVOICING_DISPLAY),
            "invoiceScreenDefaultTabFormat": rng.choice(INVOICE_TABS),
            "companyActivityTabFormat": rng.choice(TAB_FORMATS),
            "invoiceTimeTabFormat": rng.choice(TAB_FORMATS),
            # The spec's enum is AuthAnvil / GoogleAuthenticator / Email; a member without a second
            # factor has none (typed clients refuse any other value, e.g. "Internal").
            "authenticationServiceType": "Email" if index % 4 == 1 else None,
            "signature": f"{member['firstName']} {member['lastName']}\n{member['title']}",
        }

    def company(self, company: dict, rng: random.Random, types: list[dict]) -> dict:
        gen = self.gen
        kind = types[0] if rng.random() < 0.85 else rng.choice(types)
        entered = _when(company["_info"]["dateEntered"])
        return {
            **company,
            "country": self.country,
            "types": [ref(gen, "company/companies/types", kind, "type")],
            "addressLine1": f"{rng.randint(1, 9999)} {rng.choice(('Main St', 'Oak Ave', 'Harbor Blvd'))}",
            "zip": f"{rng.randint(10000, 99999)}",
            "accountNumber": f"A{company['id']:06d}",
            "dateAcquired": record_time(entered),
            "numberOfEmployees": rng.choice((5, 12, 25, 60, 150, 400)),
            "annualRevenue": float(rng.choice((250_000, 1_200_000, 5_000_000, 20_000_000))),
            "timeZoneSetup": ref(
                gen, "system/timeZoneSetups", first(gen, "system/timeZoneSetups"), "timeZoneSetup"
            ),
            "calendar": self.calendar,
            "territoryManager": gen.member_refs[rng.choice(gen.members)["id"]]
            if rng.random() < 0.6
            else None,
            "leadFlag": kind["name"] == "Prospect",
            "isVendorFlag": kind["vendorFlag"],
            "website": company.get("website") or f"www.c{company['id']}.example.com",
        }

    def project(self, project: dict, rng: random.Random) -> dict:
        gen = self.gen
        company_id = project["company"]["id"]
        contact = gen.contacts_by_company[company_id][0]
        method = rng.choice(PROJECT_BILLING)
        budget = project["budgetHours"]
        started = project["status"]["name"] != "Open"
        return {
            **project,
            "billingMethod": method,
            "billingAmount": budget * 150.0 if method in ("FixedFee", "NotToExceed") else None,
            "billingRateType": "WorkRole",
            "billTime": "Billable",
            "billExpenses": "Billable",
            "billProducts": "Billable",
            "budgetAnalysis": "ActualHours",
            "type": ref(
                gen, "project/projectTypes", rng.choice(gen.store.list("project/projectTypes")), "type"
            ),
            "location": ref(gen, "system/locations", first(gen, "system/locations"), "location"),
            "department": self._dept(self.departments[1], "department"),
            "contact": ref(gen, "company/contacts", contact, "contact"),
            "site": ref(
                gen, "company/companies/{parentId}/sites", gen.sites_by_company[company_id][0], "site"
            ),
            "billToCompany": project["company"],
            "estimatedHours": budget,
            "scheduledHours": round(budget * 0.8, 2),
            "scheduledStart": project["estimatedStart"],
            "scheduledEnd": project["estimatedEnd"],
            "actualStart": project["estimatedStart"] if started else None,
            "actualEnd": project["estimatedEnd"] if project["closedFlag"] else None,
            "timeApprover": project["manager"],
            "expenseApprover": project["manager"],
            "budgetFlag": True,
            "includeEstimatesFlag": True,
        }

    def opportunity(self, opportunity: dict, stage: dict, rng: random.Random) -> dict:
        gen = self.gen
        company_id = opportunity["company"]["id"]
        contacts = gen.contacts_by_company[company_id]
        site = gen.sites_by_company[company_id][0]
        contact = (
            ref(gen, "company/contacts", rng.choice(contacts), "contact")
            if "contact" in opportunity
            else None
        )
        entered = _when(opportunity["_info"]["dateEntered"])
        ratings = gen.store.list("sales/opportunities/ratings")
        territory = gen.store.list("system/locations")[opportunity["id"] % 6]
        return {
            **opportunity,
            "probability": stage["probability"],
            "rating": ref(gen, "sales/opportunities/ratings", rng.choice(ratings), "rating"),
            "contact": contact,
            "site": ref(gen, "company/companies/{parentId}/sites", site, "site"),
            "locationId": territory["id"],
            "businessUnitId": self.departments[2]["id"],
            "companyLocationId": territory["id"],
            "pipelineChangeDate": opportunity["_info"]["lastUpdated"],
            "dateBecameLead": record_time(entered),
            "totalSalesTax": 0.0,
            "shipToCompany": opportunity["company"],
            "shipToContact": contact,
            "shipToSite": ref(gen, "company/companies/{parentId}/sites", site, "shipToSite"),
            "billToCompany": opportunity["company"],
            "billToContact": contact,
            "billToSite": ref(gen, "company/companies/{parentId}/sites", site, "billToSite"),
        }


def service_boards(gen: Generator) -> list[dict]:
    return [b for b in gen.store.list("service/boards") if not b.get("projectFlag")] or gen.store.list(
        "service/boards"
    )
