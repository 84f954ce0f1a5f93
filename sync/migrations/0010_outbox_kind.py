# One word for a record's kind: an outbox entry's `target`/`target_psa_id` are its `kind`/`psa_id`.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("sync", "0009_connection_callback_secret"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="outboxentry", name="sync_outbox_connect_7d8ba5_idx"),
        migrations.RenameField(model_name="outboxentry", old_name="target", new_name="kind"),
        migrations.RenameField(model_name="outboxentry", old_name="target_psa_id", new_name="psa_id"),
        migrations.AddIndex(
            model_name="outboxentry",
            index=models.Index(
                fields=["connection", "kind", "psa_id", "state"], name="sync_outbox_connect_7ce079_idx"
            ),
        ),
    ]
