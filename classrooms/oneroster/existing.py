"""The district's roster as it is before an import, read once per plan."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from django.db import models

from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    Term,
    User,
)


class Existing:
    """The district's rows as they are, indexed by sourcedId and by their natural keys."""

    def __init__(self, district: District) -> None:
        self.district = district
        schools = list(School.objects.filter(district=district))
        years = list(AcademicYear.objects.filter(district=district))
        terms = list(Term.objects.filter(academic_year__district=district))
        classrooms = list(
            Classroom.objects.filter(school__district=district).select_related("term")
        )
        students = list(Student.objects.filter(district=district))
        teachers = list(User.objects.filter(district=district).exclude(sourced_id=""))
        enrollments = list(
            Enrollment.objects.filter(classroom__school__district=district).only(
                "pk", "student_id", "classroom_id", "start_date", "end_date", "sourced_id"
            )
        )
        self.by_sourced_id: dict[str, dict[str, Any]] = {
            "schools": _by_sourced_id(schools),
            "academic_years": _by_sourced_id(years),
            "terms": _by_sourced_id(terms),
            "classrooms": _by_sourced_id(classrooms),
            "students": _by_sourced_id(students),
            "teachers": _by_sourced_id(teachers),
            "enrollments": _by_sourced_id(enrollments),
        }
        self.schools_by_code = {school.code.lower(): school for school in schools}
        self.schools_by_name = {school.name.lower(): school for school in schools}
        self.years_by_name = {year.name.lower(): year for year in years}
        # A school year is the same year whatever it is called ("2026-2027", "2026–27").
        self.years_by_dates = {(year.start_date, year.end_date): year for year in years}
        self.terms_by_year_dates: dict[tuple[int | None, Any, Any], Term] = {}
        for term in terms:
            self.terms_by_year_dates.setdefault(
                (term.academic_year_id, term.start_date, term.end_date), term
            )
        self.terms_by_year_name: dict[tuple[int | None, str], Term] = {
            (term.academic_year_id, term.name.lower()): term for term in terms
        }
        self.classrooms_by_key = {
            (room.school_id, room.term_id, room.name.lower()): room for room in classrooms
        }
        self.students_by_sis_id = {student.sis_id: student for student in students}
        self.enrollments_by_key = {
            (row.student_id, row.classroom_id, row.start_date): row for row in enrollments
        }
        self.users_by_username: dict[str, User] = {}
        self.assignments: dict[tuple[str, str], int] = {}
        self.classroom_sourced_ids = {room.pk: room.sourced_id for room in classrooms}
        self.student_sourced_ids = {student.pk: student.sourced_id for student in students}
        teacher_sourced_ids = {user.pk: user.sourced_id for user in teachers}
        through = Classroom.teachers.through
        for pk, classroom_id, user_id in through._default_manager.filter(
            classroom__school__district=district, user__district=district
        ).values_list("pk", "classroom_id", "user_id"):
            classroom_sid = self.classroom_sourced_ids.get(classroom_id, "")
            user_sid = teacher_sourced_ids.get(user_id, "")
            if classroom_sid and user_sid:
                self.assignments[(classroom_sid, user_sid)] = pk

    def load_usernames(self, usernames: Iterable[str]) -> None:
        """This district's accounts with these usernames: a username is unique within a
        district only, and an import never learns which usernames another district has."""
        wanted = [name for name in usernames if name]
        for user in User.objects.filter(district=self.district, username__in=wanted):
            self.users_by_username[user.username] = user


def _by_sourced_id(rows: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for row in rows:
        if row.sourced_id:
            found.setdefault(row.sourced_id, row)
    return found


# Fields that change without the roster changing (a teacher signing in).
_NOT_ROSTER_FIELDS = {"last_login", "password"}


def roster_fingerprint(district: District) -> str:
    """A digest of every roster row of the district (and its recorded OneRoster district org):
    a plan made against one fingerprint is applied only while the roster still has it."""
    through = Classroom.teachers.through
    querysets: list[models.QuerySet[Any]] = [
        District.objects.filter(pk=district.pk),
        School.objects.filter(district=district),
        AcademicYear.objects.filter(district=district),
        Term.objects.filter(academic_year__district=district),
        Classroom.objects.filter(school__district=district),
        Student.objects.filter(district=district),
        User.objects.filter(district=district),
        Enrollment.objects.filter(classroom__school__district=district),
        through._default_manager.filter(classroom__school__district=district),
    ]
    digest = hashlib.sha256()
    for queryset in querysets:
        fields = [
            field.attname
            for field in queryset.model._meta.concrete_fields
            if field.attname not in _NOT_ROSTER_FIELDS
        ]
        digest.update(queryset.model._meta.label.encode())
        for row in queryset.order_by("pk").values_list(*fields).iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()
