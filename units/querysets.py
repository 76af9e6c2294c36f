"""Scoped querysets for units and their plans (a person's unit library: see
access.unit_library_q) and classroom units (per class)."""

from __future__ import annotations

from classrooms.querysets import ScopedQuerySet


class UnitLineageQuerySet(ScopedQuerySet):
    """Units in a person's library: what access.unit_library_q lets them start, copy or read."""

    scope_level = "unit_library"
    scope_path = ""


class UnitQuerySet(ScopedQuerySet):
    """Unit versions, their skills and plans: whoever has the unit in their library."""

    scope_level = "unit_library"
    scope_path = "lineage"


class SkillQuerySet(ScopedQuerySet):
    scope_level = "unit_library"
    scope_path = "unit__lineage"


class AssessmentQuerySet(ScopedQuerySet):
    scope_level = "unit_library"
    scope_path = "unit__lineage"


class AssessmentSkillQuerySet(ScopedQuerySet):
    scope_level = "unit_library"
    scope_path = "assessment__unit__lineage"


class ClassroomUnitQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom"
