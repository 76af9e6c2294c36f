"""The teacher's assessment calendar on the home page, the score grid page and a cell's history."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from assessments.models import Score, ScoreStatus
from assessments.selectors import assessment_calendars, home_for
from assessments.services import ScoreEntry, scores_save
from tests import factories

pytestmark = pytest.mark.django_db


def _monday(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _enroll(classroom, family_name: str, given_name: str = "Sam", **dates):
    today = timezone.localdate()
    return factories.EnrollmentFactory(
        classroom=classroom,
        student__family_name=family_name,
        student__given_name=given_name,
        start_date=dates.get("start_date", today - datetime.timedelta(days=60)),
        end_date=dates.get("end_date"),
    ).student


def _score(classroom_unit, student, assessment, code: str, points: str | None = "2", **extra):
    measure = assessment.assessment_skills.get(skill__code=code)
    status = extra.get("status", ScoreStatus.SCORED)
    return Score.objects.create(
        classroom_unit=classroom_unit,
        student=student,
        assessment_skill=measure,
        status=status,
        points=None if status != ScoreStatus.SCORED else Decimal(points or "0"),
        entered_at=timezone.now(),
    )


def _grid_url(classroom_unit, assessment) -> str:
    return reverse("score-grid", args=[classroom_unit.pk, assessment.pk])


def _history_url(classroom_unit, assessment, **params) -> str:
    url = reverse("score-history", args=[classroom_unit.pk, assessment.pk])
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


# ----------------------------------------------------------------------------- the score grid


def test_teacher_sees_grid_rows_in_family_name_order_with_a_column_per_skill(client, world):
    classroom = world.classrooms["a1"]
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    zhou = _enroll(classroom, "Zhou", "Li")
    adams = _enroll(classroom, "Adams", "Ava")
    moreno = _enroll(classroom, "Moreno", "Max")
    _enroll(classroom, "Left", "Lee", end_date=timezone.localdate() - datetime.timedelta(days=3))
    _score(classroom_unit, adams, pre, "B", "5.5")
    _score(classroom_unit, moreno, pre, "A", status=ScoreStatus.ABSENT)

    client.force_login(world.users["teacher_a1"])
    response = client.get(_grid_url(classroom_unit, pre))

    assert response.status_code == 200
    text = response.content.decode()
    row_names = re.findall(r'<th scope="row" class="student-col"[^>]*>([^<]+)</th>', text)
    world_student = world.students["a1"]
    expected = sorted(
        [
            "Adams, Ava",
            "Moreno, Max",
            "Zhou, Li",
            f"{world_student.family_name}, {world_student.given_name}",
        ]
    )
    assert row_names == expected, "enrolled students today, in family-name order"
    assert "Left, Lee" not in text
    headers = re.findall(
        r'<span class="skill-code">([^<]+)</span> <span class="skill-max">max ([^<]+)</span>', text
    )
    assert headers == [("A", "4"), ("B", "6")]
    assert f'id="cell-{adams.pk}-1"' in text
    adams_b = re.search(rf'id="cell-{adams.pk}-1"[^>]*>', text, re.S)
    assert adams_b and 'value="5.5"' in adams_b.group(0) and 'data-version="1"' in adams_b.group(0)
    moreno_a = re.search(rf'id="cell-{moreno.pk}-0"[^>]*>', text, re.S)
    assert moreno_a and 'value="A"' in moreno_a.group(0)
    zhou_a = re.search(rf'id="cell-{zhou.pk}-0"[^>]*>', text, re.S)
    assert zhou_a and 'value=""' in zhou_a.group(0) and 'data-version=""' in zhou_a.group(0)
    assert 'aria-label="Adams, Ava, B (0 to 6)"' in text
    assert 'data-editable="true"' in text
    assert "readonly" not in text
    assert reverse("score-bulk-save", args=[classroom_unit.pk, pre.pk]) in text
    assert 'id="csv-tools"' in text
    assert "/static/assessments/score_grid.js" in text
    assert "https://" not in text and "http://" not in text, "no third-party origin on the page"


def test_district_admin_may_enter_scores_in_the_grid(client, world):
    classroom_unit = world.classroom_units["a2"]
    client.force_login(world.users["admin_a"])
    response = client.get(_grid_url(classroom_unit, classroom_unit.unit.assessments.first()))
    assert response.status_code == 200
    assert 'data-editable="true"' in response.content.decode()


def test_coach_sees_the_grid_read_only_and_is_told_so(client, world):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    client.force_login(world.users["coach_a1"])
    response = client.get(_grid_url(classroom_unit, pre))
    assert response.status_code == 200
    text = response.content.decode()
    assert 'data-editable="false"' in text
    assert "Read only." in text
    inputs = re.findall(r'<input type="text" class="cell-input".*?>', text, re.S)
    assert inputs and all("readonly" in tag for tag in inputs)


@pytest.mark.parametrize("who", ["teacher_a2", "coach_a2", "teacher_b1", "coach_b1", "admin_b"])
def test_grid_and_history_are_404_outside_the_users_scope(client, world, who):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    client.force_login(world.users[who])
    assert client.get(_grid_url(classroom_unit, pre)).status_code == 404
    history = _history_url(classroom_unit, pre, student=world.students["a1"].pk, skill="A")
    assert client.get(history).status_code == 404


def test_grid_asks_an_anonymous_visitor_to_log_in(client, world):
    classroom_unit = world.classroom_units["a1"]
    response = client.get(_grid_url(classroom_unit, classroom_unit.unit.assessments.first()))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_grid_is_404_for_an_assessment_of_another_unit(client, world):
    classroom_unit = world.classroom_units["a1"]
    other_unit = factories.make_unit(world.districts["a"], title="Decimals")
    client.force_login(world.users["teacher_a1"])
    response = client.get(_grid_url(classroom_unit, other_unit.assessments.first()))
    assert response.status_code == 404


# ----------------------------------------------------------------------------- history


def test_history_lists_a_cells_changes_newest_first_with_who_and_old_to_new(client, world):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    student = world.students["a1"]
    teacher = world.users["teacher_a1"]
    co_teacher = factories.UserFactory(
        district=world.districts["a"], first_name="Kim", last_name="Co"
    )
    world.classrooms["a1"].teachers.add(co_teacher)
    # The world's score (3, version 1) was created directly; these go through the service.
    for actor, value, version in [(teacher, "4", 1), (co_teacher, "A", 2), (teacher, "", 3)]:
        result = scores_save(
            actor=actor,
            classroom_unit=classroom_unit,
            assessment=pre,
            entries=[ScoreEntry(student.pk, "A", value, expected_version=version)],
        )
        assert result.is_applied, result.problems

    client.force_login(teacher)
    response = client.get(_history_url(classroom_unit, pre, student=student.pk, skill="A"))

    assert response.status_code == 200
    text = response.content.decode()
    assert "<html" not in text, "a partial, loaded into the grid's dialog"
    changes = re.findall(
        r"<td>([^<]+)</td>\s*<td><span class=\"history-old\">([^<]+)</span> → "
        r"<span class=\"history-new\">([^<]+)</span>",
        text,
    )
    assert changes == [
        (str(teacher), "A", "empty"),
        ("Kim Co", "4", "A"),
        (str(teacher), "3", "4"),
    ]
    assert "Not entered now." in text


def test_history_of_a_cell_without_changes_says_so(client, world):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    client.force_login(world.users["coach_a1"])
    response = client.get(
        _history_url(classroom_unit, pre, student=world.students["a1"].pk, skill="B")
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "No changes recorded" in text and "Not entered now." in text


def test_history_shows_the_value_a_cell_holds_now_and_who_entered_it(client, world):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    client.force_login(world.users["coach_a1"])
    response = client.get(
        _history_url(classroom_unit, pre, student=world.students["a1"].pk, skill="A")
    )
    text = response.content.decode()
    assert f"Now <strong>3</strong>, entered by {world.users['teacher_a1']}" in text
    assert "(version 1)" in text


@pytest.mark.parametrize(
    "params",
    [{}, {"student": "x", "skill": "A"}, {"skill": "A"}, {"skill": "NOPE", "student": "own"}],
)
def test_history_is_404_without_a_real_cell(client, world, params):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    if params.get("student") == "own":
        params = {**params, "student": world.students["a1"].pk}
    client.force_login(world.users["teacher_a1"])
    assert client.get(_history_url(classroom_unit, pre, **params)).status_code == 404


def test_history_is_404_for_a_student_of_another_district(client, world):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    client.force_login(world.users["teacher_a1"])
    url = _history_url(classroom_unit, pre, student=world.students["b1"].pk, skill="A")
    assert client.get(url).status_code == 404


# ----------------------------------------------------------------------------- home calendar


def _calendar_classroom(world, today: datetime.date):
    """A classroom in its unit's week 5: three students enrolled today, one who left."""
    district = world.districts["a"]
    teacher = world.users["teacher_a1"]
    classroom = factories.ClassroomFactory(school=world.schools["a1"], name="Calendar class")
    classroom.teachers.add(teacher)
    unit = factories.make_unit(district, title="Calendar unit")
    classroom_unit = factories.ClassroomUnitFactory(
        classroom=classroom, unit=unit, start_date=_monday(today) - datetime.timedelta(weeks=4)
    )
    students = [_enroll(classroom, name) for name in ("Ames", "Bell", "Cruz")]
    gone = _enroll(classroom, "Gone", end_date=today - datetime.timedelta(days=10))
    assessments = {item.title: item for item in unit.assessments.all()}
    pre, week3 = assessments["Pre"], assessments["Check week 3"]
    # Pre: every enrolled student has a row (one only an absence on one skill); the student who
    # left has one too and does not count.
    _score(classroom_unit, students[0], pre, "A")
    _score(classroom_unit, students[0], pre, "B")
    _score(classroom_unit, students[1], pre, "B", "6")
    _score(classroom_unit, students[2], pre, "A", status=ScoreStatus.ABSENT)
    _score(classroom_unit, gone, pre, "A")
    # Week 3: one of three entered, and its due week is over.
    _score(classroom_unit, students[1], week3, "A")
    _score(classroom_unit, gone, week3, "A")
    return classroom_unit


def test_calendar_counts_entered_missing_due_and_overdue(world):
    today = timezone.localdate()
    classroom_unit = _calendar_classroom(world, today)

    calendars = assessment_calendars(
        user=world.users["teacher_a1"], classroom_units=[classroom_unit], today=today
    )

    calendar = calendars[classroom_unit.pk]
    assert calendar.is_in_progress and calendar.current_week == 5
    rows = [
        (
            entry.assessment.title,
            entry.due_from,
            entry.entered,
            entry.enrolled,
            entry.missing,
            entry.is_due_this_week,
            entry.is_overdue,
        )
        for entry in calendar.entries
    ]
    start = classroom_unit.start_date
    assert rows == [
        ("Pre", start, 3, 3, 0, False, False),
        ("Check week 3", start + datetime.timedelta(weeks=2), 1, 3, 2, False, True),
        ("Check week 5", start + datetime.timedelta(weeks=4), 0, 3, 3, True, False),
        ("Post", start + datetime.timedelta(weeks=7), 0, 3, 3, False, False),
    ]
    assert calendar.overdue_count == 1


def test_calendar_sees_nothing_of_a_classroom_unit_outside_scope(world):
    today = timezone.localdate()
    classroom_unit = _calendar_classroom(world, today)
    calendars = assessment_calendars(
        user=world.users["teacher_b1"], classroom_units=[classroom_unit], today=today
    )
    entries = calendars[classroom_unit.pk].entries
    assert entries == [], "another district's teacher reads no assessments and no counts"


def test_home_shows_each_units_calendar_with_counts_flags_and_grid_links(client, world):
    today = timezone.localdate()
    classroom_unit = _calendar_classroom(world, today)
    client.force_login(world.users["teacher_a1"])
    text = client.get(reverse("home")).content.decode()

    section = text[text.index("Calendar unit") :]
    rows = re.findall(r"<tr class=\"([^\"]*)\">(.*?)</tr>", section, re.S)[:4]
    by_title = {re.search(r">([^<]+)</a>", row).group(1): (cls, row) for cls, row in rows}
    assert list(by_title) == ["Pre", "Check week 3", "Check week 5", "Post"]
    check3_class, check3 = by_title["Check week 3"]
    assert "1 of 3" in check3 and "2 missing" in check3 and "Overdue" in check3
    assert "is-overdue" in check3_class
    check5_class, check5 = by_title["Check week 5"]
    assert "Due this week" in check5 and "0 of 3" in check5 and "3 missing" in check5
    assert "is-due-this-week" in check5_class and "Overdue" not in check5
    _, pre = by_title["Pre"]
    assert "3 of 3" in pre and "Done" in pre
    pre_assessment = classroom_unit.unit.assessments.get(kind="pre")
    assert f'href="{_grid_url(classroom_unit, pre_assessment)}"' in pre
    assert "1 overdue" in section


def _teacher_with_classrooms(count: int):
    district = factories.DistrictFactory()
    school = factories.SchoolFactory(district=district)
    teacher = factories.UserFactory(district=district)
    today = timezone.localdate()
    for index in range(count):
        classroom = factories.ClassroomFactory(school=school)
        classroom.teachers.add(teacher)
        unit = factories.make_unit(district, title=f"Unit {index}")
        classroom_unit = factories.ClassroomUnitFactory(
            classroom=classroom, unit=unit, start_date=_monday(today) - datetime.timedelta(weeks=2)
        )
        factories.ClassroomUnitFactory(
            classroom=classroom,
            unit=factories.make_unit(district, title=f"Earlier unit {index}"),
            start_date=_monday(today) - datetime.timedelta(weeks=12),
        )
        pre = unit.assessments.get(kind="pre")
        for family_name in ("Ames", "Bell"):
            student = _enroll(classroom, family_name)
            _score(classroom_unit, student, pre, "A")
    return teacher


def _home_queries(client, teacher) -> int:
    client.force_login(teacher)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "2 of 2" in response.content.decode()
    return sum(1 for query in captured.captured_queries if "SAVEPOINT" not in query["sql"])


def test_home_page_queries_do_not_grow_with_the_number_of_classrooms(client, db):
    two = _home_queries(client, _teacher_with_classrooms(2))
    five = _home_queries(client, _teacher_with_classrooms(5))
    assert two == five


def test_home_selector_reads_the_calendars_in_a_fixed_number_of_queries(
    world, django_assert_num_queries
):
    teacher = world.users["teacher_a1"]
    _calendar_classroom(world, timezone.localdate())
    # district, classrooms, their units; assessments, enrollment and score counts; coached schools.
    with django_assert_num_queries(7):
        home = home_for(teacher)
    assert [len(taught.unit_calendars) for taught in home.teaching] == [1, 1]


def test_grid_links_to_the_csv_template_and_upload_for_teachers_only(client, world):
    classroom_unit = world.classroom_units["a1"]
    pre = classroom_unit.unit.assessments.get(kind="pre")
    url = f"/classrooms/{classroom_unit.pk}/assessments/{pre.pk}/scores/"
    client.force_login(world.users["teacher_a1"])
    page = client.get(url).content.decode()
    assert f"/classrooms/{classroom_unit.pk}/assessments/{pre.pk}/scores.csv" in page
    assert f"/classrooms/{classroom_unit.pk}/assessments/{pre.pk}/scores/upload/" in page
    client.force_login(world.users["coach_a1"])
    assert "scores/upload/" not in client.get(url).content.decode()
