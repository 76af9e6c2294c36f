"""The unit planner as teachers and district admins use it: writing a plan with its data burden,
starting it in sections, versions, sharing, using a unit again and rolling units over."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from assessments.models import Score
from tests import factories
from units.models import ClassroomUnit, Unit, UnitLineage
from units.services import plan_of

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 9, 14)


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _plan_post(
    *,
    title: str = "Character and theme",
    skills: tuple[tuple[str, str], ...] = (("RL.3.2", "Theme"), ("RL.3.3", "Characters")),
    assessments: tuple[tuple[str, str, str, str], ...] = (
        ("pre", "1", "Pre", "RL.3.2=4, RL.3.3=4"),
        ("formative", "3", "Check 1", "RL.3.2=2"),
        ("formative", "5", "Check 2", "RL.3.3=2"),
        ("formative", "6", "Check 3", "RL.3.2=2, RL.3.3=2"),
        ("post", "8", "Post", "RL.3.2=4, RL.3.3=4"),
    ),
    sections: tuple[int, ...] = (),
    weeks: str = "8",
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": title,
        "subject": "ELA",
        "grade_level": "3",
        "weeks": weeks,
        "skills-TOTAL_FORMS": str(len(skills)),
        "skills-INITIAL_FORMS": "0",
        "assessments-TOTAL_FORMS": str(len(assessments)),
        "assessments-INITIAL_FORMS": "0",
        "sections": [str(pk) for pk in sections],
    }
    for index, (code, description) in enumerate(skills):
        data[f"skills-{index}-code"] = code
        data[f"skills-{index}-description"] = description
    for index, (kind, week, title_text, measures) in enumerate(assessments):
        data[f"assessments-{index}-kind"] = kind
        data[f"assessments-{index}-week"] = week
        data[f"assessments-{index}-title"] = title_text
        data[f"assessments-{index}-measures"] = measures
    return data


@pytest.fixture
def school(db: Any) -> Any:
    district = factories.DistrictFactory()
    return factories.SchoolFactory(district=district)


def _teacher(school: Any, sections: int = 1, students: int = 3) -> tuple[Any, list[Any]]:
    teacher = factories.UserFactory(district=school.district)
    term = factories.TermFactory(academic_year__district=school.district)
    classrooms = []
    for _ in range(sections):
        classroom = factories.ClassroomFactory(school=school, term=term)
        classroom.teachers.add(teacher)
        for _ in range(students):
            factories.EnrollmentFactory(classroom=classroom, start_date=datetime.date(2026, 8, 17))
        classrooms.append(classroom)
    return teacher, classrooms


def test_teacher_writes_a_unit_from_the_planner_and_finds_it_under_my_units(school):
    teacher, _ = _teacher(school)
    client = _client(teacher)
    assert client.get(reverse("units:new")).status_code == 200
    response = client.post(reverse("units:new"), _plan_post())
    assert response.status_code == 302
    unit = Unit.objects.get(title="Character and theme")
    assert unit.lineage.author == teacher and not unit.lineage.is_shared
    assert [a.title for a in plan_of(unit).assessments] == [
        "Pre",
        "Check 1",
        "Check 2",
        "Check 3",
        "Post",
    ]
    library = client.get(reverse("units:library")).content.decode()
    mine = library.split('id="units-mine"')[1].split("</section>")[0]
    assert "Character and theme" in mine


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"assessments-1-kind": "pre"},
            "A unit has exactly one pre-assessment; this plan has 2",
        ),
        (
            {"assessments-1-week": "12"},
            "Formative checkpoint &#x27;Check 1&#x27; is in week 12, outside the unit&#x27;s 8",
        ),
        (
            {"skills-0-code": "RL 3,2"},
            "may use only letters, digits, &#x27;.&#x27;, &#x27;-&#x27; and &#x27;_&#x27;",
        ),
        ({"assessments-1-measures": "RL.3.2=lots"}, "is not a number of points"),
        ({"assessments-1-measures": "RL.3.2=100000"}, "at most 9999.99"),
        ({"assessments-1-measures": "RL.3.2=NaN"}, "is not a number of points"),
    ],
)
def test_a_plan_that_breaks_the_rules_is_explained_and_nothing_typed_is_lost(
    school, change, message
):
    teacher, _ = _teacher(school)
    data = {**_plan_post(), **change}
    response = _client(teacher).post(reverse("units:new"), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'value="Check 3"' in page and 'value="Character and theme"' in page
    assert not Unit.objects.exists()


def test_more_formatives_than_the_district_cap_are_refused_with_the_cap(school):
    school.district.formative_cap = 2
    school.district.save()
    teacher, _ = _teacher(school)
    response = _client(teacher).post(reverse("units:new"), _plan_post())
    assert response.status_code == 400
    assert "at most 2 formative checkpoints per unit; this plan has 3" in response.content.decode()


def test_burden_line_counts_students_times_skills_for_the_chosen_sections(school):
    teacher, classrooms = _teacher(school, sections=2, students=3)
    client = _client(teacher)
    data = _plan_post(sections=(classrooms[0].pk,))
    one = client.post(reverse("units:burden"), data).content.decode()
    # 3 students × (2 + 1 + 1 + 2 + 2 skills) = 24 cells.
    assert "<strong>24</strong> cells to enter for the whole unit" in one
    data = _plan_post(sections=tuple(c.pk for c in classrooms))
    two = client.post(reverse("units:burden"), data).content.decode()
    assert "<strong>48</strong> cells" in two and "6 students" in two
    # Another teacher's section is not counted, even when its id is sent.
    other_teacher, other_classrooms = _teacher(school, sections=1, students=5)
    data = _plan_post(sections=(other_classrooms[0].pk,))
    assert "Choose the sections" in client.post(reverse("units:burden"), data).content.decode()


def test_district_that_keeps_unit_writing_refuses_teachers_the_planner(school):
    school.district.teachers_write_units = False
    school.district.save()
    teacher, _ = _teacher(school)
    client = _client(teacher)
    assert client.get(reverse("units:new")).status_code == 403
    assert client.post(reverse("units:new"), _plan_post()).status_code == 403
    assert not Unit.objects.exists()
    assert reverse("units:new") not in client.get(reverse("units:library")).content.decode()


def test_teacher_cannot_edit_a_colleagues_or_the_districts_unit(school):
    teacher, _ = _teacher(school)
    colleague, _ = _teacher(school)
    _client(colleague).post(reverse("units:new"), _plan_post(title="Colleague's"))
    colleagues = Unit.objects.get(title="Colleague's")
    library_unit = factories.make_unit(school.district, title="District unit")
    for unit in (colleagues, library_unit):
        before = plan_of(unit)
        response = _client(teacher).post(
            reverse("units:edit", args=[unit.pk]), _plan_post(title="Taken")
        )
        assert response.status_code in (403, 404)
        assert plan_of(unit) == before
    # The colleague's unit is not even in the teacher's library until it is shared.
    assert _client(teacher).get(reverse("units:edit", args=[colleagues.pk])).status_code == 404
    _client(colleague).post(
        reverse("units:share", args=[colleagues.pk]), {"audience": "school", "shared": "1"}
    )
    assert _client(teacher).get(reverse("units:edit", args=[colleagues.pk])).status_code == 403
    assert _client(teacher).get(reverse("units:start", args=[colleagues.pk])).status_code == 200


def _start_post(rows: dict[Any, str]) -> dict[str, str]:
    data = {}
    for classroom, date in rows.items():
        data[f"section-{classroom.pk}-chosen"] = "on"
        data[f"section-{classroom.pk}-start_date"] = date
    return data


def test_teacher_starts_a_unit_in_two_sections_with_a_date_each(school):
    teacher, classrooms = _teacher(school, sections=2)
    unit = factories.make_unit(school.district, title="Shared unit")
    co_teacher = factories.UserFactory(district=school.district)
    classrooms[1].teachers.add(co_teacher)
    response = _client(teacher).post(
        reverse("units:start", args=[unit.pk]),
        _start_post({classrooms[0]: "2026-09-07", classrooms[1]: "2026-09-14"}),
    )
    assert response.status_code == 302
    started = dict(ClassroomUnit.objects.filter(unit=unit).values_list("classroom", "start_date"))
    assert started == {
        classrooms[0].pk: datetime.date(2026, 9, 7),
        classrooms[1].pk: datetime.date(2026, 9, 14),
    }
    # The co-teacher's home page shows it at once.
    assert "Shared unit" in _client(co_teacher).get(reverse("home")).content.decode()


def test_start_dates_outside_the_term_and_a_second_start_are_refused_all_or_nothing(school):
    teacher, classrooms = _teacher(school, sections=2)
    unit = factories.make_unit(school.district, title="Shared unit")
    factories.ClassroomUnitFactory(classroom=classrooms[1], unit=unit, start_date=MONDAY)
    response = _client(teacher).post(
        reverse("units:start", args=[unit.pk]),
        _start_post({classrooms[0]: "2027-03-01", classrooms[1]: "2026-09-21"}),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "the start date 2027-03-01 is outside its term" in page
    assert "already taught in" in page
    assert ClassroomUnit.objects.filter(unit=unit).count() == 1


def test_editing_a_scored_plan_makes_a_version_and_the_scored_class_stays_as_it_was(school):
    teacher, classrooms = _teacher(school, sections=2)
    client = _client(teacher)
    client.post(reverse("units:new"), _plan_post())
    unit = Unit.objects.get()
    client.post(
        reverse("units:start", args=[unit.pk]),
        _start_post({classrooms[0]: "2026-09-07", classrooms[1]: "2026-09-07"}),
    )
    scored = ClassroomUnit.objects.get(classroom=classrooms[0])
    student = classrooms[0].enrollments.first().student
    measure = unit.assessments.get(kind="pre").assessment_skills.first()
    Score.objects.create(
        classroom_unit=scored,
        student=student,
        assessment_skill=measure,
        points=Decimal("3"),
        entered_by=teacher,
        entered_at=datetime.datetime(2026, 9, 8, tzinfo=datetime.UTC),
    )
    data = _plan_post(
        assessments=(
            ("pre", "1", "Pre", "RL.3.2=4, RL.3.3=4"),
            ("formative", "2", "Early check", "RL.3.2=2"),
            ("formative", "3", "Check 1", "RL.3.2=2"),
            ("formative", "5", "Check 2", "RL.3.3=2"),
            ("post", "8", "Post", "RL.3.2=4, RL.3.3=4"),
        )
    )
    response = client.post(reverse("units:edit", args=[unit.pk]), data, follow=True)
    assert "as version 2" in response.content.decode()
    version = Unit.objects.get(version=2)
    scored.refresh_from_db()
    assert scored.unit_id == unit.pk
    assert not unit.assessments.filter(title="Early check").exists()
    # Both classes keep version 1 (the unscored one too: classes move only when asked).
    assert set(ClassroomUnit.objects.values_list("unit_id", flat=True)) == {unit.pk}
    assert version.assessments.filter(title="Early check").exists()
    # The unscored class moves onto the new version on request.
    other = ClassroomUnit.objects.get(classroom=classrooms[1])
    client.post(reverse("classroom-unit-move", args=[other.pk]))
    other.refresh_from_db()
    assert other.unit_id == version.pk


def test_reflection_travels_with_a_copy_into_next_years_planner(school):
    teacher, classrooms = _teacher(school)
    client = _client(teacher)
    client.post(reverse("units:new"), _plan_post())
    unit = Unit.objects.get()
    classroom_unit = factories.ClassroomUnitFactory(
        classroom=classrooms[0], unit=unit, start_date=datetime.date(2026, 8, 17)
    )
    client.post(
        reverse("units:reflect", args=[classroom_unit.pk]),
        {"reflection": "RL.3.3 needed two more weeks"},
    )
    classroom_unit.refresh_from_db()
    assert classroom_unit.reflection == "RL.3.3 needed two more weeks"
    response = client.post(reverse("units:copy", args=[unit.pk]), follow=True)
    copy = Unit.objects.exclude(lineage=unit.lineage).get()
    assert copy.lineage.copied_from == unit.lineage and copy.lineage.author == teacher
    assert "RL.3.3 needed two more weeks" in response.content.decode()
    assert plan_of(copy).assessments[1].title == "Check 1"


def test_admin_publishes_a_unit_and_a_teacher_starts_it_but_cannot_edit_it(school):
    admin = factories.UserFactory(district=school.district, is_district_admin=True)
    teacher, classrooms = _teacher(school)
    _client(admin).post(reverse("units:new"), _plan_post(title="District plan"))
    unit = Unit.objects.get()
    assert "District plan" not in _client(teacher).get(reverse("units:library")).content.decode()
    _client(admin).post(
        reverse("units:share", args=[unit.pk]), {"audience": "district", "shared": "1"}
    )
    assert UnitLineage.objects.get().is_shared
    library = _client(teacher).get(reverse("units:library")).content.decode()
    assert "District plan" in library.split('id="units-district"')[1]
    response = _client(teacher).post(
        reverse("units:start", args=[unit.pk]), _start_post({classrooms[0]: "2026-09-07"})
    )
    assert response.status_code == 302
    assert _client(teacher).get(reverse("units:edit", args=[unit.pk])).status_code == 403
    # A teacher cannot publish for the district either.
    response = _client(teacher).post(
        reverse("units:share", args=[unit.pk]), {"audience": "district", "shared": "0"}
    )
    assert response.status_code == 403
    assert UnitLineage.objects.get().is_shared


def test_admin_rolls_shared_units_over_with_a_dry_run_first(school):
    admin = factories.UserFactory(district=school.district, is_district_admin=True)
    this_year = factories.AcademicYearFactory(district=school.district, name="2026-27")
    next_year = factories.AcademicYearFactory(
        district=school.district,
        name="2027-28",
        start_date=datetime.date(2027, 8, 16),
        end_date=datetime.date(2028, 6, 9),
    )
    unit = factories.make_unit(school.district, title="Fractions")
    UnitLineage.objects.filter(pk=unit.lineage_id).update(academic_year=this_year)
    client = _client(admin)
    body = {"from_year": this_year.pk, "to_year": next_year.pk, "apply": "0"}
    dry = client.post(reverse("units:rollover"), body).content.decode()
    assert "will be created" in dry and "Fractions" in dry
    assert UnitLineage.objects.count() == 1
    client.post(reverse("units:rollover"), {**body, "apply": "1"})
    copy = UnitLineage.objects.get(academic_year=next_year)
    assert copy.is_shared and copy.copied_from_id == unit.lineage_id
    again = client.post(reverse("units:rollover"), {**body, "apply": "1"}).content.decode()
    assert "already there" in again
    assert UnitLineage.objects.count() == 2
    teacher, _ = _teacher(school)
    assert _client(teacher).get(reverse("units:rollover")).status_code == 403


def _form_values(html: str) -> dict[str, Any]:
    """The values a browser would post from the planner page as it was served."""
    import re

    values: dict[str, Any] = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="checkbox"' in tag or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        values[name.group(1)] = value.group(1) if value else ""
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        values[name] = chosen.group(1) if chosen else ""
    return values


def test_the_plan_as_served_saves_back_unchanged(school):
    teacher, _ = _teacher(school)
    client = _client(teacher)
    client.post(reverse("units:new"), _plan_post())
    unit = Unit.objects.get()
    before = plan_of(unit)
    page = client.get(reverse("units:edit", args=[unit.pk])).content.decode()
    response = client.post(reverse("units:edit", args=[unit.pk]), _form_values(page))
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert plan_of(unit) == before


def test_a_checkpoint_added_to_a_scored_plan_as_served_makes_version_two(school):
    teacher, classrooms = _teacher(school)
    client = _client(teacher)
    client.post(reverse("units:new"), _plan_post())
    unit = Unit.objects.get()
    classroom_unit = factories.ClassroomUnitFactory(
        classroom=classrooms[0], unit=unit, start_date=MONDAY
    )
    factories.ScoreFactory(
        classroom_unit=classroom_unit,
        student=classrooms[0].enrollments.first().student,
        assessment_skill=unit.assessments.get(kind="pre").assessment_skills.first(),
        points=Decimal("2"),
    )
    values = _form_values(client.get(reverse("units:edit", args=[unit.pk])).content.decode())
    last = int(values["assessments-TOTAL_FORMS"]) - 1
    values.update(
        {
            f"assessments-{last}-title": "Check 4",
            f"assessments-{last}-week": "7",
            f"assessments-{last}-measures": "RL.3.3=2",
        }
    )
    response = client.post(reverse("units:edit", args=[unit.pk]), values)
    assert response.status_code == 302, response.content.decode()[-3000:]
    version = Unit.objects.get(version=2)
    assert version.assessments.filter(title="Check 4").exists()
    assert not unit.assessments.filter(title="Check 4").exists()
