"""Reads for the home pages: what each role works with, already scoped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from assessments.selectors import UnitCalendar, assessment_calendars
from classrooms.models import Classroom, District, Enrollment, School, Student
from units.models import ClassroomUnit


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


def classroom_roster(*, user: Any, classroom_id: int) -> tuple[Classroom, list[Enrollment]]:
    """A visible classroom and its current enrollments, in family-name order."""
    classroom = Classroom.objects.visible_to(user).select_related("school").get(pk=classroom_id)
    enrollments = list(
        Enrollment.objects.visible_to(user)
        .filter(classroom=classroom)
        .current_on(timezone.localdate())
        .select_related("student")
        .order_by("student__family_name", "student__given_name")
    )
    return classroom, enrollments


def student_search(*, user: Any, district: District, query: str, limit: int = 25) -> list[Student]:
    """Students of ``district`` that ``user`` may see whose SIS id is ``query`` or whose name
    contains it (active or not), for the privacy page; nothing for an empty query."""
    text = query.strip()
    if not text:
        return []
    matches = Q(sis_id=text) | Q(family_name__icontains=text) | Q(given_name__icontains=text)
    return list(
        Student.objects.visible_to(user)
        .filter(matches, district_id=district.pk)
        .order_by("family_name", "given_name", "sis_id")[:limit]
    )
