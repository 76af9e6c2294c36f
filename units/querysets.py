"""Scoped querysets for units and their plans (district-wide) and classroom units (per class)."""

from __future__ import annotations

from classrooms.querysets import ScopedQuerySet


class UnitLineageQuerySet(ScopedQuerySet):
    """Units in a person's library: what access.unit_library_q lets them start, copy or read."""

    scope_level = "unit_library"
    scope_path = ""


class UnitQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "district"


class SkillQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "unit__district"


class AssessmentQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "unit__district"


class AssessmentSkillQuerySet(ScopedQuerySet):
    scope_level = "district"
    scope_path = "assessment__unit__district"


class ClassroomUnitQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom"
