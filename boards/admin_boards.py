"""Admin for boards (with their columns), memberships and ranks."""

from __future__ import annotations

from django.contrib import admin

from boards.models import Board, BoardColumn, CardRank, Membership


class BoardColumnInline(admin.TabularInline):
    model = BoardColumn
    fields = ["position", "name", "psa_ids", "wip_limit"]
    extra = 1


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "connection", "record_kind", "auto_rank", "updated_at"]
    list_filter = ["connection", "record_kind"]
    search_fields = ["name"]
    fields = [
        "connection",
        "name",
        "record_kind",
        "column_source",
        "psa_board_ids",
        "member_identifiers",
        "company_ids",
        "priority_ids",
        "team_ids",
        "project_ids",
        "show_unassigned",
        "indicators",
        "auto_rank",
        "created_by",
    ]
    inlines = [BoardColumnInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "connection", "role"]
    list_filter = ["connection", "role"]
    search_fields = ["user__username"]
    fields = ["user", "connection", "role"]


@admin.register(CardRank)
class CardRankAdmin(admin.ModelAdmin):
    list_display = ["psa_id", "family", "key", "connection", "updated_at"]
    list_filter = ["connection", "family"]
    search_fields = ["=psa_id"]
    fields = ["connection", "family", "psa_id", "key"]
