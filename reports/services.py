"""Building stored growth rows from scores. The formulas are in reports/growth.py only.

Two ways in, with the same result:

* ``classroom_unit_growth_rebuild``: after a class's scores change, rebuild that classroom
  unit's student rows, then its summaries and its school × unit and district × unit roll-ups
  from stored moments (reports/rollups.py ``classroom_unit_publish``). The work grows with the
  class, not with the district.
* ``growth_rebuild``: the periodic full rebuild, set-based: one transaction per district; on
  PostgreSQL every student row and summary in a few SQL statements (reports/growth_sql.py),
  writing only rows that changed. No task per classroom.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings as django_settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from assessments.models import Score
from classrooms.models import District, Enrollment, StudentGroup
from reports import growth, growth_sql, rollups
from reports.models import GrowthBuild, StudentGrowth
from units.models import Assessment, AssessmentSkill, ClassroomUnit

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock(namespace, unit id): one builder at a time per district × unit roll-up.
_ROLLUP_LOCK_NAMESPACE = 0x6772  # "gr"

# Times a step of the full rebuild: phase("student rows") is a context manager (the benchmark's).
PhaseTimer = Callable[[str], AbstractContextManager[None]]


@contextmanager
def _untimed(_name: str) -> Iterator[None]:
    yield


@dataclass(frozen=True)
class GrowthRebuildResult:
    """What a full rebuild of one district built and wrote, and when. ``student_rows`` and
    ``summary_rows`` count the rows built; the ``_written`` counts those inserted, updated or
    deleted because something changed."""

    district_id: int
    built_at: datetime
    classroom_units: int
    student_rows: int
    summary_rows: int
    student_rows_written: int = 0
    summary_rows_written: int = 0


@transaction.atomic
def classroom_unit_growth_rebuild(*, classroom_unit_id: int) -> int:
    """Replace one classroom unit's student growth rows with ones computed from its scores now,
    then its summaries and its school × unit and district × unit roll-ups.

    Every student enrolled in the classroom during the unit gets a row (incomplete when the pre or
    post percentage is missing). Safe to run twice or concurrently: the classroom unit's build row
    is locked, the rows are replaced as a whole, and roll-ups of one district × unit run one at a
    time (an advisory lock), each reading what the others committed. A fixed number of queries
    whatever the size of the district (tests/reports/test_growth_rebuild.py). Returns the number
    of student rows written.
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
    layout = _unit_layouts([classroom_unit.unit_id])[classroom_unit.unit_id]
    written = _student_rows_replace(classroom_unit, layout, _growth_settings(district), started_at)
    _rollup_locks([classroom_unit.unit_id])
    rollups.classroom_unit_publish(
        district=district,
        classroom_unit=classroom_unit,
        school_id=classroom_unit.classroom.school_id,
        group_ids=_group_ids(district.pk),
        skill_codes=layout.skill_codes,
        built_at=started_at,
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
    """Rebuild every classroom unit marked stale (the periodic catch-up for anything missed).

    A classroom unit whose rebuild fails does not hold up the others: each is rebuilt in its own
    transaction (a savepoint when called inside one), and the first database error is raised
    once every other unit has been tried, so the task retries and, when it gives up, marks
    failed only the builds still stale. Returns the number of units rebuilt.
    """
    # cross-tenant: the periodic catch-up serves every district; rows stay in their unit.
    stale_ids = list(
        GrowthBuild.objects.all_schools()
        .filter(stale_since__isnull=False)
        .order_by("classroom_unit_id")
        .values_list("classroom_unit_id", flat=True)
    )
    errors: list[DatabaseError] = []
    for classroom_unit_id in stale_ids:
        try:
            classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)
        except DatabaseError as error:
            logger.warning("Growth rebuild of classroom unit %s failed", classroom_unit_id)
            errors.append(error)
    if errors:
        raise errors[0]
    return len(stale_ids)


def growth_rebuild(
    *, district_id: int | None = None, phase: PhaseTimer | None = None
) -> list[GrowthRebuildResult]:
    """Rebuild every student row and summary of one district (or of all), set-based.

    One transaction per district: lock its classroom units' build rows, then its roll-ups;
    compute every student row and summary at once (a few SQL statements on PostgreSQL; the
    same rules in Python elsewhere) and write only rows that changed, so a rebuild over
    unchanged scores writes nothing. Idempotent; concurrent score changes mark their classroom
    unit stale after this commits. ``phase`` times the steps (bench/growth_rebuild.py).
    """
    # cross-tenant: the full rebuild serves every district (or the one asked for).
    districts = District.objects.all_schools().order_by("pk")
    if district_id is not None:
        districts = districts.filter(pk=district_id)
    return [_district_growth_rebuild(district, phase or _untimed) for district in districts]


@transaction.atomic
def _district_growth_rebuild(district: District, phase: PhaseTimer) -> GrowthRebuildResult:
    built_at = timezone.now()
    with phase("locks"):
        # cross-tenant: this district's classroom units, for its own rebuild.
        classroom_units = ClassroomUnit.objects.all_schools().filter(
            classroom__school__district_id=district.pk
        )
        _builds_create(classroom_units)
        # Lock order as in classroom_unit_growth_rebuild: build rows first, then roll-ups.
        builds = GrowthBuild.objects.all_schools().filter(
            classroom_unit__classroom__school__district_id=district.pk
        )
        classroom_unit_count = len(builds.select_for_update().order_by("pk").values_list("pk"))
        unit_ids = sorted(set(classroom_units.values_list("unit_id", flat=True).distinct()))
        _rollup_locks(unit_ids)

    group_ids = _group_ids(district.pk)
    settings = _growth_settings(district)
    layouts = _unit_layouts(unit_ids)
    if _uses_sql():
        rebuilt = growth_sql.district_rebuild(
            district_id=district.pk,
            layouts=layouts,
            group_ids=group_ids,
            settings=settings,
            minimum_n=district.minimum_n,
            built_at=built_at,
            phase=phase,
        )
        student_rows, summary_rows = rebuilt.student_rows, rebuilt.summary_rows
        students_written, summaries_written = rebuilt.students_written, rebuilt.summaries_written
    else:
        rebuilt_units = list(classroom_units.select_related("unit").order_by("pk"))
        student_rows = sum(
            _student_rows_replace(
                classroom_unit, layouts[classroom_unit.unit_id], settings, built_at
            )
            for classroom_unit in rebuilt_units
        )
        cells = rollups.classroom_unit_cells(
            classroom_unit_ids=[classroom_unit.pk for classroom_unit in rebuilt_units],
            group_ids=group_ids,
        )
        by_unit: defaultdict[int, dict[int, rollups.Cells]] = defaultdict(dict)
        for classroom_unit in rebuilt_units:
            by_unit[classroom_unit.unit_id][classroom_unit.pk] = cells.get(classroom_unit.pk, {})
        summary_rows = sum(
            rollups.district_unit_publish(
                district=district,
                unit_id=unit_id,
                group_ids=group_ids,
                skill_codes=layouts[unit_id].skill_codes,
                built_at=built_at,
                leaf_cells=by_unit[unit_id],
            ).rows
            for unit_id in unit_ids
        )
        students_written, summaries_written = student_rows, summary_rows
    builds.update(built_at=built_at, stale_since=None)
    logger.info(
        "Growth of district %s rebuilt at %s: %s classroom units, %s student rows",
        district.pk,
        built_at.isoformat(),
        classroom_unit_count,
        student_rows,
    )
    return GrowthRebuildResult(
        district_id=district.pk,
        built_at=built_at,
        classroom_units=classroom_unit_count,
        student_rows=student_rows,
        summary_rows=summary_rows,
        student_rows_written=students_written,
        summary_rows_written=summaries_written,
    )


def _builds_create(classroom_units: QuerySet[ClassroomUnit]) -> None:
    """A build row for every one of these classroom units that has none yet (one query finds
    them; making thousands of model instances to ignore would cost more)."""
    missing = classroom_units.filter(growth_build__isnull=True).values_list("pk", flat=True)
    GrowthBuild.objects.bulk_create(
        [GrowthBuild(classroom_unit_id=pk) for pk in missing],
        ignore_conflicts=True,
        batch_size=5000,
    )


def _uses_sql() -> bool:
    """The full rebuild runs in SQL on PostgreSQL (reports/growth_sql.py)."""
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


def _unit_layouts(unit_ids: list[int]) -> dict[int, growth_sql.UnitLayout]:
    """How student rows of these units are laid out (``growth_sql.UnitLayout``): two queries."""
    # cross-tenant: the plans of the units being rebuilt.
    assessments = (
        Assessment.objects.all_schools()
        .filter(unit_id__in=unit_ids)
        .values_list("unit_id", "pk", "kind", "week", "title")
    )
    measures = (
        AssessmentSkill.objects.all_schools()
        .filter(assessment__unit_id__in=unit_ids)
        .values_list("pk", "assessment_id", "skill__code", "max_points")
    )
    layouts = growth_sql.unit_layouts(list(assessments), list(measures))
    for unit_id in unit_ids:  # a unit without assessments yet has an empty layout
        layouts.setdefault(unit_id, growth_sql.UnitLayout(unit_id, (), (), (), (), ()))
    return layouts


def _enqueue_rebuild(classroom_unit_id: int) -> None:
    from reports.tasks import classroom_unit_growth_rebuild_task

    transaction.on_commit(
        lambda: classroom_unit_growth_rebuild_task.apply_async(
            args=[classroom_unit_id],
            countdown=django_settings.THINSLICE_GROWTH_DEBOUNCE_SECONDS,
        )
    )


def _student_rows_replace(
    classroom_unit: ClassroomUnit,
    layout: growth_sql.UnitLayout,
    settings: growth.GrowthSettings,
    built_at: datetime,
) -> int:
    """Replace one classroom unit's student rows, computed in Python by reports/growth.py."""
    scores_by_student = _scores_by_student_and_assessment(classroom_unit.pk)
    student_ids = set(
        Enrollment.objects.all_schools()
        .filter(classroom_id=classroom_unit.classroom_id, start_date__lte=classroom_unit.ends_on)
        .exclude(end_date__lt=classroom_unit.start_date)
        .values_list("student_id", flat=True)
    ) | set(scores_by_student)
    rows = [
        _student_growth_row(
            classroom_unit, student_id, layout, scores_by_student[student_id], settings
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
    layout: growth_sql.UnitLayout,
    scores_by_assessment: dict[int, list[growth.SkillScore]],
    settings: growth.GrowthSettings,
) -> StudentGrowth:
    """One student's row: reports/growth.py's numbers in the unit's layout."""
    percentages = [
        growth.assessment_percentage(scores_by_assessment.get(assessment_id, []))
        for assessment_id in layout.assessment_ids
    ]
    pre = layout.position_of("pre")
    post = layout.position_of("post")

    def skills_at(position: int | None) -> dict[str, float]:
        if position is None:
            return {}
        return growth.skill_percentages(
            scores_by_assessment.get(layout.assessment_ids[position], [])
        )

    pre_skills, post_skills = skills_at(pre), skills_at(post)
    result = growth.student_growth(
        pre_percentage=None if pre is None else percentages[pre],
        post_percentage=None if post is None else percentages[post],
        pre_week=1 if pre is None else layout.weeks[pre],
        post_week=1 if post is None else layout.weeks[post],
        formative_percentages=[
            (week, percentage)
            for kind, week, percentage in zip(layout.kinds, layout.weeks, percentages, strict=True)
            if kind == "formative"
        ],
        settings=settings,
        pre_skill_percentages=pre_skills,
        post_skill_percentages=post_skills,
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
        skill_codes=list(layout.skill_codes),
        pre_skills=[pre_skills.get(code) for code in layout.skill_codes],
        post_skills=[post_skills.get(code) for code in layout.skill_codes],
        checkpoint_weeks=list(layout.weeks),
        checkpoint_percentages=percentages,
    )


def growth_build_outcome_record(
    *, failure: str = "", classroom_unit_id: int | None = None, district_id: int | None = None
) -> int:
    """Record how a growth task ended for the builds it was updating: one classroom unit's, or
    a district's (neither: every district's).

    With ``failure`` (the reason, once the task has given up), the classroom unit's build, or the
    district's builds, that are still waiting for their update (stale, or never built) are
    marked failed now; the report pages then say the update failed instead of leaving it
    pending. A build another task has finished since is current, and is left alone. Without
    it (the task succeeded), failures that a later build has superseded (``built_at`` after
    ``failed_at``) are cleared.
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
    if classroom_unit_id is not None and (
        ClassroomUnit.objects.all_schools().filter(pk=classroom_unit_id).exists()
    ):
        GrowthBuild.objects.get_or_create(classroom_unit_id=classroom_unit_id)
    # A build that another task finished meanwhile is current: it did not fail.
    return builds.filter(Q(stale_since__isnull=False) | Q(built_at__isnull=True)).update(
        failed_at=timezone.now(), failure_message=failure
    )
