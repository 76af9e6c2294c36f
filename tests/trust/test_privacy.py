"""Privacy operations for district admins (issue 6, item 8).

Deleting a student on request takes every row of their learner data with them (scores, score
history, growth rows, enrollments, group memberships, the student record), leaves other students
alone, withdraws ready exports that could list them, rebuilds summaries without them and leaves
an audit record that names no one. Only a district admin of the student's district may.

The retention purge deletes exactly the data older than the district's retention period and
nothing newer; a dry run changes nothing; the command and the beat task both run it; every run
is audited. The append-only triggers still refuse UPDATE afterwards.
"""

from __future__ import annotations

import datetime
import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Score, ScoreChange
from assessments.services import ScoreEntry, scores_save
from classrooms.models import (
    AuditEvent,
    AuditKind,
    District,
    Enrollment,
    Student,
    StudentGroup,
    User,
)
from reports import exports, privacy
from reports import services as growth_services
from reports.models import (
    ClassroomUnitGrowthSummary,
    ExportJob,
    ExportStatus,
    GrowthBuild,
    StudentGrowth,
)
from reports.tasks import retention_purge_task
from tests import factories
from tests.conftest import World
from units.models import ClassroomUnit

pytestmark = pytest.mark.django_db

Membership = Student.groups.through


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def enter(
    actor: User, classroom_unit: ClassroomUnit, student: Student, kind: str, a: str, b: str
) -> None:
    """Save skills A and B of one assessment for one student, through the one write path."""
    assessment = classroom_unit.unit.assessments.get(kind=kind)
    versions = {
        score.assessment_skill.skill.code: score.version
        for score in Score.objects.filter(
            classroom_unit=classroom_unit, student=student, assessment_skill__assessment=assessment
        ).select_related("assessment_skill__skill")
    }
    result = scores_save(
        actor=actor,
        classroom_unit=classroom_unit,
        assessment=assessment,
        entries=[
            ScoreEntry(student.pk, "A", a, versions.get("A")),
            ScoreEntry(student.pk, "B", b, versions.get("B")),
        ],
    )
    assert result.is_applied, result.problems


def snapshot() -> dict[str, list[Any]]:
    """Every row of learner data and of the audit log, to show that nothing changed."""
    return {
        "scores": sorted(Score.objects.values_list("pk", "status", "points", "version")),
        "score_changes": sorted(ScoreChange.objects.values_list("pk", flat=True)),
        "growth_rows": sorted(StudentGrowth.objects.values_list("pk", flat=True)),
        "enrollments": sorted(Enrollment.objects.values_list("pk", "end_date")),
        "memberships": sorted(Membership.objects.values_list("pk", flat=True)),
        "students": sorted(Student.objects.values_list("pk", flat=True)),
        "audit_events": sorted(AuditEvent.objects.values_list("pk", flat=True)),
    }


def rows_about(student_id: int) -> dict[str, int]:
    return {
        "scores": Score.objects.filter(student_id=student_id).count(),
        "score_changes": ScoreChange.objects.filter(student_id=student_id).count(),
        "growth_rows": StudentGrowth.objects.filter(student_id=student_id).count(),
        "enrollments": Enrollment.objects.filter(student_id=student_id).count(),
        "memberships": Membership.objects.filter(student_id=student_id).count(),
        "students": Student.objects.filter(pk=student_id).count(),
    }


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ---------------------------------------------------------------------------------------------
# A student to erase: class a1 with a peer, also enrolled in class a2, in a student group
# ---------------------------------------------------------------------------------------------


@dataclass
class Erasable:
    world: World
    student: Student
    peer: Student

    @property
    def admin(self) -> User:
        return self.world.users["admin_a"]

    @property
    def url(self) -> str:
        return reverse("student-erase", args=[self.student.pk])


@pytest.fixture
def erasable(world: World) -> Erasable:
    district = world.districts["a"]
    district.minimum_n = 1  # so that summaries show n instead of suppressing it
    district.save(update_fields=["minimum_n"])
    student = world.students["a1"]
    peer = factories.EnrollmentFactory(
        classroom=world.classrooms["a1"], student__district=district, student__sis_id="PEER-1"
    ).student
    factories.EnrollmentFactory(classroom=world.classrooms["a2"], student=student)
    group = StudentGroup.objects.get(name="English learners a")
    student.groups.add(group)
    peer.groups.add(group)
    in_a1, in_a2 = world.classroom_units["a1"], world.classroom_units["a2"]
    teacher_a1, teacher_a2 = world.users["teacher_a1"], world.users["teacher_a2"]
    # The world's score (pre A = 3, no history) is changed, so its history starts here.
    enter(teacher_a1, in_a1, student, "pre", "2", "1")
    enter(teacher_a1, in_a1, student, "post", "4", "5")
    enter(teacher_a1, in_a1, peer, "pre", "1", "1")
    enter(teacher_a1, in_a1, peer, "post", "3", "6")
    enter(teacher_a2, in_a2, student, "pre", "3", "A")
    for classroom_unit in (in_a1, in_a2, world.classroom_units["b1"]):
        growth_services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit.pk)
    return Erasable(world=world, student=student, peer=peer)


# What erasing the fixture's student deletes: scores (a1 pre A, B and post A, B; a2 pre A, B),
# one history row for each, growth rows in a1 and a2, enrollments in a1 and a2, one group.
ERASED = privacy.LearnerDataCounts(
    scores=6, score_changes=6, growth_rows=2, enrollments=2, group_memberships=1, students=1
)


# ---------------------------------------------------------------------------------------------
# Erasure: what goes, what stays, the record
# ---------------------------------------------------------------------------------------------


def test_erasing_a_student_deletes_all_their_learner_data(erasable: Erasable) -> None:
    student_id = erasable.student.pk

    erasure = privacy.student_erase(actor=erasable.admin, student=erasable.student)

    assert erasure.counts == ERASED
    assert rows_about(student_id) == dict.fromkeys(rows_about(student_id), 0)


def test_erasing_a_student_leaves_every_other_students_data_alone(erasable: Erasable) -> None:
    student_id = erasable.student.pk
    before = snapshot()
    own = {
        "scores": set(Score.objects.filter(student_id=student_id).values_list("pk", flat=True)),
        "score_changes": set(
            ScoreChange.objects.filter(student_id=student_id).values_list("pk", flat=True)
        ),
        "growth_rows": set(
            StudentGrowth.objects.filter(student_id=student_id).values_list("pk", flat=True)
        ),
    }

    privacy.student_erase(actor=erasable.admin, student=erasable.student)

    after = snapshot()
    assert [row for row in before["scores"] if row[0] not in own["scores"]] == after["scores"]
    assert set(before["score_changes"]) - own["score_changes"] == set(after["score_changes"])
    assert set(before["growth_rows"]) - own["growth_rows"] == set(after["growth_rows"])
    assert set(before["students"]) - {student_id} == set(after["students"])
    assert rows_about(erasable.peer.pk) == {
        "scores": 4,
        "score_changes": 4,
        "growth_rows": 1,
        "enrollments": 1,
        "memberships": 1,
        "students": 1,
    }


def test_an_erasure_leaves_an_audit_record_with_counts_and_actor_but_no_name(
    erasable: Erasable,
) -> None:
    student = erasable.student
    identifying = [student.given_name, student.family_name, student.sis_id]

    started = timezone.now()
    erasure = privacy.student_erase(actor=erasable.admin, student=student)

    event = AuditEvent.objects.get(pk=erasure.event.pk)
    assert event.kind == AuditKind.STUDENT_ERASURE
    assert event.kind_label == "Student deleted on request"
    assert event.district == erasable.world.districts["a"]
    assert event.actor == erasable.admin
    assert event.created_at >= started
    assert event.outcome == "succeeded"
    assert event.row_count == ERASED.total == 18
    assert event.result["counts"] == ERASED.as_dict()
    assert event.parameters == {
        "student": f"#{student.pk}",
        "SIS id (keyed hash)": privacy.sis_id_digest(
            district_id=student.district_id, sis_id=student.sis_id
        ),
    }
    stored = json.dumps(
        [event.actor_name, event.parameters, event.message, event.result], default=str
    )
    for text in identifying:
        assert text not in stored


def test_the_keyed_hash_tells_sis_ids_apart_and_is_not_a_plain_hash(erasable: Erasable) -> None:
    import hashlib

    digest = privacy.sis_id_digest(district_id=1, sis_id="1001")

    assert digest == privacy.sis_id_digest(district_id=1, sis_id="1001")
    assert digest != privacy.sis_id_digest(district_id=1, sis_id="1002")
    assert digest != privacy.sis_id_digest(district_id=2, sis_id="1001")
    assert digest not in {
        hashlib.sha256(b"1001").hexdigest(),
        hashlib.sha256(b"1:1001").hexdigest(),
    }


def test_summaries_are_rebuilt_without_the_erased_student(
    erasable: Erasable, django_capture_on_commit_callbacks: Any
) -> None:
    in_a1 = erasable.world.classroom_units["a1"]
    everyone = ClassroomUnitGrowthSummary.objects.get(classroom_unit=in_a1, part="all")
    assert everyone.n == 2

    with django_capture_on_commit_callbacks(execute=True):
        privacy.student_erase(actor=erasable.admin, student=erasable.student)

    everyone = ClassroomUnitGrowthSummary.objects.get(classroom_unit=in_a1, part="all")
    assert everyone.n == 1
    assert everyone.mean_pre_percentage == pytest.approx(20.0)  # the peer's pre: (1 + 1) × 10
    assert list(StudentGrowth.objects.filter(classroom_unit=in_a1).values_list("student_id")) == [
        (erasable.peer.pk,)
    ]
    # Both classroom units the student was in were rebuilt (nothing is left marked stale).
    for key in ("a1", "a2"):
        build = GrowthBuild.objects.get(classroom_unit=erasable.world.classroom_units[key])
        assert build.stale_since is None
        assert build.built_at is not None and build.built_at >= everyone.built_at


def _export_text(actor: User, kind: str) -> str:
    prepared = exports.export_prepare(actor=actor, kind=kind)
    data = b"".join(exports.export_stream(prepared=prepared))
    if kind != "oneroster_results":
        return data.decode("utf-8")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8") for name in archive.namelist())


@pytest.mark.parametrize("kind", ["scores", "student_growth", "oneroster_results"])
def test_exports_no_longer_show_an_erased_student(erasable: Erasable, kind: str) -> None:
    student = erasable.student
    before = _export_text(erasable.admin, kind)
    assert student.sis_id in before
    assert erasable.peer.sis_id in before

    privacy.student_erase(actor=erasable.admin, student=student)

    after = _export_text(erasable.admin, kind)
    assert student.sis_id not in after
    assert student.family_name not in after
    assert student.given_name not in after
    assert erasable.peer.sis_id in after


@pytest.fixture
def export_dir(tmp_path: Path, settings: Any) -> Path:
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    return tmp_path


def _job(actor: User, kind: str, capture: Any) -> ExportJob:
    prepared = exports.export_prepare(actor=actor, kind=kind)
    with capture(execute=True):  # the task runs inline once the job is committed
        job = exports.export_job_create(prepared=prepared)
    job.refresh_from_db()
    assert job.status == ExportStatus.SUCCEEDED, job.message
    return job


def test_ready_exports_that_list_students_are_withdrawn_by_an_erasure(
    erasable: Erasable, export_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    admin = erasable.admin
    scores_job = _job(admin, "scores", django_capture_on_commit_callbacks)
    aggregate_job = _job(admin, "aggregate_growth", django_capture_on_commit_callbacks)
    assert erasable.student.sis_id in (export_dir / scores_job.file_name).read_text()

    with django_capture_on_commit_callbacks(execute=True):
        privacy.student_erase(actor=admin, student=erasable.student)

    assert not (export_dir / scores_job.file_name).exists()
    with pytest.raises(exports.ExportFileGone):
        exports.export_job_file_open(actor=admin, job_id=scores_job.pk)
    scores_job.refresh_from_db()
    assert scores_job.message == "A student's data was deleted at the district's request."
    # The de-identified aggregate export lists no student and stays available.
    assert exports.export_job_file_open(actor=admin, job_id=aggregate_job.pk).path.is_file()


def test_an_export_being_written_when_a_student_is_erased_stops_and_serves_no_file(
    erasable: Erasable,
    export_dir: Path,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Batches written before the erasure hold the student: the job must not finish."""
    settings.THINSLICE_EXPORT_JOB_BATCH = 1  # one classroom unit per batch
    admin = erasable.admin
    batch_done = exports.ExportProgress.batch_done
    erased: list[Student] = []

    def erase_after_the_first_batch(progress: exports.ExportProgress) -> None:
        batch_done(progress)
        if not erased:
            with django_capture_on_commit_callbacks(execute=True):
                privacy.student_erase(actor=admin, student=erasable.student)
            erased.append(erasable.student)

    monkeypatch.setattr(exports.ExportProgress, "batch_done", erase_after_the_first_batch)
    job = _job_started(admin, django_capture_on_commit_callbacks)

    assert erased, "the erasure happened while the file was being written"
    assert job.status == ExportStatus.FAILED
    assert job.message.startswith("A student's data was deleted at the district's request.")
    assert "export again" in job.message
    assert not job.file_name
    assert not [path for path in export_dir.rglob("*") if path.is_file()], "no file left"
    with pytest.raises(ValidationError, match="not ready"):
        exports.export_job_file_open(actor=admin, job_id=job.pk)


def test_an_export_waiting_for_the_worker_when_a_student_is_erased_never_runs(
    erasable: Erasable, export_dir: Path, django_capture_on_commit_callbacks: Any
) -> None:
    admin = erasable.admin
    job = exports.export_job_create(prepared=exports.export_prepare(actor=admin, kind="scores"))

    with django_capture_on_commit_callbacks(execute=True):
        privacy.student_erase(actor=admin, student=erasable.student)
    # The queued task arrives afterwards: there is nothing for it to write.
    assert exports.export_job_attempt(job_id=job.pk, may_retry=True) == (
        exports.ExportAttempt.SKIPPED
    )

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert not [path for path in export_dir.rglob("*") if path.is_file()]


def _job_started(actor: User, capture: Any) -> ExportJob:
    prepared = exports.export_prepare(actor=actor, kind="scores")
    with capture(execute=True):  # the task runs inline once the job is committed
        job = exports.export_job_create(prepared=prepared)
    job.refresh_from_db()
    return job


def test_an_erasure_that_fails_keeps_everything(
    erasable: Erasable, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = snapshot()

    def audit_fails(**kwargs: Any) -> None:
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(privacy, "audit_event_record", audit_fails)
    with pytest.raises(RuntimeError):
        privacy.student_erase(actor=erasable.admin, student=erasable.student)

    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Erasure: who may
# ---------------------------------------------------------------------------------------------

REFUSED_ACTORS = ["admin_b", "coach_a1", "teacher_a1", "teacher_a2", "no_role_a"]


@pytest.mark.parametrize("who", REFUSED_ACTORS)
def test_only_a_district_admin_of_the_students_district_may_erase(
    erasable: Erasable, who: str
) -> None:
    actor = erasable.world.users[who]
    before = snapshot()

    with pytest.raises(PermissionDenied):
        privacy.student_erasure_counts(actor=actor, student=erasable.student)
    with pytest.raises(PermissionDenied):
        privacy.student_erase(actor=actor, student=erasable.student)

    assert snapshot() == before


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin_b", 404), ("coach_a1", 403), ("teacher_a1", 403), ("no_role_a", 403)],
)
def test_the_erase_page_refuses_everyone_but_the_districts_admins(
    erasable: Erasable, who: str, status: int
) -> None:
    client = signed_in(erasable.world.users[who])
    before = snapshot()

    shown = client.get(erasable.url)
    posted = client.post(erasable.url, {"sis_id": erasable.student.sis_id})

    assert (shown.status_code, posted.status_code) == (status, status)
    assert erasable.student.family_name not in shown.content.decode()
    assert snapshot() == before


def test_the_privacy_pages_send_anonymous_visitors_to_log_in(erasable: Erasable) -> None:
    for url in (reverse("privacy"), erasable.url):
        response = Client().post(url, {"sis_id": erasable.student.sis_id})
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    assert Student.objects.filter(pk=erasable.student.pk).exists()


def test_another_districts_admin_does_not_find_the_student_on_the_privacy_page(
    erasable: Erasable,
) -> None:
    response = signed_in(erasable.world.users["admin_b"]).get(
        reverse("privacy"), {"q": erasable.student.sis_id}
    )

    assert response.status_code == 200
    assert response.context["students"] == []
    assert erasable.student.family_name not in response.content.decode()


def test_the_set_up_admin_cannot_delete_a_student(erasable: Erasable) -> None:
    client = signed_in(erasable.admin)
    url = reverse("admin:classrooms_student_delete", args=[erasable.student.pk])

    response = client.post(url, {"post": "yes"})

    assert response.status_code == 403
    assert rows_about(erasable.student.pk)["students"] == 1


# ---------------------------------------------------------------------------------------------
# Erasure: the page
# ---------------------------------------------------------------------------------------------


def test_a_district_admin_finds_and_erases_a_student_after_a_confirm_step(
    erasable: Erasable,
) -> None:
    client = signed_in(erasable.admin)
    student = erasable.student

    found = client.get(reverse("privacy"), {"q": student.sis_id})
    assert found.status_code == 200
    assert [row.pk for row in found.context["students"]] == [student.pk]
    assert erasable.url in found.content.decode()

    confirm = client.get(erasable.url)
    assert confirm.status_code == 200
    assert confirm.context["counts"] == ERASED
    page = confirm.content.decode()
    for line in ("6 scores", "6 rows of score history", "2 growth rows", "2 enrollments"):
        assert line in page
    assert "1 student group membership" in page

    before = snapshot()
    mistyped = client.post(erasable.url, {"sis_id": "not-it"})
    assert mistyped.status_code == 400
    refusal = "This is not the student&#x27;s SIS id; nothing was deleted."
    assert refusal in mistyped.content.decode()
    assert snapshot() == before

    done = client.post(erasable.url, {"sis_id": student.sis_id}, follow=True)
    assert done.redirect_chain == [(reverse("privacy"), 302)]
    assert f"Deleted student #{student.pk} and all their data: 6 scores" in (done.content.decode())
    assert rows_about(student.pk)["students"] == 0
    assert AuditEvent.objects.filter(kind=AuditKind.STUDENT_ERASURE, actor=erasable.admin).exists()


def test_the_audit_log_page_shows_the_erasure_without_a_name(erasable: Erasable) -> None:
    client = signed_in(erasable.admin)
    privacy.student_erase(actor=erasable.admin, student=erasable.student)

    page = client.get(reverse("audit-event-list")).content.decode()

    assert "Student deleted on request" in page
    assert f"#{erasable.student.pk}" in page
    assert erasable.student.family_name not in page


# ---------------------------------------------------------------------------------------------
# The audit trigger still holds after an erasure (PostgreSQL)
# ---------------------------------------------------------------------------------------------


def test_after_an_erasure_the_audit_rows_still_refuse_update_and_delete(
    erasable: Erasable,
) -> None:
    erasure = privacy.student_erase(actor=erasable.admin, student=erasable.student)
    kept_change = ScoreChange.objects.filter(student=erasable.peer).first()
    assert kept_change is not None

    statements = [
        ("UPDATE assessments_scorechange SET new_points = 0 WHERE id = %s", kept_change.pk),
        ("DELETE FROM assessments_scorechange WHERE id = %s", kept_change.pk),
        ("UPDATE classrooms_auditevent SET row_count = 0 WHERE id = %s", erasure.event.pk),
        ("DELETE FROM classrooms_auditevent WHERE id = %s", erasure.event.pk),
    ]
    for sql, pk in statements:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [pk])

    points = kept_change.new_points
    kept_change.refresh_from_db()
    assert kept_change.new_points == points
    assert AuditEvent.objects.get(pk=erasure.event.pk).row_count == ERASED.total


# ---------------------------------------------------------------------------------------------
# Retention
# ---------------------------------------------------------------------------------------------


@dataclass
class RetentionDistrict:
    """A district keeping ``years`` years of data (None: everything), with, relative to today:

    - ``old``: a class whose term and unit ended before the cut-off (the unit's last day is the
      day before it);
    - ``edge``: a class whose unit's last day and term end are the cut-off day itself (kept);
    - ``recent``: a class running now.

    Students: ``gone`` (only in the old class, recorded before the cut-off), ``stays`` (in the
    old and the recent class), ``edge`` (in the edge class), ``old_unenrolled`` (recorded five
    years ago, no enrollment) and ``new_unenrolled`` (recorded today, no enrollment).
    """

    district: District
    admin: User
    cutoff: datetime.date
    classroom_units: dict[str, ClassroomUnit] = field(default_factory=dict)
    students: dict[str, Student] = field(default_factory=dict)
    enrollments: dict[str, Enrollment] = field(default_factory=dict)


def retention_district(name: str, years: int | None) -> RetentionDistrict:
    today = timezone.localdate()
    cutoff = privacy.retention_cutoff(years=years or 3, today=today)
    district = factories.DistrictFactory(name=name, retention_years=years)
    admin = factories.UserFactory(district=district, is_district_admin=True)
    unit = factories.make_unit(district)  # 8 weeks
    school = factories.SchoolFactory(district=district)
    group = factories.StudentGroupFactory(district=district)
    built = RetentionDistrict(district=district, admin=admin, cutoff=cutoff)
    days = datetime.timedelta
    # (term start, term end, unit start): an 8-week unit's last day is its start + 55 days.
    layout = {
        "old": (cutoff - days(150), cutoff - days(1), cutoff - days(56)),
        "edge": (cutoff - days(150), cutoff, cutoff - days(55)),
        "recent": (today - days(60), today + days(90), today - days(14)),
    }
    classrooms = {}
    for key, (term_start, term_end, unit_start) in layout.items():
        year = factories.AcademicYearFactory(
            district=district, start_date=term_start, end_date=term_end + days(30)
        )
        term = factories.TermFactory(academic_year=year, start_date=term_start, end_date=term_end)
        classroom = factories.ClassroomFactory(school=school, term=term, name=f"{key} class")
        classrooms[key] = classroom
        classroom_unit = factories.ClassroomUnitFactory(
            classroom=classroom, unit=unit, start_date=unit_start
        )
        built.classroom_units[key] = classroom_unit
    placements = {
        "gone": ["old"],
        "stays": ["old", "recent"],
        "edge": ["edge"],
        "old_unenrolled": [],
        "new_unenrolled": [],
    }
    for student_key, class_keys in placements.items():
        student = factories.StudentFactory(district=district, sis_id=f"{name[:3]}-{student_key}")
        student.groups.add(group)
        built.students[student_key] = student
        for class_key in class_keys:
            classroom = classrooms[class_key]
            enrollment = factories.EnrollmentFactory(
                classroom=classroom, student=student, start_date=classroom.term.start_date
            )
            built.enrollments[f"{student_key}:{class_key}"] = enrollment
            classroom_unit = built.classroom_units[class_key]
            enter(admin, classroom_unit, student, "pre", "2", "3")
            enter(admin, classroom_unit, student, "post", "4", "5")
    recorded = {"new_unenrolled": today}
    for student_key, student in built.students.items():
        day = recorded.get(student_key, cutoff - days(5 * 365 if "old_" in student_key else 200))
        moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))
        Student.objects.filter(pk=student.pk).update(created_at=moment)
    for classroom_unit in built.classroom_units.values():
        growth_services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit.pk)
    return built


# What the purge deletes in a RetentionDistrict: the old unit's scores (gone and stays: 4 each)
# with one history row each, its 2 growth rows, the 2 enrollments in the old class, and the
# students gone and old_unenrolled with their group memberships.
PURGED = privacy.LearnerDataCounts(
    scores=8, score_changes=8, growth_rows=2, enrollments=2, group_memberships=2, students=2
)


@pytest.fixture
def kept_three_years(db: Any) -> RetentionDistrict:
    return retention_district("Threeyear", 3)


@pytest.fixture
def keeps_everything(db: Any) -> RetentionDistrict:
    return retention_district("Forever", None)


def district_rows(built: RetentionDistrict) -> dict[str, Any]:
    district_id = built.district.pk
    in_district = {"classroom_unit__classroom__school__district_id": district_id}
    return {
        "scores": sorted(
            Score.objects.filter(**in_district).values_list("classroom_unit_id", "student_id")
        ),
        "score_changes": ScoreChange.objects.filter(**in_district).count(),
        "growth_rows": sorted(
            StudentGrowth.objects.filter(**in_district).values_list(
                "classroom_unit_id", "student_id"
            )
        ),
        "enrollments": sorted(
            Enrollment.objects.filter(classroom__school__district_id=district_id).values_list(
                "pk", flat=True
            )
        ),
        "students": sorted(
            Student.objects.filter(district_id=district_id).values_list("pk", flat=True)
        ),
        "memberships": Membership.objects.filter(student__district_id=district_id).count(),
    }


def test_retention_purges_exactly_what_is_older_than_the_retention_period(
    kept_three_years: RetentionDistrict,
) -> None:
    built = kept_three_years
    units, students = built.classroom_units, built.students

    [result] = privacy.retention_purge(district_id=built.district.pk)

    assert result.cutoff == built.cutoff
    assert result.counts == PURGED
    rows = district_rows(built)
    kept_scores = {
        (units["recent"].pk, students["stays"].pk),
        (units["edge"].pk, students["edge"].pk),
    }
    assert set(rows["scores"]) == kept_scores
    assert len(rows["scores"]) == 8  # 4 each: pre and post, skills A and B
    assert rows["score_changes"] == 8
    assert set(rows["growth_rows"]) == kept_scores
    assert rows["enrollments"] == sorted(
        built.enrollments[key].pk for key in ("stays:recent", "edge:edge")
    )
    assert rows["students"] == sorted(
        students[key].pk for key in ("stays", "edge", "new_unenrolled")
    )
    assert rows["memberships"] == 3


def test_a_purge_that_deletes_data_withdraws_the_student_level_exports_holding_it(
    kept_three_years: RetentionDistrict,
    export_dir: Path,
    django_capture_on_commit_callbacks: Any,
) -> None:
    built = kept_three_years
    job = _job(built.admin, "scores", django_capture_on_commit_callbacks)
    assert built.students["gone"].sis_id in (export_dir / job.file_name).read_text()

    with django_capture_on_commit_callbacks(execute=True):
        privacy.retention_purge(district_id=built.district.pk, actor_name="test")
    assert not (export_dir / job.file_name).exists()
    with pytest.raises(exports.ExportFileGone):
        exports.export_job_file_open(actor=built.admin, job_id=job.pk)

    # The next night nothing is old enough: a new export stays available.
    fresh = _job(built.admin, "scores", django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        privacy.retention_purge(district_id=built.district.pk, actor_name="test")
    assert exports.export_job_file_open(actor=built.admin, job_id=fresh.pk).path.is_file()


def test_the_unit_that_ends_on_the_cut_off_day_is_kept_and_the_day_before_is_purged(
    kept_three_years: RetentionDistrict,
) -> None:
    units = kept_three_years.classroom_units
    assert units["old"].ends_on == kept_three_years.cutoff - datetime.timedelta(days=1)
    assert units["edge"].ends_on == kept_three_years.cutoff

    privacy.retention_purge(district_id=kept_three_years.district.pk)

    assert not Score.objects.filter(classroom_unit=units["old"]).exists()
    assert not ScoreChange.objects.filter(classroom_unit=units["old"]).exists()
    assert Score.objects.filter(classroom_unit=units["edge"]).count() == 4
    assert ScoreChange.objects.filter(classroom_unit=units["edge"]).count() == 4
    assert StudentGrowth.objects.filter(classroom_unit=units["edge"]).count() == 1


def test_a_district_without_a_retention_period_keeps_everything(
    kept_three_years: RetentionDistrict, keeps_everything: RetentionDistrict
) -> None:
    before = district_rows(keeps_everything)

    results = privacy.retention_purge()

    assert [result.district_id for result in results] == [kept_three_years.district.pk]
    assert district_rows(keeps_everything) == before


def test_a_dry_run_changes_nothing_and_reports_what_a_purge_deletes(
    kept_three_years: RetentionDistrict,
) -> None:
    before = snapshot()

    [dry] = privacy.retention_purge(dry_run=True)

    assert (dry.dry_run, dry.counts, dry.event) == (True, PURGED, None)
    assert snapshot() == before
    [real] = privacy.retention_purge()
    assert real.counts == dry.counts


def test_every_purge_leaves_an_audit_record_with_its_counts(
    kept_three_years: RetentionDistrict,
) -> None:
    built = kept_three_years

    [first] = privacy.retention_purge()
    [second] = privacy.retention_purge()

    assert second.counts == privacy.LearnerDataCounts()
    events = list(
        AuditEvent.objects.filter(district=built.district, kind=AuditKind.RETENTION_PURGE)
        .order_by("pk")
        .values_list("pk", "row_count", "result", "actor_name", "outcome")
    )
    assert [event[0] for event in events] == [first.event.pk, second.event.pk]  # type: ignore[union-attr]
    assert [event[1] for event in events] == [PURGED.total, 0]
    assert events[0][2]["counts"] == PURGED.as_dict()
    assert {event[3] for event in events} == {"server operator (manage.py)"}
    assert {event[4] for event in events} == {"succeeded"}


def test_summaries_are_rebuilt_after_a_purge(
    kept_three_years: RetentionDistrict, django_capture_on_commit_callbacks: Any
) -> None:
    old = kept_three_years.classroom_units["old"]
    assert ClassroomUnitGrowthSummary.objects.get(classroom_unit=old, part="all").n == 2

    with django_capture_on_commit_callbacks(execute=True):
        privacy.retention_purge()

    summary = ClassroomUnitGrowthSummary.objects.filter(classroom_unit=old, part="all").first()
    assert summary is None or not summary.n
    assert not StudentGrowth.objects.filter(classroom_unit=old).exists()
    assert GrowthBuild.objects.get(classroom_unit=old).stale_since is None


@pytest.mark.parametrize("who", ["other_admin", "teacher"])
def test_only_the_districts_admin_may_run_its_purge(
    kept_three_years: RetentionDistrict, who: str
) -> None:
    built = kept_three_years
    other = factories.DistrictFactory()
    actors = {
        "other_admin": factories.UserFactory(district=other, is_district_admin=True),
        "teacher": factories.UserFactory(district=built.district),
    }
    before = snapshot()

    with pytest.raises(PermissionDenied):
        privacy.retention_purge(actor=actors[who], district_id=built.district.pk)

    assert snapshot() == before
    [own] = privacy.retention_purge(actor=built.admin, district_id=built.district.pk)
    assert own.counts == PURGED
    assert own.event is not None and own.event.actor == built.admin


def test_the_privacy_page_shows_the_retention_policy_and_what_a_purge_would_delete(
    kept_three_years: RetentionDistrict,
) -> None:
    before = snapshot()

    response = signed_in(kept_three_years.admin).get(reverse("privacy"))

    assert response.status_code == 200
    page = response.content.decode()
    assert "keeps learner data for 3 years" in page
    assert "A purge today would delete: 8 scores, 8 score history rows, 2 growth rows" in page
    assert snapshot() == before


# ---------------------------------------------------------------------------------------------
# Retention: the command and the beat task
# ---------------------------------------------------------------------------------------------


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("retention_purge", *args, stdout=out)
    return out.getvalue()


def test_the_command_dry_run_prints_what_would_go_and_changes_nothing(
    kept_three_years: RetentionDistrict,
) -> None:
    before = snapshot()

    output = _command("--dry-run")

    assert "Threeyear" in output
    assert "would delete 8 scores, 8 score history rows, 2 growth rows, 2 enrollments" in output
    assert "Dry run: nothing was changed." in output
    assert snapshot() == before


def test_the_command_purges_one_district_when_asked(
    kept_three_years: RetentionDistrict,
) -> None:
    other = retention_district("Otherthree", 3)
    before_other = district_rows(other)

    output = _command("--district", str(kept_three_years.district.pk))

    assert "deleted 8 scores, 8 score history rows" in output
    assert len(district_rows(kept_three_years)["scores"]) == 8
    assert district_rows(other) == before_other
    assert AuditEvent.objects.filter(
        district=kept_three_years.district, kind=AuditKind.RETENTION_PURGE
    ).exists()


def test_the_command_refuses_an_unknown_district_or_one_without_retention(
    keeps_everything: RetentionDistrict,
) -> None:
    with pytest.raises(CommandError, match="no district with id 0"):
        _command("--district", "0")
    with pytest.raises(CommandError, match="no retention period"):
        _command("--district", str(keeps_everything.district.pk))


def test_the_beat_task_purges_every_district_with_a_retention_period(
    kept_three_years: RetentionDistrict, keeps_everything: RetentionDistrict
) -> None:
    before_forever = district_rows(keeps_everything)

    [summary] = retention_purge_task()

    assert summary["district_id"] == kept_three_years.district.pk
    assert summary["counts"] == PURGED.as_dict()
    event = AuditEvent.objects.get(pk=summary["audit_event_id"])
    assert event.actor is None
    assert event.actor_name == privacy.SCHEDULED_RETENTION_ACTOR
    assert district_rows(keeps_everything) == before_forever
    [again] = retention_purge_task()
    assert again["counts"] == privacy.LearnerDataCounts().as_dict()
    assert AuditEvent.objects.get(pk=again["audit_event_id"]).row_count == 0


def test_celery_beat_runs_the_retention_task_nightly() -> None:
    entry = django_settings.CELERY_BEAT_SCHEDULE["retention-purge"]

    assert entry["task"] == retention_purge_task.name == "classrooms.tasks.retention_purge_task"
    assert entry["schedule"].hour == {3}


def test_after_a_purge_the_audit_rows_still_refuse_update(
    kept_three_years: RetentionDistrict,
) -> None:
    [result] = privacy.retention_purge()
    kept = ScoreChange.objects.filter(
        classroom_unit=kept_three_years.classroom_units["recent"]
    ).first()
    assert kept is not None and result.event is not None
    points = kept.new_points

    for sql, pk in [
        ("UPDATE assessments_scorechange SET new_points = 0 WHERE id = %s", kept.pk),
        ("UPDATE classrooms_auditevent SET row_count = 0 WHERE id = %s", result.event.pk),
        ("DELETE FROM assessments_scorechange WHERE id = %s", kept.pk),
    ]:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [pk])

    kept.refresh_from_db()
    assert kept.new_points == points
    assert AuditEvent.objects.get(pk=result.event.pk).row_count == PURGED.total
