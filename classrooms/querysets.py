"""Querysets that every view, API, admin page, export and task starts from.

Each tenant-owned model's queryset subclasses ScopedQuerySet and names how its rows reach the
scope that access.py understands. ``visible_to(user)`` is the only way rows reach a user.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Literal, Self

from django.db import models
from django.db.models import Q

from classrooms import access

ScopeLevel = Literal[
    "classroom",
    "school",
    "district",
    "district_admin",
    "student",
    "user",
    "unit_library",
    "platform",
]

_SCOPE_FUNCTIONS: dict[str, Callable[[Any, str], Q]] = {
    "classroom": access.classroom_q,
    "school": access.school_q,
    "district": access.district_q,
    "district_admin": access.district_admin_q,
    "student": access.student_q,
    "user": lambda user, _path: access.user_q(user),
    "unit_library": access.unit_library_q,
    "platform": lambda user, _path: access.platform_q(user),
}


class ScopedQuerySet(models.QuerySet):
    """A queryset that knows its path to the tenancy scope.

    ``scope_level`` says which rule of access.py applies, ``scope_path`` how the row reaches it
    (e.g. ``classroom_unit__classroom`` for a score).
    """

    scope_level: ClassVar[ScopeLevel]
    scope_path: ClassVar[str]

    def visible_to(self, user: Any) -> Self:
        return self.filter(_SCOPE_FUNCTIONS[self.scope_level](user, self.scope_path))

    def all_schools(self) -> Self:
        """Every row of every tenant; callers say why in a ``# cross-tenant:`` comment."""
        return self.all()


class DistrictQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "pk"


class SchoolQuerySet(ScopedQuerySet):
    scope_level = "school"
    scope_path = "pk"


class AcademicYearQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "district"


class TermQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "academic_year__district"


class ClassroomQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "pk"


class StudentGroupQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "district"


class StudentQuerySet(ScopedQuerySet):
    scope_level = "student"
    scope_path = ""

    def active(self) -> Self:
        return self.filter(is_active=True)


class EnrollmentQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom"

    def current_on(self, day: Any) -> Self:
        """Enrollments running on ``day`` (an open end date means still enrolled)."""
        return self.filter(Q(end_date__isnull=True) | Q(end_date__gte=day), start_date__lte=day)


class UserQuerySet(ScopedQuerySet):
    scope_level = "user"
    scope_path = ""


class SignInProviderQuerySet(ScopedQuerySet):
    """A district's single sign-on set-up: its admins only (it holds the client secret)."""

    scope_level = "district_admin"
    scope_path = "district"


class AuditEventQuerySet(ScopedQuerySet):
    """Audit events: only a district's admins see them; nobody changes or deletes them."""

    scope_level = "district_admin"
    scope_path = "district"

    def update(self, **kwargs: Any) -> int:
        raise TypeError("Audit events are never changed once written.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("Audit events are never deleted.")


class SignInFailureQuerySet(ScopedQuerySet):
    """Wrong passwords kept a few minutes against spraying: the platform's operators only."""

    scope_level = "platform"
    scope_path = ""


class RosterImportChangeQuerySet(ScopedQuerySet):
    """What an applied roster import changed: its district's admins only, like the import."""

    scope_level = "district_admin"
    scope_path = "roster_import__district"


class RosterImportQuerySet(ScopedQuerySet):
    """Applied roster imports: only a district's admins see (and may roll back) them."""

    scope_level = "district_admin"
    scope_path = "district"
