"""Reads of people and classrooms, already scoped: a classroom's roster, the student search.

The home page (which shows a teacher's assessment calendars) reads in assessments/selectors.py.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from classrooms.models import Classroom, District, Enrollment, Student


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
