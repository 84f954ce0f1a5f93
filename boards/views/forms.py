"""Forms for creating and configuring boards (choices come from the board's connection)."""

from __future__ import annotations

from django import forms
from django.db.models import Q
from django.utils.text import capfirst

from boards.models import (
    Board,
    Company,
    Indicator,
    Member,
    Priority,
    Project,
    ServiceBoard,
    Team,
)
from boards.models.board import RecordKind
from boards.services.config import board_statuses_offered
from psa.providers import provider_get
from sync.models import Connection

_MAX_CHOICES = 2000  # keep the form usable on big tenants


class BoardCreateForm(forms.ModelForm):
    class Meta:
        model = Board
        fields = ["name", "connection", "kind", "column_source"]
        labels = {
            "name": "Board name",
            "connection": "PSA connection",
            "kind": "Shows",
            "column_source": "Columns from",
        }

    def __init__(self, *args, connection_ids: list[int], **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.fields["connection"].queryset = Connection.objects.filter(id__in=connection_ids)
        if len(connection_ids) == 1:
            self.fields["connection"].initial = connection_ids[0]


def _choices(qs, label=lambda r: r.name, value=lambda r: r.psa_id) -> list[tuple]:
    return [(value(r), label(r)) for r in qs[:_MAX_CHOICES]]


class TaggedSelectMultiple(forms.SelectMultiple):
    """A multi-select whose options carry their PSA board (`data-board`): the column mapper offers
    only the statuses and teams of the PSA boards chosen on the page (boards/static/boards/config.js)."""

    def __init__(self, *args, boards: dict[str, int | None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.boards = boards or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        board = self.boards.get(str(value))
        if board is not None:
            option["attrs"]["data-board"] = str(board)
        return option


def _multi(
    choices, label: str, coerce=int, boards=None, placeholder: str = ""
) -> forms.TypedMultipleChoiceField:
    return forms.TypedMultipleChoiceField(
        choices=choices,
        coerce=coerce,
        required=False,
        label=label,
        widget=TaggedSelectMultiple(
            boards={str(k): v for k, v in (boards or {}).items()},
            attrs={"class": "picker", "data-placeholder": placeholder},
        ),
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
            *Board.SETTINGS_FIELDS,
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        conn = self.instance.connection_id
        board_names = dict(ServiceBoard.objects.filter(connection_id=conn).values_list("psa_id", "name"))
        terms = provider_get(self.instance.connection.provider).terms  # "queues" on Autotask
        self.fields["psa_board_ids"] = _multi(
            _psa_board_choices(self.instance),
            capfirst(terms.psa_boards),
            placeholder=f"All {terms.psa_boards}",
        )
        self.fields["member_identifiers"] = _multi(
            _choices(
                Member.objects.filter(connection_id=conn, inactive=False),
                label=lambda m: m.full_name,
                value=lambda m: m.identifier,
            ),
            capfirst(terms.members),
            coerce=str,
            placeholder="Anyone",
        )
        self.fields["company_ids"] = _multi(
            _choices(Company.objects.filter(connection_id=conn)), "Companies", placeholder="Any company"
        )
        self.fields["priority_ids"] = _multi(
            _choices(Priority.objects.filter(connection_id=conn)), "Priorities", placeholder="Any priority"
        )
        teams = Team.objects.filter(connection_id=conn)
        self.fields["team_ids"] = _multi(
            _choices(teams, label=lambda t: f"{board_names.get(t.board_psa_id, '?')}: {t.name}"),
            "Teams",
            boards=dict(teams.values_list("psa_id", "board_psa_id")[:_MAX_CHOICES]),
            placeholder="Any team",
        )
        self.fields["project_ids"] = _multi(
            _choices(Project.objects.filter(connection_id=conn)), "Projects", placeholder="Any project"
        )
        if self.instance.is_opportunity:
            for name in ("psa_board_ids", "priority_ids", "team_ids", "project_ids"):
                del self.fields[name]
        elif self.instance.kind != RecordKind.PROJECT:
            del self.fields["project_ids"]  # only project tickets belong to a project
        # Nothing to pick is not offered (Autotask has no teams, and no queues for project tasks).
        for name in ("psa_board_ids", "team_ids"):
            field = self.fields.get(name)
            if field is not None and not field.choices and not getattr(self.instance, name):
                del self.fields[name]


def _psa_board_choices(board: Board) -> list[tuple[int, str]]:
    """PSA boards of the board's kind (service or project), plus any already chosen."""
    rows = ServiceBoard.objects.filter(connection_id=board.connection_id).filter(
        Q(project_flag=board.kind == RecordKind.PROJECT) | Q(psa_id__in=board.psa_board_ids or [])
    )
    return _choices(rows)


def column_status_offer(board: Board, psa_board_ids: list[int] | None = None) -> dict[int, tuple]:
    """Every status (or stage) the mapper may offer: those of all PSA boards of the board's kind;
    the page narrows them to the chosen PSA boards as they change."""
    return board_statuses_offered(
        connection_id=board.connection_id,
        kind=board.kind,
        column_source=board.column_source,
        psa_board_ids=psa_board_ids or [],
    )


class ColumnForm(forms.Form):
    name = forms.CharField(max_length=100, error_messages={"required": "Give every column a name."})
    psa_ids = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Statuses")
    wip_limit = forms.IntegerField(
        min_value=1,
        required=False,
        label="WIP limit",
        error_messages={"min_value": "A WIP limit is 1 or more; leave it empty for no limit."},
        widget=forms.NumberInput(attrs={"placeholder": "None", "min": 1}),
    )

    def __init__(self, *args, offer: dict[int, tuple] | None = None, stages: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        offer = offer or {}
        field = self.fields["psa_ids"]
        field.choices = [(psa_id, label) for psa_id, (label, _board) in offer.items()]
        field.label = "Stages" if stages else "Statuses"
        field.error_messages["invalid_choice"] = (
            "One of the chosen statuses no longer exists in the PSA (or is on another kind of board); "
            "remove it."
        )
        field.widget = TaggedSelectMultiple(
            boards={str(psa_id): board for psa_id, (_label, board) in offer.items()},
            attrs={"class": "picker status-picker", "data-placeholder": "Pick statuses"},
        )
        field.widget.choices = field.choices


ColumnFormSet = forms.formset_factory(ColumnForm, extra=0, can_delete=True, can_order=True)
