"""Scores over the API (read). Filter by classroom unit with ?classroom_unit=<id>."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins

from assessments.api.serializers import ScoreOutputSerializer
from assessments.models import Score
from classrooms.scoped_views import ScopedViewSet


class ScoreViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    model = Score
    serializer_class = ScoreOutputSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        classroom_unit = self.request.query_params.get("classroom_unit", "")
        if classroom_unit.isdigit():
            queryset = queryset.filter(classroom_unit_id=int(classroom_unit))
        return queryset.select_related("assessment_skill__skill")
