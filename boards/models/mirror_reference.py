"""Mirrored reference data: boards and their statuses, priorities, SLAs, calendars, ..."""

from __future__ import annotations

from django.db import models

from boards.models.base import NamedMirrorRecord, psa_ref, ref_name


class ServiceBoard(NamedMirrorRecord):
    """A ConnectWise service board / Autotask queue."""

    project_flag = models.BooleanField(default=False)


class BoardStatus(NamedMirrorRecord):
    board_psa_id = psa_ref()
    sort_order = models.IntegerField(default=0)
    closed_status = models.BooleanField(default=False)
    default_flag = models.BooleanField(default=False)

    class Meta(NamedMirrorRecord.Meta):
        ordering = ["board_psa_id", "sort_order", "name"]
        verbose_name_plural = "board statuses"


class Team(NamedMirrorRecord):
    board_psa_id = psa_ref()


class TicketType(NamedMirrorRecord):
    board_psa_id = psa_ref()


class TicketSubtype(NamedMirrorRecord):
    board_psa_id = psa_ref()


class TicketItem(NamedMirrorRecord):
    board_psa_id = psa_ref()


class Priority(NamedMirrorRecord):
    sort_order = models.IntegerField(null=True, blank=True)
    color = ref_name(50)

    class Meta(NamedMirrorRecord.Meta):
        ordering = ["sort_order", "name"]
        verbose_name_plural = "priorities"


class CompanyStatus(NamedMirrorRecord):
    class Meta(NamedMirrorRecord.Meta):
        verbose_name_plural = "company statuses"


class Location(NamedMirrorRecord):
    """ConnectWise `service/locations` (where work happens: on-site, remote, ...)."""


class OpportunityStatus(NamedMirrorRecord):
    closed_flag = models.BooleanField(default=False)
    won_flag = models.BooleanField(default=False)
    lost_flag = models.BooleanField(default=False)
    default_flag = models.BooleanField(default=False)

    class Meta(NamedMirrorRecord.Meta):
        verbose_name_plural = "opportunity statuses"


class OpportunityType(NamedMirrorRecord):
    pass


class OpportunityStage(NamedMirrorRecord):
    sort_order = models.IntegerField(null=True, blank=True)

    class Meta(NamedMirrorRecord.Meta):
        ordering = ["sort_order", "name"]


class ProjectStatus(NamedMirrorRecord):
    closed_flag = models.BooleanField(default=False)

    class Meta(NamedMirrorRecord.Meta):
        verbose_name_plural = "project statuses"


class SLA(NamedMirrorRecord):
    class Meta(NamedMirrorRecord.Meta):
        verbose_name = "SLA"
        verbose_name_plural = "SLAs"


class SLAPriority(NamedMirrorRecord):
    sla_psa_id = psa_ref()
    priority_psa_id = psa_ref()
    respond_hours = models.FloatField(null=True, blank=True)
    plan_within_hours = models.FloatField(null=True, blank=True)
    resolution_hours = models.FloatField(null=True, blank=True)

    class Meta(NamedMirrorRecord.Meta):
        verbose_name = "SLA priority"
        verbose_name_plural = "SLA priorities"


class Calendar(NamedMirrorRecord):
    holiday_list_psa_id = psa_ref()


class Holiday(NamedMirrorRecord):
    holiday_list_psa_id = psa_ref()
    date = models.DateField(null=True, blank=True)
    all_day = models.BooleanField(default=True)


class ScheduleStatus(NamedMirrorRecord):
    class Meta(NamedMirrorRecord.Meta):
        verbose_name_plural = "schedule statuses"


class ScheduleType(NamedMirrorRecord):
    identifier = ref_name(10)
