"""Reads for the score pages: the home page (a teacher's classrooms with each unit's assessment
calendar, a coach's schools, an admin's district), the score grid, a cell's history.

Every read starts from ``visible_to(user)``; the counts are aggregated in the database, so the
number of queries does not grow with the number of classrooms, assessments or students.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone

from assessments.cells import CellValue
from assessments.models import Score, ScoreChange
from classrooms import access
from classrooms.models import Classroom, District, Enrollment, School, Student
from units.models import Assessment, AssessmentSkill, ClassroomUnit
from units.services import format_points

DAYS_IN_WEEK = 7


@dataclass(frozen=True)
class CalendarEntry:
    """One assessment of a classroom unit: its due week and how many students have a score.

    ``enrolled`` counts the students enrolled today; ``entered`` those of them with at least one
    score row for the assessment. It is overdue once its due week has ended with students missing.
    """

    classroom_unit: ClassroomUnit
    assessment: Assessment
    due_from: datetime.date
    due_to: datetime.date
    entered: int
    enrolled: int
    today: datetime.date

    @property
    def missing(self) -> int:
        return max(self.enrolled - self.entered, 0)

    @property
    def is_due_this_week(self) -> bool:
        return self.due_from <= self.today <= self.due_to

    @property
    def is_overdue(self) -> bool:
        return self.today > self.due_to and self.missing > 0

    @property
    def is_complete(self) -> bool:
        return self.enrolled > 0 and self.missing == 0


@dataclass(frozen=True)
class UnitCalendar:
    """A classroom unit with its assessments in week order."""

    classroom_unit: ClassroomUnit
    entries: list[CalendarEntry]
    today: datetime.date

    @property
    def is_in_progress(self) -> bool:
        return self.classroom_unit.start_date <= self.today <= self.classroom_unit.ends_on

    @property
    def is_upcoming(self) -> bool:
        return self.today < self.classroom_unit.start_date

    @property
    def current_week(self) -> int:
        return (self.today - self.classroom_unit.start_date).days // DAYS_IN_WEEK + 1

    @property
    def overdue_count(self) -> int:
        return sum(1 for entry in self.entries if entry.is_overdue)


def assessment_calendars(
    *, user: Any, classroom_units: Iterable[ClassroomUnit], today: datetime.date
) -> dict[int, UnitCalendar]:
    """Each visible classroom unit's calendar, keyed by classroom unit id, in three queries.

    A student counts as entered for an assessment when they are enrolled today and have at least
    one score row (points, absent or exempt) for it; missing = enrolled − entered.
    """
    units_by_id = {classroom_unit.pk: classroom_unit for classroom_unit in classroom_units}
    if not units_by_id:
        return {}
    classroom_ids = {classroom_unit.classroom_id for classroom_unit in units_by_id.values()}
    unit_ids = {classroom_unit.unit_id for classroom_unit in units_by_id.values()}

    assessments_by_unit: dict[int, list[Assessment]] = {}
    for assessment in Assessment.objects.visible_to(user).filter(unit_id__in=unit_ids):
        assessments_by_unit.setdefault(assessment.unit_id, []).append(assessment)

    enrolled_by_classroom = dict(
        Enrollment.objects.visible_to(user)
        .filter(classroom_id__in=classroom_ids)
        .current_on(today)
        .order_by()
        .values("classroom_id")
        .annotate(students=Count("student_id", distinct=True))
        .values_list("classroom_id", "students")
    )

    enrolled_today = (
        Enrollment.objects.filter(
            classroom_id=OuterRef("classroom_unit__classroom_id"),
            student_id=OuterRef("student_id"),
        )
        .current_on(today)
        .order_by()
    )
    entered = {
        (row["classroom_unit_id"], row["assessment_skill__assessment_id"]): row["students"]
        for row in Score.objects.visible_to(user)
        .filter(classroom_unit_id__in=units_by_id)
        .filter(Exists(enrolled_today))
        .order_by()
        .values("classroom_unit_id", "assessment_skill__assessment_id")
        .annotate(students=Count("student_id", distinct=True))
    }

    calendars: dict[int, UnitCalendar] = {}
    for classroom_unit in units_by_id.values():
        entries = []
        for assessment in sorted(
            assessments_by_unit.get(classroom_unit.unit_id, []),
            key=lambda item: (item.week, _KIND_ORDER.get(item.kind, 1), item.title),
        ):
            due_from = classroom_unit.week_starts_on(assessment.week)
            entries.append(
                CalendarEntry(
                    classroom_unit=classroom_unit,
                    assessment=assessment,
                    due_from=due_from,
                    due_to=due_from + datetime.timedelta(days=DAYS_IN_WEEK - 1),
                    entered=entered.get((classroom_unit.pk, assessment.pk), 0),
                    enrolled=enrolled_by_classroom.get(classroom_unit.classroom_id, 0),
                    today=today,
                )
            )
        calendars[classroom_unit.pk] = UnitCalendar(
            classroom_unit=classroom_unit, entries=entries, today=today
        )
    return calendars


_KIND_ORDER = {"pre": 0, "formative": 1, "post": 2}


@dataclass
class TaughtClassroom:
    """A classroom I teach with the calendar of each of its units (latest start first)."""

    classroom: Classroom
    unit_calendars: list[UnitCalendar] = field(default_factory=list)

    @property
    def units_in_progress(self) -> list[UnitCalendar]:
        return [calendar for calendar in self.unit_calendars if calendar.is_in_progress]

    @property
    def other_units(self) -> list[UnitCalendar]:
        return [calendar for calendar in self.unit_calendars if not calendar.is_in_progress]


@dataclass
class Home:
    """The signed-in person's roles and the rows each role's part of the home page shows."""

    district: District | None
    is_district_admin: bool
    taught_classrooms: list[Classroom] = field(default_factory=list)
    teaching: list[TaughtClassroom] = field(default_factory=list)
    coached_schools: list[School] = field(default_factory=list)
    district_schools: list[School] = field(default_factory=list)
    district_student_count: int = 0

    @property
    def has_role(self) -> bool:
        return bool(self.is_district_admin or self.taught_classrooms or self.coached_schools)


def _schools_with_counts(schools: QuerySet[School]) -> list[School]:
    today = timezone.localdate()
    current = Q(classrooms__enrollments__start_date__lte=today) & (
        Q(classrooms__enrollments__end_date__isnull=True)
        | Q(classrooms__enrollments__end_date__gte=today)
    )
    return list(
        schools.annotate(
            classroom_count=Count("classrooms", distinct=True),
            student_count=Count("classrooms__enrollments__student", filter=current, distinct=True),
        ).order_by("name")
    )


def home_for(user: Any) -> Home:
    """What the home page shows: teacher → my classrooms, coach → my schools, admin → district.

    A teacher's classrooms come with each unit's assessment calendar (due weeks, entered n of N),
    read in a fixed number of queries however many classrooms they teach.
    """
    district = District.objects.visible_to(user).filter(pk=user.district_id).first()
    home = Home(district=district, is_district_admin=bool(user.is_district_admin and district))
    today = timezone.localdate()
    home.taught_classrooms = list(
        Classroom.objects.visible_to(user)
        .filter(teachers=user)
        .select_related("school", "term__academic_year")
        .annotate(
            student_count=Count(
                "enrollments",
                filter=Q(enrollments__start_date__lte=today)
                & (Q(enrollments__end_date__isnull=True) | Q(enrollments__end_date__gte=today)),
            )
        )
        .prefetch_related(
            Prefetch(
                "classroom_units",
                queryset=ClassroomUnit.objects.select_related("unit").order_by("-start_date"),
            )
        )
    )
    calendars = assessment_calendars(
        user=user,
        classroom_units=[
            classroom_unit
            for classroom in home.taught_classrooms
            for classroom_unit in classroom.classroom_units.all()
        ],
        today=today,
    )
    home.teaching = [
        TaughtClassroom(
            classroom=classroom,
            unit_calendars=[
                calendars[classroom_unit.pk] for classroom_unit in classroom.classroom_units.all()
            ],
        )
        for classroom in home.taught_classrooms
    ]
    home.coached_schools = _schools_with_counts(
        School.objects.visible_to(user).filter(coaches=user)
    )
    if home.is_district_admin:
        home.district_schools = _schools_with_counts(School.objects.visible_to(user))
        home.district_student_count = Student.objects.visible_to(user).active().count()
    return home


@dataclass(frozen=True)
class GridColumn:
    """A skill the assessment measures: the grid's column."""

    code: str
    description: str
    max_points: Decimal

    @property
    def max_shown(self) -> str:
        return format_points(self.max_points)


@dataclass(frozen=True)
class GridCell:
    column: GridColumn
    value: str  # as the teacher would type it: "3.5", "A", "X" or ""
    version: int | None


@dataclass(frozen=True)
class GridRow:
    student: Student
    cells: list[GridCell]


@dataclass
class ScoreGrid:
    """One classroom unit × assessment: a row per student enrolled today (family-name order), a
    column per measured skill (code order), each cell with its current value and version."""

    classroom_unit: ClassroomUnit
    assessment: Assessment
    columns: list[GridColumn]
    rows: list[GridRow] = field(default_factory=list)
    can_edit: bool = False
    sibling_assessments: list[Assessment] = field(default_factory=list)
    # The last change the grid already shows: it asks for the changes after it (co-teachers').
    changes_cursor: int = 0

    @property
    def due_from(self) -> datetime.date:
        return self.classroom_unit.week_starts_on(self.assessment.week)

    @property
    def due_to(self) -> datetime.date:
        return self.due_from + datetime.timedelta(days=DAYS_IN_WEEK - 1)


def score_grid(
    *, user: Any, classroom_unit: ClassroomUnit, assessment_id: int, today: datetime.date
) -> ScoreGrid:
    """The score grid of a visible classroom unit for one of its unit's assessments.

    Raises Assessment.DoesNotExist when the assessment is not part of the classroom's unit.
    ``can_edit`` says whether the user may enter scores here (teachers of the classroom and
    district admins); everyone else who can see the classroom (coaches) reads only.
    """
    siblings = list(Assessment.objects.visible_to(user).filter(unit_id=classroom_unit.unit_id))
    siblings.sort(key=lambda item: (item.week, _KIND_ORDER.get(item.kind, 1), item.title))
    assessment = next((item for item in siblings if item.pk == assessment_id), None)
    if assessment is None:
        raise Assessment.DoesNotExist("This assessment is not part of the classroom's unit.")
    measures = list(
        AssessmentSkill.objects.visible_to(user)
        .filter(assessment=assessment)
        .select_related("skill")
        .order_by("skill__code")
    )
    columns = [
        GridColumn(
            code=measure.skill.code,
            description=measure.skill.description,
            max_points=measure.max_points,
        )
        for measure in measures
    ]
    code_of = {measure.pk: measure.skill.code for measure in measures}
    scores = {
        (score.student_id, code_of[score.assessment_skill_id]): score
        for score in Score.objects.visible_to(user)
        .filter(classroom_unit=classroom_unit, assessment_skill_id__in=code_of)
        .order_by()
    }
    students: dict[int, Student] = {}
    for enrollment in (
        Enrollment.objects.visible_to(user)
        .filter(classroom_id=classroom_unit.classroom_id)
        .current_on(today)
        .select_related("student")
        .order_by("student__family_name", "student__given_name", "student__sis_id")
    ):
        students.setdefault(enrollment.student_id, enrollment.student)
    rows = []
    for student in students.values():
        cells = []
        for column in columns:
            score = scores.get((student.pk, column.code))
            if score is None:
                cells.append(GridCell(column=column, value="", version=None))
                continue
            shown = CellValue(status=score.status, points=score.points).shown
            cells.append(GridCell(column=column, value=shown, version=score.version))
        rows.append(GridRow(student=student, cells=cells))
    return ScoreGrid(
        classroom_unit=classroom_unit,
        assessment=assessment,
        columns=columns,
        rows=rows,
        can_edit=access.can(user, "enter_scores", classroom_unit),
        sibling_assessments=siblings,
        changes_cursor=_last_change_id(classroom_unit, list(code_of)),
    )


def _last_change_id(classroom_unit: ClassroomUnit, measure_ids: list[int]) -> int:
    last = (
        ScoreChange.objects.all_schools()  # cross-tenant: none, the caller's classroom unit only
        .filter(classroom_unit=classroom_unit, assessment_skill_id__in=measure_ids)
        .aggregate(last=Max("pk"))["last"]
    )
    return last or 0


@dataclass(frozen=True)
class ChangedCell:
    """A cell of the grid as it stands after changes made since the grid's cursor."""

    student_id: int
    skill_code: str
    value: str  # as the grid shows it; "" when cleared
    version: int | None  # None when cleared, as the save answers
    changed_by: str
    is_mine: bool


@dataclass(frozen=True)
class GridChanges:
    cursor: int
    cells: list[ChangedCell]


def score_changes_since(
    *, user: Any, classroom_unit: ClassroomUnit, assessment_id: int, since: int
) -> GridChanges:
    """The grid's cells changed after change ``since`` (someone else's save, or the user's own in
    another tab), each as it stands now, with who changed it last; and the new cursor.

    Read through what the user may see. Raises Assessment.DoesNotExist when the assessment is not
    part of the classroom's unit.
    """
    assessment = Assessment.objects.visible_to(user).get(
        pk=assessment_id, unit_id=classroom_unit.unit_id
    )
    latest: dict[tuple[int, int], ScoreChange] = {}
    for change in (
        ScoreChange.objects.visible_to(user)
        .filter(
            classroom_unit=classroom_unit,
            assessment_skill__assessment=assessment,
            pk__gt=since,
        )
        .select_related("changed_by", "assessment_skill__skill")
        .order_by("pk")
    ):
        latest[(change.student_id, change.assessment_skill_id)] = change
    cells = []
    for change in latest.values():
        value = CellValue(status=change.new_status, points=change.new_points).shown
        cells.append(
            ChangedCell(
                student_id=change.student_id,
                skill_code=change.assessment_skill.skill.code,
                value=value,
                version=change.version if value else None,
                changed_by=str(change.changed_by) if change.changed_by else "",
                is_mine=change.changed_by_id == user.pk,
            )
        )
    cursor = max((change.pk for change in latest.values()), default=since)
    return GridChanges(cursor=cursor, cells=cells)


@dataclass(frozen=True)
class HistoryRow:
    """One change of a score: who, when, old → new, and the version it made."""

    changed_at: datetime.datetime
    changed_by: str
    old: str
    new: str
    version: int
    reason: str = ""


@dataclass(frozen=True)
class CellHistory:
    """A cell's changes, newest first, and the score it holds now (None: not entered)."""

    student: Student
    skill_code: str
    changes: list[HistoryRow]
    score: Score | None = None

    @property
    def current(self) -> str:
        if self.score is None:
            return ""
        return CellValue(status=self.score.status, points=self.score.points).shown


def score_history(
    *,
    user: Any,
    classroom_unit: ClassroomUnit,
    assessment_id: int,
    student_id: int,
    skill_code: str,
) -> CellHistory:
    """Every change of one cell of the grid, newest first, read through what the user may see.

    Raises Student.DoesNotExist / AssessmentSkill.DoesNotExist for a cell outside their scope.
    """
    student = Student.objects.visible_to(user).get(pk=student_id)
    measure = (
        AssessmentSkill.objects.visible_to(user)
        .select_related("skill")
        .get(
            assessment_id=assessment_id,
            assessment__unit_id=classroom_unit.unit_id,
            skill__code=skill_code,
        )
    )
    changes = [
        HistoryRow(
            changed_at=change.changed_at,
            changed_by=str(change.changed_by) if change.changed_by else "someone no longer here",
            old=CellValue(status=change.old_status, points=change.old_points).shown,
            new=CellValue(status=change.new_status, points=change.new_points).shown,
            version=change.version,
            reason=change.reason,
        )
        for change in ScoreChange.objects.visible_to(user)
        .filter(classroom_unit=classroom_unit, student=student, assessment_skill=measure)
        .select_related("changed_by")
        .order_by("-changed_at", "-pk")
    ]
    score = (
        Score.objects.visible_to(user)
        .filter(classroom_unit=classroom_unit, student=student, assessment_skill=measure)
        .select_related("entered_by")
        .first()
    )
    return CellHistory(student=student, skill_code=measure.skill.code, changes=changes, score=score)
