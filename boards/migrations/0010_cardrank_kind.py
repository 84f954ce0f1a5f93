# One word for a record's kind: a card rank's `family` is its `kind` (ticket or opportunity).
# PostgreSQL's unique constraints follow a renamed column, so only the migration state needs
# them restated over the new field name.
from django.db import migrations, models

OLD_CONSTRAINTS = ["boards_cardrank_card", "boards_cardrank_key"]


class Migration(migrations.Migration):
    dependencies = [
        ("boards", "0009_ticketassignment_source"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameField(model_name="cardrank", old_name="family", new_name="kind"),
            ],
            state_operations=[
                *(migrations.RemoveConstraint(model_name="cardrank", name=name) for name in OLD_CONSTRAINTS),
                migrations.RenameField(model_name="cardrank", old_name="family", new_name="kind"),
                migrations.AddConstraint(
                    model_name="cardrank",
                    constraint=models.UniqueConstraint(
                        fields=["connection", "kind", "psa_id"], name="boards_cardrank_card"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="cardrank",
                    constraint=models.UniqueConstraint(
                        fields=["connection", "kind", "key"], name="boards_cardrank_key"
                    ),
                ),
            ],
        ),
    ]
