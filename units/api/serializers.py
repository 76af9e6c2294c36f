"""Unit plans in and out. Input shapes are checked here; the plan rules live in units.services."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from classrooms.models import AcademicYear, Classroom, District, GradeLevel
from units.models import (
    MAX_UNIT_WEEKS,
    REFLECTION_MAX_LENGTH,
    AssessmentKind,
    ClassroomUnit,
    Unit,
)
from units.services import AssessmentSpec, MeasureSpec, PlanSpec, SkillSpec


class MeasureOutputSerializer(serializers.Serializer):
    skill_code = serializers.CharField(source="skill.code")
    max_points = serializers.DecimalField(max_digits=6, decimal_places=2)


class AssessmentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    week = serializers.IntegerField()
    title = serializers.CharField()
    measures = MeasureOutputSerializer(many=True, source="assessment_skills.all")


class SkillOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    description = serializers.CharField()


class UnitOutputSerializer(serializers.ModelSerializer):
    skills = SkillOutputSerializer(many=True)
    assessments = AssessmentOutputSerializer(many=True)

    class Meta:
        model = Unit
        fields = [
            "id",
            "district",
            "lineage",
            "version",
            "title",
            "subject",
            "grade_level",
            "weeks",
            "skills",
            "assessments",
        ]


class MeasureInputSerializer(serializers.Serializer):
    skill_code = serializers.CharField(max_length=40)
    max_points = serializers.DecimalField(max_digits=6, decimal_places=2)


class AssessmentInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="Keep an existing assessment.")
    kind = serializers.ChoiceField(choices=AssessmentKind.choices)
    week = serializers.IntegerField(min_value=1, max_value=MAX_UNIT_WEEKS)
    title = serializers.CharField(max_length=200)
    measures = MeasureInputSerializer(many=True)


class SkillInputSerializer(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="Keep (or rename) an existing skill.")
    code = serializers.CharField(max_length=40)
    description = serializers.CharField(max_length=300, required=False, allow_blank=True)


class UnitInputSerializer(serializers.Serializer):
    district = serializers.PrimaryKeyRelatedField(
        queryset=District.objects.none(),
        required=False,
        help_text="Only for platform operators; a district admin's units go to their district.",
    )
    title = serializers.CharField(max_length=200)
    subject = serializers.CharField(max_length=80)
    grade_level = serializers.ChoiceField(choices=GradeLevel.choices)
    weeks = serializers.IntegerField(min_value=2, max_value=MAX_UNIT_WEEKS)
    is_shared = serializers.BooleanField(
        required=False,
        default=False,
        help_text="A new unit shared by the district with every teacher (district admins only).",
    )
    skills = SkillInputSerializer(many=True)
    assessments = AssessmentInputSerializer(many=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            visible = District.objects.visible_to(request.user)
            self.fields["district"].queryset = visible  # type: ignore[attr-defined]

    def plan(self) -> PlanSpec:
        data = self.validated_data
        return PlanSpec(
            weeks=data["weeks"],
            skills=tuple(
                SkillSpec(code=s["code"], description=s.get("description", ""), id=s.get("id"))
                for s in data["skills"]
            ),
            assessments=tuple(
                AssessmentSpec(
                    kind=a["kind"],
                    week=a["week"],
                    title=a["title"],
                    measures=tuple(
                        MeasureSpec(skill_code=m["skill_code"], max_points=m["max_points"])
                        for m in a["measures"]
                    ),
                    id=a.get("id"),
                )
                for a in data["assessments"]
            ),
        )


class ClassroomUnitOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClassroomUnit
        fields = ["id", "classroom", "unit", "start_date", "reflection"]


class ClassroomUnitInputSerializer(serializers.Serializer):
    classroom = serializers.PrimaryKeyRelatedField(queryset=Classroom.objects.none())
    unit = serializers.PrimaryKeyRelatedField(queryset=Unit.objects.none())
    start_date = serializers.DateField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            classrooms = Classroom.objects.visible_to(request.user)
            self.fields["classroom"].queryset = classrooms  # type: ignore[attr-defined]
            self.fields["unit"].queryset = Unit.objects.visible_to(request.user)  # type: ignore[attr-defined]


class UnitVersionOutputSerializer(serializers.ModelSerializer):
    """A unit version with who wrote it and how it is shared."""

    author = serializers.IntegerField(source="lineage.author_id", allow_null=True)
    is_shared = serializers.BooleanField(source="lineage.is_shared")
    is_shared_in_school = serializers.BooleanField(source="lineage.is_shared_in_school")
    academic_year = serializers.IntegerField(source="lineage.academic_year_id", allow_null=True)
    copied_from = serializers.IntegerField(source="lineage.copied_from_id", allow_null=True)
    carried_reflections = serializers.CharField(source="lineage.carried_reflections")

    class Meta:
        model = Unit
        fields = [
            "id",
            "lineage",
            "version",
            "title",
            "author",
            "is_shared",
            "is_shared_in_school",
            "academic_year",
            "copied_from",
            "carried_reflections",
        ]


class UnitCopyInputSerializer(serializers.Serializer):
    academic_year = serializers.PrimaryKeyRelatedField(
        queryset=AcademicYear.objects.none(), required=False, allow_null=True
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            years = AcademicYear.objects.visible_to(request.user)
            self.fields["academic_year"].queryset = years  # type: ignore[attr-defined]


class UnitShareInputSerializer(serializers.Serializer):
    audience = serializers.ChoiceField(choices=["district", "school"])
    shared = serializers.BooleanField()


@extend_schema_field(OpenApiTypes.INT)
class VisibleClassroomField(serializers.PrimaryKeyRelatedField):
    """A classroom the caller may see (read when the request is known: nested in a list, a
    serializer's __init__ runs before it has its context)."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        if request is None:
            return Classroom.objects.none()
        return Classroom.objects.visible_to(request.user)


class SectionStartInputSerializer(serializers.Serializer):
    classroom = VisibleClassroomField()
    start_date = serializers.DateField()


class UnitStartInputSerializer(serializers.Serializer):
    sections = SectionStartInputSerializer(many=True, allow_empty=False)


class ReflectionInputSerializer(serializers.Serializer):
    reflection = serializers.CharField(allow_blank=True, max_length=REFLECTION_MAX_LENGTH)


class RolloverInputSerializer(serializers.Serializer):
    from_year = serializers.PrimaryKeyRelatedField(queryset=AcademicYear.objects.none())
    to_year = serializers.PrimaryKeyRelatedField(queryset=AcademicYear.objects.none())
    dry_run = serializers.BooleanField(default=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            years = AcademicYear.objects.visible_to(request.user)
            self.fields["from_year"].queryset = years  # type: ignore[attr-defined]
            self.fields["to_year"].queryset = years  # type: ignore[attr-defined]


class RolloverLineOutputSerializer(serializers.Serializer):
    title = serializers.CharField()
    source_id = serializers.IntegerField(help_text="The lineage rolled over.")
    is_new = serializers.BooleanField(help_text="False: already in the new year.")
