"""Scoped querysets for stored growth rows.

Student rows and classroom-unit summaries are seen through their classroom; a school × unit
roll-up by whoever may see the school; a district × unit roll-up only by the district's admins,
since it combines every school.
"""

from __future__ import annotations

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


class SchoolUnitGrowthSummaryQuerySet(ScopedQuerySet):
    scope_level = "school"
    scope_path = "school"


class DistrictUnitGrowthSummaryQuerySet(ScopedQuerySet):
    scope_level = "district_admin"
    scope_path = "district"
