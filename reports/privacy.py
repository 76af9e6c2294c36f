"""Privacy operations of a district: erase one student on request, purge what is past retention.

Both delete rather than de-identify. Thinslice keeps no learner data but scores and what is
derived from them, so a de-identified score row would still be one pupil's results in one
class, re-identifiable from the roster of that class; deleting is the simpler honest promise
("it is gone") and the one a district can explain to parents.

What goes, for a student or for the data past retention: scores, their history (ScoreChange,
through ``config.audit_rows.audit_erasure``, the one sanctioned way past the append-only
triggers), student growth rows, enrollments and student-group memberships, and the student
record. The growth summaries of every classroom unit touched are marked stale after the
transaction commits, so they are rebuilt without that student. What stays: an AuditEvent saying
what was deleted, how many rows, by whom and when, that names no one (the student's internal id
and a keyed hash of the SIS id). Audit rows are never deleted by either operation.

Only a district admin of the student's district (or a platform operator) may erase a student;
the retention purge runs as the server (``manage.py retention_purge``, celery beat) or as a
district admin of the district.

It lives in reports, the top layer, because it deletes across every app (people, scores, growth
rows, exports) and each of those lower apps must not import the ones above it.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import asdict, dataclass, fields
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.crypto import salted_hmac

from assessments.models import Score, ScoreChange
from classrooms import access
from classrooms.audit import audit_event_record
from classrooms.models import AuditEvent, AuditKind, District, Enrollment, Student
from config.audit_rows import audit_erasure
from reports import exports
from reports import services as growth_services
from reports.models import StudentGrowth
from units.models import ClassroomUnit, Unit

# Namespaces the keyed hash of SIS ids in the audit log (not a secret: the key is SECRET_KEY).
# It keeps the module's first home in its value: changing it would change every digest, and the
# digests already in audit logs could no longer be checked against an SIS id.
SIS_ID_HASH_SALT = "classrooms.privacy.student_erasure"  # noqa: S105
SCHEDULED_RETENTION_ACTOR = "scheduled retention purge (celery beat)"


@dataclass(frozen=True)
class LearnerDataCounts:
    """How many rows of learner data an erasure or a purge deletes (or would delete)."""

    scores: int = 0
    score_changes: int = 0
    growth_rows: int = 0
    enrollments: int = 0
    group_memberships: int = 0
    students: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, item.name) for item in fields(self))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    def described(self) -> str:
        """e.g. '4 scores, 6 score history rows, 1 growth row, …' (every kind, zeros too)."""
        labels = {
            "scores": ("score", "scores"),
            "score_changes": ("score history row", "score history rows"),
            "growth_rows": ("growth row", "growth rows"),
            "enrollments": ("enrollment", "enrollments"),
            "group_memberships": ("group membership", "group memberships"),
            "students": ("student record", "student records"),
        }
        parts = []
        for name, (one, many) in labels.items():
            count = getattr(self, name)
            parts.append(f"{count} {one if count == 1 else many}")
        return ", ".join(parts)


@dataclass(frozen=True)
class StudentErasure:
    """What ``student_erase`` deleted and the audit row that records it."""

    student_id: int
    counts: LearnerDataCounts
    event: AuditEvent


@dataclass(frozen=True)
class RetentionPurgeResult:
    """One district's purge: the cut-off date, what was (or, in a dry run, would be) deleted,
    and the audit row (None for a dry run, which writes nothing)."""

    district_id: int
    district_name: str
    retention_years: int
    cutoff: datetime.date
    dry_run: bool
    counts: LearnerDataCounts
    event: AuditEvent | None


# ---------------------------------------------------------------------------------------------
# Erasing one student on request
# ---------------------------------------------------------------------------------------------


def sis_id_digest(*, district_id: int, sis_id: str) -> str:
    """A keyed hash (HMAC-SHA256 under SECRET_KEY) of a district's SIS id, for the audit log.

    Whoever holds the server's key can check that a given SIS id was erased; the log alone
    reveals nothing (a plain hash of a short number could be reversed by trying them all).
    """
    message = f"{district_id}:{sis_id}"
    return salted_hmac(SIS_ID_HASH_SALT, message, algorithm="sha256").hexdigest()


def student_erasure_counts(*, actor: Any, student: Student) -> LearnerDataCounts:
    """What erasing ``student`` would delete, for the confirm step. Same permission as the
    erasure itself: a district admin of the student's district."""
    access.require(actor, "manage_district", student)
    return _student_counts(student.pk)


@transaction.atomic
def student_erase(*, actor: Any, student: Student) -> StudentErasure:
    """Delete every row of learner data about ``student`` and the student, at the district's
    request: scores, score history, growth rows, enrollments, group memberships.

    Only a district admin of the student's district may (PermissionDenied otherwise, and
    nothing changes). All or nothing; the affected classroom units' summaries are queued for
    rebuild after commit, student-level exports that may list the student are withdrawn (ready
    files expire, jobs waiting or being written stop), and an AuditEvent records the counts, the
    actor and the time, with no name in it.
    """
    access.require(actor, "manage_district", student)
    # Lock the student first: a score being saved for them meanwhile either commits before
    # (and is then deleted here) or waits and then fails on the missing student.
    # cross-tenant: the actor was checked against this student's district just above.
    locked = Student.objects.all_schools().select_for_update().get(pk=student.pk)
    district = District.objects.all_schools().get(pk=locked.district_id)
    scores = Score.objects.all_schools().filter(student_id=locked.pk)
    changes = ScoreChange.objects.all_schools().filter(student_id=locked.pk)
    growth_rows = StudentGrowth.objects.all_schools().filter(student_id=locked.pk)
    enrollments = Enrollment.objects.all_schools().filter(student_id=locked.pk)
    memberships = Student.groups.through.objects.filter(student_id=locked.pk)
    touched_units = _classroom_unit_ids(scores, changes, growth_rows) | set(
        ClassroomUnit.objects.all_schools()
        .filter(classroom__enrollments__student_id=locked.pk)
        .values_list("pk", flat=True)
    )
    with audit_erasure():
        score_changes_deleted = _deleted(changes)
    counts = LearnerDataCounts(
        scores=_deleted(scores),
        score_changes=score_changes_deleted,
        growth_rows=_deleted(growth_rows),
        enrollments=_deleted(enrollments),
        group_memberships=_deleted(memberships),
        students=_deleted(Student.objects.all_schools().filter(pk=locked.pk)),
    )
    event = audit_event_record(
        district=district,
        actor=actor,
        kind=AuditKind.STUDENT_ERASURE,
        parameters={
            "student": f"#{locked.pk}",
            "SIS id (keyed hash)": sis_id_digest(district_id=district.pk, sis_id=locked.sis_id),
        },
        row_count=counts.total,
        succeeded=True,
        message=(
            f"Deleted student #{locked.pk} and all their data at the district's request: "
            f"{counts.described()}."
        ),
        result={"counts": counts.as_dict(), "classroom_units_rebuilt": len(touched_units)},
    )
    exports.export_job_files_withdraw(
        district_id=district.pk, reason="A student's data was deleted at the district's request."
    )
    _summaries_rebuild_after_commit(touched_units)
    return StudentErasure(student_id=locked.pk, counts=counts, event=event)


def _student_counts(student_id: int) -> LearnerDataCounts:
    # cross-tenant: every query is narrowed to one student the caller was checked against.
    return LearnerDataCounts(
        scores=Score.objects.all_schools().filter(student_id=student_id).count(),
        score_changes=ScoreChange.objects.all_schools().filter(student_id=student_id).count(),
        growth_rows=StudentGrowth.objects.all_schools().filter(student_id=student_id).count(),
        enrollments=Enrollment.objects.all_schools().filter(student_id=student_id).count(),
        group_memberships=Student.groups.through.objects.filter(student_id=student_id).count(),
        students=1,
    )


# ---------------------------------------------------------------------------------------------
# Retention: purge what is older than the district's retention period
# ---------------------------------------------------------------------------------------------


def retention_cutoff(*, years: int, today: datetime.date) -> datetime.date:
    """The day ``years`` years before ``today`` (29 February falls back to the 28th): data of
    a unit that ended before this day is past retention."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def retention_purge(
    *,
    actor: Any = None,
    district_id: int | None = None,
    dry_run: bool = False,
    today: datetime.date | None = None,
    actor_name: str | None = None,
) -> list[RetentionPurgeResult]:
    """Purge learner data past retention in every district that sets ``retention_years`` (or
    in ``district_id`` only); districts without a retention period keep everything.

    ``actor`` None is the server (the command, celery beat; ``actor_name`` says which);
    otherwise a district admin, who may only purge their own district. One transaction per
    district; a dry run deletes and records nothing and returns what would go.
    """
    # cross-tenant: the scheduled purge serves every district with a retention period; an
    # actor's district is checked by access.require in district_retention_purge.
    districts = District.objects.all_schools().filter(retention_years__isnull=False)
    if district_id is not None:
        districts = districts.filter(pk=district_id)
    day = today or timezone.localdate()
    return [
        district_retention_purge(
            actor=actor, district=district, dry_run=dry_run, today=day, actor_name=actor_name
        )
        for district in districts.order_by("pk")
    ]


@transaction.atomic
def district_retention_purge(
    *,
    actor: Any,
    district: District,
    dry_run: bool,
    today: datetime.date,
    actor_name: str | None = None,
) -> RetentionPurgeResult:
    """Delete one district's learner data older than its retention period.

    Past retention: scores, score history and growth rows of classroom units whose unit ended
    before the cut-off (``retention_cutoff``); enrollments that ended, or whose classroom's term
    ended, before it; and students recorded before it who then have no enrollment, score or
    score history left (with their growth rows and group memberships). Anything newer stays.
    Summaries of the classroom units touched are rebuilt after commit; when anything was
    deleted, the district's student-level exports are withdrawn (they may hold it); an
    AuditEvent records the counts (not for a dry run, which changes nothing).
    """
    if actor is not None:
        access.require(actor, "manage_district", district)
    if district.retention_years is None:
        raise ValueError(f"{district} keeps its data: it has no retention period.")
    cutoff = retention_cutoff(years=district.retention_years, today=today)
    plan = _RetentionPlan.for_district(district, cutoff)
    if dry_run:
        return _retention_result(district, cutoff, plan.counts(), event=None, dry_run=True)
    touched_units = _classroom_unit_ids(plan.scores, plan.score_changes, plan.growth_rows)
    with audit_erasure():
        score_changes_deleted = _deleted(plan.score_changes)
    counts = LearnerDataCounts(
        scores=_deleted(plan.scores),
        score_changes=score_changes_deleted,
        growth_rows=_deleted(plan.growth_rows),
        enrollments=_deleted(plan.enrollments),
        group_memberships=_deleted(plan.group_memberships),
        students=_deleted(plan.students),
    )
    event = audit_event_record(
        district=district,
        actor=actor,
        actor_name=actor_name,
        kind=AuditKind.RETENTION_PURGE,
        parameters={
            "retention": f"{district.retention_years} years",
            "data of units that ended before": cutoff,
        },
        row_count=counts.total,
        succeeded=True,
        message=f"Retention purge of data older than {cutoff:%Y-%m-%d}: {counts.described()}.",
        result={"counts": counts.as_dict(), "classroom_units_rebuilt": len(touched_units)},
    )
    if counts.total:
        exports.export_job_files_withdraw(
            district_id=district.pk,
            reason="Data older than the district's retention period was deleted.",
        )
    _summaries_rebuild_after_commit(touched_units)
    return _retention_result(district, cutoff, counts, event=event, dry_run=False)


@dataclass(frozen=True)
class _RetentionPlan:
    """The rows of one district past retention, as querysets. The students are fixed (a list
    of ids) before anything is deleted, since deleting their rows changes who qualifies."""

    scores: QuerySet[Score]
    score_changes: QuerySet[ScoreChange]
    growth_rows: QuerySet[StudentGrowth]
    enrollments: QuerySet[Enrollment]
    group_memberships: QuerySet[Any]
    students: QuerySet[Student]

    @classmethod
    def for_district(cls, district: District, cutoff: datetime.date) -> _RetentionPlan:
        # cross-tenant: each queryset is narrowed to this district's rows below.
        ended_units = ClassroomUnit.objects.all_schools().filter(
            _unit_ended_before(district, cutoff), classroom__school__district_id=district.pk
        )
        ended_unit_ids = ended_units.values("pk")
        old_enrollments = Enrollment.objects.all_schools().filter(
            Q(end_date__lt=cutoff) | Q(classroom__term__end_date__lt=cutoff),
            classroom__school__district_id=district.pk,
        )
        recorded_before = timezone.make_aware(datetime.datetime.combine(cutoff, datetime.time.min))
        student_ids = list(
            Student.objects.all_schools()
            .filter(district_id=district.pk, created_at__lt=recorded_before)
            .exclude(
                Exists(
                    Enrollment.objects.all_schools()
                    .filter(student_id=OuterRef("pk"))
                    .exclude(pk__in=old_enrollments.values("pk"))
                )
            )
            .exclude(
                Exists(
                    Score.objects.all_schools()
                    .filter(student_id=OuterRef("pk"))
                    .exclude(classroom_unit_id__in=ended_unit_ids)
                )
            )
            .exclude(
                Exists(
                    ScoreChange.objects.all_schools()
                    .filter(student_id=OuterRef("pk"))
                    .exclude(classroom_unit_id__in=ended_unit_ids)
                )
            )
            .values_list("pk", flat=True)
        )
        return cls(
            scores=Score.objects.all_schools().filter(classroom_unit_id__in=ended_unit_ids),
            score_changes=ScoreChange.objects.all_schools().filter(
                classroom_unit_id__in=ended_unit_ids
            ),
            growth_rows=StudentGrowth.objects.all_schools().filter(
                Q(classroom_unit_id__in=ended_unit_ids) | Q(student_id__in=student_ids)
            ),
            enrollments=old_enrollments,
            group_memberships=Student.groups.through.objects.filter(student_id__in=student_ids),
            students=Student.objects.all_schools().filter(pk__in=student_ids),
        )

    def counts(self) -> LearnerDataCounts:
        return LearnerDataCounts(
            scores=self.scores.count(),
            score_changes=self.score_changes.count(),
            growth_rows=self.growth_rows.count(),
            enrollments=self.enrollments.count(),
            group_memberships=self.group_memberships.count(),
            students=self.students.count(),
        )


def _unit_ended_before(district: District, cutoff: datetime.date) -> Q:
    """Classroom units whose last day (start + weeks × 7 − 1) is before ``cutoff``.

    Written as one start-date bound per unit length (a district has few lengths), so PostgreSQL
    compares ``start_date`` with constants and can use its index, rather than computing each
    row's end date.
    """
    ended = Q(pk__in=[])
    # cross-tenant: the lengths of this district's own units.
    lengths = set(
        Unit.objects.all_schools().filter(district_id=district.pk).values_list("weeks", flat=True)
    )
    for weeks in sorted(lengths):
        # ends_on < cutoff  ⇔  start_date + 7·weeks − 1 < cutoff  ⇔  start_date ≤ cutoff − 7·weeks
        latest_start = cutoff - datetime.timedelta(days=7 * weeks)
        ended |= Q(unit__weeks=weeks, start_date__lte=latest_start)
    return ended


def _retention_result(
    district: District,
    cutoff: datetime.date,
    counts: LearnerDataCounts,
    *,
    event: AuditEvent | None,
    dry_run: bool,
) -> RetentionPurgeResult:
    return RetentionPurgeResult(
        district_id=district.pk,
        district_name=district.name,
        retention_years=district.retention_years or 0,
        cutoff=cutoff,
        dry_run=dry_run,
        counts=counts,
        event=event,
    )


# ---------------------------------------------------------------------------------------------
# Shared steps
# ---------------------------------------------------------------------------------------------


def _deleted(queryset: QuerySet[Any]) -> int:
    """Delete the rows (no cascade reaches beyond them: every other reference is PROTECT or
    was deleted first) and return how many rows of the queryset's own model went."""
    _, per_model = queryset.delete()
    return per_model.get(queryset.model._meta.label, 0)


def _classroom_unit_ids(*querysets: QuerySet[Any]) -> set[int]:
    ids: set[int] = set()
    for queryset in querysets:
        ids.update(queryset.order_by().values_list("classroom_unit_id", flat=True).distinct())
    return ids


def _summaries_rebuild_after_commit(classroom_unit_ids: Iterable[int]) -> None:
    """Once the deletion is committed, mark each classroom unit's growth stale; the reports app
    queues one debounced rebuild of it and of its school and district roll-ups."""
    ids = sorted(classroom_unit_ids)

    def mark_stale() -> None:
        for classroom_unit_id in ids:
            growth_services.classroom_unit_growth_mark_stale(classroom_unit_id=classroom_unit_id)

    if ids:
        transaction.on_commit(mark_stale)
