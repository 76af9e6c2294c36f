"""Writes to units and their assessment plans. The thin-slice rules live here, once.

A plan is valid when it has exactly one pre-assessment in week 1, exactly one post-assessment in
the unit's last week, between one and the district's cap of formative checkpoints inside the
unit's weeks, and every assessment measures at least one of the unit's skills with positive max
points. A plan change may not orphan scores already entered: an assessment or a measured skill with
scores stays, its kind stays, and its max points stay at or above every entered score.
"""

from __future__ import annotations

import datetime
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max
from django.utils.translation import gettext as _

from classrooms import access
from classrooms.models import AcademicYear, Classroom, District
from units.models import (
    Assessment,
    AssessmentKind,
    AssessmentSkill,
    ClassroomUnit,
    Skill,
    Unit,
    UnitLineage,
)

MAX_POINTS_CEILING = Decimal("9999.99")
# Letters, digits, '.', '-' and '_': a code stays one CSV column and one grid header.
SKILL_CODE_PATTERN = re.compile(r"[A-Za-z0-9._-]+")


@dataclass(frozen=True)
class SkillSpec:
    """A skill as the planner wrote it; ``id`` names an existing skill being kept or renamed."""

    code: str
    description: str = ""
    id: int | None = None


@dataclass(frozen=True)
class MeasureSpec:
    skill_code: str
    max_points: Decimal


@dataclass(frozen=True)
class AssessmentSpec:
    """An assessment as the planner wrote it; ``id`` names an existing one being kept."""

    kind: str
    week: int
    title: str
    measures: tuple[MeasureSpec, ...] = ()
    id: int | None = None


@dataclass(frozen=True)
class PlanSpec:
    weeks: int
    skills: tuple[SkillSpec, ...]
    assessments: tuple[AssessmentSpec, ...] = field(default_factory=tuple)


def parse_measures(text: str) -> tuple[MeasureSpec, ...]:
    """Read 'FR.1=4, FR.2=6' (skill code = max points) into measures; explain what is wrong."""
    measures = []
    for raw_item in text.replace(";", ",").split(","):
        item = raw_item.strip()
        if not item:
            continue
        code, separator, points_text = item.partition("=")
        if not separator:
            code, separator, points_text = item.partition(":")
        if not separator or not code.strip():
            raise ValidationError(
                f"Write each skill as code=max points (e.g. FR.1=4); '{item}' has no max points."
            )
        try:
            max_points = Decimal(points_text.strip())
            if not max_points.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise ValidationError(
                f"'{points_text.strip()}' is not a number of points (in '{item}')."
            ) from None
        measures.append(MeasureSpec(skill_code=code.strip(), max_points=max_points))
    return tuple(measures)


def format_points(points: Decimal | float | int) -> str:
    """Points as people write them: 4, 3.5, 2.25 (no trailing zeros)."""
    return f"{Decimal(str(points)).normalize():f}"


def format_measures(assessment: Assessment) -> str:
    return ", ".join(
        f"{measure.skill.code}={format_points(measure.max_points)}"
        for measure in assessment.assessment_skills.select_related("skill").order_by("skill__code")
    )


def assessment_plan_problems(*, plan: PlanSpec, formative_cap: int) -> list[str]:
    """Every way ``plan`` breaks the thin-slice rules, as sentences a district admin understands."""
    problems: list[str] = []
    skill_codes = [skill.code.strip() for skill in plan.skills]
    problems += _skill_problems(skill_codes)
    known_codes = set(skill_codes)

    by_kind: dict[str, list[AssessmentSpec]] = {kind: [] for kind in AssessmentKind.values}
    for assessment in plan.assessments:
        if assessment.kind not in by_kind:
            problems.append(f"'{assessment.title}' has an unknown kind '{assessment.kind}'.")
            continue
        by_kind[assessment.kind].append(assessment)

    problems += _single_assessment_problems(
        by_kind[AssessmentKind.PRE], "pre-assessment", required_week=1, where="in week 1"
    )
    problems += _single_assessment_problems(
        by_kind[AssessmentKind.POST],
        "post-assessment",
        required_week=plan.weeks,
        where=f"in the unit's last week, week {plan.weeks}",
    )
    formatives = by_kind[AssessmentKind.FORMATIVE]
    if not formatives:
        problems.append("The plan needs at least one formative checkpoint.")
    if len(formatives) > formative_cap:
        problems.append(
            f"This district allows at most {formative_cap} formative checkpoints per unit; "
            f"this plan has {len(formatives)}."
        )
    for formative in formatives:
        if not 1 <= formative.week <= plan.weeks:
            problems.append(
                f"Formative checkpoint '{formative.title}' is in week {formative.week}, "
                f"outside the unit's {plan.weeks} weeks."
            )

    title_counts = Counter(assessment.title.strip() for assessment in plan.assessments)
    for title, count in sorted(title_counts.items()):
        if not title:
            problems.append("Every assessment needs a title.")
        elif count > 1:
            problems.append(f"Two assessments are called '{title}'; give each its own title.")

    for assessment in plan.assessments:
        problems += _measure_problems(assessment, known_codes)
    return problems


def _skill_problems(skill_codes: list[str]) -> list[str]:
    problems = []
    if not skill_codes:
        problems.append("A unit needs at least one skill.")
    if any(not code for code in skill_codes):
        problems.append("Every skill needs a code.")
    for code, count in sorted(Counter(skill_codes).items()):
        if code and count > 1:
            problems.append(f"The skill code '{code}' is used twice; skill codes must differ.")
    for code in skill_codes:
        if code and not SKILL_CODE_PATTERN.fullmatch(code):
            problems.append(
                _(
                    "The skill code '%(code)s' may use only letters, digits, '.', '-' and '_' "
                    "(so it stays one column in CSV files and in the score grid)."
                )
                % {"code": code}
            )
    return problems


def _single_assessment_problems(
    assessments: list[AssessmentSpec], name: str, *, required_week: int, where: str
) -> list[str]:
    if not assessments:
        return [f"The plan needs a {name} {where}."]
    if len(assessments) > 1:
        titles = ", ".join(f"'{assessment.title}'" for assessment in assessments)
        return [f"A unit has exactly one {name}; this plan has {len(assessments)} ({titles})."]
    only = assessments[0]
    if only.week != required_week:
        return [f"The {name} '{only.title}' must be {where} (it is in week {only.week})."]
    return []


def _measure_problems(assessment: AssessmentSpec, known_codes: set[str]) -> list[str]:
    problems = []
    if not assessment.measures:
        problems.append(f"'{assessment.title}' must measure at least one of the unit's skills.")
    listed = Counter(measure.skill_code for measure in assessment.measures)
    for code, count in sorted(listed.items()):
        if count > 1:
            problems.append(f"'{assessment.title}' lists the skill '{code}' twice.")
    for measure in assessment.measures:
        if measure.skill_code not in known_codes:
            known = ", ".join(sorted(known_codes)) or "none yet"
            problems.append(
                f"'{assessment.title}' measures '{measure.skill_code}', which is not one of "
                f"this unit's skills ({known})."
            )
        if not Decimal("0") < measure.max_points <= MAX_POINTS_CEILING:
            problems.append(
                f"'{assessment.title}': max points for '{measure.skill_code}' must be more "
                f"than 0 and at most {MAX_POINTS_CEILING}."
            )
        elif measure.max_points != measure.max_points.quantize(Decimal("0.01")):
            problems.append(
                f"'{assessment.title}': max points for '{measure.skill_code}' may have at most "
                "2 decimals."
            )
    return problems


def assessment_plan_orphan_problems(*, unit: Unit, plan: PlanSpec) -> list[str]:
    """Ways the new plan would strand scores already entered under ``unit``'s current plan."""
    if unit.pk is None:
        return []
    problems: list[str] = []
    kept_assessments = {spec.id: spec for spec in plan.assessments if spec.id is not None}
    code_of_kept_skill = {spec.id: spec.code.strip() for spec in plan.skills if spec.id is not None}
    measured_rows = (
        AssessmentSkill.objects.filter(assessment__unit=unit)
        .select_related("assessment", "skill")
        .annotate(score_count=Count("scores"), highest_points=Max("scores__points"))
        .filter(score_count__gt=0)
    )
    for measured in measured_rows:
        assessment = measured.assessment
        scores = f"{measured.score_count} score{'s' if measured.score_count != 1 else ''}"
        spec = kept_assessments.get(assessment.pk)
        if spec is None:
            problems.append(
                f"'{assessment.title}' already has {scores} entered, so it cannot be removed; "
                "keep it in the plan (scores are never thrown away by a plan change)."
            )
            continue
        if spec.kind != assessment.kind:
            problems.append(
                f"'{assessment.title}' already has {scores} entered as a "
                f"{assessment.get_kind_display().lower()}, so its kind cannot change."
            )
        new_code = code_of_kept_skill.get(measured.skill_id)
        new_measure = next(
            (measure for measure in spec.measures if measure.skill_code == new_code), None
        )
        if new_code is None or new_measure is None:
            problems.append(
                f"'{assessment.title}' already has {scores} for the skill "
                f"'{measured.skill.code}', so it must keep measuring that skill."
            )
            continue
        highest = measured.highest_points
        if highest is not None and new_measure.max_points < highest:
            problems.append(
                f"'{assessment.title}': a score of {format_points(highest)} points has already "
                f"been entered for '{measured.skill.code}', so its max points cannot go below "
                f"that (asked for {format_points(new_measure.max_points)})."
            )
    return problems


def assessment_plan_check(*, unit: Unit, plan: PlanSpec) -> list[str]:
    """All problems with saving ``plan`` as ``unit``'s plan: thin-slice rules, then orphans."""
    district = District.objects.get(pk=unit.district_id)
    problems = assessment_plan_problems(plan=plan, formative_cap=district.formative_cap)
    return problems + assessment_plan_orphan_problems(unit=unit, plan=plan)


@transaction.atomic
def unit_plan_save(
    *,
    actor: Any,
    unit: Unit,
    plan: PlanSpec,
    share: bool = False,
    academic_year: AcademicYear | None = None,
) -> Unit:
    """Create or change a unit together with its skills and assessment plan, all or nothing.

    ``unit`` carries the new field values (it may be unsaved). Nothing is written unless the whole
    plan is valid and strands no score. A new unit starts a lineage written by ``actor`` (shared
    by the district with ``share``, which only a district admin may ask for). Changing a plan
    under which any class already has a score saves a new version instead and returns it: the
    classes keep the version they started with, so what they show never changes.
    """
    if unit.district_id is None:
        raise ValidationError("Choose the district this unit belongs to.")
    district = District.objects.get(pk=unit.district_id)
    if unit.pk is None:
        access.require(actor, "write_units", district)
        if share:
            access.require(actor, "manage_district", district)
        if academic_year is not None and academic_year.district_id != district.pk:
            raise ValidationError(_("This school year belongs to another district."))
        lineage = UnitLineage.objects.create(
            district=district,
            author=actor if actor.pk else None,
            is_shared=share,
            academic_year=academic_year,
        )
        unit.lineage = lineage
        unit.version = 1
        return _unit_plan_write(unit=unit, plan=plan)

    # Lock the lineage so two people editing the same unit cannot interleave.
    lineage = UnitLineage.objects.select_for_update().get(pk=unit.lineage_id)
    access.require(actor, "edit_unit", lineage)
    latest = unit_latest_version(unit)
    if latest.pk != unit.pk:
        raise ValidationError(
            _(
                "This is version %(old)s of '%(title)s'; classes that started it keep it as it "
                "is. Change the latest version (version %(latest)s) instead."
            )
            % {"old": unit.version, "title": latest.title, "latest": latest.version}
        )
    _require_own_rows(unit, plan)
    if unit_has_scores(unit):
        return _unit_version_create(previous=unit, plan=plan)
    return _unit_plan_write(unit=unit, plan=plan)


def _require_own_rows(unit: Unit, plan: PlanSpec) -> None:
    """Ids in a plan name rows of the version being changed, never another unit's."""
    skill_ids = {spec.id for spec in plan.skills if spec.id is not None}
    if skill_ids - set(Skill.objects.filter(unit=unit).values_list("pk", flat=True)):
        raise ValidationError("A skill in this plan belongs to another unit.")
    assessment_ids = {spec.id for spec in plan.assessments if spec.id is not None}
    if assessment_ids - set(Assessment.objects.filter(unit=unit).values_list("pk", flat=True)):
        raise ValidationError("An assessment in this plan belongs to another unit.")


def unit_has_scores(unit: Unit) -> bool:
    """Whether any class has a score under this version of the plan (it is then frozen)."""
    return AssessmentSkill.objects.filter(assessment__unit=unit, scores__isnull=False).exists()


def _unit_plan_write(*, unit: Unit, plan: PlanSpec) -> Unit:
    unit.weeks = plan.weeks
    problems = assessment_plan_check(unit=unit, plan=plan)
    if problems:
        raise ValidationError(problems)
    unit.full_clean()
    unit.save()

    skill_by_code = _skills_sync(unit, plan.skills)
    _assessments_sync(unit, plan.assessments, skill_by_code)
    Skill.objects.filter(unit=unit).exclude(pk__in=[s.pk for s in skill_by_code.values()]).delete()
    return unit


def _unit_version_create(*, previous: Unit, plan: PlanSpec) -> Unit:
    """The next version of ``previous``'s lineage with ``plan`` (its own skills and assessments;
    ids in the plan name rows of the previous version and are not reused)."""
    version = Unit(
        district_id=previous.district_id,
        lineage_id=previous.lineage_id,
        version=previous.version + 1,
        title=previous.title,
        subject=previous.subject,
        grade_level=previous.grade_level,
    )
    return _unit_plan_write(unit=version, plan=plan_without_ids(plan))


def plan_without_ids(plan: PlanSpec) -> PlanSpec:
    """The same plan as new rows: what a new version or a copy is written from."""
    return PlanSpec(
        weeks=plan.weeks,
        skills=tuple(SkillSpec(code=s.code, description=s.description) for s in plan.skills),
        assessments=tuple(
            AssessmentSpec(kind=a.kind, week=a.week, title=a.title, measures=a.measures)
            for a in plan.assessments
        ),
    )


def unit_latest_version(unit: Unit) -> Unit:
    """The newest version of ``unit``'s lineage: the one new classes start and people edit."""
    return Unit.objects.filter(lineage_id=unit.lineage_id).order_by("-version")[0]


def _skills_sync(unit: Unit, specs: tuple[SkillSpec, ...]) -> dict[str, Skill]:
    existing = {skill.pk: skill for skill in Skill.objects.filter(unit=unit)}
    kept_ids = {spec.id for spec in specs if spec.id is not None}
    if kept_ids - existing.keys():
        raise ValidationError("A skill in this plan belongs to another unit.")
    # Free the codes of renamed skills first so two skills can swap codes.
    for spec in specs:
        if spec.id is not None and existing[spec.id].code != spec.code.strip():
            Skill.objects.filter(pk=spec.id).update(code=f"__renaming_{spec.id}")
    by_code = {}
    for spec in specs:
        skill = existing[spec.id] if spec.id is not None else Skill(unit=unit)
        skill.code = spec.code.strip()
        skill.description = spec.description.strip()
        skill.full_clean(validate_unique=False)
        skill.save()
        by_code[skill.code] = skill
    return by_code


def _assessments_sync(
    unit: Unit, specs: tuple[AssessmentSpec, ...], skill_by_code: dict[str, Skill]
) -> None:
    existing = {assessment.pk: assessment for assessment in Assessment.objects.filter(unit=unit)}
    kept_ids = {spec.id for spec in specs if spec.id is not None}
    if kept_ids - existing.keys():
        raise ValidationError("An assessment in this plan belongs to another unit.")
    # Removed assessments go first: a new pre or post may replace an old one.
    Assessment.objects.filter(pk__in=existing.keys() - kept_ids).delete()
    # Park kept assessments so a kind swap or a title swap cannot collide mid-update.
    for assessment_id in kept_ids:
        Assessment.objects.filter(pk=assessment_id).update(
            kind=AssessmentKind.FORMATIVE, title=f"__renaming_{assessment_id}"
        )
    for spec in specs:
        assessment = existing[spec.id] if spec.id is not None else Assessment(unit=unit)
        assessment.kind = spec.kind
        assessment.week = spec.week
        assessment.title = spec.title.strip()
        assessment.full_clean(validate_unique=False, validate_constraints=False)
        assessment.save()
        wanted = {skill_by_code[m.skill_code].pk: m.max_points for m in spec.measures}
        AssessmentSkill.objects.filter(assessment=assessment).exclude(
            skill_id__in=wanted.keys()
        ).delete()
        for skill_id, max_points in wanted.items():
            AssessmentSkill.objects.update_or_create(
                assessment=assessment, skill_id=skill_id, defaults={"max_points": max_points}
            )


@dataclass(frozen=True)
class SectionStart:
    """One section to start a unit in, from its own start date."""

    classroom: Classroom
    start_date: datetime.date


@transaction.atomic
def classroom_unit_start(
    *, actor: Any, classroom: Classroom, unit: Unit, start_date: datetime.date
) -> ClassroomUnit:
    """Start teaching ``unit`` in ``classroom``; both must belong to the same district.

    The person must teach the classroom (or be a district admin) and have the unit in their
    library; the start date falls inside the classroom's term; a unit (any of its versions) is
    taught once per section; a class always starts the unit's latest version.
    """
    access.require(actor, "teach", classroom)
    if unit.district_id != classroom.school.district_id:
        raise ValidationError("This unit belongs to another district.")
    lineage = UnitLineage.objects.get(pk=unit.lineage_id)
    access.require(actor, "use_unit", lineage)
    latest = unit_latest_version(unit)
    if latest.pk != unit.pk:
        raise ValidationError(
            _("'%(unit)s' has a newer version (version %(version)s); start that one.")
            % {"unit": unit.title, "version": latest.version}
        )
    if ClassroomUnit.objects.filter(classroom=classroom, unit__lineage_id=unit.lineage_id).exists():
        raise ValidationError(f"'{unit.title}' is already taught in {classroom.name}.")
    term = classroom.term
    if not term.start_date <= start_date <= term.end_date:
        raise ValidationError(
            _(
                "%(classroom)s: the start date %(date)s is outside its term, %(term)s "
                "(%(start)s to %(end)s)."
            )
            % {
                "classroom": classroom.name,
                "date": start_date.isoformat(),
                "term": term.name,
                "start": term.start_date.isoformat(),
                "end": term.end_date.isoformat(),
            }
        )
    classroom_unit = ClassroomUnit(classroom=classroom, unit=unit, start_date=start_date)
    classroom_unit.full_clean()
    classroom_unit.save()
    return classroom_unit


def classroom_units_start(
    *, actor: Any, unit: Unit, starts: list[SectionStart]
) -> list[ClassroomUnit]:
    """Start ``unit`` in several sections at once, each from its own date; all or nothing.

    Every section's problem is reported together (each sentence names its section)."""
    if not starts:
        raise ValidationError(_("Choose at least one section and its start date."))
    problems: list[str] = []
    started: list[ClassroomUnit] = []
    with transaction.atomic():
        for start in starts:
            try:
                with transaction.atomic():
                    started.append(
                        classroom_unit_start(
                            actor=actor,
                            classroom=start.classroom,
                            unit=unit,
                            start_date=start.start_date,
                        )
                    )
            except ValidationError as error:
                problems += error.messages
        if problems:
            transaction.set_rollback(True)
    if problems:
        raise ValidationError(problems)
    return started


def plan_of(unit: Unit) -> PlanSpec:
    """The unit's current plan as a PlanSpec (what an edit starts from)."""
    assessments = Assessment.objects.filter(unit=unit).prefetch_related("assessment_skills__skill")
    return PlanSpec(
        weeks=unit.weeks,
        skills=tuple(
            SkillSpec(code=skill.code, description=skill.description, id=skill.pk)
            for skill in Skill.objects.filter(unit=unit)
        ),
        assessments=tuple(
            AssessmentSpec(
                kind=assessment.kind,
                week=assessment.week,
                title=assessment.title,
                measures=tuple(
                    MeasureSpec(skill_code=measure.skill.code, max_points=measure.max_points)
                    for measure in assessment.assessment_skills.all()
                ),
                id=assessment.pk,
            )
            for assessment in assessments
        ),
    )


@dataclass(frozen=True)
class VersionMove:
    """How a class's scores map onto another version of its unit: old measured skill → new."""

    target: Unit
    measure_map: dict[int, int]
    problems: list[str]


def classroom_unit_version_move_plan(*, classroom_unit: ClassroomUnit, target: Unit) -> VersionMove:
    """Where each score of the class would go under ``target`` (same assessment title and
    kind, same skill code), and why any score would be stranded there (the move is then
    refused, as a plan change that strands scores is)."""
    if target.lineage_id != classroom_unit.unit.lineage_id:
        raise ValidationError(_("A class can only move to another version of its own unit."))
    new_measures = {
        (measure.assessment.title, measure.assessment.kind, measure.skill.code): measure
        for measure in AssessmentSkill.objects.filter(assessment__unit=target).select_related(
            "assessment", "skill"
        )
    }
    scored = (
        AssessmentSkill.objects.filter(
            assessment__unit_id=classroom_unit.unit_id,
            scores__classroom_unit=classroom_unit,
        )
        .select_related("assessment", "skill")
        .annotate(score_count=Count("scores"), highest_points=Max("scores__points"))
        .order_by("assessment__week", "assessment__title", "skill__code")
    )
    measure_map: dict[int, int] = {}
    problems: list[str] = []
    for measured in scored:
        assessment = measured.assessment
        scores = f"{measured.score_count} score{'s' if measured.score_count != 1 else ''}"
        new = new_measures.get((assessment.title, assessment.kind, measured.skill.code))
        if new is None:
            problems.append(
                _(
                    "'%(title)s' already has %(scores)s for '%(skill)s' in this class, and "
                    "version %(version)s has no %(kind)s called '%(title)s' measuring "
                    "'%(skill)s'; the class keeps version %(current)s so no score is stranded."
                )
                % {
                    "title": assessment.title,
                    "scores": scores,
                    "skill": measured.skill.code,
                    "version": target.version,
                    "kind": assessment.get_kind_display().lower(),
                    "current": classroom_unit.unit.version,
                }
            )
            continue
        highest = measured.highest_points
        if highest is not None and new.max_points < highest:
            problems.append(
                _(
                    "'%(title)s': a score of %(points)s points has already been entered for "
                    "'%(skill)s' in this class, and version %(version)s allows at most %(max)s."
                )
                % {
                    "title": assessment.title,
                    "points": format_points(highest),
                    "skill": measured.skill.code,
                    "version": target.version,
                    "max": format_points(new.max_points),
                }
            )
            continue
        measure_map[measured.pk] = new.pk
    return VersionMove(target=target, measure_map=measure_map, problems=problems)
