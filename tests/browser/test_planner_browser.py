"""The unit planner tried as a new teacher would, in a real Chromium: write a unit with three
checkpoints watching the burden line, start it in two sections, enter a checkpoint, change the
plan (a new version; the scored class unchanged), leave a reflection and use the unit again; a
district admin publishes a shared unit and a teacher starts it."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Score
from tests import factories
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from units.models import ClassroomUnit, Unit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _teacher_with_two_sections() -> tuple[Any, list[Any]]:
    district = factories.DistrictFactory(name="District P")
    school = factories.SchoolFactory(district=district, name="School P")
    teacher = factories.UserFactory(
        username="planner_teacher", district=district, first_name="Ana", last_name="Ruiz"
    )
    term = factories.TermFactory(
        academic_year__district=district,
        start_date=timezone.localdate() - datetime.timedelta(days=60),
        end_date=timezone.localdate() + datetime.timedelta(days=120),
    )
    sections = []
    for name, students in (("Period 1 P", 4), ("Period 2 P", 3)):
        classroom = factories.ClassroomFactory(school=school, term=term, name=name)
        classroom.teachers.add(teacher)
        for _ in range(students):
            factories.EnrollmentFactory(
                classroom=classroom, start_date=term.start_date, student__district=district
            )
        sections.append(classroom)
    return teacher, sections


def _fill_row(page: Any, index: int, kind: str, week: str, title: str, measures: str) -> None:
    n = index + 1
    page.get_by_label(f"Assessment {n} kind").select_option(kind)
    page.get_by_label(f"Assessment {n} week", exact=True).fill(week)
    page.get_by_label(f"Assessment {n} title").fill(title)
    page.get_by_label(f"Assessment {n} skills measured").fill(measures)


def test_teacher_writes_starts_versions_and_reuses_a_unit(page, live_server):
    teacher, sections = _teacher_with_two_sections()
    log_in(page, live_server, "planner_teacher")
    page.get_by_role("link", name="Plan or start a unit").click()
    page.get_by_role("link", name="Write a unit").click()
    page.get_by_role("heading", name="Write a unit").wait_for()

    page.get_by_label("Title", exact=True).fill("Character and theme")
    page.get_by_label("Subject").fill("ELA")
    page.get_by_label("Grade").select_option("3")
    page.get_by_label("Skill 1 code").fill("RL.3.2")
    page.get_by_label("Skill 1 description").fill("Theme")
    page.get_by_label("Skill 2 code").fill("RL.3.3")
    page.get_by_label("Skill 2 description").fill("Characters")
    page.get_by_label("Assessment 1 skills measured").fill("RL.3.2=4, RL.3.3=4")
    # Both sections chosen: 7 students; the pre alone is 14 cells.
    page.get_by_label("Period 1 P").check()
    page.get_by_label("Period 2 P").check()
    burden = page.locator("#burden .burden-line")
    expect(burden).to_contain_text("14 cells to enter for the whole unit")
    _fill_row(page, 1, "formative", "3", "Check 1", "RL.3.2=2")
    expect(burden).to_contain_text("21 cells")
    _fill_row(page, 2, "formative", "5", "Check 2", "RL.3.3=2")
    expect(burden).to_contain_text("28 cells")
    _fill_row(page, 3, "formative", "6", "Check 3", "RL.3.2=2, RL.3.3=2")
    expect(burden).to_contain_text("42 cells")
    # The post row is the last of the form (after the cap's formative rows).
    post = page.locator("select[name$='-kind'] >> nth=-1")
    expect(post).to_have_value("post")
    page.locator("input[name$='-measures'] >> nth=-1").fill("RL.3.2=4, RL.3.3=4")
    expect(burden).to_contain_text("56 cells")
    assert_accessible(page)
    page.get_by_role("button", name="Save the unit").click()
    page.get_by_text("Saved 'Character and theme'.").wait_for()
    assert_accessible(page)

    # Start it in both sections, each from its own Monday.
    page.get_by_role("link", name="Start in my sections Character and theme").click()
    page.get_by_label("Start in Period 1 P").check()
    page.get_by_label("Start date in Period 1 P").fill(
        (timezone.localdate() - datetime.timedelta(days=14)).isoformat()
    )
    page.get_by_label("Start in Period 2 P").check()
    page.get_by_label("Start date in Period 2 P").fill(
        (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    )
    assert_accessible(page)
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("Started 'Character and theme' in Period 1 P, Period 2 P.").wait_for()
    unit = Unit.objects.get()
    assert ClassroomUnit.objects.filter(unit=unit).count() == 2

    # A checkpoint entered in Period 1 P (as the grid saves it).
    scored = ClassroomUnit.objects.get(classroom=sections[0])
    pre = unit.assessments.get(kind="pre")
    for student_enrollment in sections[0].enrollments.all():
        Score.objects.create(
            classroom_unit=scored,
            student=student_enrollment.student,
            assessment_skill=pre.assessment_skills.get(skill__code="RL.3.2"),
            points=Decimal("3"),
            entered_by=teacher,
            entered_at=timezone.now(),
        )

    # Change the plan: a new version; Period 1 P keeps version 1.
    page.goto(live_server.url + reverse("units:edit", args=[unit.pk]))
    expect(page.get_by_text("saving makes a new version")).to_be_visible()
    page.locator("input[name$='-title'] >> nth=-1").fill("Check 4")
    page.locator("input[name$='-week'] >> nth=-1").fill("7")
    page.locator("input[name$='-measures'] >> nth=-1").fill("RL.3.3=2")
    page.get_by_role("button", name="Save the unit").click()
    page.get_by_text("as version 2").wait_for()
    scored.refresh_from_db()
    assert scored.unit_id == unit.pk
    assert not unit.assessments.filter(title="Check 4").exists()
    page.goto(live_server.url + reverse("home"))
    card = page.locator(f"#classroom-unit-{scored.pk}")
    expect(card).not_to_contain_text("Check 4")

    # The unit ended: a reflection, then "use again" carries it into the planner.
    ClassroomUnit.objects.filter(pk=scored.pk).update(
        start_date=timezone.localdate() - datetime.timedelta(weeks=10)
    )
    page.reload()
    # An ended unit is among the class's other units, folded away.
    page.locator(f"#classroom-unit-{scored.pk}").locator("xpath=ancestor::details/summary").click()
    page.get_by_label("One line for next time").fill("RL.3.3 needed two more weeks")
    page.get_by_role("button", name="Keep the reflection on Character and theme").click()
    page.get_by_text("Your reflection is kept with the unit.").wait_for()
    page.goto(live_server.url + reverse("units:library"))
    page.get_by_role("button", name="Use again Character and theme").click()
    page.get_by_role("heading", name="Notes from last time").wait_for()
    expect(page.get_by_text("RL.3.3 needed two more weeks")).to_be_visible()
    assert_accessible(page)


def test_admin_publishes_a_unit_a_teacher_starts_it_and_cannot_change_it(page, live_server):
    teacher, sections = _teacher_with_two_sections()
    district = teacher.district
    factories.UserFactory(username="planner_admin", district=district, is_district_admin=True)
    unit = factories.make_unit(district, title="Fractions P")
    from units.models import UnitLineage

    UnitLineage.objects.filter(pk=unit.lineage_id).update(is_shared=False)
    log_in(page, live_server, "planner_admin")
    page.goto(live_server.url + reverse("units:library"))
    page.get_by_role("button", name="Publish for every teacher Fractions P").click()
    page.get_by_text("Sharing of 'Fractions P' saved.").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Log out").click()

    log_in(page, live_server, "planner_teacher")
    page.goto(live_server.url + reverse("units:library"))
    shared = page.locator(
        "section", has=page.get_by_role("heading", name="The district's shared units")
    )
    expect(shared).to_contain_text("Fractions P")
    expect(shared.get_by_role("link", name="Change the plan Fractions P")).to_have_count(0)
    shared.get_by_role("link", name="Start in my sections Fractions P").click()
    page.get_by_label("Start in Period 2 P").check()
    page.get_by_label("Start date in Period 2 P").fill(timezone.localdate().isoformat())
    page.get_by_role("button", name="Start", exact=True).click()
    page.get_by_text("Started 'Fractions P' in Period 2 P.").wait_for()
    assert ClassroomUnit.objects.filter(unit=unit, classroom=sections[1]).exists()
    response = page.goto(live_server.url + reverse("units:edit", args=[unit.pk]))
    assert response is not None and response.status == 403
