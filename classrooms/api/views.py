"""Read-only API over set-up data; every list and lookup is scoped by classrooms.access."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins

from classrooms.api import serializers
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)
from classrooms.scoped_views import ScopedViewSet


class ReadOnlyScopedViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    pass


class DistrictViewSet(ReadOnlyScopedViewSet):
    model = District
    serializer_class = serializers.DistrictOutputSerializer


class SchoolViewSet(ReadOnlyScopedViewSet):
    model = School
    serializer_class = serializers.SchoolOutputSerializer


class AcademicYearViewSet(ReadOnlyScopedViewSet):
    model = AcademicYear
    serializer_class = serializers.AcademicYearOutputSerializer


class TermViewSet(ReadOnlyScopedViewSet):
    model = Term
    serializer_class = serializers.TermOutputSerializer


class ClassroomViewSet(ReadOnlyScopedViewSet):
    model = Classroom
    serializer_class = serializers.ClassroomOutputSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("teachers")


class StudentGroupViewSet(ReadOnlyScopedViewSet):
    model = StudentGroup
    serializer_class = serializers.StudentGroupOutputSerializer


class StudentViewSet(ReadOnlyScopedViewSet):
    model = Student
    serializer_class = serializers.StudentOutputSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.prefetch_related("groups")


class EnrollmentViewSet(ReadOnlyScopedViewSet):
    model = Enrollment
    serializer_class = serializers.EnrollmentOutputSerializer


class UserViewSet(ReadOnlyScopedViewSet):
    model = User
    serializer_class = serializers.UserOutputSerializer
