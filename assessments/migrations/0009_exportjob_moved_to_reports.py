"""ExportJob moves to the reports app (exports carry data out: the top layer). Only Django's
state forgets it here; the table and its rows stay, and reports.0006_exportjob_moved takes
them over."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('assessments', '0008_history_keys_unchecked'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='ExportJob')],
            database_operations=[],
        ),
    ]
