"""Scoped querysets for stored growth rows and for export jobs.

Student rows and classroom-unit summaries are seen through their classroom; a school × unit
roll-up by whoever may see the school; a district × unit roll-up only by the district's admins,
since it combines every school. Export jobs: by their requester and the district's admins.
"""

from __future__ import annotations

from typing import Any, Self

from django.db.models import Q

from classrooms import access
from classrooms.querysets import ScopedQuerySet


class StudentGrowthQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class GrowthBuildQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class ClassroomUnitGrowthSummaryQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class ClassroomUnitGrowthCellQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class SchoolUnitGrowthSummaryQuerySet(ScopedQuerySet):
    scope_level = "school"
    scope_path = "school"


class DistrictUnitGrowthSummaryQuerySet(ScopedQuerySet):
    scope_level = "district_admin"
    scope_path = "district"


class ExportJobQuerySet(ScopedQuerySet):
    """Export jobs: a district's admins see all of the district's; anyone else only their own.

    The file a job wrote holds what its requester could see when it ran, so beyond the
    district's admins only the requester (while an active member of the district) reaches it.
    """

    scope_level = "district_admin"
    scope_path = "district"

    def visible_to(self, user: Any) -> Self:
        district_admin_rows = access.district_admin_q(user, "district")
        if not district_admin_rows:  # an empty Q: a platform operator sees every row
            return self.filter(district_admin_rows)
        requested_by_user = access.district_q(user, "district") & Q(requested_by_id=user.pk)
        return self.filter(district_admin_rows | requested_by_user)
