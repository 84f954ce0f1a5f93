"""Notes mirrored before ServiceNote.ticket_kind existed all read "service": those on project
tickets say "project" from now on (each notes entity's runs delete within its own kind)."""

from django.db import migrations


def fill_ticket_kind(apps, schema_editor):
    ServiceNote = apps.get_model("boards", "ServiceNote")
    Ticket = apps.get_model("boards", "Ticket")
    project_tickets = Ticket.objects.filter(kind="project")
    for connection_id in project_tickets.values_list("connection_id", flat=True).distinct():
        ticket_ids = project_tickets.filter(connection_id=connection_id).values("psa_id")
        ServiceNote.objects.filter(connection_id=connection_id, ticket_psa_id__in=ticket_ids).update(
            ticket_kind="project"
        )


class Migration(migrations.Migration):
    dependencies = [("boards", "0007_servicenote_ticket_kind")]

    operations = [migrations.RunPython(fill_ticket_kind, migrations.RunPython.noop)]
