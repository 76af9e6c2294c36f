from __future__ import annotations

import re
from typing import Any

from rest_framework import serializers

from assessments.models import Score
from assessments.services import SaveResult, ScoreEntry

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
    reason = serializers.CharField(
        allow_blank=True,
        required=False,
        max_length=200,
        help_text="Why the value changed (optional, never required): kept in the cell's history.",
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


# A class's save is the hottest request of the product: validating 75 rows with the nested
# serializers above costs about 2 ms of CPU, as much as a whole small request. The two functions
# below read and write exactly the shapes (and error messages) those serializers document, by
# hand; tests/assessments/test_score_api.py checks that both agree on valid and invalid bodies.
_MAX_ROWS = 5000
_STRING_LIMITS = {"skill": 40, "value": 20, "reason": 200}
# What DRF's CharField refuses besides length: null and surrogate characters.
_REFUSED_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


def score_entries_parse(data: Any) -> list[ScoreEntry]:
    """The rows of a bulk-save body as ScoreEntry, or ValidationError shaped like
    ``ScoreBulkInputSerializer``'s."""
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {_type(data)}."]}
        )
    if "scores" not in data:
        raise serializers.ValidationError({"scores": ["This field is required."]})
    rows = data["scores"]
    if not isinstance(rows, list):
        raise serializers.ValidationError(
            {"scores": [f'Expected a list of items but got type "{_type(rows)}".']}
        )
    if not rows:
        raise serializers.ValidationError({"scores": ["This list may not be empty."]})
    if len(rows) > _MAX_ROWS:
        raise serializers.ValidationError(
            {"scores": [f"Ensure this field has no more than {_MAX_ROWS} elements."]}
        )
    entries: list[ScoreEntry] = []
    errors: dict[str, dict[str, list[str]] | list[str]] = {}
    for index, row in enumerate(rows):
        entry, row_errors = _entry_parse(row)
        if row_errors:
            errors[str(index)] = row_errors
        elif entry is not None:
            entries.append(entry)
    if errors:
        raise serializers.ValidationError({"scores": errors})
    return entries


def _entry_parse(row: Any) -> tuple[ScoreEntry | None, dict[str, list[str]] | list[str]]:
    if row is None:
        return None, ["This field may not be null."]
    if not isinstance(row, dict):
        message = f"Invalid data. Expected a dictionary, but got {_type(row)}."
        return None, {"non_field_errors": [message]}
    errors: dict[str, list[str]] = {}
    student = _integer(row, "student", errors, required=True, bounds=(1, MAX_ID))
    skill = _string(row, "skill", errors, allow_blank=False)
    value = _string(row, "value", errors, allow_blank=True)
    version = _integer(row, "version", errors, required=False)
    reason = _string(row, "reason", errors, allow_blank=True) if "reason" in row else ""
    if errors or student is None or skill is None or value is None or reason is None:
        return None, errors
    return ScoreEntry(student, skill, value, version, reason), errors


def _integer(
    row: dict,
    name: str,
    errors: dict[str, list[str]],
    *,
    required: bool,
    bounds: tuple[int, int] | None = None,
) -> int | None:
    if name not in row:
        if required:
            errors[name] = ["This field is required."]
        return None
    raw = row[name]
    if raw is None:
        if required:
            errors[name] = ["This field may not be null."]
        return None
    if isinstance(raw, bool):
        errors[name] = ["A valid integer is required."]
        return None
    if isinstance(raw, int):
        number = raw
    else:
        try:
            number = serializers.IntegerField().to_internal_value(raw)  # "12", 12.0: DRF's rules
        except serializers.ValidationError as invalid:
            errors[name] = [str(message) for message in invalid.detail]
            return None
    if bounds is not None and number < bounds[0]:
        errors[name] = [f"Ensure this value is greater than or equal to {bounds[0]}."]
        return None
    if bounds is not None and number > bounds[1]:
        errors[name] = [f"Ensure this value is less than or equal to {bounds[1]}."]
        return None
    return number


def _string(row: dict, name: str, errors: dict[str, list[str]], *, allow_blank: bool) -> str | None:
    if name not in row:
        errors[name] = ["This field is required."]
        return None
    raw = row[name]
    if raw is None:
        errors[name] = ["This field may not be null."]
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        errors[name] = ["Not a valid string."]
        return None
    text = str(raw).strip()
    if not text and not allow_blank:
        errors[name] = ["This field may not be blank."]
        return None
    limit = _STRING_LIMITS[name]
    if len(text) > limit or _REFUSED_CHARACTERS.search(text):
        # Rare: DRF's own field says everything that is wrong, in its words.
        field = serializers.CharField(max_length=limit, allow_blank=allow_blank)
        try:
            field.run_validation(raw)
        except serializers.ValidationError as invalid:
            errors[name] = [str(message) for message in invalid.detail]
        return None
    return text


def _type(value: Any) -> str:
    return type(value).__name__


def score_bulk_output(result: SaveResult) -> dict[str, Any]:
    """``ScoreBulkOutputSerializer(result).data``, built directly."""
    return {
        "applied": result.is_applied,
        "saved": [
            {
                "student": cell["student_id"],
                "skill": cell["skill_code"],
                "value": cell["value"],
                "version": cell["version"],
            }
            for cell in result.saved
        ],
        "problems": [
            {
                "index": problem.index,
                "student": problem.student_id,
                "skill": problem.skill_code,
                "message": problem.message,
                "is_conflict": problem.is_conflict,
                "current": problem.current,
                "current_version": problem.current_version,
                "current_by": problem.current_by,
            }
            for problem in result.problems
        ],
    }


class ChangedCellOutputSerializer(serializers.Serializer):
    student = serializers.IntegerField(source="student_id")
    skill = serializers.CharField(source="skill_code")
    value = serializers.CharField(help_text='As the grid shows it: "3.5", "A", "X"; "" cleared.')
    version = serializers.IntegerField(allow_null=True)
    by = serializers.CharField(source="changed_by", help_text="Who changed it last.")
    mine = serializers.BooleanField(source="is_mine", help_text="Changed by the asking user.")


class GridChangesOutputSerializer(serializers.Serializer):
    cursor = serializers.IntegerField(help_text="Ask with ?since=<cursor> next time.")
    changes = ChangedCellOutputSerializer(source="cells", many=True)


class ClassroomUnitVersionOutputSerializer(serializers.Serializer):
    """A class and the unit version it follows."""

    id = serializers.IntegerField()
    classroom = serializers.IntegerField(source="classroom_id")
    unit = serializers.IntegerField(source="unit_id")
    version = serializers.IntegerField(source="unit.version")
    start_date = serializers.DateField()
