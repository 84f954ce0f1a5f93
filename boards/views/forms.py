"""Forms for creating and configuring boards (choices come from the board's connection)."""

from __future__ import annotations

from django import forms

from boards.models import (
    Board,
    BoardStatus,
    Company,
    Indicator,
    Member,
    Priority,
    Project,
    ServiceBoard,
    Team,
)
from boards.services.config import opportunity_column_model
from sync.models import Connection

_MAX_CHOICES = 2000  # keep the form usable on big tenants


class BoardCreateForm(forms.ModelForm):
    class Meta:
        model = Board
        fields = ["name", "connection", "record_kind", "column_source"]

    def __init__(self, *args, connection_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = Connection.objects.filter(id__in=connection_ids)
        if len(connection_ids) == 1:
            self.fields["connection"].initial = connection_ids[0]


def _choices(qs, label=lambda r: r.name, value=lambda r: r.psa_id) -> list[tuple]:
    return [(value(r), label(r)) for r in qs[:_MAX_CHOICES]]


def _multi(choices, label: str, coerce=int) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        choices=choices,
        coerce=coerce,
        required=False,
        label=label,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )


class BoardSettingsForm(forms.ModelForm):
    """Persistent filters, indicators and ranking mode."""

    indicators = forms.MultipleChoiceField(
        choices=Indicator.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Board
        fields = [
            "name",
            "psa_board_ids",
            "member_identifiers",
            "company_ids",
            "priority_ids",
            "team_ids",
            "project_ids",
            "show_unassigned",
            "indicators",
            "auto_rank",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        conn = self.instance.connection_id
        board_names = dict(ServiceBoard.objects.filter(connection_id=conn).values_list("psa_id", "name"))
        self.fields["psa_board_ids"] = _multi(list(board_names.items())[:_MAX_CHOICES], "PSA boards")
        self.fields["member_identifiers"] = _multi(
            _choices(
                Member.objects.filter(connection_id=conn, inactive=False),
                label=lambda m: m.full_name,
                value=lambda m: m.identifier,
            ),
            "Members",
            coerce=str,
        )
        self.fields["company_ids"] = _multi(_choices(Company.objects.filter(connection_id=conn)), "Companies")
        self.fields["priority_ids"] = _multi(
            _choices(Priority.objects.filter(connection_id=conn)), "Priorities"
        )
        self.fields["team_ids"] = _multi(
            _choices(
                Team.objects.filter(connection_id=conn),
                label=lambda t: f"{board_names.get(t.board_psa_id, '?')}: {t.name}",
            ),
            "Teams",
        )
        self.fields["project_ids"] = _multi(_choices(Project.objects.filter(connection_id=conn)), "Projects")
        if self.instance.is_opportunity:
            for name in ("psa_board_ids", "priority_ids", "team_ids", "project_ids"):
                del self.fields[name]


def column_status_choices(board: Board) -> list[tuple[int, str]]:
    conn = board.connection_id
    if board.is_opportunity:
        return _choices(opportunity_column_model(board.column_source).objects.filter(connection_id=conn))
    boards = dict(ServiceBoard.objects.filter(connection_id=conn).values_list("psa_id", "name"))
    statuses = BoardStatus.objects.filter(connection_id=conn)
    if board.psa_board_ids:
        statuses = statuses.filter(board_psa_id__in=board.psa_board_ids)
    return _choices(statuses, label=lambda s: f"{boards.get(s.board_psa_id, s.board_psa_id)}: {s.name}")


class ColumnForm(forms.Form):
    name = forms.CharField(max_length=100)
    psa_ids = forms.TypedMultipleChoiceField(
        coerce=int, required=False, label="Statuses", widget=forms.SelectMultiple(attrs={"size": 4})
    )

    def __init__(self, *args, status_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["psa_ids"].choices = status_choices


ColumnFormSet = forms.formset_factory(ColumnForm, extra=1, can_delete=True, can_order=True)
