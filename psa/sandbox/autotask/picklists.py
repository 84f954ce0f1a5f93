"""Autotask's global picklists, as `entityInformation/fields` lists them.

Reference: api.md §5 — a picklist value is `{"value": "5", "label", "isDefaultValue",
"sortOrder", "parentValue", "isActive", "isSystem"}` with `value` a string; ticket and task
status 5 is Complete and note type 13 a workflow-rule note (django-autotask relies on both).
Ids follow a stock Autotask database where they are known (status, priority, ticket type,
source); queues carry the long ids real tenants have.
"""

from __future__ import annotations

from dataclasses import dataclass

COMPLETE_STATUS = 5
WORKFLOW_NOTE_TYPE = 13


@dataclass(frozen=True)
class Choice:
    value: int
    label: str
    active: bool = True
    system: bool = True
    parent: int | None = None  # for dependent lists (subIssueType → issueType)
    default: bool = False


TICKET_STATUSES = (
    Choice(1, "New", default=True),
    Choice(5, "Complete"),
    Choice(7, "Waiting Customer"),
    Choice(8, "In Progress"),
    Choice(9, "Waiting Materials"),
    Choice(10, "Dispatched"),
    Choice(11, "Escalate"),
    Choice(12, "Waiting Vendor"),
    Choice(13, "Waiting Approval"),
    Choice(15, "Change Order"),
    Choice(16, "Customer Note Added"),
    Choice(19, "On Hold", system=False),
    Choice(21, "Needs Review", active=False, system=False),
)
WAITING_STATUSES = frozenset({7, 9, 12, 13, 19})
PRIORITIES = (
    Choice(4, "Critical"),
    Choice(1, "High"),
    Choice(2, "Medium", default=True),
    Choice(3, "Low"),
    Choice(6, "P5 - Planning", active=False, system=False),
)
QUEUES = (
    Choice(5, "Client Portal"),
    Choice(6, "Post Sale"),
    Choice(8, "Monitoring Alert"),
    Choice(29682833, "Level I Support", system=False, default=True),
    Choice(29682969, "Level II Support", system=False),
    Choice(29683354, "Escalations", system=False),
    Choice(29683481, "Projects Dispatch", system=False),
    Choice(29683530, "Procurement", system=False),
    Choice(29683611, "Onboarding", system=False),
    Choice(29683702, "Après-vente Québec", system=False),
    Choice(29683799, "Retired Queue", active=False, system=False),
)
ISSUE_TYPES = (
    Choice(1, "Hardware", system=False),
    Choice(2, "Software", system=False),
    Choice(3, "Network", system=False),
    Choice(4, "Security", system=False),
)
SUB_ISSUE_TYPES = (
    Choice(101, "Laptop", system=False, parent=1),
    Choice(102, "Printer", system=False, parent=1),
    Choice(201, "Office 365", system=False, parent=2),
    Choice(202, "Line of business app", system=False, parent=2),
    Choice(301, "Wi-Fi", system=False, parent=3),
    Choice(302, "VPN", system=False, parent=3),
    Choice(401, "Phishing", system=False, parent=4),
)
TICKET_TYPES = (
    Choice(1, "Service Request", default=True),
    Choice(2, "Incident"),
    Choice(3, "Problem"),
    Choice(4, "Change Request"),
    Choice(5, "Alert"),
)
SOURCES = (
    Choice(-2, "Insourced"),
    Choice(-1, "Client Portal"),
    Choice(1, "Other"),
    Choice(2, "Phone", default=True),
    Choice(4, "Email"),
    Choice(6, "Web Portal"),
    Choice(8, "Monitoring Alert"),
)
SLAS = (
    Choice(1, "Standard SLA", system=False, default=True),
    Choice(2, "Premium SLA", system=False),
    Choice(3, "24x7 Critical", system=False),
)
NOTE_TYPES = (
    Choice(1, "Task Summary"),
    Choice(2, "Task Detail"),
    Choice(3, "Task Notes", default=True),
    Choice(13, "Workflow Rule Action Note"),
    Choice(18, "Internal Notes"),
)
PUBLISH = (
    Choice(1, "All Autotask Users", default=True),
    Choice(2, "Internal Project Team"),
    Choice(4, "Internal & Co-managed"),
)
PROJECT_STATUSES = (
    Choice(0, "Inactive"),
    Choice(1, "New", default=True),
    Choice(5, "Complete"),
    Choice(8, "In Progress", system=False),
    Choice(9, "On Hold", system=False),
)
PROJECT_TYPES = (Choice(4, "Baseline"), Choice(5, "Client", default=True), Choice(8, "Internal"))
TASK_TYPES = (Choice(1, "Fixed Work", default=True), Choice(2, "Fixed Duration"))
TASK_CATEGORIES = (Choice(1, "Standard", default=True), Choice(2, "Onsite", system=False))
TASK_PRIORITY_LABELS = (Choice(1, "High"), Choice(2, "Medium", default=True), Choice(3, "Low"))
OPPORTUNITY_STAGES = (
    Choice(1, "Discovery", system=False, default=True),
    Choice(2, "Qualification", system=False),
    Choice(3, "Proposal", system=False),
    Choice(4, "Negotiation", system=False),
    Choice(5, "Closed", system=False),
)
OPPORTUNITY_STATUSES = (
    Choice(0, "Inactive"),
    Choice(1, "Active", default=True),
    Choice(2, "Lost"),
    Choice(3, "Closed"),
    Choice(4, "Implemented"),
)
RATINGS = (Choice(1, "Hot", system=False), Choice(2, "Warm", system=False), Choice(3, "Cold", system=False))
COMPANY_TYPES = (
    Choice(1, "Customer", default=True),
    Choice(2, "Lead"),
    Choice(3, "Prospect"),
    Choice(4, "Dead"),
    Choice(7, "Vendor"),
    Choice(8, "Partner"),
)
TERRITORIES = (
    Choice(1, "North", system=False),
    Choice(2, "South", system=False),
    Choice(3, "Île-de-France", system=False),
    Choice(4, "Legacy territory", active=False, system=False),
)
LICENSE_TYPES = (Choice(1, "Full"), Choice(2, "Time and Expense"), Choice(7, "API User"))
TIME_ENTRY_TYPES = (Choice(2, "Ticket"), Choice(6, "Project Task"), Choice(20, "Regular"))
SERVICE_CALL_STATUSES = (Choice(1, "New", default=True), Choice(2, "Scheduled"), Choice(3, "Complete"))
# Ticket category colours: `value` an id, `label` the colour (django-autotask 1.20's captured
# fixture: {"value": "19", "label": "#ff6666"}).
DISPLAY_COLORS = (
    Choice(1, "#4f81bd", system=False),
    Choice(7, "#9bbb59", system=False),
    Choice(13, "#f79646", system=False),
    Choice(19, "#ff6666", system=False),
)
# Billing code kinds, as django-autotask 1.20's captured fixtures list them.
BILLING_CODE_TYPES = (Choice(0, "Normal"), Choice(1, "System"), Choice(2, "Non-Billable"))
BILLING_CODE_USE_TYPES = (Choice(2, "General Billing Code"),)
ATTACHMENT_PUBLISH = (Choice(1, "All Autotask Users", default=True), Choice(2, "Internal Users Only"))
COMPANY_ALERT_TYPES = (
    Choice(1, "Company Detail Alert"),
    Choice(2, "New Ticket Alert"),
    Choice(3, "Ticket Detail Alert"),
)
PERSON_TYPES = (Choice(1, "Resource"), Choice(2, "Contact"))
EMAIL_TYPES = (Choice(1, "Primary"), Choice(2, "Home"), Choice(3, "Other"))

# (entity, field) → its values; fields flagged as picklists without an entry have none here.
PICKLISTS: dict[tuple[str, str], tuple[Choice, ...]] = {
    ("Tickets", "status"): TICKET_STATUSES,
    ("Tickets", "priority"): PRIORITIES,
    ("Tickets", "queueID"): QUEUES,
    ("Tickets", "issueType"): ISSUE_TYPES,
    ("Tickets", "subIssueType"): SUB_ISSUE_TYPES,
    ("Tickets", "ticketType"): TICKET_TYPES,
    ("Tickets", "source"): SOURCES,
    ("Tickets", "serviceLevelAgreementID"): SLAS,
    ("Tickets", "creatorType"): PERSON_TYPES,
    ("Tickets", "lastActivityPersonType"): PERSON_TYPES,
    ("Tasks", "status"): TICKET_STATUSES,  # tasks share the ticket status list
    ("Tasks", "taskType"): TASK_TYPES,
    ("Tasks", "taskCategoryID"): TASK_CATEGORIES,
    ("Tasks", "priorityLabel"): TASK_PRIORITY_LABELS,
    ("Tasks", "lastActivityPersonType"): PERSON_TYPES,
    ("Tasks", "creatorType"): PERSON_TYPES,
    ("Tasks", "completedByType"): PERSON_TYPES,
    ("TicketNotes", "noteType"): NOTE_TYPES,
    ("TicketNotes", "publish"): PUBLISH,
    ("TaskNotes", "noteType"): NOTE_TYPES,
    ("TaskNotes", "publish"): PUBLISH,
    ("ProjectNotes", "noteType"): NOTE_TYPES,
    ("ProjectNotes", "publish"): PUBLISH,
    ("Projects", "status"): PROJECT_STATUSES,
    ("Projects", "projectType"): PROJECT_TYPES,
    ("Opportunities", "stage"): OPPORTUNITY_STAGES,
    ("Opportunities", "status"): OPPORTUNITY_STATUSES,
    ("Opportunities", "rating"): RATINGS,
    ("Companies", "companyType"): COMPANY_TYPES,
    ("Companies", "territoryID"): TERRITORIES,
    ("Resources", "licenseType"): LICENSE_TYPES,
    ("Resources", "emailTypeCode"): EMAIL_TYPES,
    ("TimeEntries", "timeEntryType"): TIME_ENTRY_TYPES,
    ("ServiceCalls", "status"): SERVICE_CALL_STATUSES,
    ("TicketCategories", "displayColorRGB"): DISPLAY_COLORS,
    ("BillingCodes", "billingCodeType"): BILLING_CODE_TYPES,
    ("BillingCodes", "useType"): BILLING_CODE_USE_TYPES,
    ("CompanyAlerts", "alertTypeID"): COMPANY_ALERT_TYPES,
    ("TicketAttachments", "publish"): ATTACHMENT_PUBLISH,
}
# Dependent lists: (entity, field) → the field whose value filters them.
PICKLIST_PARENTS = {("Tickets", "subIssueType"): "issueType"}


def choices(entity: str, field: str) -> tuple[Choice, ...]:
    return PICKLISTS.get((entity, field), ())


def active_values(entity: str, field: str) -> list[int]:
    return [choice.value for choice in choices(entity, field) if choice.active]


def wire_choices(items: tuple[Choice, ...] | list[Choice]) -> list[dict]:
    return [
        {
            "value": str(choice.value),
            "label": choice.label,
            "isDefaultValue": choice.default,
            "sortOrder": order,
            "parentValue": "" if choice.parent is None else str(choice.parent),
            "isActive": choice.active,
            "isSystem": choice.system,
        }
        for order, choice in enumerate(items)
    ]
