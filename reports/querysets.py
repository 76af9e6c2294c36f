"""Scoped querysets for stored growth rows: seen through their classroom."""

from __future__ import annotations

from classrooms.querysets import ScopedQuerySet


class StudentGrowthQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class GrowthBuildQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"
