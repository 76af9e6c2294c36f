"""Building stored growth rows from scores. The formulas are in reports/growth.py only."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone

from assessments.models import Score
from classrooms.models import Enrollment
from reports import growth
from reports.models import GrowthBuild, StudentGrowth
from units.models import Assessment, AssessmentKind, ClassroomUnit


@transaction.atomic
def classroom_unit_growth_rebuild(*, classroom_unit_id: int) -> int:
    """Replace one classroom unit's student growth rows with ones computed from its scores now.

    Every student enrolled in the classroom during the unit gets a row (incomplete when the pre or
    post percentage is missing). Safe to run twice or concurrently: the classroom unit's build row
    is locked, and the rows are replaced as a whole. Returns the number of rows written.
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
    settings = growth.GrowthSettings(
        growth_target=float(district.growth_target),
        proficiency_cut=float(district.proficiency_cut),
        developing_cut=float(district.developing_cut),
    )
    assessments = list(Assessment.objects.all_schools().filter(unit_id=classroom_unit.unit_id))
    scores_by_student = _scores_by_student_and_assessment(classroom_unit_id)
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
        row.built_at = started_at
    StudentGrowth.objects.filter(classroom_unit_id=classroom_unit_id).delete()
    StudentGrowth.objects.bulk_create(rows)
    build.built_at = started_at
    # A score committed after the rows were read marks the unit stale only once this lock is
    # released, so it finds stale_since cleared and queues the next rebuild itself.
    build.stale_since = None
    build.save(update_fields=["built_at", "stale_since"])
    return len(rows)


@transaction.atomic
def classroom_unit_growth_mark_stale(*, classroom_unit_id: int) -> bool:
    """Record that a classroom unit's scores changed; queue one rebuild per burst of changes.

    Called after the score transaction commits. The first change after a build queues a rebuild
    a few seconds later (so a class being typed in is rebuilt once, not per cell); later changes
    in the same burst only move ``last_change_at``. Waits for a running rebuild of the same unit
    (row lock), so a change is never hidden by a rebuild that did not read it. Returns whether a
    rebuild was queued.
    """
    now = timezone.now()
    build, _ = GrowthBuild.objects.get_or_create(classroom_unit_id=classroom_unit_id)
    build = GrowthBuild.objects.select_for_update().get(pk=build.pk)
    is_first_change = build.stale_since is None
    build.last_change_at = now
    if is_first_change:
        build.stale_since = now
    build.save(update_fields=["last_change_at", "stale_since"])
    if is_first_change:
        _enqueue_rebuild(classroom_unit_id)
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


def _enqueue_rebuild(classroom_unit_id: int) -> None:
    from reports.tasks import classroom_unit_growth_rebuild_task

    transaction.on_commit(
        lambda: classroom_unit_growth_rebuild_task.apply_async(
            args=[classroom_unit_id],
            countdown=django_settings.THINSLICE_GROWTH_DEBOUNCE_SECONDS,
        )
    )


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
    )
    return StudentGrowth(
        classroom_unit=classroom_unit,
        student_id=student_id,
        pre_percentage=result.pre_percentage,
        post_percentage=result.post_percentage,
        gain=result.gain,
        normalized_gain=result.normalized_gain,
        is_at_ceiling=result.is_at_ceiling,
        slope_per_week=result.slope_per_week,
        is_target_met=result.is_target_met,
        is_complete=result.pre_percentage is not None and result.post_percentage is not None,
    )
