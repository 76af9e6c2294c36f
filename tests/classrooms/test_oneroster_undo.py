"""Undoing an import: a batch rolled back leaves the roster row by row as it was before it; a
rollback that later changes depend on is refused, listing them, and changes nothing."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from classrooms.models import AcademicYear, AuditEvent, District, RosterImport, Student
from classrooms.oneroster.undo import roster_rollback, roster_rollback_check
from tests import factories
from tests.classrooms.test_oneroster import (
    FIXTURES,
    drop_rows,
    edit,
    export_copy,
    run,
    score_for,
    snapshot,
)


@pytest.fixture
def admin(district: District) -> Any:
    return factories.UserFactory(district=district, is_district_admin=True)


def test_rolling_back_imports_restores_the_roster_row_by_row(
    district: District, admin: Any, tmp_path: Path
) -> None:
    # A school year made by hand, which the import adopts (and renames) by its dates.
    AcademicYear.objects.create(
        district=district,
        name="2026–27",
        start_date=datetime.date(2026, 8, 17),
        end_date=datetime.date(2027, 6, 11),
    )
    before_first = snapshot()
    first = run(district, FIXTURES / "valid", actor=admin)
    after_first = snapshot()
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "Ava,Nguyen", "Ava,Nguyen-Park")
    edit(folder, "users.csv", "s-ben,,", "s-ben,tobedeleted,")
    drop_rows(folder, "enrollments.csv", "e-2")  # a teacher assignment ends
    second = run(district, folder, actor=admin)
    assert second.applied and second.change_count >= 3

    check = roster_rollback_check(actor=admin, roster_import=second.roster_import)
    assert check.possible, check.blockers
    roster_rollback(actor=admin, roster_import=second.roster_import)

    assert snapshot() == after_first
    roster_rollback(actor=admin, roster_import=first.roster_import)
    assert snapshot() == before_first
    assert list(
        AuditEvent.objects.filter(kind="roster_rollback").values_list("outcome", flat=True)
    ) == ["succeeded", "succeeded"]
    with pytest.raises(ValidationError, match="rolled back already"):
        roster_rollback(actor=admin, roster_import=first.roster_import)


def test_a_rollback_that_later_changes_depend_on_is_refused(
    district: District, admin: Any, tmp_path: Path
) -> None:
    first = run(district, FIXTURES / "valid", actor=admin)
    ava = Student.objects.get(sourced_id="s-ava")
    classroom = ava.enrollments.order_by("pk").first().classroom
    score_for(ava, classroom, classroom.teachers.first())
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "Dev,Ramos", "Dev,Ramos-Diaz")
    assert run(district, folder, actor=admin).applied
    before = snapshot()

    check = roster_rollback_check(actor=admin, roster_import=first.roster_import)

    assert not check.possible
    assert any("score" in blocker.lower() for blocker in check.blockers), check.blockers
    assert any("Dev Ramos-Diaz" in blocker or "Ramos" in blocker for blocker in check.blockers)
    with pytest.raises(ValidationError):
        roster_rollback(actor=admin, roster_import=first.roster_import)
    assert snapshot() == before
    assert RosterImport.objects.get(pk=first.roster_import.pk).rolled_back_at is None
    assert AuditEvent.objects.filter(kind="roster_rollback").get().outcome == "failed"


def test_an_import_that_changed_nothing_keeps_no_batch(district: District, admin: Any) -> None:
    assert run(district, FIXTURES / "valid", actor=admin).roster_import is not None

    again = run(district, FIXTURES / "valid", actor=admin)

    assert again.applied and again.roster_import is None
