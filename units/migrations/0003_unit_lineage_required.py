import django.db.models.deletion
from django.db import migrations, models


def give_every_unit_a_lineage(apps, schema_editor):
    """Units written before teachers wrote their own were the district's, started by every
    teacher: each becomes version 1 of a shared lineage, planned for the school year of its
    earliest class (when it has one)."""
    Unit = apps.get_model("units", "Unit")
    UnitLineage = apps.get_model("units", "UnitLineage")
    ClassroomUnit = apps.get_model("units", "ClassroomUnit")
    for unit in Unit.objects.filter(lineage__isnull=True).order_by("pk"):
        first_class = (
            ClassroomUnit.objects.filter(unit=unit)
            .select_related("classroom__term")
            .order_by("start_date")
            .first()
        )
        year_id = first_class.classroom.term.academic_year_id if first_class else None
        lineage = UnitLineage.objects.create(
            district_id=unit.district_id, is_shared=True, academic_year_id=year_id
        )
        unit.lineage = lineage
        unit.version = 1
        unit.save(update_fields=["lineage", "version"])


class Migration(migrations.Migration):
    dependencies = [
        ("units", "0002_units_written_by_teachers"),
    ]

    operations = [
        migrations.RunPython(give_every_unit_a_lineage, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="unit",
            name="lineage",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="versions",
                to="units.unitlineage",
            ),
        ),
    ]
