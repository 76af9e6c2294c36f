"""The database itself keeps the audit rows append-only (issue 6, item 7).

ScoreChange (every change to a score) and AuditEvent (every import and export) rows are refused
UPDATE and DELETE by triggers, so not even a bug in the application, raw SQL included, can
rewrite history. Inserts still work. A privacy erasure, and only inside its own transaction, may
delete (config/audit_rows.py); it may never update.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pgtrigger
import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from assessments.models import ScoreChange
from assessments.services import ScoreEntry, scores_save
from classrooms.audit import audit_event_record
from classrooms.models import AuditEvent
from config.audit_rows import DELETE_TRIGGER, ERASABLE, UPDATE_TRIGGER, audit_erasure
from tests.conftest import World

pytestmark = pytest.mark.django_db

AUDIT_MODELS = {"assessments_scorechange": ScoreChange, "classrooms_auditevent": AuditEvent}


def _declared_triggers(table: str) -> set[str]:
    """The Postgres names pgtrigger gives the two triggers the table's model declares."""
    model = AUDIT_MODELS[table]
    return {
        trigger.get_pgid(model)
        for trigger in model._meta.triggers
        if trigger.name in (UPDATE_TRIGGER, DELETE_TRIGGER)
    }


def _installed_triggers(table: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = %s::regclass",
            [table],
        )
        return {name for (name,) in cursor.fetchall()}


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
    for table in AUDIT_MODELS:
        assert len(_declared_triggers(table)) == 2
        assert _installed_triggers(table) == _declared_triggers(table)


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


def test_a_privacy_erasure_still_cannot_rewrite_the_audit_log(world):
    event = _audit_event(world)

    with pytest.raises(IntegrityError) as refusal, transaction.atomic(), audit_erasure():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE classrooms_auditevent SET outcome = 'failed' WHERE id = %s", [event.pk]
            )

    assert "UPDATE of classrooms_auditevent row refused: the audit log is append-only" in str(
        refusal.value
    )
    event.refresh_from_db()
    assert event.outcome == "succeeded"


def test_deleting_is_refused_again_as_soon_as_the_erasure_ends_in_the_same_transaction(world):
    erased = _score_change(world)
    kept = _audit_event(world)

    with transaction.atomic():
        with audit_erasure():
            ScoreChange.objects.filter(pk=erased.pk).delete()
        refusal = _refused("DELETE FROM classrooms_auditevent WHERE id = %s", [kept.pk])

    assert "DELETE of classrooms_auditevent row refused" in refusal
    assert not ScoreChange.objects.filter(pk=erased.pk).exists()
    assert AuditEvent.objects.filter(pk=kept.pk).exists()


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


def test_an_erasure_may_pass_exactly_the_delete_triggers_of_the_audit_tables():
    delete_triggers = {
        trigger.get_uri(model)
        for model, trigger in pgtrigger.registered()
        if trigger.name == DELETE_TRIGGER
    }
    assert (
        set(ERASABLE)
        == delete_triggers
        == {
            "assessments.ScoreChange:append_only_delete",
            "classrooms.AuditEvent:append_only_delete",
        }
    )


# pgtrigger.ignore(...), `from pgtrigger import ignore`, or its setting written by hand.
IGNORING_TRIGGERS = re.compile(r"pgtrigger\.ignore|from pgtrigger import [^\n]*\bignore\b")


def test_only_the_erasure_context_manager_ignores_triggers():
    root = Path(__file__).resolve().parent.parent
    ignoring = {
        str(path.relative_to(root))
        for app in ("config", "classrooms", "units", "assessments", "reports")
        for path in (root / app).rglob("*.py")
        if IGNORING_TRIGGERS.search(path.read_text())
    }
    assert ignoring == {"config/audit_rows.py"}


@pytest.mark.parametrize(
    ("app_label", "name", "table", "hand_written_trigger"),
    [
        (
            "assessments",
            "0010_audit_rows_append_only_pgtrigger",
            "assessments_scorechange",
            "assessments_scorechange_append_only",
        ),
        (
            "classrooms",
            "0004_audit_rows_append_only_pgtrigger",
            "classrooms_auditevent",
            "classrooms_auditevent_append_only",
        ),
    ],
)
def test_the_migrations_reverse_cleanly(app_label, name, table, hand_written_trigger):
    """Backwards, the move to pgtrigger gives the hand-written trigger back; forwards again,
    exactly the two declared ones replace it."""
    loader = MigrationLoader(connection)
    migration = loader.get_migration(app_label, name)
    before = loader.project_state((app_label, name), at_end=False)

    # DDL is transactional on PostgreSQL: the test's transaction puts everything back.
    with connection.schema_editor(atomic=False) as schema_editor:
        migration.unapply(before.clone(), schema_editor)
        assert _installed_triggers(table) == {hand_written_trigger}
        migration.apply(before.clone(), schema_editor)
        assert _installed_triggers(table) == _declared_triggers(table)
