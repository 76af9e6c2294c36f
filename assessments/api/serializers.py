from __future__ import annotations

from rest_framework import serializers

from assessments.models import Score


class ScoreOutputSerializer(serializers.ModelSerializer):
    assessment = serializers.IntegerField(source="assessment_skill.assessment_id")
    skill_code = serializers.CharField(source="assessment_skill.skill.code")
    max_points = serializers.DecimalField(
        source="assessment_skill.max_points", max_digits=6, decimal_places=2
    )

    class Meta:
        model = Score
        fields = [
            "id",
            "classroom_unit",
            "student",
            "assessment",
            "skill_code",
            "max_points",
            "status",
            "points",
            "entered_by",
            "entered_at",
            "version",
        ]
