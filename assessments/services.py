"""Saving scores: the one write path for the score grid, CSV upload and the API.

Only what the plan names is accepted: the assessment must belong to the classroom unit's unit, the
skill must be one the assessment measures, the student must be enrolled in the classroom. Points
are 0..max with at most 2 decimals, or a status (absent, exempt); an empty value clears the score.
A write based on an out-of-date version is refused with the current value and who set it. A batch
is all or nothing, and every change leaves a ScoreChange row in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from assessments.models import Score, ScoreChange, ScoreStatus
from classrooms import access
from classrooms.models import Enrollment, User
from reports import services as growth_services
from units.models import Assessment, AssessmentSkill, ClassroomUnit
from units.services import format_points

STATUS_WORDS = {
    "a": ScoreStatus.ABSENT,
    "absent": ScoreStatus.ABSENT,
    "x": ScoreStatus.EXEMPT,
    "exempt": ScoreStatus.EXEMPT,
}


@dataclass(frozen=True)
class ScoreEntry:
    """One cell as the teacher typed it. ``expected_version`` is the version they saw (None:
    they saw an empty cell)."""

    student_id: int
    skill_code: str
    value: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CellValue:
    status: str  # "" for an empty cell
    points: Decimal | None

    @property
    def shown(self) -> str:
        if self.status == ScoreStatus.SCORED and self.points is not None:
            return format_points(self.points)
        letters: dict[str, str] = {ScoreStatus.ABSENT: "A", ScoreStatus.EXEMPT: "X"}
        return letters.get(self.status, "")


EMPTY = CellValue(status="", points=None)


@dataclass
class RowProblem:
    """Why one entry was not saved; ``current`` and ``current_by`` are set for a conflict."""

    index: int
    student_id: int
    skill_code: str
    message: str
    is_conflict: bool = False
    current: str = ""
    current_version: int | None = None
    current_by: str = ""


@dataclass
class SaveResult:
    saved: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def is_applied(self) -> bool:
        return not self.problems


def parse_cell(text: str, max_points: Decimal) -> CellValue:
    """Read what a teacher typed: points 0..max (at most 2 decimals), A/X, or empty.

    Raises ValueError with the reason shown next to the cell.
    """
    typed = text.strip()
    if typed == "":
        return EMPTY
    status = STATUS_WORDS.get(typed.lower())
    if status is not None:
        return CellValue(status=status, points=None)
    try:
        points = Decimal(typed.replace(",", "."))
    except InvalidOperation:
        raise ValueError(
            f"'{typed}' is not a score: type points from 0 to {format_points(max_points)}, "
            "A for absent or X for exempt."
        ) from None
    if not points.is_finite():
        raise ValueError(f"'{typed}' is not a score.")
    if points != points.quantize(Decimal("0.01")):
        raise ValueError(f"'{typed}' has more than 2 decimals.")
    if points < 0 or points > max_points:
        raise ValueError(f"{typed} is outside 0 to {format_points(max_points)} points.")
    return CellValue(status=ScoreStatus.SCORED, points=points.quantize(Decimal("0.01")))


@transaction.atomic
def scores_save(
    *,
    actor: Any,
    classroom_unit: ClassroomUnit,
    assessment: Assessment,
    entries: list[ScoreEntry],
) -> SaveResult:
    """Save one assessment's scores for a class, all or nothing.

    Returns the saved cells with their new versions, or, when any entry is wrong or stale, every
    problem and nothing written. Runs a fixed number of queries whatever the class size.
    """
    access.require(actor, "enter_scores", classroom_unit)
    result = SaveResult()
    if assessment.unit_id != classroom_unit.unit_id:
        result.problems.append(
            RowProblem(
                index=-1,
                student_id=0,
                skill_code="",
                message=f"'{assessment.title}' is not part of this classroom's unit.",
            )
        )
        return result
    measured = {
        measure.skill.code: measure
        for measure in AssessmentSkill.objects.filter(assessment=assessment).select_related("skill")
    }
    today = timezone.localdate()
    enrolled = set(
        Enrollment.objects.filter(classroom_id=classroom_unit.classroom_id)
        .order_by()
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=classroom_unit.start_date))
        .filter(start_date__lte=max(today, classroom_unit.start_date))
        .values_list("student_id", flat=True)
    )
    existing = {
        (score.student_id, score.assessment_skill_id): score
        for score in Score.objects.select_for_update(of=("self",))
        .order_by()
        .filter(
            classroom_unit=classroom_unit,
            assessment_skill__in=[m.pk for m in measured.values()],
            student_id__in={entry.student_id for entry in entries},
        )
        # Who set a value is only needed for a conflict, so no join to users here.
        .only(
            "pk", "student_id", "assessment_skill_id", "status", "points", "version", "entered_by"
        )
    }

    changes: list[tuple[ScoreEntry, AssessmentSkill, Score | None, CellValue]] = []
    conflicting: list[tuple[int, ScoreEntry, Score | None]] = []
    seen: set[tuple[int, str]] = set()
    for index, entry in enumerate(entries):
        problem = _entry_problem(index, entry, measured, enrolled, seen)
        if problem:
            result.problems.append(problem)
            continue
        seen.add((entry.student_id, entry.skill_code))
        measure = measured[entry.skill_code]
        try:
            new_value = parse_cell(entry.value, measure.max_points)
        except ValueError as reason:
            result.problems.append(
                RowProblem(index, entry.student_id, entry.skill_code, str(reason))
            )
            continue
        current = existing.get((entry.student_id, measure.pk))
        current_version = current.version if current else None
        if entry.expected_version != current_version:
            conflicting.append((index, entry, current))
            continue
        changes.append((entry, measure, current, new_value))
    if conflicting:
        result.problems += _conflicts(conflicting)
        result.problems.sort(key=lambda problem: problem.index)
    if result.problems:
        return result
    _apply(actor, classroom_unit, changes, result)
    return result


def _entry_problem(
    index: int,
    entry: ScoreEntry,
    measured: dict[str, AssessmentSkill],
    enrolled: set[int],
    seen: set[tuple[int, str]],
) -> RowProblem | None:
    def problem(message: str) -> RowProblem:
        return RowProblem(index, entry.student_id, entry.skill_code, message)

    if entry.student_id not in enrolled:
        return problem("This student is not enrolled in this classroom.")
    if entry.skill_code not in measured:
        codes = ", ".join(sorted(measured))
        return problem(
            f"This assessment does not measure '{entry.skill_code}' (it measures {codes})."
        )
    if (entry.student_id, entry.skill_code) in seen:
        return problem("This cell appears twice in one save.")
    return None


def _conflicts(conflicting: list[tuple[int, ScoreEntry, Score | None]]) -> list[RowProblem]:
    """Conflict problems naming who set each current value (one query for all of them)."""
    author_ids = {current.entered_by_id for _, _, current in conflicting if current is not None}
    authors = {user.pk: str(user) for user in User.objects.filter(pk__in=author_ids)}
    return [
        _conflict(index, entry, current, authors.get(current.entered_by_id) if current else None)
        for index, entry, current in conflicting
    ]


def _conflict(
    index: int, entry: ScoreEntry, current: Score | None, author: str | None
) -> RowProblem:
    value = _value_of(current)
    by = author or ""
    shown = value.shown or "empty"
    who = f" by {by}" if by else ""
    return RowProblem(
        index=index,
        student_id=entry.student_id,
        skill_code=entry.skill_code,
        message=f"Changed meanwhile{who}: it is now {shown}.",
        is_conflict=True,
        current=value.shown,
        current_version=current.version if current else None,
        current_by=by,
    )


def _value_of(score: Score | None) -> CellValue:
    if score is None:
        return EMPTY
    return CellValue(status=score.status, points=score.points)


def _apply(
    actor: Any,
    classroom_unit: ClassroomUnit,
    changes: list[tuple[ScoreEntry, AssessmentSkill, Score | None, CellValue]],
    result: SaveResult,
) -> None:
    now = timezone.now()
    upserts: list[Score] = []
    cleared: list[int] = []
    history: list[ScoreChange] = []
    for entry, measure, current, new_value in changes:
        old_value = _value_of(current)
        if new_value == old_value:
            result.saved.append(_saved(entry, current.version if current else None, new_value))
            continue
        if new_value == EMPTY and current is not None:
            cleared.append(current.pk)
            version = current.version + 1
        else:  # an entered value (an empty cell that stays empty was skipped above)
            version = current.version + 1 if current else 1
            upserts.append(
                Score(
                    classroom_unit=classroom_unit,
                    student_id=entry.student_id,
                    assessment_skill=measure,
                    status=new_value.status,
                    points=new_value.points,
                    entered_by=actor if actor.pk else None,
                    entered_at=now,
                    version=version,
                )
            )
        history.append(
            ScoreChange(
                classroom_unit=classroom_unit,
                student_id=entry.student_id,
                assessment_skill=measure,
                changed_by=actor if actor.pk else None,
                changed_at=now,
                old_status=old_value.status,
                old_points=old_value.points,
                new_status=new_value.status,
                new_points=new_value.points,
                version=version,
            )
        )
        result.saved.append(_saved(entry, None if new_value == EMPTY else version, new_value))
    if cleared:
        Score.objects.filter(pk__in=cleared).delete()
    if upserts:
        Score.objects.bulk_create(
            upserts,
            update_conflicts=True,
            unique_fields=["classroom_unit", "student", "assessment_skill"],
            update_fields=["status", "points", "entered_by", "entered_at", "version"],
        )
    if history:
        ScoreChange.objects.bulk_create(history)
        transaction.on_commit(
            lambda: growth_services.classroom_unit_growth_mark_stale(
                classroom_unit_id=classroom_unit.pk
            )
        )


def _saved(entry: ScoreEntry, version: int | None, value: CellValue) -> dict[str, Any]:
    return {
        "student_id": entry.student_id,
        "skill_code": entry.skill_code,
        "value": value.shown,
        "version": version,
    }
