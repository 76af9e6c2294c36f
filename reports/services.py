"""Building stored growth rows from scores. The formulas are in reports/growth.py only.

Two ways in, with the same result:

* ``classroom_unit_growth_rebuild``: after a class's scores change, rebuild that classroom
  unit's student rows, then its school × unit and district × unit roll-ups from stored rows.
  The work grows with the class and the number of schools, not with the district.
* ``growth_rebuild``: the periodic full rebuild, set-based: one transaction per district, the
  student rows in one SQL statement on PostgreSQL (reports/growth_sql.py), every summary from
  them in one pass. No task per classroom.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from assessments.models import Score
from classrooms.models import District, Enrollment, StudentGroup
from reports import growth, growth_sql, rollups
from reports.models import GrowthBuild, StudentGrowth
from units.models import Assessment, AssessmentKind, ClassroomUnit

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(namespace, unit id): one builder at a time per district × unit roll-up.
_ROLLUP_LOCK_NAMESPACE = 0x6772  # "gr"


@dataclass(frozen=True)
class GrowthRebuildResult:
    """What a full rebuild of one district wrote, and when."""

    district_id: int
    built_at: datetime
    classroom_units: int
    student_rows: int
    summary_rows: int


@transaction.atomic
def classroom_unit_growth_rebuild(*, classroom_unit_id: int) -> int:
    """Replace one classroom unit's student growth rows with ones computed from its scores now,
    then rebuild its school × unit and district × unit summaries from stored rows.

    Every student enrolled in the classroom during the unit gets a row (incomplete when the pre or
    post percentage is missing). Safe to run twice or concurrently: the classroom unit's build row
    is locked, the rows are replaced as a whole, and roll-ups of one district × unit run one at a
    time (an advisory lock), each reading what the others committed. Returns the number of
    student rows written.
    """
    build, _ = GrowthBuild.objects.get_or_create(classroom_unit_id=classroom_unit_id)
    build = GrowthBuild.objects.select_for_update().get(pk=build.pk)
    started_at = timezone.now()
    # cross-tenant: a task rebuilds the classroom unit whose scores changed; nothing leaves it.
    classroom_unit = (
        ClassroomUnit.objects.all_schools()
        .select_related("unit", "classroom__school__district")
        .get(pk=classroom_unit_id)
    )
    district = classroom_unit.classroom.school.district
    written = _student_rows_replace(classroom_unit, _growth_settings(district), started_at)
    _rollup_locks([classroom_unit.unit_id])
    rollups.district_unit_publish(
        district=district,
        unit_id=classroom_unit.unit_id,
        group_ids=_group_ids(district.pk),
        built_at=started_at,
        classroom_unit_ids=[classroom_unit.pk],
    )
    build.built_at = started_at
    # A score committed after the rows were read marks the unit stale only once this lock is
    # released, so it finds stale_since cleared and queues the next rebuild itself.
    build.stale_since = None
    build.save(update_fields=["built_at", "stale_since"])
    return written


def classroom_unit_growth_mark_stale(*, classroom_unit_id: int) -> bool:
    """Record that a classroom unit's scores changed; queue one rebuild per burst of changes.

    Called after the score transaction commits. The first change after a build queues a rebuild
    a few seconds later (so a class being typed in is rebuilt once, not per cell); later changes
    in the same burst only move ``last_change_at``. Waits for a running rebuild of the same unit
    (its row lock), so a change is never hidden by a rebuild that did not read it. Returns whether
    a rebuild was queued.
    """
    now = timezone.now()
    if connection.vendor == "postgresql":
        is_first_change = _mark_stale_in_one_statement(classroom_unit_id, now)
    else:
        is_first_change = _mark_stale_locked(classroom_unit_id, now)
    if is_first_change:
        _enqueue_rebuild(classroom_unit_id)
    return is_first_change


# Every score save ends here, so it is one round trip: the first change since the last build
# sets stale_since to this change's time, which is how it knows to queue the rebuild.
_MARK_STALE_SQL = """
    INSERT INTO reports_growthbuild (classroom_unit_id, last_change_at, stale_since,
                                     failure_message)
    VALUES (%(classroom_unit_id)s, %(now)s, %(now)s, '')
    ON CONFLICT (classroom_unit_id) DO UPDATE
    SET last_change_at = EXCLUDED.last_change_at,
        stale_since = coalesce(reports_growthbuild.stale_since, EXCLUDED.stale_since)
    RETURNING stale_since = %(now)s
"""


def _mark_stale_in_one_statement(classroom_unit_id: int, now: datetime) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_MARK_STALE_SQL, {"classroom_unit_id": classroom_unit_id, "now": now})
        (is_first_change,) = cursor.fetchone()
    return bool(is_first_change)


@transaction.atomic
def _mark_stale_locked(classroom_unit_id: int, now: datetime) -> bool:
    build, _ = GrowthBuild.objects.get_or_create(classroom_unit_id=classroom_unit_id)
    build = GrowthBuild.objects.select_for_update().get(pk=build.pk)
    is_first_change = build.stale_since is None
    build.last_change_at = now
    if is_first_change:
        build.stale_since = now
    build.save(update_fields=["last_change_at", "stale_since"])
    return is_first_change


def growth_rebuild_stale() -> int:
    """Rebuild every classroom unit marked stale (the periodic catch-up for anything missed)."""
    # cross-tenant: the periodic catch-up serves every district; rows stay in their unit.
    stale_ids = list(
        GrowthBuild.objects.all_schools()
        .filter(stale_since__isnull=False)
        .values_list("classroom_unit_id", flat=True)
    )
    for classroom_unit_id in stale_ids:
        classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)
    return len(stale_ids)


def growth_rebuild(*, district_id: int | None = None) -> list[GrowthRebuildResult]:
    """Rebuild every student row and summary of one district (or of all), set-based.

    One transaction per district: lock its classroom units' build rows, then its roll-ups;
    compute every student row at once (one SQL statement on PostgreSQL; each classroom unit in
    Python elsewhere), write only rows that changed, then every summary from the student rows.
    Idempotent; concurrent score changes mark their classroom unit stale after this commits.
    """
    # cross-tenant: the full rebuild serves every district (or the one asked for).
    districts = District.objects.all_schools().order_by("pk")
    if district_id is not None:
        districts = districts.filter(pk=district_id)
    return [_district_growth_rebuild(district) for district in districts]


@transaction.atomic
def _district_growth_rebuild(district: District) -> GrowthRebuildResult:
    built_at = timezone.now()
    # cross-tenant: this district's classroom units, for its own rebuild.
    classroom_units = list(
        ClassroomUnit.objects.all_schools()
        .filter(classroom__school__district_id=district.pk)
        .values_list("pk", "unit_id", "classroom__school_id")
        .order_by("pk")
    )
    classroom_unit_ids = [classroom_unit_id for classroom_unit_id, _, _ in classroom_units]
    GrowthBuild.objects.bulk_create(
        [GrowthBuild(classroom_unit_id=pk) for pk in classroom_unit_ids],
        ignore_conflicts=True,
        batch_size=5000,
    )
    # Lock order as in classroom_unit_growth_rebuild: build rows first, then roll-ups.
    builds = GrowthBuild.objects.all_schools().filter(classroom_unit__in=classroom_unit_ids)
    list(builds.select_for_update().order_by("pk").values_list("pk", flat=True))
    unit_ids = sorted({unit_id for _, unit_id, _ in classroom_units})
    _rollup_locks(unit_ids)

    group_ids = _group_ids(district.pk)
    settings = _growth_settings(district)
    if _uses_sql():
        student_rows = growth_sql.district_student_growth_rebuild(
            district_id=district.pk, settings=settings, built_at=built_at
        )
        cells = growth_sql.district_classroom_unit_cells(
            district_id=district.pk, group_ids=group_ids
        )
    else:
        # cross-tenant: the units of the classroom units being rebuilt.
        units = ClassroomUnit.objects.all_schools().select_related("unit")
        student_rows = sum(
            _student_rows_replace(classroom_unit, settings, built_at)
            for classroom_unit in units.filter(pk__in=classroom_unit_ids)
        )
        cells = rollups.classroom_unit_cells(
            classroom_unit_ids=classroom_unit_ids, group_ids=group_ids
        )
    leaves: defaultdict[int, defaultdict[int, dict[int, rollups.Cells]]] = defaultdict(
        lambda: defaultdict(dict)
    )
    for classroom_unit_id, unit_id, school_id in classroom_units:
        leaves[unit_id][school_id][classroom_unit_id] = cells.get(classroom_unit_id, {})
    summary_rows = 0
    for unit_id in unit_ids:
        published = rollups.district_unit_publish(
            district=district,
            unit_id=unit_id,
            group_ids=group_ids,
            built_at=built_at,
            leaf_cells=leaves[unit_id],
        )
        summary_rows += (
            published.classroom_unit_rows + published.school_rows + published.district_rows
        )
    builds.update(built_at=built_at, stale_since=None)
    logger.info(
        "Growth of district %s rebuilt at %s: %s classroom units, %s student rows",
        district.pk,
        built_at.isoformat(),
        len(classroom_unit_ids),
        student_rows,
    )
    return GrowthRebuildResult(
        district_id=district.pk,
        built_at=built_at,
        classroom_units=len(classroom_unit_ids),
        student_rows=student_rows,
        summary_rows=summary_rows,
    )


def _uses_sql() -> bool:
    """The full rebuild computes student rows in SQL on PostgreSQL (reports/growth_sql.py)."""
    return connection.vendor == "postgresql"


def _rollup_locks(unit_ids: list[int]) -> None:
    """Take the district × unit roll-up locks (ids ascending, so builders never deadlock).

    On SQLite a writing transaction already excludes every other, so there is nothing to take.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for unit_id in sorted(unit_ids):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [_ROLLUP_LOCK_NAMESPACE, unit_id]
            )


def _growth_settings(district: District) -> growth.GrowthSettings:
    return growth.GrowthSettings(
        growth_target=float(district.growth_target),
        proficiency_cut=float(district.proficiency_cut),
        developing_cut=float(district.developing_cut),
    )


def _group_ids(district_id: int) -> list[int]:
    # cross-tenant: a district's own student groups, for its own summaries.
    return list(
        StudentGroup.objects.all_schools()
        .filter(district_id=district_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _enqueue_rebuild(classroom_unit_id: int) -> None:
    from reports.tasks import classroom_unit_growth_rebuild_task

    transaction.on_commit(
        lambda: classroom_unit_growth_rebuild_task.apply_async(
            args=[classroom_unit_id],
            countdown=django_settings.THINSLICE_GROWTH_DEBOUNCE_SECONDS,
        )
    )


def _student_rows_replace(
    classroom_unit: ClassroomUnit, settings: growth.GrowthSettings, built_at: datetime
) -> int:
    """Replace one classroom unit's student rows, computed in Python by reports/growth.py."""
    # cross-tenant: the plan of the unit being rebuilt.
    assessments = list(Assessment.objects.all_schools().filter(unit_id=classroom_unit.unit_id))
    scores_by_student = _scores_by_student_and_assessment(classroom_unit.pk)
    student_ids = set(
        Enrollment.objects.all_schools()
        .filter(classroom_id=classroom_unit.classroom_id, start_date__lte=classroom_unit.ends_on)
        .exclude(end_date__lt=classroom_unit.start_date)
        .values_list("student_id", flat=True)
    ) | set(scores_by_student)
    rows = [
        _student_growth_row(
            classroom_unit, student_id, assessments, scores_by_student[student_id], settings
        )
        for student_id in sorted(student_ids)
    ]
    for row in rows:
        row.built_at = built_at
    StudentGrowth.objects.all_schools().filter(classroom_unit_id=classroom_unit.pk).delete()
    StudentGrowth.objects.bulk_create(rows)
    return len(rows)


def _scores_by_student_and_assessment(
    classroom_unit_id: int,
) -> defaultdict[int, defaultdict[int, list[growth.SkillScore]]]:
    # cross-tenant: scoped by the classroom unit being rebuilt.
    scores = (
        Score.objects.all_schools()
        .filter(classroom_unit_id=classroom_unit_id)
        .values_list(
            "student_id",
            "assessment_skill__assessment_id",
            "assessment_skill__skill__code",
            "points",
            "assessment_skill__max_points",
            "status",
        )
    )
    by_student: defaultdict[int, defaultdict[int, list[growth.SkillScore]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for student_id, assessment_id, skill_code, points, max_points, status in scores:
        by_student[student_id][assessment_id].append(
            growth.SkillScore(
                skill_code=skill_code, points=points, max_points=max_points, status=status
            )
        )
    return by_student


def _student_growth_row(
    classroom_unit: ClassroomUnit,
    student_id: int,
    assessments: list[Assessment],
    scores_by_assessment: dict[int, list[growth.SkillScore]],
    settings: growth.GrowthSettings,
) -> StudentGrowth:
    percentage = {
        assessment.pk: growth.assessment_percentage(scores_by_assessment.get(assessment.pk, []))
        for assessment in assessments
    }
    pre = next(a for a in assessments if a.kind == AssessmentKind.PRE)
    post = next(a for a in assessments if a.kind == AssessmentKind.POST)
    result: Any = growth.student_growth(
        pre_percentage=percentage[pre.pk],
        post_percentage=percentage[post.pk],
        pre_week=pre.week,
        post_week=post.week,
        formative_percentages=[
            (a.week, percentage[a.pk]) for a in assessments if a.kind == AssessmentKind.FORMATIVE
        ],
        settings=settings,
        pre_skill_percentages=growth.skill_percentages(scores_by_assessment.get(pre.pk, [])),
        post_skill_percentages=growth.skill_percentages(scores_by_assessment.get(post.pk, [])),
    )
    return StudentGrowth(
        classroom_unit=classroom_unit,
        student_id=student_id,
        pre_percentage=result.pre_percentage,
        post_percentage=result.post_percentage,
        gain=result.gain,
        normalized_gain=result.normalized_gain,
        is_at_ceiling=result.is_at_ceiling,
        has_little_room_to_grow=result.has_little_room_to_grow,
        slope_per_week=result.slope_per_week,
        is_target_met=result.is_target_met,
        is_complete=result.is_complete,
        pre_band="" if result.pre_band is None else result.pre_band.value,
        post_band="" if result.post_band is None else result.post_band.value,
        pre_skill_percentages=dict(result.pre_skill_percentages),
        post_skill_percentages=dict(result.post_skill_percentages),
        trajectory=[[point.week, point.percentage] for point in result.trajectory],
    )


def growth_build_outcome_record(
    *, failure: str = "", classroom_unit_id: int | None = None, district_id: int | None = None
) -> int:
    """Record how a growth task ended for the builds it was updating: one classroom unit's, or
    a district's (neither: every district's).

    With ``failure`` (the reason, once the task has given up), the classroom unit's build, or the
    district's builds still waiting for their update, are marked failed now; the report pages
    then say the update failed instead of leaving it pending. Without it (the task succeeded),
    failures that a later build has superseded (``built_at`` after ``failed_at``) are cleared.
    Returns the number of builds changed.
    """
    # cross-tenant: a task's outcome for the builds it covered; nothing is read out of them.
    builds = GrowthBuild.objects.all_schools()
    if classroom_unit_id is not None:
        builds = builds.filter(classroom_unit_id=classroom_unit_id)
    elif district_id is not None:
        builds = builds.filter(classroom_unit__classroom__school__district_id=district_id)
    if not failure:
        return builds.filter(failed_at__lte=F("built_at")).update(
            failed_at=None, failure_message=""
        )
    if classroom_unit_id is None:
        builds = builds.filter(stale_since__isnull=False)
    elif ClassroomUnit.objects.all_schools().filter(pk=classroom_unit_id).exists():
        GrowthBuild.objects.get_or_create(classroom_unit_id=classroom_unit_id)
    return builds.update(failed_at=timezone.now(), failure_message=failure)
