"""Mirrored people and organisations: members, companies, projects, territories."""

from __future__ import annotations

from django.db import models

from boards.models.base import MirrorRecord, NamedMirrorRecord, psa_ref, ref_name


class Member(MirrorRecord):
    """A ConnectWise member / Autotask resource."""

    identifier = models.CharField(max_length=100, blank=True, default="", db_index=True)
    first_name = ref_name(100)
    last_name = ref_name(100)
    email = ref_name()
    title = ref_name()
    inactive = models.BooleanField(default=False)

    class Meta(MirrorRecord.Meta):
        ordering = ["first_name", "last_name"]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.identifier


class Company(NamedMirrorRecord):
    identifier = models.CharField(max_length=100, blank=True, default="", db_index=True)
    status_psa_id = psa_ref()
    status_name = ref_name()
    territory_psa_id = psa_ref()
    territory_name = ref_name()

    class Meta(NamedMirrorRecord.Meta):
        verbose_name_plural = "companies"


class Project(NamedMirrorRecord):
    status_psa_id = psa_ref()
    status_name = ref_name()
    closed = models.BooleanField(default=False)
    company_psa_id = psa_ref()
    company_name = ref_name()
    manager_psa_id = psa_ref()
    manager_identifier = ref_name(100)
    board_psa_id = psa_ref()
    board_name = ref_name()
    budget_hours = models.FloatField(null=True, blank=True)
    actual_hours = models.FloatField(null=True, blank=True)
    estimated_start = models.DateTimeField(null=True, blank=True)
    estimated_end = models.DateTimeField(null=True, blank=True)


class Territory(NamedMirrorRecord):
    """ConnectWise `system/locations` (company.territory refers to them)."""

    class Meta(NamedMirrorRecord.Meta):
        verbose_name_plural = "territories"
