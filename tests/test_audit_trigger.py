"""On PostgreSQL the database itself keeps the audit rows append-only (issue 6, item 7).

ScoreChange (every change to a score) and AuditEvent (every import and export) rows are refused
UPDATE and DELETE by triggers, so not even a bug in the application, raw SQL included, can
rewrite history. Inserts still work. A privacy erasure, and only inside its own transaction, may
delete (config/audit_erasure.py); it may never update.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as global_apps
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from assessments.models import ScoreChange
from assessments.services import ScoreEntry, scores_save
from classrooms.audit import audit_event_record
from classrooms.models import AuditEvent
from config.audit_erasure import audit_erasure
from tests.conftest import World

pytestmark = pytest.mark.django_db

TRIGGERS = {
    "assessments_scorechange": "assessments_scorechange_append_only",
    "classrooms_auditevent": "classrooms_auditevent_append_only",
}


def _score_change(world: World) -> ScoreChange:
    """A history row written the way the application writes them: by saving a score."""
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    result = scores_save(
        actor=world.users["teacher_a1"],
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(world.students["a1"].pk, "A", "4", expected_version=1)],
    )
    assert result.is_applied
    return ScoreChange.objects.latest("pk")


def _audit_event(world: World) -> AuditEvent:
    return audit_event_record(
        district=world.districts["a"],
        actor=world.users["admin_a"],
        kind="roster_import",
        parameters={"source": "export.zip"},
        row_count=3,
        succeeded=True,
    )


def _refused(sql: str, params: list[Any]) -> str:
    """Run raw SQL the way a buggy piece of code might; return the database's refusal."""
    with pytest.raises(IntegrityError) as refusal, transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    return str(refusal.value)


def test_both_audit_tables_have_their_trigger():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
        )
        found = dict(cursor.fetchall())
    for table, trigger in TRIGGERS.items():
        assert found.get(table) == trigger


def test_score_history_is_written_by_inserts_as_before(world):
    change = _score_change(world)

    assert (change.old_points, change.new_points, change.version) == (
        Decimal("3.00"),
        Decimal("4.00"),
        2,
    )
    assert change.changed_by == world.users["teacher_a1"]


def test_a_score_change_row_cannot_be_updated(world):
    change = _score_change(world)

    with pytest.raises(IntegrityError, match="score history is append-only"):
        with transaction.atomic():
            ScoreChange.objects.filter(pk=change.pk).update(new_points=Decimal("1"))
    refusal = _refused(
        "UPDATE assessments_scorechange SET changed_at = %s WHERE id = %s",
        [timezone.now(), change.pk],
    )

    assert "UPDATE of assessments_scorechange row refused" in refusal
    change.refresh_from_db()
    assert change.new_points == Decimal("4.00")


def test_a_score_change_row_cannot_be_deleted(world):
    change = _score_change(world)

    with pytest.raises(IntegrityError, match="score history is append-only"):
        with transaction.atomic():
            ScoreChange.objects.filter(pk=change.pk).delete()
    refusal = _refused("DELETE FROM assessments_scorechange WHERE id = %s", [change.pk])

    assert "DELETE of assessments_scorechange row refused" in refusal
    assert ScoreChange.objects.filter(pk=change.pk).exists()


def test_an_audit_event_row_cannot_be_updated_or_deleted(world):
    event = _audit_event(world)

    updating = _refused(
        "UPDATE classrooms_auditevent SET outcome = 'failed', row_count = 0 WHERE id = %s",
        [event.pk],
    )
    deleting = _refused("DELETE FROM classrooms_auditevent WHERE id = %s", [event.pk])

    assert "UPDATE of classrooms_auditevent row refused: the audit log is append-only" in updating
    assert "DELETE of classrooms_auditevent row refused: the audit log is append-only" in deleting
    event.refresh_from_db()
    assert (event.outcome, event.row_count) == ("succeeded", 3)


def test_audit_events_are_still_inserted(world):
    before = AuditEvent.objects.count()

    _audit_event(world)
    _audit_event(world)

    assert AuditEvent.objects.count() == before + 2


def test_a_privacy_erasure_may_delete_history_inside_its_transaction_only(world):
    change = _score_change(world)
    event = _audit_event(world)
    kept = _audit_event(world)

    with transaction.atomic(), audit_erasure():
        ScoreChange.objects.filter(pk=change.pk).delete()
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM classrooms_auditevent WHERE id = %s", [event.pk])

    assert not ScoreChange.objects.filter(pk=change.pk).exists()
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    # Once the block is over, deleting is refused again.
    _refused("DELETE FROM classrooms_auditevent WHERE id = %s", [kept.pk])
    assert AuditEvent.objects.filter(pk=kept.pk).exists()


def test_a_privacy_erasure_still_cannot_rewrite_history(world):
    change = _score_change(world)

    with pytest.raises(IntegrityError, match="append-only"):
        with transaction.atomic(), audit_erasure():
            ScoreChange.objects.filter(pk=change.pk).update(new_points=Decimal("0"))

    change.refresh_from_db()
    assert change.new_points == Decimal("4.00")


def test_a_privacy_erasure_that_fails_leaves_the_guard_in_place(world):
    change = _score_change(world)

    with pytest.raises(RuntimeError), transaction.atomic(), audit_erasure():
        raise RuntimeError("the erasure stops half-way")

    refusal = _refused("DELETE FROM assessments_scorechange WHERE id = %s", [change.pk])
    assert "refused" in refusal


@pytest.mark.django_db(transaction=True)
def test_a_privacy_erasure_outside_a_transaction_is_refused():
    with pytest.raises(TransactionManagementError), audit_erasure():
        pass  # pragma: no cover - never reached


@pytest.mark.parametrize(
    ("app_label", "module", "table"),
    [
        ("assessments", "0004_audit_rows_append_only", "assessments_scorechange"),
        ("classrooms", "0003_audit_rows_append_only", "classrooms_auditevent"),
    ],
)
def test_the_migrations_reverse_cleanly(app_label, module, table):
    migration = importlib.import_module(f"{app_label}.migrations.{module}")

    def triggers() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = %s::regclass",
                [table],
            )
            return [name for (name,) in cursor.fetchall()]

    # DDL is transactional on PostgreSQL: the test's transaction puts everything back.
    with connection.schema_editor(atomic=False) as schema_editor:
        migration.drop_trigger(global_apps, schema_editor)
        assert triggers() == []
        migration.create_trigger(global_apps, schema_editor)
        assert triggers() == [TRIGGERS[table]]
