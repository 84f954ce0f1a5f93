from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from psa.connectwise.discovery import parse_site
from psa.errors import ConfigurationError
from sync.engine.approvals import APPROVABLE, mass_delete_approve, refused_entities
from sync.engine.prune import OVER_THE_LIMIT
from sync.models import Connection, MassDeleteApproval, OutboxEntry, SyncRun
from sync.services.connections import connection_test


class ConnectionForm(forms.ModelForm):
    # Keys are write-only: the form never renders the stored value back.
    public_key = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False)
    private_key = forms.CharField(widget=forms.PasswordInput(render_value=False), required=False)

    class Meta:
        model = Connection
        fields = [
            "name",
            "provider",
            "site_url",
            "company_id",
            "public_key",
            "private_key",
            "client_id",
            "api_version",
            "enabled",
            "closed_ticket_retention_days",
            "background_budget_per_minute",
        ]

    def clean(self):
        cleaned = super().clean() or {}
        site_url = cleaned.get("site_url")
        if site_url and cleaned.get("provider") == Connection.Provider.CONNECTWISE:
            try:
                parse_site(site_url)  # https required; plain http only for a loopback sandbox
            except ConfigurationError as exc:
                self.add_error("site_url", str(exc))
        for key in ("public_key", "private_key"):
            if not cleaned.get(key):
                if self.instance.pk:
                    cleaned[key] = getattr(self.instance, key)  # keep the stored secret
                else:
                    self.add_error(key, "Required for a new connection.")
        return cleaned


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    form = ConnectionForm
    list_display = [
        "name",
        "provider",
        "site_url",
        "company_id",
        "api_version",
        "enabled",
        "sync_status_link",
    ]
    list_filter = ["provider", "enabled"]
    search_fields = ["name", "company_id", "site_url"]
    actions = ["test_connection", "ensure_callbacks", "approve_refused_mass_deletes"]

    def view_on_site(self, connection: Connection) -> str:
        # "View on site" opens the operators' sync status page of the connection.
        return reverse("sync:connection-status", args=[connection.pk])

    @admin.display(description="sync status")
    def sync_status_link(self, connection: Connection) -> str:
        return format_html('<a href="{}">sync status</a>', self.view_on_site(connection))

    @admin.action(description="Test connection (companyinfo + system/info)")
    def test_connection(self, request, queryset):
        for connection in queryset:
            result = connection_test(connection=connection)
            if result["ok"]:
                self.message_user(
                    request,
                    f"{connection.name}: OK — {result['company_name']}, PSA {result['version']} "
                    f"(codebase {result['codebase']}, API {result['api_url']})",
                    messages.SUCCESS,
                )
            else:
                self.message_user(request, f"{connection.name}: FAILED — {result['error']}", messages.ERROR)

    @admin.action(description="Register ConnectWise callbacks (add missing, remove stale)")
    def ensure_callbacks(self, request, queryset):
        from django.conf import settings

        from psa.connectwise.callbacks import connection_callbacks_ensure
        from psa.errors import PSAError

        for connection in queryset.filter(provider=Connection.Provider.CONNECTWISE):
            try:
                changes = connection_callbacks_ensure(connection=connection, public_url=settings.PUBLIC_URL)
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
            if run.entity not in APPROVABLE or (run.connection_id, run.entity) in approved:
                continue
            mass_delete_approve(
                connection_id=run.connection_id, entity=run.entity, approved_by=_operator(request)
            )
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
        "target",
        "target_psa_id",
        "state",
        "attempts",
        "error",
    ]
    list_filter = ["connection", "state", "action"]
    search_fields = ["target_psa_id", "error"]
    list_select_related = ["connection"]
    readonly_fields = [f.name for f in OutboxEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
