"""Output serializers for districts, schools, terms, classrooms and rosters (read-only)."""

from __future__ import annotations

from rest_framework import serializers

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


class DistrictOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = District
        fields = [
            "id",
            "name",
            "formative_cap",
            "minimum_n",
            "growth_target",
            "developing_cut",
            "proficiency_cut",
            "retention_years",
        ]


class SchoolOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = School
        fields = ["id", "district", "name", "code"]


class AcademicYearOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AcademicYear
        fields = ["id", "district", "name", "start_date", "end_date"]


class TermOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Term
        fields = ["id", "academic_year", "name", "start_date", "end_date"]


class ClassroomOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Classroom
        fields = ["id", "school", "term", "name", "subject", "grade_level", "teachers"]


class StudentGroupOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = StudentGroup
        fields = ["id", "district", "name"]


class StudentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Student
        fields = [
            "id",
            "district",
            "sis_id",
            "given_name",
            "family_name",
            "grade_level",
            "groups",
            "is_active",
        ]


class EnrollmentOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Enrollment
        fields = ["id", "student", "classroom", "start_date", "end_date"]


class UserOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "district", "is_district_admin"]
