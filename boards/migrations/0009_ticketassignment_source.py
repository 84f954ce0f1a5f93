"""TicketAssignment.source joins the identity (connection, source, psa_id): Autotask keeps a
ticket's secondary resources and its service calls' resources in two entities with their own id
sequences. Existing rows (ConnectWise schedule entries, Autotask secondary resources) are
'ticket'."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("boards", "0008_servicenote_ticket_kind_fill"),
        ("sync", "0009_connection_callback_secret"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="ticketassignment",
            name="boards_ticketassignment_psa_key",
        ),
        migrations.AddField(
            model_name="ticketassignment",
            name="source",
            field=models.CharField(
                choices=[
                    ("ticket", "Resource on the ticket"),
                    ("service_call", "Resource of a service call"),
                ],
                default="ticket",
                max_length=20,
            ),
        ),
        migrations.AddConstraint(
            model_name="ticketassignment",
            constraint=models.UniqueConstraint(
                fields=("connection", "source", "psa_id"), name="boards_ticketassignment_psa_key"
            ),
        ),
    ]
