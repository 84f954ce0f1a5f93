"""Seeded set-up tables a client reads at start-up: departments, security roles, work roles and
types, countries, time zones, company/contact types, team roles, communication and note types,
configuration statuses, agreement types, sales probabilities and ratings, activity statuses
and types, service sources, phase statuses, project types, standard notes, system/myCompany/other.

Enum values are the ones the ConnectWise 2025.1 API uses (e.g. WorkType billTime
Billable/DoNotBill/NoCharge/NoDefault, rateType AdjAmount/Custom/Multiplier).
"""

from __future__ import annotations

import random
from datetime import datetime

from psa.sandbox.connectwise.data_reference import load_rows
from psa.sandbox.connectwise.refs import RefBuilder
from psa.sandbox.connectwise.store import SandboxStore

DEPARTMENTS = (
    ("SVC", "Services"),
    ("PRJ", "Professional Services"),
    ("SAL", "Sales"),
    ("ADM", "Administration"),
)
SECURITY_ROLES = (("Admin", True), ("Service Manager", False), ("Technician", False), ("Sales", False))
WORK_ROLES = (
    ("Help Desk", 95.0),
    ("Technician", 125.0),
    ("Senior Engineer", 175.0),
    ("Project Manager", 150.0),
)
# (name, billTime, rateType, rate, utilizationFlag)
WORK_TYPES = (
    ("Remote Support", "Billable", "Multiplier", 1.0, True),
    ("Onsite Support", "Billable", "Multiplier", 1.0, True),
    ("After Hours", "Billable", "Multiplier", 1.5, True),
    ("Travel", "NoCharge", "Multiplier", 0.5, False),
    ("Internal Admin", "DoNotBill", "AdjAmount", 0.0, False),
)
COMPANY_TYPES = (("Client", False), ("Prospect", False), ("Vendor", True), ("Partner", False))
CONTACT_TYPES = ("Decision Maker", "Technical Contact", "Billing Contact", "End User")
TEAM_ROLES = (
    ("Account Manager", "accountManagerFlag"),
    ("Technician", "techFlag"),
    ("Sales Rep", "salesFlag"),
)
# (description, phoneFlag, faxFlag, emailFlag, defaultFlag)
COMMUNICATION_TYPES = (
    ("Email", False, False, True, True),
    ("Direct", True, False, False, True),
    ("Cell", True, False, False, False),
    ("Fax", False, True, False, True),
)
NOTE_TYPES = (("GEN", "General Note"), ("SAL", "Sales"), ("SVC", "Service"), ("ACC", "Accounting"))
CONFIGURATION_STATUSES = (("Active", False), ("On Order", False), ("Inactive", True), ("Retired", True))
PROBABILITIES = (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)
RATINGS = ("Hot", "Warm", "Cold")
# (name, closedFlag, spawnFollowupFlag)
ACTIVITY_STATUSES = (("Open", False, False), ("Completed", True, False), ("Follow Up", False, True))
ACTIVITY_TYPES = (
    ("Call", 1, False),
    ("Email", 1, True),
    ("Meeting", 3, False),
    ("Quote Follow-up", 2, False),
)
SOURCES = ("Phone", "Email Connector", "Portal", "Monitoring Alert", "Walk-in")
# (name, closedFlag, inactiveFlag)
PHASE_STATUSES = (
    ("Open", False, False),
    ("In Progress", False, False),
    ("Closed", True, False),
    ("Old", True, True),
)
PROJECT_TYPES = ("Implementation", "Migration", "Onboarding", "Hardware Refresh")
STANDARD_NOTES = (
    ("Password reset", "Reset the user's password and confirmed they can sign in."),
    ("Escalated", "Escalated to Tier 2 with the details gathered so far."),
    ("Waiting on customer", "Left a voicemail and sent an email; waiting for the customer's reply."),
)
# (name, billTime, employeeCompRate, applicationUnits, applicationLimit, applicationCycle)
AGREEMENT_TYPES = (
    ("Managed Services", "NoCharge", "Actual", None, None, None),
    ("Block Hours", "Billable", "Actual", "Hours", 20.0, "CalendarMonth"),
    ("Break/Fix", "Billable", "Hourly", None, None, None),
    ("Project Agreement", "Billable", "Actual", "Amount", 15000.0, "ContractYear"),
)


def generate_setup(store: SandboxStore, refs: RefBuilder, *, seed: int, anchor: datetime) -> None:
    rng = random.Random(f"{seed}:setup")

    def load(entity: str, rows: list[dict]) -> list[dict]:
        return load_rows(store, entity, rows, anchor, rng)

    departments = load("system/departments", [{"identifier": i, "name": n} for i, n in DEPARTMENTS])
    load(
        "system/securityroles",
        [{"name": n, "roleType": "Corporate", "adminFlag": a} for n, a in SECURITY_ROLES],
    )
    load(
        "system/timeZoneSetups",
        [
            {"name": "Eastern", "offset": -5.0, "defaultFlag": True, "daylightSavingsFlag": True},
            {"name": "GMT Standard Time", "offset": 0.0, "daylightSavingsFlag": True},
        ],
    )
    load(
        "company/countries",
        [
            _country("United States", "US", "1", "State", "Zip"),
            _country("United Kingdom", "GB", "44", "County", "Postcode"),
            _country("Brazil", "BR", "55", "Estado", "CEP"),
        ],
    )
    work_roles = load("time/workRoles", [{"name": n, "hourlyRate": r} for n, r in WORK_ROLES])
    load(
        "time/workTypes",
        [
            {
                "name": n,
                "billTime": b,
                "rateType": t,
                "rate": r,
                "utilizationFlag": u,
                "hoursMin": 0.0,
                "hoursMax": 0.0,
                "roundBillHoursTo": 0.25,
                "costMultiplier": 1.0,
                "overallDefaultFlag": i == 0,
                "activityDefaultFlag": i == 0,
            }
            for i, (n, b, t, r, u) in enumerate(WORK_TYPES)
        ],
    )
    load(
        "company/companies/types",
        [{"name": n, "vendorFlag": v, "defaultFlag": i == 0} for i, (n, v) in enumerate(COMPANY_TYPES)],
    )
    load(
        "company/contacts/types",
        [{"description": d, "defaultFlag": i == 3} for i, d in enumerate(CONTACT_TYPES)],
    )
    load("company/teamRoles", [{"name": n, flag: True} for n, flag in TEAM_ROLES])
    load(
        "company/communicationTypes",
        [
            {"description": d, "phoneFlag": p, "faxFlag": f, "emailFlag": e, "defaultFlag": df}
            for d, p, f, e, df in COMMUNICATION_TYPES
        ],
    )
    load(
        "company/noteTypes",
        [{"identifier": i, "name": n, "defaultFlag": k == 0} for k, (i, n) in enumerate(NOTE_TYPES)],
    )
    load(
        "company/configurations/statuses",
        [
            {"description": d, "closedFlag": c, "defaultFlag": k == 0}
            for k, (d, c) in enumerate(CONFIGURATION_STATUSES)
        ],
    )
    load("sales/probabilities", [{"probability": p} for p in PROBABILITIES])
    load("sales/opportunities/ratings", [{"name": n, "sortOrder": i + 1} for i, n in enumerate(RATINGS)])
    load(
        "sales/activities/statuses",
        [
            {"name": n, "closedFlag": c, "spawnFollowupFlag": s, "defaultFlag": i == 0}
            for i, (n, c, s) in enumerate(ACTIVITY_STATUSES)
        ],
    )
    load(
        "sales/activities/types",
        [
            {"name": n, "points": p, "emailFlag": e, "defaultFlag": i == 0}
            for i, (n, p, e) in enumerate(ACTIVITY_TYPES)
        ],
    )
    load(
        "service/sources",
        [{"name": n, "defaultFlag": i == 0, "enteredBy": "admin1"} for i, n in enumerate(SOURCES)],
    )
    load(
        "project/phaseStatuses",
        [
            {"name": n, "closedFlag": c, "inactiveFlag": x, "defaultFlag": i == 0}
            for i, (n, c, x) in enumerate(PHASE_STATUSES)
        ],
    )
    load("project/projectTypes", [{"name": n, "defaultFlag": i == 0} for i, n in enumerate(PROJECT_TYPES)])
    load(
        "system/standardNotes",
        [
            {
                "name": n,
                "contents": c,
                "department": refs.ref("system/departments", departments[0], "department"),
            }
            for n, c in STANDARD_NOTES
        ],
    )
    load("finance/agreements/types", [_agreement_type(row, work_roles[1], refs) for row in AGREEMENT_TYPES])


def _country(name: str, code: str, prefix: str, state: str, zip_caption: str) -> dict:
    return {
        "name": name,
        "countryCode": code,
        "dialingPrefix": prefix,
        "cityCaption": "City",
        "stateCaption": state,
        "zipCaption": zip_caption,
        "defaultFlag": code == "US",
    }


def _agreement_type(row: tuple, work_role: dict, refs: RefBuilder) -> dict:
    name, bill_time, comp_rate, units, limit, cycle = row
    return {
        "name": name,
        "prefixSuffixOption": "Prefix",
        "billTime": bill_time,
        "billExpenses": "Billable",
        "billProducts": "Billable",
        "employeeCompRate": comp_rate,
        "employeeCompNotExceed": "Billing",
        "invoicingCycle": "ContractYear",
        "applicationUnits": units,
        "applicationLimit": limit,
        "applicationCycle": cycle,
        "applicationUnlimitedFlag": units is None,
        "billAmount": 0.0,
        "expiredDays": 0,
        "limit": 0,
        "workRole": refs.ref("time/workRoles", work_role, "workRole"),
        "invoiceDescription": f"{name} agreement",
    }
