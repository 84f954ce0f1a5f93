"""Admin for boards (with their columns), memberships and ranks."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from boards.models import Board, BoardColumn, CardRank, Member, Membership
from boards.services.psa_member import membership_member_assign


class BoardColumnInline(admin.TabularInline):
    model = BoardColumn
    fields = ["position", "name", "psa_ids", "wip_limit"]
    extra = 1


@admin.register(Board)
class BoardAdmin(admin.ModelAdmin):
    list_display = ["name", "connection", "kind", "auto_rank", "updated_at"]
    list_filter = ["connection", "kind"]
    search_fields = ["name"]
    fields = [
        "connection",
        "name",
        "kind",
        "column_source",
        *Board.SETTINGS_FIELDS,
        "created_by",
    ]
    inlines = [BoardColumnInline]


class MembershipAdminForm(forms.ModelForm):
    """The PSA member is chosen among the connection's active members (once it has one)."""

    member = forms.TypedChoiceField(
        label="PSA member",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Notes and time entries this user writes go to the PSA as this member.",
    )

    class Meta:
        model = Membership
        fields = ["user", "connection", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        members = Member.objects.filter(connection_id=self.instance.connection_id, inactive=False)
        choices = [(m.psa_id, f"{m.full_name} ({m.identifier})") for m in members]
        self.fields["member"].choices = [("", "(not linked)"), *choices]
        self.fields["member"].initial = self.instance.member_psa_id

    def save(self, commit: bool = True) -> Membership:
        membership = super().save(commit=False)
        member_psa_id = self.cleaned_data.get("member")
        member = Member.objects.filter(connection_id=membership.connection_id, psa_id=member_psa_id).first()
        membership_member_assign(membership=membership, member=member)
        if commit:
            membership.save()
        return membership


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipAdminForm
    list_display = ["user", "connection", "role", "member_identifier"]
    list_filter = ["connection", "role"]
    search_fields = ["user__username", "member_identifier"]
    fields = ["user", "connection", "role", "member"]


@admin.register(CardRank)
class CardRankAdmin(admin.ModelAdmin):
    list_display = ["psa_id", "kind", "key", "connection", "updated_at"]
    list_filter = ["connection", "kind"]
    search_fields = ["=psa_id"]
    fields = ["connection", "kind", "psa_id", "key"]
