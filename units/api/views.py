"""Units and classroom units over the API. Writes go through units.services."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response

from classrooms.scoped_views import ScopedViewSet
from units import services
from units.api.serializers import (
    ClassroomUnitInputSerializer,
    ClassroomUnitOutputSerializer,
    UnitInputSerializer,
    UnitOutputSerializer,
)
from units.models import ClassroomUnit, Unit


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Units with their skills and assessment plan. District admins create and change them;
    a plan that breaks the thin-slice rules or strands entered scores is refused with reasons."""

    model = Unit
    serializer_class = UnitOutputSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("skills", "assessments__assessment_skills__skill")

    @extend_schema(request=UnitInputSerializer, responses={201: UnitOutputSerializer})
    def create(self, request: Request) -> Response:
        return self._save(request, Unit(), status.HTTP_201_CREATED)

    @extend_schema(request=UnitInputSerializer, responses={200: UnitOutputSerializer})
    def update(self, request: Request, pk: str | None = None) -> Response:
        return self._save(request, self.get_object(), status.HTTP_200_OK)

    def _save(self, request: Request, unit: Unit, success_status: int) -> Response:
        serializer = UnitInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if unit.pk is None:
            chosen = data.get("district")
            unit.district_id = chosen.pk if chosen else request.user.district_id
        for field in ("title", "subject", "grade_level"):
            setattr(unit, field, data[field])
        saved = services.unit_plan_save(actor=request.user, unit=unit, plan=serializer.plan())
        output = UnitOutputSerializer(self.scope_queryset(Unit.objects.filter(pk=saved.pk)).get())
        return Response(output.data, status=success_status)


class ClassroomUnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Units taught in classrooms. A classroom's teacher or a district admin starts one."""

    model = ClassroomUnit
    serializer_class = ClassroomUnitOutputSerializer

    @extend_schema(
        request=ClassroomUnitInputSerializer, responses={201: ClassroomUnitOutputSerializer}
    )
    def create(self, request: Request) -> Response:
        serializer = ClassroomUnitInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        classroom_unit = services.classroom_unit_start(
            actor=request.user, **serializer.validated_data
        )
        return Response(
            ClassroomUnitOutputSerializer(classroom_unit).data, status=status.HTTP_201_CREATED
        )
