from __future__ import annotations

from rest_framework import serializers

from assessments.models import Score

# The largest id a row can have (a 64-bit primary key): a bigger number names no student, and the
# database would refuse to compare with it instead of finding nothing.
MAX_ID = 2**63 - 1


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


class ScoreEntryInputSerializer(serializers.Serializer):
    student = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Student id.")
    skill = serializers.CharField(max_length=40, help_text="Skill code the assessment measures.")
    value = serializers.CharField(
        allow_blank=True,
        max_length=20,
        help_text="Points (0..max, at most 2 decimals), A (absent), X (exempt) or empty to clear.",
    )
    version = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="The version the value was based on; null or absent for an empty cell.",
    )


class ScoreBulkInputSerializer(serializers.Serializer):
    scores = serializers.ListField(
        child=ScoreEntryInputSerializer(), allow_empty=False, min_length=1, max_length=5000
    )


class SavedCellOutputSerializer(serializers.Serializer):
    student = serializers.IntegerField(source="student_id")
    skill = serializers.CharField(source="skill_code")
    value = serializers.CharField()
    version = serializers.IntegerField(allow_null=True)


class ScoreProblemOutputSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position in the request's scores list.")
    student = serializers.IntegerField(source="student_id")
    skill = serializers.CharField(source="skill_code")
    message = serializers.CharField()
    is_conflict = serializers.BooleanField()
    current = serializers.CharField(help_text="For a conflict: the value saved meanwhile.")
    current_version = serializers.IntegerField(allow_null=True)
    current_by = serializers.CharField(help_text="For a conflict: who saved it.")


class ScoreBulkOutputSerializer(serializers.Serializer):
    applied = serializers.BooleanField(source="is_applied")
    saved = SavedCellOutputSerializer(many=True)
    problems = ScoreProblemOutputSerializer(many=True)
