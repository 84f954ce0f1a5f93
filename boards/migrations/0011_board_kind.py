# One word for a record's kind: a board's `record_kind` is its `kind` (service, project or
# opportunity: the records it shows).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("boards", "0010_cardrank_kind"),
    ]

    operations = [
        migrations.RenameField(model_name="board", old_name="record_kind", new_name="kind"),
    ]
