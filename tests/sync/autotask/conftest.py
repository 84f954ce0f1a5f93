from __future__ import annotations

import pytest
import responses

from tests.psa.autotask.mock import CODE, DISCOVERY, SECRET, USER
from tests.sync.autotask.fake_autotask import FakeAutotask

STATUSES = [
    {"value": 1, "label": "New", "isActive": True, "sortOrder": 1, "isDefaultValue": True},
    {"value": 5, "label": "Complete", "isActive": True, "sortOrder": 9, "isSystem": True},
    {"value": 8, "label": "In Progress", "isActive": True, "sortOrder": 2},
    {"value": 9, "label": "Retired", "isActive": False, "sortOrder": 3},
]
QUEUES = [
    {"value": 29683378, "label": "Level I Support", "isActive": True},
    {"value": 29683379, "label": "Monitoring", "isActive": True},
]
PRIORITIES = [
    {"value": 1, "label": "High", "isActive": True, "sortOrder": 1},
    {"value": 2, "label": "Medium", "isActive": True, "sortOrder": 2},
]
RESOURCES = [
    {
        "id": 29682900,
        "userName": "ada",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@x.example",
        "isActive": True,
        "userDefinedFields": [],
    },
    {  # the integration's own API user: its e-mail is the connection's user name
        "id": 29682999,
        "userName": "acme-api",
        "firstName": "API",
        "lastName": "Integration",
        "email": USER.upper(),
        "isActive": True,
        "userDefinedFields": [],
    },
    {
        "id": 29682903,
        "userName": "bob",
        "firstName": "Bob",
        "lastName": "Byte",
        "email": "bob@x.example",
        "isActive": False,
        "userDefinedFields": [],
    },
]


def ticket(psa_id: int, **fields) -> dict:
    record = {
        "id": psa_id,
        "title": f"Ticket {psa_id}",
        "ticketNumber": f"T2026.{psa_id}",
        "queueID": 29683378,
        "status": 1,
        "priority": 2,
        "companyID": 174,
        "assignedResourceID": 29682900,
        "createDate": "2026-11-01T09:00:00.000Z",
        "lastActivityDate": "2026-11-20T10:00:00.000Z",
        "completedDate": None,
        "firstResponseDueDateTime": "2026-11-01T10:00:00.000Z",
        "resolutionPlanDueDateTime": "2026-11-01T13:00:00Z",
        "resolvedDueDateTime": "2026-11-02T09:00:00",
        "serviceLevelAgreementHasBeenMet": False,
        "serviceLevelAgreementID": None,
        "userDefinedFields": [{"name": "Customer Rank", "value": "Gold"}],
    }
    return {**record, **fields}


def seed(fake: FakeAutotask) -> None:
    fake.picklists = {
        "Tickets": {
            "status": STATUSES,
            "queueID": QUEUES,
            "priority": PRIORITIES,
            "issueType": [],
            "subIssueType": [],
            "serviceLevelAgreementID": [],
        },
        "Companies": {"territoryID": [{"value": 3, "label": "North", "isActive": True}]},
        "Projects": {
            "status": [
                {"value": 1, "label": "New", "isActive": True},
                {"value": 5, "label": "Complete", "isActive": True},
            ]
        },
        "Opportunities": {
            "status": [
                {"value": 1, "label": "Active", "isActive": True, "isDefaultValue": True},
                {"value": 2, "label": "Lost", "isActive": True},
                {"value": 3, "label": "Closed", "isActive": True},
            ],
            "stage": [{"value": 2, "label": "Proposal", "isActive": True, "sortOrder": 2}],
        },
    }
    fake.records = {
        "Resources": [dict(r) for r in RESOURCES],
        "Companies": [
            {
                "id": 174,
                "companyName": "Acme",
                "companyNumber": "ACME",
                "territoryID": 3,
                "isActive": True,
                "lastActivityDate": "2026-11-19T00:00:00Z",
                "userDefinedFields": [],
            }
        ],
        "Projects": [
            {
                "id": 400,
                "projectName": "Move",
                "status": 1,
                "companyID": 174,
                "projectLeadResourceID": 29682900,
                "lastActivityDateTime": "2026-11-19T00:00:00Z",
                "userDefinedFields": [],
            }
        ],
        "Opportunities": [
            {
                "id": 12,
                "title": "Upsell",
                "stage": 2,
                "status": 1,
                "companyID": 174,
                "ownerResourceID": 29682903,
                "lastActivity": "2026-11-19T00:00:00Z",
                "lostDate": None,
                "closedDate": None,
                "userDefinedFields": [],
            }
        ],
        "Tickets": [
            ticket(7001),
            ticket(7002, status=99),
            ticket(7003, status=5, completedDate="2020-01-01T00:00:00Z"),
        ],
        "Tasks": [
            {
                "id": 90001,
                "title": "Cable",
                "status": 8,
                "projectID": 400,
                "assignedResourceID": 29682903,
                "lastActivityDateTime": "2026-11-19T00:00:00Z",
                "completedDateTime": None,
                "userDefinedFields": [],
            }
        ],
        "TicketSecondaryResources": [
            {"id": 1, "ticketID": 7001, "resourceID": 29682903, "roleID": 4, "userDefinedFields": []}
        ],
        # A service call on ticket 7002 with ada: its resource link has id 1 as well (its own
        # sequence), and a complete call on 7001.
        "ServiceCalls": [
            {
                "id": 31,
                "startDateTime": "2030-05-16T09:00:00.000Z",
                "endDateTime": "2030-05-16T11:00:00.000Z",
                "isComplete": 0,
                "lastModifiedDateTime": "2026-11-20T10:00:00Z",
                "userDefinedFields": [],
            },
            {
                "id": 32,
                "startDateTime": "2030-05-01T09:00:00.000Z",
                "endDateTime": "2030-05-01T10:00:00.000Z",
                "isComplete": 1,
                "lastModifiedDateTime": "2026-11-20T10:00:00Z",
                "userDefinedFields": [],
            },
        ],
        "ServiceCallTickets": [
            {"id": 41, "serviceCallID": 31, "ticketID": 7002, "userDefinedFields": []},
            {"id": 42, "serviceCallID": 32, "ticketID": 7001, "userDefinedFields": []},
        ],
        "ServiceCallTicketResources": [
            {"id": 1, "serviceCallTicketID": 41, "resourceID": 29682900, "userDefinedFields": []},
            {"id": 2, "serviceCallTicketID": 42, "resourceID": 29682900, "userDefinedFields": []},
        ],
        "TicketNotes": [
            {
                "id": 500,
                "ticketID": 7001,
                "description": "Rebooted",
                "noteType": 1,
                "publish": 1,
                "creatorResourceID": 29682900,
                "createDateTime": "2026-11-20T09:00:00Z",
                "lastActivityDate": "2026-11-20T09:00:00Z",
                "userDefinedFields": [],
            },
            {
                "id": 501,
                "ticketID": 7001,
                "description": "Workflow",
                "noteType": 13,
                "publish": 2,
                "creatorResourceID": 29682900,
                "createDateTime": "2026-11-20T09:00:00Z",
                "lastActivityDate": "2026-11-20T09:00:00Z",
                "userDefinedFields": [],
            },
        ],
        "TaskNotes": [
            {
                "id": 600,
                "taskID": 90001,
                "description": "Ordered cable",
                "noteType": 1,
                "publish": 2,
                "creatorResourceID": 29682903,
                "createDateTime": "2026-11-20T09:00:00Z",
                "lastActivityDate": "2026-11-20T09:00:00Z",
                "userDefinedFields": [],
            }
        ],
        "TimeEntries": [
            {
                "id": 800,
                "ticketID": 7001,
                "taskID": None,
                "resourceID": 29682900,
                "dateWorked": "2030-05-10T00:00:00Z",
                "startDateTime": "2026-11-20T09:00:00Z",
                "endDateTime": "2026-11-20T10:00:00Z",
                "hoursWorked": 1.0,
                "summaryNotes": "Fixed",
                "lastModifiedDateTime": "2026-11-20T10:00:00Z",
                "userDefinedFields": [],
            },
            {
                "id": 801,
                "ticketID": None,
                "taskID": 90001,
                "resourceID": 29682903,
                "dateWorked": "2030-05-10T00:00:00Z",
                "hoursWorked": 0.5,
                "summaryNotes": "Cabled",
                "lastModifiedDateTime": "2026-11-20T10:00:00Z",
                "userDefinedFields": [],
            },
        ],
    }


@pytest.fixture
def fake_autotask(fresh_cache):
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        fake = FakeAutotask(rsps)
        seed(fake)
        yield fake


@pytest.fixture
def at_connection(db):
    from sync.models import Connection

    return Connection.objects.create(
        name="acme-at",
        provider="autotask",
        credentials={"username": USER, "secret": SECRET, "integration_code": CODE, "zone_url": DISCOVERY},
        closed_ticket_retention_days=7,
    )
