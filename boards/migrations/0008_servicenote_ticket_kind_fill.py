"""Notes mirrored before ServiceNote.ticket_kind existed all read "service": those on project
tickets say "project" from now on (each notes entity's runs delete within its own kind)."""

from django.db import migrations
from django.db.models import Exists, OuterRef


def fill_ticket_kind(apps, schema_editor):
    ServiceNote = apps.get_model("boards", "ServiceNote")
    Ticket = apps.get_model("boards", "Ticket")
    on_project_ticket = Ticket.objects.filter(
        connection_id=OuterRef("connection_id"), psa_id=OuterRef("ticket_psa_id"), kind="project"
    )
    ServiceNote.objects.filter(Exists(on_project_ticket)).update(ticket_kind="project")  # one statement


class Migration(migrations.Migration):
    dependencies = [("boards", "0007_servicenote_ticket_kind")]

    operations = [migrations.RunPython(fill_ticket_kind, migrations.RunPython.noop)]
