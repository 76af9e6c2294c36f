"""One rule for a valid cell: the server's parse_cell, the API and the CSV upload answer every
case of tests/cases/score_cells.json the same way (the grid runs the same table in
tests/browser/test_score_cells_browser.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from assessments import score_csv
from assessments.cells import parse_cell
from assessments.models import Score
from tests import factories
from tests.cases import score_cell_cases

CASES = score_cell_cases()
# The checkpoint's skill A has max 4: the API and the CSV upload run the cases written for it.
CASES_AT_MAX_4 = [case for case in CASES if case["max"] == "4" and case["typed"].strip()]


def _case_id(case: dict) -> str:
    return case.get("note") or repr(case["typed"])


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_parse_cell_answers_each_case_of_the_shared_table(case):
    if "error" in case:
        with pytest.raises(ValueError) as refused:
            parse_cell(case["typed"], Decimal(case["max"]))
        assert str(refused.value) == case["error"]
    else:
        assert parse_cell(case["typed"], Decimal(case["max"])).shown == case["value"]


@pytest.fixture
def checkpoint(world):
    classroom_unit = world.classroom_units["a1"]
    assessment = classroom_unit.unit.assessments.get(title="Check week 3")
    assert assessment.assessment_skills.get(skill__code="A").max_points == 4
    return classroom_unit, assessment


@pytest.mark.django_db
def test_the_api_answers_each_case_with_the_same_value_or_message_never_a_500(world, checkpoint):
    classroom_unit, assessment = checkpoint
    student = world.students["a1"]
    client = APIClient()
    client.force_authenticate(world.users["teacher_a1"])
    url = f"/api/classroom-units/{classroom_unit.pk}/assessments/{assessment.pk}/scores/"
    for case in CASES_AT_MAX_4:
        current = Score.objects.filter(
            student=student,
            classroom_unit=classroom_unit,
            assessment_skill__assessment=assessment,
            assessment_skill__skill__code="A",
        ).first()
        version = current.version if current else None
        row = {"student": student.pk, "skill": "A", "value": case["typed"], "version": version}
        response = client.post(url, {"scores": [row]}, format="json")
        body = response.json()
        if "error" in case:
            assert response.status_code == 400, (case, body)
            assert body["problems"][0]["message"] == case["error"]
        else:
            assert response.status_code == 200, (case, body)
            assert body["saved"][0]["value"] == case["value"]


@pytest.mark.django_db
def test_the_csv_upload_answers_each_case_with_the_same_value_or_message(world, checkpoint):
    classroom_unit, assessment = checkpoint
    student = factories.EnrollmentFactory(
        classroom=world.classrooms["a1"], student__sis_id="7001", student__family_name="Abel"
    ).student
    for case in CASES_AT_MAX_4:
        typed = case["typed"].replace('"', '""')
        data = f'sis_id,family_name,A\n{student.sis_id},Abel,"{typed}"\n'.encode()
        preview = score_csv.score_csv_preview(
            actor=world.users["teacher_a1"],
            classroom_unit=classroom_unit,
            assessment=assessment,
            data=data,
        )
        assert not preview.problems, (case, preview.problems)
        (row,) = [row for row in preview.rows if row.sis_id == student.sis_id]
        (cell,) = row.cells
        if "error" in case:
            assert cell.message == case["error"], case
        else:
            assert cell.new == case["value"], case
