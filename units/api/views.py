"""Units and classroom units over the API. Writes go through units.services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classrooms import access
from classrooms.models import District
from classrooms.scoped_views import ScopedViewSet
from units import library, services
from units.api.serializers import (
    ClassroomUnitInputSerializer,
    ClassroomUnitOutputSerializer,
    ReflectionInputSerializer,
    RolloverInputSerializer,
    RolloverLineOutputSerializer,
    UnitCopyInputSerializer,
    UnitInputSerializer,
    UnitOutputSerializer,
    UnitShareInputSerializer,
    UnitStartInputSerializer,
    UnitVersionOutputSerializer,
)
from units.models import ClassroomUnit, Unit, UnitLineage


class UnitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Unit versions in the caller's library with their skills and assessment plan. District
    admins, and teachers when the district allows it, write units; a teacher changes only the
    units they wrote. A plan that breaks the thin-slice rules is refused with reasons; changing
    a plan under which a class has scores answers with the new version (``version`` + 1)."""

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
        saved = services.unit_plan_save(
            actor=request.user,
            unit=unit,
            plan=serializer.plan(),
            share=bool(data.get("is_shared")) and unit.pk is None,
        )
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


def _library_unit(request: Request, unit_id: int) -> Unit:
    library = UnitLineage.objects.visible_to(request.user)
    return get_object_or_404(
        Unit.objects.filter(lineage__in=library).select_related("lineage"), pk=unit_id
    )


class UnitCopyView(APIView):
    """ "Use again": copy the unit's latest version into the caller's own units, with the
    reflections left on it; optionally planned for a school year."""

    @extend_schema(request=UnitCopyInputSerializer, responses={201: UnitVersionOutputSerializer})
    def post(self, request: Request, unit_id: int) -> Response:
        unit = services.unit_latest_version(_library_unit(request, unit_id))
        serializer = UnitCopyInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        copy = library.unit_copy(
            actor=request.user,
            unit=unit,
            academic_year=serializer.validated_data.get("academic_year"),
        )
        return Response(UnitVersionOutputSerializer(copy).data, status=status.HTTP_201_CREATED)


class UnitShareView(APIView):
    """Share a unit with every teacher of the district (district admins) or with the schools
    of its author (the author), or stop sharing it."""

    @extend_schema(request=UnitShareInputSerializer, responses={200: UnitVersionOutputSerializer})
    def post(self, request: Request, unit_id: int) -> Response:
        unit = _library_unit(request, unit_id)
        serializer = UnitShareInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        library.unit_share(actor=request.user, unit=unit, **serializer.validated_data)
        latest = services.unit_latest_version(unit)
        return Response(UnitVersionOutputSerializer(latest).data)


class UnitStartView(APIView):
    """Start the unit's latest version in one or several sections, each from its own date:
    all or nothing, every section's problem listed."""

    @extend_schema(
        request=UnitStartInputSerializer, responses={201: ClassroomUnitOutputSerializer(many=True)}
    )
    def post(self, request: Request, unit_id: int) -> Response:
        unit = _library_unit(request, unit_id)
        serializer = UnitStartInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        started = services.classroom_units_start(
            actor=request.user,
            unit=unit,
            starts=[
                services.SectionStart(**section)
                for section in serializer.validated_data["sections"]
            ],
        )
        output = ClassroomUnitOutputSerializer(started, many=True)
        return Response(output.data, status=status.HTTP_201_CREATED)


class ClassroomUnitReflectionView(APIView):
    """The teacher's one-line reflection on a class's unit (empty clears it)."""

    @extend_schema(
        request=ReflectionInputSerializer, responses={200: ClassroomUnitOutputSerializer}
    )
    def post(self, request: Request, classroom_unit_id: int) -> Response:
        classroom_unit = get_object_or_404(
            ClassroomUnit.objects.visible_to(request.user).select_related("classroom"),
            pk=classroom_unit_id,
        )
        serializer = ReflectionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = library.classroom_unit_reflect(
            actor=request.user,
            classroom_unit=classroom_unit,
            reflection=serializer.validated_data["reflection"],
        )
        return Response(ClassroomUnitOutputSerializer(saved).data)


class UnitRolloverView(APIView):
    """A district admin copies the district's shared units of one school year into another
    (``dry_run``, the default, lists what would be created and writes nothing)."""

    @extend_schema(
        request=RolloverInputSerializer, responses={200: RolloverLineOutputSerializer(many=True)}
    )
    def post(self, request: Request) -> Response:
        user: Any = request.user
        district = District.objects.visible_to(user).filter(pk=user.district_id)
        found = district.first()
        if found is None:
            raise PermissionDenied(access.refusal_reason("manage_district"))
        serializer = RolloverInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        lines = library.units_roll_over(
            actor=request.user, district=found, **serializer.validated_data
        )
        return Response(RolloverLineOutputSerializer(lines, many=True).data)
