"""The database itself refuses UPDATE and DELETE of score history rows.

ScoreChange rows are the audit trail of every score: who changed it, when, old and new. The
application only ever inserts them; this trigger makes sure that not even a bug (or a stray
``queryset.update()``) can rewrite that history. The one exception is a privacy erasure or a
retention purge, which must say so inside its transaction with
``SELECT set_config('thinslice.audit_erasure', 'on', true)``: then DELETE is allowed, UPDATE
never is.

Migration 0009 replaces this trigger with the ones django-pgtrigger installs from the model
(config/audit_rows.py), and uses this module's functions to drop it (and to bring it back when
migrating backwards).
"""

from django.db import migrations

FUNCTION = "assessments_scorechange_append_only"

CREATE = """
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('thinslice.audit_erasure', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION '% of % row refused: score history is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation',
              HINT = 'Audit rows are only ever inserted; record a new change instead.';
END;
$$;
DROP TRIGGER IF EXISTS {function} ON {table};
CREATE TRIGGER {function}
    BEFORE UPDATE OR DELETE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {function}();
"""

DROP = """
DROP TRIGGER IF EXISTS {function} ON {table};
DROP FUNCTION IF EXISTS {function}();
"""


def _run(sql, apps, schema_editor):
    model = apps.get_model("assessments", "ScoreChange")
    table = schema_editor.quote_name(model._meta.db_table)
    # No parameters: the % signs belong to PL/pgSQL, not to the driver.
    schema_editor.execute(sql.format(function=FUNCTION, table=table), params=None)


def create_trigger(apps, schema_editor):
    _run(CREATE, apps, schema_editor)


def drop_trigger(apps, schema_editor):
    _run(DROP, apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0003_scorechange"),
    ]

    operations = [
        migrations.RunPython(create_trigger, drop_trigger, elidable=False),
    ]
