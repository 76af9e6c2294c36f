"""ExportJob, moved here from the assessments app with its table and rows.

First Django's state takes the model over as it was (still on the table assessments_exportjob,
which assessments.0005_export_job created and assessments.0009 let go of without touching it);
then the table is renamed to reports_exportjob (its rows, indexes and constraints go with it);
last, the content type is moved too, so permissions granted on export jobs stay attached.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def content_type_to_reports(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    ContentType.objects.filter(app_label='assessments', model='exportjob').update(
        app_label='reports'
    )


def content_type_to_assessments(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    ContentType.objects.filter(app_label='reports', model='exportjob').update(
        app_label='assessments'
    )


class Migration(migrations.Migration):

    dependencies = [
        ('reports', '0005_growth_arrays'),
        ('assessments', '0009_exportjob_moved_to_reports'),
        ('classrooms', '0002_oneroster_sourced_ids_and_audit_event'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ExportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('scores', 'Student-level scores'), ('student_growth', 'Student growth'), ('aggregate_growth', 'Aggregate growth (de-identified)'), ('oneroster_results', 'OneRoster 1.1 results')], max_length=40)),
                        ('parameters', models.JSONField(blank=True, default=dict, help_text='Filters and options.')),
                        ('status', models.CharField(choices=[('pending', 'Waiting to start'), ('running', 'Running'), ('succeeded', 'Ready'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('estimated_rows', models.PositiveBigIntegerField(default=0)),
                        ('rows_written', models.PositiveBigIntegerField(default=0)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('file_name', models.CharField(blank=True, help_text='Path of the file under THINSLICE_EXPORT_DIR.', max_length=255)),
                        ('file_size', models.PositiveBigIntegerField(default=0)),
                        ('message', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('district', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='export_jobs', to='classrooms.district')),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='export_jobs', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'assessments_exportjob',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(fields=['district', '-created_at'], name='export_job_district_recent')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'running', 'succeeded', 'failed'])), name='export_job_status_known'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'succeeded'), _negated=True), models.Q(('file_name', ''), _negated=True), _connector='OR'), name='export_job_succeeded_has_file')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='exportjob', table=None),
        migrations.RunPython(content_type_to_reports, content_type_to_assessments),
    ]
