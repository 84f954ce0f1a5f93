from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from psa.providers import (
    CredentialField,
    CredentialsInvalid,
    provider_choices,
    provider_for,
    provider_get,
    provider_names,
)
from sync.engine.approvals import mass_delete_approve, refused_entities
from sync.engine.prune import OVER_THE_LIMIT
from sync.models import Connection, MassDeleteApproval, OutboxEntry, SyncRun
from sync.services.connections import connection_test


def _credential_form_field(provider: str, spec: CredentialField) -> str:
    return f"{provider}__{spec.name}"


def _credential_form_fields() -> dict[str, forms.Field]:
    """One optional form field per credential of every registered provider."""
    fields: dict[str, forms.Field] = {}
    for name in provider_names():
        for spec in provider_get(name).credential_fields:
            fields[_credential_form_field(name, spec)] = forms.CharField(
                label=spec.label,
                required=False,
                initial=spec.default,
                help_text=spec.help,
                widget=forms.PasswordInput(render_value=False) if spec.secret else forms.TextInput,
            )
    return fields


class ConnectionFormBase(forms.ModelForm):
    """The connection with one group of credential fields per provider; only the chosen
    provider's group is validated (by the provider) and stored. Secrets are write-only: never
    rendered back, and left empty they keep the stored value."""

    provider = forms.ChoiceField(choices=provider_choices)

    class Meta:
        model = Connection
        fields = [
            "name",
            "provider",
            "enabled",
            "closed_ticket_retention_days",
            "background_budget_per_minute",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:  # show the stored values of the connection's provider, never secrets
            for spec in provider_get(self.instance.provider).credential_fields:
                if not spec.secret and spec.name in self.instance.credentials:
                    key = _credential_form_field(self.instance.provider, spec)
                    self.initial[key] = self.instance.credentials[spec.name]

    def clean(self):
        cleaned = super().clean() or {}
        name = cleaned.get("provider")
        if not name:
            return cleaned
        provider = provider_get(name)
        keep = self.instance.credentials if self.instance.pk and self.instance.provider == name else {}
        document = {}
        for spec in provider.credential_fields:
            value = cleaned.get(_credential_form_field(name, spec)) or ""
            if not value and spec.secret and keep.get(spec.name):
                value = keep[spec.name]  # left empty: keep the stored secret
            document[spec.name] = value
        try:
            self.instance.credentials = provider.credentials_clean(document)
        except CredentialsInvalid as exc:
            for field_name, message in exc.errors.items():
                form_field = _credential_form_field(name, CredentialField(field_name, field_name))
                self.add_error(form_field if form_field in self.fields else None, message)
        return cleaned


# The form class declares every provider's credential fields, so the admin's fieldsets can name them.
ConnectionForm = type("ConnectionForm", (ConnectionFormBase,), _credential_form_fields())


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = ["name", "provider", "site", "enabled", "sync_status_link"]
    list_filter = ["provider", "enabled"]
    search_fields = ["name"]
    actions = ["test_connection", "ensure_callbacks", "approve_refused_mass_deletes"]

    def view_on_site(self, connection: Connection) -> str:
        # "View on site" opens the operators' sync status page of the connection.
        return reverse("sync:connection-status", args=[connection.pk])

    def get_fieldsets(self, request, obj=None):
        # One group per provider; only the chosen provider's group is read (ConnectionForm.clean).
        common = [
            "name",
            "provider",
            "enabled",
            "closed_ticket_retention_days",
            "background_budget_per_minute",
        ]
        groups: list[tuple[str | None, dict[str, list[str]]]] = [(None, {"fields": common})]
        for name in provider_names():
            provider = provider_get(name)
            fields = [_credential_form_field(name, spec) for spec in provider.credential_fields]
            groups.append((f"{provider.label} credentials", {"fields": fields}))
        return groups

    @admin.display(description="site")
    def site(self, connection: Connection) -> str:
        return provider_for(connection).describe(connection)

    @admin.display(description="sync status")
    def sync_status_link(self, connection: Connection) -> str:
        return format_html('<a href="{}">sync status</a>', self.view_on_site(connection))

    @admin.action(description="Test connection (the PSA answers with these credentials)")
    def test_connection(self, request, queryset):
        for connection in queryset:
            result = connection_test(connection=connection)
            if result["ok"]:
                self.message_user(request, f"{connection.name}: OK — {result['summary']}", messages.SUCCESS)
            else:
                self.message_user(request, f"{connection.name}: FAILED — {result['error']}", messages.ERROR)

    @admin.action(description="Register the PSA's callbacks (add missing, remove stale)")
    def ensure_callbacks(self, request, queryset):
        from psa.errors import PSAError
        from sync.callbacks_health import callbacks_ensure

        for connection in queryset:
            try:
                changes = callbacks_ensure(connection=connection)
            except PSAError as err:
                self.message_user(request, f"{connection.name}: callbacks FAILED — {err}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"{connection.name}: callbacks added {len(changes.added)}, removed "
                f"{len(changes.removed)}, kept {len(changes.kept)}",
                messages.SUCCESS,
            )

    @admin.action(description="Approve the refused mass deletes (once, for the next full run)")
    def approve_refused_mass_deletes(self, request, queryset):
        for connection in queryset:
            entities = refused_entities(connection_id=connection.pk)
            if not entities:
                self.message_user(
                    request, f"{connection.name}: no refused full run to approve", messages.INFO
                )
                continue
            for entity in entities:
                mass_delete_approve(
                    connection_id=connection.pk, entity=entity, approved_by=_operator(request)
                )
            self.message_user(
                request,
                f"{connection.name}: the next full run of {', '.join(entities)} may delete beyond the "
                "mass-delete limit, once",
                messages.WARNING,
            )


def _operator(request) -> str:
    return f"{request.user.get_username()} (admin)"


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Read-only history of engine runs (written by the sync engine only)."""

    list_display = [
        "started_at",
        "connection",
        "tier",
        "entity",
        "status",
        "fetched",
        "created",
        "updated",
        "deleted",
        "skipped",
        "coerced",
        "requests",
        "duration",
    ]
    list_filter = ["connection", "tier", "status"]
    search_fields = ["entity", "error"]
    date_hierarchy = "started_at"
    list_select_related = ["connection"]
    actions = ["approve_mass_delete"]

    @admin.action(description="Approve this mass delete (once, for the next full run of the entity)")
    def approve_mass_delete(self, request, queryset):
        approved = set()
        refused = queryset.filter(status=SyncRun.Status.REFUSED, error__contains=OVER_THE_LIMIT)
        for run in refused.select_related("connection"):
            if (run.connection_id, run.entity) in approved:
                continue
            try:
                mass_delete_approve(
                    connection_id=run.connection_id, entity=run.entity, approved_by=_operator(request)
                )
            except ValueError:  # not an entity a full tier prunes
                continue
            approved.add((run.connection_id, run.entity))
            self.message_user(
                request,
                f"{run.connection.name}: the next full run of {run.entity} may delete beyond the "
                "mass-delete limit, once",
                messages.WARNING,
            )
        if not approved:
            self.message_user(
                request,
                "No run refused over the mass-delete limit selected: nothing approved "
                "(an incomplete listing is never approved; the next complete one deletes).",
                messages.INFO,
            )

    @admin.display(description="seconds")
    def duration(self, run: SyncRun):
        seconds = run.duration_seconds
        return "-" if seconds is None else f"{seconds:.1f}"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MassDeleteApproval)
class MassDeleteApprovalAdmin(admin.ModelAdmin):
    """Operators' one-shot approvals of refused mass deletes (made by the actions above)."""

    list_display = ["created_at", "connection", "entity", "approved_by", "used_at", "used_by_run"]
    list_filter = ["connection", "entity"]
    readonly_fields = [f.name for f in MassDeleteApproval._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxEntry)
class OutboxEntryAdmin(admin.ModelAdmin):
    """Write-back history: what was sent to the PSA, and what it answered (read-only)."""

    list_display = [
        "id",
        "created_at",
        "connection",
        "action",
        "kind",
        "psa_id",
        "state",
        "attempts",
        "error",
    ]
    list_filter = ["connection", "state", "action"]
    search_fields = ["psa_id", "error"]
    list_select_related = ["connection"]
    readonly_fields = [f.name for f in OutboxEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
