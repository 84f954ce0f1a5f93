"""The set-up collections clients read at start-up (contacts, agreements, work types, phases, ...):
read-only here, each record carrying its whole model. Their data: psa.sandbox.connectwise.data_setup."""

from __future__ import annotations

from psa.sandbox.connectwise.entity import EntitySpec, child, plain

# (path, model) of top-level collections
_PLAIN = (
    ("company/contacts", "Contact"),
    ("company/contacts/types", "ContactType"),
    ("company/companies/types", "CompanyType"),
    ("company/teamRoles", "TeamRole"),
    ("company/communicationTypes", "CommunicationType"),
    ("company/noteTypes", "CompanyNoteType"),
    ("company/configurations/statuses", "ConfigurationStatus"),
    ("company/countries", "Country"),
    ("finance/agreements", "Agreement"),
    ("finance/agreements/types", "AgreementType"),
    ("sales/probabilities", "SalesProbability"),
    ("sales/opportunities/ratings", "OpportunityRating"),
    ("sales/activities", "Activity"),
    ("sales/activities/statuses", "ActivityStatus"),
    ("sales/activities/types", "ActivityType"),
    ("service/sources", "Source"),
    ("time/workTypes", "WorkType"),
    ("time/workRoles", "WorkRole"),
    ("project/phaseStatuses", "PhaseStatus"),
    ("project/projectTypes", "ProjectType"),
    ("system/securityroles", "SecurityRole"),
    ("system/departments", "Department"),
    ("system/standardNotes", "StandardNote"),
    ("system/myCompany/other", "Other"),
    ("system/timeZoneSetups", "TimeZoneSetup"),
)
# (path, model, parent collection, field holding the parent id)
_CHILDREN = (
    ("company/companies/{parentId}/sites", "CompanySite", "company/companies", "company/id"),
    ("company/companies/{parentId}/teams", "CompanyTeam", "company/companies", "company/id"),
    ("project/projects/{parentId}/phases", "ProjectPhase", "project/projects", "projectId"),
    ("project/projects/{parentId}/teamMembers", "ProjectTeamMember", "project/projects", "projectId"),
    (
        "service/boards/{parentId}/typeSubTypeItemAssociations",
        "BoardTypeSubTypeItemAssociation",
        "service/boards",
        "board/id",
    ),
)

SETUP_SPECS: tuple[EntitySpec, ...] = tuple(plain(path, model) for path, model in _PLAIN) + tuple(
    child(path, model, parent, parent_field) for path, model, parent, parent_field in _CHILDREN
)
