"""Tenancy through the set-up admin at /admin/: rows, objects by id, drop-downs and saves.

Expected rows come from tests/classrooms/test_access.py (``expected_ids``), which computes them
from the world without the ORM scoping.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse

from assessments.models import Score
from classrooms.admin_scoping import site
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    SignInProvider,
    Student,
    StudentGroup,
    Term,
    User,
)
from tests.classrooms.test_access import KNOWN_BUGS, expected_ids, world_for_module
from tests.conftest import World
from units.models import Assessment, AssessmentSkill, ClassroomUnit, Skill, Unit

# Every model on the set-up admin (a model registered later and missing here fails
# test_every_admin_model_is_tested), with the district B row whose page admin_a must not open.
ADMIN_MODELS: dict[type[models.Model], Any] = {
    District: lambda world: world.districts["b"],
    School: lambda world: world.schools["b1"],
    AcademicYear: lambda world: world.classrooms["b1"].term.academic_year,
    Classroom: lambda world: world.classrooms["b1"],
    StudentGroup: lambda world: StudentGroup.objects.get(name="English learners b"),
    Student: lambda world: world.students["b1"],
    Enrollment: lambda world: world.enrollments["b1"],
    User: lambda world: world.users["teacher_b1"],
    Unit: lambda world: world.units["b"],
    ClassroomUnit: lambda world: world.classroom_units["b1"],
    Score: lambda world: world.scores["b1"],
    SignInProvider: lambda world: SignInProvider.objects.get(district=world.districts["b"]),
}

# Admins whose delete permission is refused to district admins for every row (students are
# deleted through the privacy page, which takes their data with them and audits it).
NOBODY_BUT_SUPERUSERS_DELETES = {District, Score, Student}


def model_name(model: type[models.Model]) -> str:
    return model.__name__


def admin_url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture(scope="module")
def module_world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    yield from world_for_module(django_db_blocker)


@pytest.fixture
def people(module_world: World, db: Any) -> World:
    return module_world


def signed_in(world: World, user_key: str) -> Client:
    client = Client()
    client.force_login(world.users[user_key])
    return client


def changelist_ids(client: Client, model: type[models.Model]) -> set[int]:
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def test_every_admin_model_is_tested() -> None:
    assert set(site._registry) == set(ADMIN_MODELS)


# ---------------------------------------------------------------------------------------------
# Who may use the admin.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_key", ["teacher_a1", "coach_a1", "no_role_a", "inactive"])
def test_teachers_coaches_and_others_are_sent_to_the_admin_login(
    people: World, user_key: str
) -> None:
    client = signed_in(people, user_key)
    login_url = reverse("admin:login")

    index = client.get(reverse("admin:index"))
    changelist = client.get(admin_url(School, "changelist"))
    change = client.get(admin_url(School, "change", people.schools["a1"].pk))

    for response in (index, changelist, change):
        assert response.status_code == 302
        assert response["Location"].startswith(f"{login_url}?next=")


def test_anonymous_is_sent_to_the_admin_login(people: World) -> None:
    response = Client().get(admin_url(Student, "changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('admin:login')}?next=")


# ---------------------------------------------------------------------------------------------
# A district admin's rows.
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", list(ADMIN_MODELS), ids=model_name)
def test_district_admin_changelist_shows_only_their_districts_rows(
    people: World, model: type[models.Model]
) -> None:
    client = signed_in(people, "admin_a")

    shown = changelist_ids(client, model)

    assert shown == expected_ids(people, "admin_a", model)
    assert not shown & expected_ids(people, "admin_b", model)


def test_district_admin_does_not_see_superusers_in_the_users_list(people: World) -> None:
    client = signed_in(people, "admin_a")

    shown = changelist_ids(client, User)
    page = client.get(admin_url(User, "changelist")).content.decode()

    assert people.users["superuser"].pk not in shown
    assert "operator" not in page
    assert "teacher_b1" not in page
    assert "teacher_a1" in page


def test_district_admin_changelist_page_names_no_other_district_row(people: World) -> None:
    client = signed_in(people, "admin_a")

    pages = {
        model.__name__: client.get(admin_url(model, "changelist")).content.decode()
        for model in (School, Classroom, Unit, District)
    }

    assert "School b1" not in pages["School"]
    assert "Class b1" not in pages["Classroom"]
    assert "Fractions b" not in pages["Unit"]
    assert "District B" not in pages["District"]


def test_student_changelist_filters_offer_no_other_district_group(people: World) -> None:
    client = signed_in(people, "admin_a")

    page = client.get(admin_url(Student, "changelist")).content.decode()

    assert "English learners a" in page
    assert "English learners b" not in page


@pytest.mark.parametrize("model", list(ADMIN_MODELS), ids=model_name)
@pytest.mark.parametrize("view", ["change", "history", "delete"])
def test_district_admin_opening_another_districts_row_is_redirected_to_the_index(
    people: World, model: type[models.Model], view: str
) -> None:
    client = signed_in(people, "admin_a")
    row = ADMIN_MODELS[model](people)

    response = client.get(admin_url(model, view, row.pk))

    if view == "delete" and model in NOBODY_BUT_SUPERUSERS_DELETES:
        # Django checks the delete permission before it looks the row up: 403, as for own rows.
        assert response.status_code == 403
        return
    # Django's admin treats a row outside get_queryset as missing: a warning and the index.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    followed = client.get(response["Location"])
    assert "doesn’t exist" in followed.content.decode()


def test_district_admin_cannot_open_a_superusers_account(people: World) -> None:
    client = signed_in(people, "admin_a")
    operator = people.users["superuser"]

    change = client.get(admin_url(User, "change", operator.pk))
    password = client.get(reverse("admin:auth_user_password_change", args=[operator.pk]))

    assert change.status_code == 302
    assert change["Location"] == reverse("admin:index")
    assert password.status_code == 404


def test_district_admin_posting_to_another_districts_row_changes_nothing(
    people: World,
) -> None:
    client = signed_in(people, "admin_a")
    school_b = people.schools["b1"]

    response = client.post(
        admin_url(School, "change", school_b.pk), {"name": "Renamed", "code": "X"}
    )
    delete = client.post(admin_url(School, "delete", school_b.pk), {"post": "yes"})

    assert response.status_code == 302
    assert delete.status_code == 302
    assert School.objects.all_schools().get(pk=school_b.pk).name == "School b1"


def test_district_admin_opens_their_own_districts_rows(people: World) -> None:
    client = signed_in(people, "admin_a")

    for model, row in (
        (School, people.schools["a2"]),
        (Classroom, people.classrooms["a1"]),
        (Student, people.students["unenrolled_a"]),
        (Unit, people.units["a"]),
        (Score, people.scores["a2"]),
        (User, people.users["coach_a2"]),
    ):
        assert client.get(admin_url(model, "change", row.pk)).status_code == 200, model


def test_autocomplete_offers_only_the_districts_rows(people: World) -> None:
    client = signed_in(people, "admin_a")
    autocomplete = reverse("admin:autocomplete")

    students = client.get(
        autocomplete,
        {"app_label": "classrooms", "model_name": "enrollment", "field_name": "student"},
    )
    classrooms = client.get(
        autocomplete,
        {"app_label": "units", "model_name": "classroomunit", "field_name": "classroom"},
    )

    assert {int(item["id"]) for item in students.json()["results"]} == expected_ids(
        people, "admin_a", Student
    )
    assert {int(item["id"]) for item in classrooms.json()["results"]} == expected_ids(
        people, "admin_a", Classroom
    )


# ---------------------------------------------------------------------------------------------
# A superuser's rows.
# ---------------------------------------------------------------------------------------------


def _superuser_params() -> list[Any]:
    params = []
    for model in ADMIN_MODELS:
        bug = KNOWN_BUGS.get(("superuser", model))
        marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
        params.append(pytest.param(model, id=model.__name__, marks=marks))
    return params


@pytest.mark.parametrize("model", _superuser_params())
def test_superuser_changelist_shows_both_districts(
    people: World, model: type[models.Model]
) -> None:
    client = signed_in(people, "superuser")

    shown = changelist_ids(client, model)

    assert shown == set(model._base_manager.values_list("pk", flat=True))
    assert shown & expected_ids(people, "admin_a", model)
    assert shown & expected_ids(people, "admin_b", model)


# ---------------------------------------------------------------------------------------------
# Adding rows: the district comes from the district admin, choices stay in the district.
# ---------------------------------------------------------------------------------------------


def test_district_admin_adding_a_school_gets_their_district(people: World) -> None:
    client = signed_in(people, "admin_a")

    response = client.post(
        admin_url(School, "add"),
        {"name": "School a3", "code": "A3", "district": people.districts["b"].pk},
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert School.objects.all_schools().get(name="School a3").district == people.districts["a"]


def test_district_admin_adding_a_user_gets_their_district(people: World) -> None:
    client = signed_in(people, "admin_a")

    response = client.post(
        admin_url(User, "add"),
        {
            "username": "new_teacher_a",
            "usable_password": "true",
            "password1": "a-long-enough-pw-8127",
            "password2": "a-long-enough-pw-8127",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.all_schools().get(username="new_teacher_a")
    assert created.district == people.districts["a"]
    assert not created.is_superuser


def test_classroom_add_page_offers_only_the_districts_schools_terms_and_teachers(
    people: World,
) -> None:
    client = signed_in(people, "admin_a")

    response = client.get(admin_url(Classroom, "add"))

    fields = response.context["adminform"].form.fields
    assert {school.pk for school in fields["school"].queryset} == expected_ids(
        people, "admin_a", School
    )
    assert {term.pk for term in fields["term"].queryset} == expected_ids(people, "admin_a", Term)
    assert {user.pk for user in fields["teachers"].queryset} == expected_ids(
        people, "admin_a", User
    )
    page = response.content.decode()
    assert "School a1" in page
    assert "School b1" not in page


def classroom_form(school: School, term: Term, name: str = "New class") -> dict[str, Any]:
    return {
        "school": school.pk,
        "term": term.pk,
        "name": name,
        "subject": "Math",
        "grade_level": "5",
        "enrollments-TOTAL_FORMS": "0",
        "enrollments-INITIAL_FORMS": "0",
        "enrollments-MIN_NUM_FORMS": "0",
        "enrollments-MAX_NUM_FORMS": "1000",
    }


def test_district_admin_adds_a_classroom_in_their_district(people: World) -> None:
    client = signed_in(people, "admin_a")
    form = classroom_form(people.schools["a2"], people.classrooms["a1"].term)

    response = client.post(admin_url(Classroom, "add"), form)

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Classroom.objects.all_schools().filter(name="New class").count() == 1


@pytest.mark.parametrize(
    ("school_key", "term_key", "field"),
    [("b1", "a1", "school"), ("a1", "b1", "term")],
    ids=["other-district-school", "other-district-term"],
)
def test_district_admin_cannot_add_a_classroom_with_another_districts_rows(
    people: World, school_key: str, term_key: str, field: str
) -> None:
    client = signed_in(people, "admin_a")
    before = Classroom._base_manager.count()
    form = classroom_form(people.schools[school_key], people.classrooms[term_key].term)

    response = client.post(admin_url(Classroom, "add"), form)

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert Classroom._base_manager.count() == before


def test_superuser_cannot_mix_districts_in_one_classroom(people: World) -> None:
    client = signed_in(people, "superuser")
    before = Classroom._base_manager.count()
    form = classroom_form(people.schools["a1"], people.classrooms["b1"].term)

    response = client.post(admin_url(Classroom, "add"), form)

    assert response.status_code == 200
    errors = response.context["adminform"].form.non_field_errors()
    assert any("belongs to another district" in error for error in errors)
    assert Classroom._base_manager.count() == before


# ---------------------------------------------------------------------------------------------
# The unit page: skills and the assessment plan, saved together through the service.
# ---------------------------------------------------------------------------------------------

PLAN_MODELS: tuple[type[models.Model], ...] = (Unit, Skill, Assessment, AssessmentSkill)


def plan_counts() -> dict[str, int]:
    return {model.__name__: model._base_manager.count() for model in PLAN_MODELS}


def unit_form(assessments: list[tuple[str, int, str]], weeks: int = 8) -> dict[str, Any]:
    """The unit add page's POST: skills A and B; each assessment measures A=4, B=6."""
    data: dict[str, Any] = {
        "title": "Decimals",
        "subject": "Math",
        "grade_level": "5",
        "weeks": str(weeks),
        "skills-TOTAL_FORMS": "2",
        "skills-INITIAL_FORMS": "0",
        "skills-MIN_NUM_FORMS": "0",
        "skills-MAX_NUM_FORMS": "1000",
        "skills-0-code": "A",
        "skills-0-description": "Skill A",
        "skills-1-code": "B",
        "skills-1-description": "",
        "assessments-TOTAL_FORMS": str(len(assessments)),
        "assessments-INITIAL_FORMS": "0",
        "assessments-MIN_NUM_FORMS": "0",
        "assessments-MAX_NUM_FORMS": "1000",
    }
    for index, (kind, week, title) in enumerate(assessments):
        data[f"assessments-{index}-kind"] = kind
        data[f"assessments-{index}-week"] = str(week)
        data[f"assessments-{index}-title"] = title
        data[f"assessments-{index}-measures"] = "A=4, B=6"
    return data


def test_unit_page_saves_a_valid_plan_with_its_skills_and_assessments(people: World) -> None:
    client = signed_in(people, "admin_a")
    before = plan_counts()
    plan = [("pre", 1, "Pre"), ("formative", 4, "Check week 4"), ("post", 8, "Post")]

    response = client.post(admin_url(Unit, "add"), unit_form(plan))

    assert response.status_code == 302
    unit = Unit.objects.all_schools().get(title="Decimals")
    assert unit.district == people.districts["a"]
    assert sorted(unit.skills.values_list("code", flat=True)) == ["A", "B"]
    assert sorted(unit.assessments.values_list("kind", flat=True)) == ["formative", "post", "pre"]
    measured = AssessmentSkill.objects.all_schools().filter(assessment__unit=unit)
    assert sorted((m.skill.code, str(m.max_points)) for m in measured) == sorted(
        [("A", "4.00"), ("B", "6.00")] * 3
    )
    assert plan_counts() == {
        "Unit": before["Unit"] + 1,
        "Skill": before["Skill"] + 2,
        "Assessment": before["Assessment"] + 3,
        "AssessmentSkill": before["AssessmentSkill"] + 6,
    }


@pytest.mark.parametrize(
    ("assessments", "weeks", "message"),
    [
        pytest.param(
            [("pre", 1, "Pre"), ("formative", 4, "Check")],
            8,
            "The plan needs a post-assessment in the unit",
            id="no-post-assessment",
        ),
        pytest.param(
            [
                ("pre", 1, "Pre"),
                *[("formative", week, f"Check week {week}") for week in range(2, 11)],
                ("post", 12, "Post"),
            ],
            12,
            "This district allows at most 5 formative checkpoints per unit; this plan has 9.",
            id="nine-formatives-over-the-cap-of-5",
        ),
    ],
)
def test_unit_page_shows_the_plan_problem_and_saves_nothing(
    people: World, assessments: list[tuple[str, int, str]], weeks: int, message: str
) -> None:
    client = signed_in(people, "admin_a")
    before = plan_counts()

    response = client.post(admin_url(Unit, "add"), unit_form(assessments, weeks=weeks))

    assert response.status_code == 200
    assert message in response.content.decode().replace("&#x27;", "'")
    assert plan_counts() == before
