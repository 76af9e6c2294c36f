"""Saving a class's scores for one assessment: checked, versioned, all or nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from assessments.cells import parse_cell
from assessments.models import Score, ScoreChange
from assessments.services import ScoreEntry, scores_save
from assessments.signals import scores_changed
from tests import factories
from tests.conftest import StatementCapture

pytestmark = pytest.mark.django_db


def _class(size: int):
    return factories.make_taught_class(size)


def _whole_class(students, value="3"):
    return [ScoreEntry(s.pk, code, value) for s in students for code in ("A", "B")]


def test_a_whole_class_is_saved_with_versions_and_history():
    teacher, classroom_unit, pre, students = _class(3)
    result = scores_save(
        actor=teacher, classroom_unit=classroom_unit, assessment=pre, entries=_whole_class(students)
    )
    assert result.is_applied
    assert Score.objects.count() == 6
    assert set(Score.objects.values_list("points", "version", "entered_by")) == {
        (Decimal("3.00"), 1, teacher.pk)
    }
    assert ScoreChange.objects.count() == 6


def test_decimal_points_resent_unchanged_keep_their_version_and_the_maximum_is_allowed():
    """A retyped 2.3 is the 2.3 that was saved (no new version, no history row, no false
    conflict for a co-teacher), and a skill out of 2.3 points accepts 2.3, on every database."""
    teacher, classroom_unit, pre, students = _class(1)
    pre.assessment_skills.filter(skill__code="B").update(max_points=Decimal("2.3"))

    def save(value, version):
        return scores_save(
            actor=teacher,
            classroom_unit=classroom_unit,
            assessment=pre,
            entries=[
                ScoreEntry(students[0].pk, "A", value, version),
                ScoreEntry(students[0].pk, "B", value, version),
            ],
        )

    assert save("2.3", None).is_applied
    again = save("2.3", 1)
    assert again.is_applied, again.problems
    assert {cell["version"] for cell in again.saved} == {1}
    assert ScoreChange.objects.count() == 2
    assert set(Score.objects.values_list("points", "version")) == {(Decimal("2.30"), 1)}


def test_one_bad_value_saves_nothing_and_says_why():
    teacher, classroom_unit, pre, students = _class(2)
    entries = _whole_class(students)
    entries[1] = ScoreEntry(students[0].pk, "B", "7")  # B is out of 6
    result = scores_save(
        actor=teacher, classroom_unit=classroom_unit, assessment=pre, entries=entries
    )
    assert not result.is_applied
    assert [p.message for p in result.problems] == ["7 is outside 0 to 6 points."]
    assert Score.objects.count() == 0
    assert ScoreChange.objects.count() == 0


def test_unenrolled_student_and_unmeasured_skill_are_refused():
    teacher, classroom_unit, pre, students = _class(1)
    stranger = factories.StudentFactory(district=classroom_unit.classroom.school.district)
    result = scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(stranger.pk, "A", "1"), ScoreEntry(students[0].pk, "Z", "1")],
    )
    assert [p.message for p in result.problems] == [
        "This student is not enrolled in this classroom.",
        "This assessment does not measure 'Z' (it measures A, B).",
    ]
    assert Score.objects.count() == 0


def test_assessment_of_another_unit_is_refused():
    teacher, classroom_unit, _, students = _class(1)
    other_unit = factories.make_unit(classroom_unit.classroom.school.district, title="Other")
    result = scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=other_unit.assessments.get(kind="pre"),
        entries=[ScoreEntry(students[0].pk, "A", "1")],
    )
    assert [p.message for p in result.problems] == ["'Pre' is not part of this classroom's unit."]


def test_stale_version_is_refused_with_the_current_value_and_who_set_it():
    teacher, classroom_unit, pre, students = _class(1)
    co_teacher = factories.UserFactory(district=teacher.district, first_name="Cam", last_name="Co")
    classroom_unit.classroom.teachers.add(co_teacher)
    student = students[0]
    scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(student.pk, "A", "2")],
    )
    scores_save(
        actor=co_teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(student.pk, "A", "3.5", expected_version=1)],
    )
    stale = scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(student.pk, "A", "1", expected_version=1)],
    )
    (conflict,) = stale.problems
    assert conflict.is_conflict
    assert (conflict.current, conflict.current_version, conflict.current_by) == ("3.5", 2, "Cam Co")
    assert conflict.message == "Changed meanwhile by Cam Co: it is now 3.5."
    assert Score.objects.get().points == Decimal("3.50")


def test_absent_exempt_and_clearing_are_kept_in_history():
    teacher, classroom_unit, pre, students = _class(1)
    student = students[0]
    save = lambda value, version: scores_save(  # noqa: E731
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(student.pk, "A", value, expected_version=version)],
    )
    assert save("a", None).is_applied
    assert Score.objects.get().status == "absent"
    assert save("X", 1).is_applied
    assert save("", 2).is_applied
    assert not Score.objects.exists()
    history = list(ScoreChange.objects.values_list("old_status", "new_status", "version"))
    assert history == [("", "absent", 1), ("absent", "exempt", 2), ("exempt", "", 3)]


def test_coach_cannot_write_scores():
    teacher, classroom_unit, pre, students = _class(1)
    coach = factories.UserFactory(district=teacher.district)
    classroom_unit.classroom.school.coaches.add(coach)
    with pytest.raises(PermissionDenied):
        scores_save(
            actor=coach,
            classroom_unit=classroom_unit,
            assessment=pre,
            entries=[ScoreEntry(students[0].pk, "A", "1")],
        )
    assert not Score.objects.exists()


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("-1", "-1 is outside 0 to 4 points."),
        ("4.5", "4.5 is outside 0 to 4 points."),
        ("1.234", "'1.234' has more than 2 decimals."),
        ("abc", "'abc' is not a score: type points from 0 to 4, A for absent or X for exempt."),
    ],
)
def test_typed_values_are_checked_with_the_reason(typed, reason):
    with pytest.raises(ValueError) as refused:
        parse_cell(typed, Decimal("4"))
    assert str(refused.value) == reason


def _statements_to_save(
    statements_as_in_production: StatementCapture, size: int, *, first_entry: bool
) -> int:
    teacher, classroom_unit, pre, students = _class(size)
    version = None
    if not first_entry:
        scores_save(
            actor=teacher,
            classroom_unit=classroom_unit,
            assessment=pre,
            entries=_whole_class(students, "1"),
        )
        version = 1
    entries = [
        ScoreEntry(s.pk, code, "2", expected_version=version) for s in students for code in "AB"
    ]
    with statements_as_in_production() as statements:
        result = scores_save(
            actor=teacher, classroom_unit=classroom_unit, assessment=pre, entries=entries
        )
    assert result.is_applied
    return len(statements)


@pytest.mark.parametrize("first_entry", [True, False], ids=["new cells", "changed cells"])
@pytest.mark.parametrize("size", [30, 150])
def test_saving_a_class_takes_six_statements_whatever_its_size(
    statements_as_in_production, size, first_entry
):
    """Permission, plan, roster, locking the current scores, one write with its history, and
    after commit one statement marking the class's growth stale."""
    assert _statements_to_save(statements_as_in_production, size, first_entry=first_entry) == 6


def test_a_save_announces_its_classroom_unit_once_after_commit_and_only_when_it_changed(
    django_capture_on_commit_callbacks,
):
    """The growth reports (a higher app) hear of a save through ``scores_changed``: one signal
    per saved batch, after the commit, none for a save that changes nothing."""
    teacher, classroom_unit, pre, students = _class(2)
    announced: list[int] = []

    def listen(sender, *, classroom_unit_id, **kwargs):
        announced.append(classroom_unit_id)

    scores_changed.connect(listen)
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            scores_save(
                actor=teacher,
                classroom_unit=classroom_unit,
                assessment=pre,
                entries=_whole_class(students),
            )
            assert announced == []  # not before the commit
        for callback in callbacks:
            callback()
        assert announced == [classroom_unit.pk]

        with django_capture_on_commit_callbacks(execute=True):
            unchanged = scores_save(
                actor=teacher,
                classroom_unit=classroom_unit,
                assessment=pre,
                entries=[
                    ScoreEntry(s.pk, code, "3", expected_version=1)
                    for s in students
                    for code in "AB"
                ],
            )
        assert unchanged.is_applied
        assert announced == [classroom_unit.pk]
    finally:
        scores_changed.disconnect(listen)


def test_a_cleared_and_retyped_cell_refuses_a_write_based_on_the_old_value():
    """A-B-A: a co-teacher clears a cell and types a new value; a client still holding the
    first value's version must get a conflict, not overwrite the new value."""
    teacher, classroom_unit, pre, students = _class(1)
    co_teacher = factories.UserFactory(district=teacher.district, first_name="Cam", last_name="Co")
    classroom_unit.classroom.teachers.add(co_teacher)
    student = students[0]

    def save(actor, value, version):
        return scores_save(
            actor=actor,
            classroom_unit=classroom_unit,
            assessment=pre,
            entries=[ScoreEntry(student.pk, "A", value, expected_version=version)],
        )

    assert save(teacher, "2", None).saved[0]["version"] == 1
    assert save(co_teacher, "", 1).is_applied
    retyped = save(co_teacher, "3.5", None)
    assert retyped.is_applied, retyped.problems
    assert retyped.saved[0]["version"] == 3
    stale = save(teacher, "1", 1)
    (conflict,) = stale.problems
    assert (conflict.current, conflict.current_version, conflict.current_by) == ("3.5", 3, "Cam Co")
    assert Score.objects.get().points == Decimal("3.50")
    history = list(ScoreChange.objects.values_list("old_points", "new_points", "version"))
    assert history == [
        (None, Decimal("2.00"), 1),
        (Decimal("2.00"), None, 2),
        (None, Decimal("3.50"), 3),
    ]


def test_staff_who_changed_scores_cannot_be_deleted_only_deactivated():
    from django.db.models import ProtectedError

    teacher, classroom_unit, pre, students = _class(1)
    scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(students[0].pk, "A", "1")],
    )
    with pytest.raises(ProtectedError):
        teacher.delete()
    assert ScoreChange.objects.get().changed_by == teacher


@pytest.mark.django_db(transaction=True)
def test_a_cell_filled_by_a_concurrent_save_is_a_conflict_and_nothing_is_written():
    """Two teachers type into the same empty cell at once: the second save meets the first's
    row and must be refused as a conflict (with the first's value), never overwrite it."""
    import threading

    import psycopg
    from django.utils import timezone

    teacher, classroom_unit, pre, students = _class(2)
    co_teacher = factories.UserFactory(district=teacher.district, first_name="Cam", last_name="Co")
    classroom_unit.classroom.teachers.add(co_teacher)
    measure = pre.assessment_skills.get(skill__code="A")
    params = connection.get_connection_params()
    inserted, release = threading.Event(), threading.Event()

    def co_teacher_saves_first() -> None:
        # The co-teacher's save, held open between its insert and its commit.
        with psycopg.connect(
            **{key: params.get(key) for key in ("host", "port", "user", "dbname", "password")}
        ) as other:
            other.execute(
                "INSERT INTO assessments_score (classroom_unit_id, student_id,"
                " assessment_skill_id, status, points, entered_by_id, entered_at, version)"
                " VALUES (%s, %s, %s, 'scored', 3, %s, %s, 1)",
                [classroom_unit.pk, students[0].pk, measure.pk, co_teacher.pk, timezone.now()],
            )
            inserted.set()
            release.wait(10)
            other.commit()

    thread = threading.Thread(target=co_teacher_saves_first)
    thread.start()
    assert inserted.wait(10)
    threading.Timer(0.3, release.set).start()  # commit while this save waits on that row
    result = scores_save(
        actor=teacher,
        classroom_unit=classroom_unit,
        assessment=pre,
        entries=[ScoreEntry(students[1].pk, "A", "1"), ScoreEntry(students[0].pk, "A", "2")],
    )
    thread.join()
    (conflict,) = result.problems
    assert (conflict.index, conflict.is_conflict, conflict.current) == (1, True, "3")
    assert conflict.current_by == "Cam Co"
    assert list(Score.objects.values_list("student_id", "points")) == [
        (students[0].pk, Decimal("3.00"))
    ]
    assert not ScoreChange.objects.exists()
