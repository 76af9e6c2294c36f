"""The score grid in a real Chromium: keyboard entry, paste, checks as typed, conflicts, retries."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from assessments.models import Score, ScoreChange
from assessments.services import ScoreEntry, scores_save
from tests import factories
from tests.browser.conftest import log_in
from tests.conftest import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAVE_WAIT_MS = 10_000


@dataclass
class Class:
    """Class a1 of the test world with four students, at its week-3 checkpoint (no scores yet)."""

    classroom_unit: Any
    assessment: Any
    students: dict[str, Any]  # by family name, in grid order
    teacher: Any
    co_teacher: Any

    @property
    def url(self) -> str:
        return reverse("score-grid", args=[self.classroom_unit.pk, self.assessment.pk])

    def saved(self) -> dict[tuple[str, str], str]:
        """What the database holds: (family name, skill) → value as typed."""
        names = {student.pk: name for name, student in self.students.items()}
        shown = {}
        for score in Score.objects.filter(
            classroom_unit=self.classroom_unit, assessment_skill__assessment=self.assessment
        ).select_related("assessment_skill__skill"):
            letters = {"absent": "A", "exempt": "X"}
            value = letters.get(score.status) or f"{score.points.normalize():f}"
            shown[(names[score.student_id], score.assessment_skill.skill.code)] = value
        return shown


def _class() -> Class:
    world = build_world()
    classroom = world.classrooms["a1"]
    classroom_unit = world.classroom_units["a1"]
    since = timezone.localdate() - datetime.timedelta(days=30)
    for family_name, given_name in [("Chen", "Cy"), ("Adams", "Ava"), ("Baker", "Bo")]:
        factories.EnrollmentFactory(
            classroom=classroom,
            student__family_name=family_name,
            student__given_name=given_name,
            start_date=since,
        )
    world.students["a1"].family_name = "Dunn"
    world.students["a1"].given_name = "Di"
    world.students["a1"].save(update_fields=["family_name", "given_name"])
    co_teacher = factories.UserFactory(
        username="co_teacher", district=world.districts["a"], first_name="Kim", last_name="Co"
    )
    classroom.teachers.add(co_teacher)
    students = {
        enrollment.student.family_name: enrollment.student
        for enrollment in classroom.enrollments.select_related("student").order_by(
            "student__family_name"
        )
    }
    assert list(students) == ["Adams", "Baker", "Chen", "Dunn"]
    return Class(
        classroom_unit=classroom_unit,
        assessment=classroom_unit.unit.assessments.get(title="Check week 3"),
        students=students,
        teacher=world.users["teacher_a1"],
        co_teacher=co_teacher,
    )


def _cell(page, student, code: str):
    return page.locator(f'input.cell-input[data-student="{student.pk}"][data-skill="{code}"]')


def _focused_id(page) -> str:
    return page.evaluate("document.activeElement.id")


def _paste(page, text: str) -> None:
    """A paste into the focused cell, as a spreadsheet's clipboard gives it (tab-separated)."""
    page.evaluate(
        """(text) => {
            const data = new DataTransfer();
            data.setData("text/plain", text);
            document.activeElement.dispatchEvent(new ClipboardEvent("paste", {
                clipboardData: data, bubbles: true, cancelable: true,
            }));
        }""",
        text,
    )


def _status(page):
    return page.locator("#grid-status")


def _open_grid(page, live_server, klass: Class, username: str = "teacher_a1") -> None:
    log_in(page, live_server, username)
    page.get_by_role("heading", name="My classrooms").wait_for()
    page.goto(f"{live_server.url}{klass.url}")
    expect(_status(page)).to_have_text("All saved")


def test_teacher_types_a_column_pastes_a_block_and_finds_it_all_after_reload(page, live_server):
    klass = _class()
    adams, baker, chen, dunn = klass.students.values()
    _open_grid(page, live_server, klass)

    # The first cell, reached from the keyboard's point of view by its label.
    page.get_by_role("textbox", name="Adams, Ava, A (0 to 4)").click()
    for value, next_student in [("1", baker), ("2.5", chen), ("a", dunn)]:
        page.keyboard.type(value)
        page.keyboard.press("Enter")
        assert _focused_id(page) == f"cell-{next_student.pk}-0", "Enter moves down"
    page.keyboard.type("4")
    expect(_status(page)).to_contain_text("unsaved")

    # A 2 × 2 block from a spreadsheet, pasted into Baker's A: overwrites typed values too.
    _cell(page, baker, "A").click()
    _paste(page, "3\t5\r\nA\t6\r\n")
    expect(_cell(page, chen, "B")).to_have_value("6")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)

    expected = {
        ("Adams", "A"): "1",
        ("Baker", "A"): "3",
        ("Baker", "B"): "5",
        ("Chen", "A"): "A",
        ("Chen", "B"): "6",
        ("Dunn", "A"): "4",
    }
    assert klass.saved() == expected

    page.reload()
    expect(_status(page)).to_have_text("All saved")
    for (family_name, code), value in expected.items():
        expect(_cell(page, klass.students[family_name], code)).to_have_value(value)
    expect(_cell(page, adams, "B")).to_have_value("")
    assert _cell(page, baker, "B").get_attribute("data-version") == "1"

    # Arrows and Tab move too; typing replaces what the cell held.
    _cell(page, adams, "A").click()
    page.keyboard.press("Tab")
    assert _focused_id(page) == f"cell-{adams.pk}-1"
    page.keyboard.press("ArrowDown")
    assert _focused_id(page) == f"cell-{baker.pk}-1"
    page.keyboard.type("5.75")
    page.keyboard.press("ArrowLeft")
    assert _focused_id(page) == f"cell-{baker.pk}-0"
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved()[("Baker", "B")] == "5.75"


def test_out_of_range_value_is_explained_kept_in_its_cell_and_never_sent(page, live_server):
    klass = _class()
    adams = klass.students["Adams"]
    _open_grid(page, live_server, klass)
    posted: list[str] = []
    page.on("request", lambda request: posted.append(request.post_data or "")
            if request.method == "POST" else None)  # fmt: skip

    _cell(page, adams, "A").click()
    page.keyboard.type("9")
    page.keyboard.press("Tab")
    page.keyboard.type("2")

    reason = page.locator(f"#msg-{adams.pk}-0")
    expect(reason).to_have_text("9 is outside 0 to 4 points.")
    expect(reason).to_be_visible()
    expect(_cell(page, adams, "A")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"td:has(#cell-{adams.pk}-1)")).to_have_attribute(
        "data-state", "saved", timeout=SAVE_WAIT_MS
    )
    expect(_status(page)).to_have_text("1 unsaved · 1 to fix (see the red cells)")
    expect(_cell(page, adams, "A")).to_have_value("9")
    assert klass.saved() == {("Adams", "B"): "2"}
    assert posted and all('"value":"9"' not in body for body in posted)

    # More than 2 decimals is refused the same way; the server's rules are the grid's.
    _cell(page, adams, "A").click()
    page.keyboard.type("1.125")
    expect(reason).to_have_text("'1.125' has more than 2 decimals.")

    # Leaving the page with a value not saved warns first.
    with page.expect_event("dialog") as warning:
        page.close(run_before_unload=True)
    assert warning.value.type == "beforeunload"
    warning.value.accept()
    assert klass.saved() == {("Adams", "B"): "2"}


def test_a_value_the_server_refuses_stays_with_its_reason_and_the_rest_still_saves(
    page, live_server
):
    klass = _class()
    adams, dunn = klass.students["Adams"], klass.students["Dunn"]
    _open_grid(page, live_server, klass)
    # Meanwhile Dunn's enrollment is ended by the office: the grid still shows the row.
    enrollment = dunn.enrollments.get()
    enrollment.end_date = klass.classroom_unit.start_date - datetime.timedelta(days=1)
    enrollment.save(update_fields=["end_date"])

    _cell(page, dunn, "A").click()
    page.keyboard.type("3")
    _cell(page, adams, "B").click()
    page.keyboard.type("1")

    reason = page.locator(f"#msg-{dunn.pk}-0")
    expect(reason).to_have_text(
        "This student is not enrolled in this classroom.", timeout=SAVE_WAIT_MS
    )
    expect(_cell(page, dunn, "A")).to_have_value("3")
    expect(page.locator(f"td:has(#cell-{adams.pk}-1)")).to_have_attribute(
        "data-state", "saved", timeout=SAVE_WAIT_MS
    )
    expect(_status(page)).to_have_text("1 unsaved · 1 to fix (see the red cells)")
    assert klass.saved() == {("Adams", "B"): "1"}


def test_conflict_from_a_co_teacher_is_shown_and_both_choices_work(page, live_server):
    klass = _class()
    adams, baker = klass.students["Adams"], klass.students["Baker"]
    _open_grid(page, live_server, klass)

    # Meanwhile, in another session, the co-teacher saves two of the cells.
    result = scores_save(
        actor=klass.co_teacher,
        classroom_unit=klass.classroom_unit,
        assessment=klass.assessment,
        entries=[ScoreEntry(adams.pk, "A", "2"), ScoreEntry(baker.pk, "A", "3")],
    )
    assert result.is_applied

    _cell(page, adams, "A").click()
    page.keyboard.type("4")
    page.keyboard.press("Enter")
    page.keyboard.type("1")
    page.keyboard.press("Enter")

    adams_message = page.locator(f"#msg-{adams.pk}-0")
    expect(adams_message).to_contain_text("Changed by Kim Co to 2.", timeout=SAVE_WAIT_MS)
    baker_message = page.locator(f"#msg-{baker.pk}-0")
    expect(baker_message).to_contain_text("Changed by Kim Co to 3.")
    expect(_status(page)).to_contain_text("2 changed by someone else")
    expect(_cell(page, adams, "A")).to_have_value("4")  # nothing typed is lost
    assert klass.saved() == {("Adams", "A"): "2", ("Baker", "A"): "3"}

    # Keep mine: sent again on top of the co-teacher's version.
    adams_message.get_by_role("button", name="Keep mine (4)").click()
    expect(page.locator(f"td:has(#cell-{adams.pk}-0)")).to_have_attribute(
        "data-state", "saved", timeout=SAVE_WAIT_MS
    )
    # Take theirs: the cell shows the co-teacher's value; nothing is sent.
    baker_message.get_by_role("button", name="Take theirs (3)").click()
    expect(_cell(page, baker, "A")).to_have_value("3")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved() == {("Adams", "A"): "4", ("Baker", "A"): "3"}
    adams_a = Score.objects.get(student=adams, classroom_unit=klass.classroom_unit)
    assert adams_a.version == 2 and adams_a.entered_by == klass.teacher

    # The cell's history shows both changes, newest first (Alt+H on the focused cell).
    _cell(page, adams, "A").click()
    page.keyboard.press("Alt+h")
    dialog = page.locator("#history-dialog")
    expect(dialog.locator("tbody tr")).to_have_count(2)
    rows = [re.sub(r"\s+", " ", text) for text in dialog.locator("tbody tr").all_inner_texts()]
    assert "Kim Co" in rows[1] and "empty → 2" in rows[1]
    assert str(klass.teacher) in rows[0] and "2 → 4" in rows[0]
    assert ScoreChange.objects.filter(student=adams).count() == 2
    page.keyboard.press("Escape")
    expect(dialog).not_to_be_visible()
    assert _focused_id(page) == f"cell-{adams.pk}-0"


def test_failed_save_keeps_the_values_and_retries_until_saved(page, live_server):
    klass = _class()
    adams = klass.students["Adams"]
    _open_grid(page, live_server, klass)
    failures = {"left": 2}

    def flaky(route):
        if failures["left"]:
            failures["left"] -= 1
            route.fulfill(status=503, body="down for a moment")
        else:
            route.continue_()

    page.route(re.compile(r".*/api/classroom-units/.*/scores/$"), flaky)
    _cell(page, adams, "A").click()
    page.keyboard.type("3.5")

    expect(_status(page)).to_contain_text("retrying", timeout=SAVE_WAIT_MS)
    expect(page.locator(f"td:has(#cell-{adams.pk}-0)")).to_have_attribute("data-state", "retry")
    expect(_cell(page, adams, "A")).to_have_value("3.5")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert failures["left"] == 0
    assert klass.saved() == {("Adams", "A"): "3.5"}


def test_coach_sees_the_grid_read_only(page, live_server):
    klass = _class()
    log_in(page, live_server, "coach_a1")
    page.get_by_role("heading", name="My schools").wait_for()
    page.goto(f"{live_server.url}{klass.url}")
    expect(page.get_by_role("note")).to_contain_text("Read only.")
    cell = _cell(page, klass.students["Adams"], "A")
    cell.click()
    page.keyboard.type("3")
    expect(cell).to_have_value("")
    page.keyboard.press("ArrowDown")
    assert _focused_id(page) == f"cell-{klass.students['Baker'].pk}-0"
    expect(_status(page)).to_have_text("All saved")
