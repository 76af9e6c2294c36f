"""Scores are read here; they are entered from the score grid, CSV upload or the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from assessments.models import Score
from classrooms.admin_scoping import ScopedAdmin, site


@admin.register(Score, site=site)
class ScoreAdmin(ScopedAdmin):
    list_display = ["student", "assessment_skill", "status", "points", "entered_by", "entered_at"]
    list_select_related = ["student", "assessment_skill__skill", "entered_by"]
    list_filter = ["status"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
