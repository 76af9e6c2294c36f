"""Scoped querysets: scores and their history are seen through their classroom."""

from __future__ import annotations

from classrooms.querysets import ScopedQuerySet


class ScoreQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"


class ScoreChangeQuerySet(ScopedQuerySet):
    scope_level = "classroom"
    scope_path = "classroom_unit__classroom"
