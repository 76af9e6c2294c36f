"""The planner's operations over the API go through the same services and say the same things."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests import factories
from units.models import ClassroomUnit, Unit, UnitLineage

pytestmark = pytest.mark.django_db


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def setting(db: Any) -> dict[str, Any]:
    district = factories.DistrictFactory()
    school = factories.SchoolFactory(district=district)
    teacher = factories.UserFactory(district=district)
    admin = factories.UserFactory(district=district, is_district_admin=True)
    classrooms = []
    for _ in range(2):
        classroom = factories.ClassroomFactory(school=school)
        classroom.teachers.add(teacher)
        classrooms.append(classroom)
    unit = factories.make_unit(district, title="Shared Q")
    return {"teacher": teacher, "admin": admin, "classrooms": classrooms, "unit": unit}


def test_start_in_two_sections_over_the_api(setting):
    classrooms = setting["classrooms"]
    response = _api(setting["teacher"]).post(
        reverse("unit-start", args=[setting["unit"].pk]),
        {
            "sections": [
                {"classroom": classrooms[0].pk, "start_date": "2026-09-07"},
                {"classroom": classrooms[1].pk, "start_date": "2026-09-14"},
            ]
        },
        format="json",
    )
    assert response.status_code == 201
    assert {row["start_date"] for row in response.json()} == {"2026-09-07", "2026-09-14"}


def test_start_outside_the_term_is_refused_with_the_rule_and_nothing_started(setting):
    classrooms = setting["classrooms"]
    response = _api(setting["teacher"]).post(
        reverse("unit-start", args=[setting["unit"].pk]),
        {
            "sections": [
                {"classroom": classrooms[0].pk, "start_date": "2026-09-07"},
                {"classroom": classrooms[1].pk, "start_date": "2030-01-07"},
            ]
        },
        format="json",
    )
    assert response.status_code == 400
    assert "outside its term" in str(response.json())
    assert not ClassroomUnit.objects.exists()


def test_copy_share_and_reflection_over_the_api(setting):
    teacher = setting["teacher"]
    classroom_unit = factories.ClassroomUnitFactory(
        classroom=setting["classrooms"][0], unit=setting["unit"]
    )
    reflected = _api(teacher).post(
        reverse("classroom-unit-reflection", args=[classroom_unit.pk]),
        {"reflection": "Fractions needed a week more"},
        format="json",
    )
    assert reflected.status_code == 200
    copied = _api(teacher).post(reverse("unit-copy", args=[setting["unit"].pk]), {}, format="json")
    assert copied.status_code == 201
    assert copied.json()["carried_reflections"] == "Fractions needed a week more"
    assert copied.json()["author"] == teacher.pk
    shared = _api(teacher).post(
        reverse("unit-share", args=[copied.json()["id"]]),
        {"audience": "school", "shared": True},
        format="json",
    )
    assert shared.status_code == 200 and shared.json()["is_shared_in_school"]
    refused = _api(teacher).post(
        reverse("unit-share", args=[setting["unit"].pk]),
        {"audience": "district", "shared": False},
        format="json",
    )
    assert refused.status_code == 403
    assert UnitLineage.objects.get(pk=setting["unit"].lineage_id).is_shared


def test_a_scored_plan_changed_over_the_api_answers_with_version_two(setting):
    unit = setting["unit"]
    classroom_unit = factories.ClassroomUnitFactory(classroom=setting["classrooms"][0], unit=unit)
    factories.ScoreFactory(
        classroom_unit=classroom_unit,
        student=factories.EnrollmentFactory(classroom=classroom_unit.classroom).student,
        assessment_skill=unit.assessments.get(kind="pre").assessment_skills.first(),
        points=Decimal("1"),
    )
    body = _api(setting["admin"]).get(reverse("unit-detail", args=[unit.pk])).json()
    body["assessments"].append(
        {
            "kind": "formative",
            "week": 6,
            "title": "Late",
            "measures": [{"skill_code": "A", "max_points": "2"}],
        }
    )
    response = _api(setting["admin"]).put(
        reverse("unit-detail", args=[unit.pk]), body, format="json"
    )
    assert response.status_code == 200
    assert response.json()["version"] == 2 and response.json()["id"] != unit.pk
    moved = _api(setting["teacher"]).post(
        reverse("classroom-unit-move-api", args=[classroom_unit.pk]), {}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["version"] == 2


def test_rollover_over_the_api_is_a_dry_run_unless_asked(setting):
    admin = setting["admin"]
    district = admin.district
    this_year = factories.AcademicYearFactory(district=district)
    next_year = factories.AcademicYearFactory(
        district=district,
        start_date=datetime.date(2027, 8, 16),
        end_date=datetime.date(2028, 6, 9),
    )
    UnitLineage.objects.filter(pk=setting["unit"].lineage_id).update(academic_year=this_year)
    body = {"from_year": this_year.pk, "to_year": next_year.pk}
    dry = _api(admin).post(reverse("unit-rollover"), body, format="json")
    assert dry.status_code == 200 and dry.json()[0]["is_new"]
    assert Unit.objects.count() == 1
    done = _api(admin).post(reverse("unit-rollover"), {**body, "dry_run": False}, format="json")
    assert done.status_code == 200
    assert UnitLineage.objects.filter(academic_year=next_year, is_shared=True).count() == 1
    refused = _api(setting["teacher"]).post(reverse("unit-rollover"), body, format="json")
    assert refused.status_code == 403
