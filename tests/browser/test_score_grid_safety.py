"""The grid never puts a value on the wrong student and never loses one (issue 13), in a real
Chromium: paste by meaning, a paste that asks first, undo after a save, autosave during steady
typing, a killed browser, a co-teacher's change, Ctrl+D, signing out, and the phone mode."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from assessments.models import ScoreChange
from assessments.services import ScoreEntry, scores_save
from tests.browser.test_score_grid import SAVE_WAIT_MS, _cell, _class, _open_grid, _paste, _status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

API = re.compile(r".*/api/classroom-units/.*/scores/$")


def _save(klass, actor, values: dict[tuple[str, str], str]) -> None:
    entries = [
        ScoreEntry(klass.students[name].pk, code, value) for (name, code), value in values.items()
    ]
    result = scores_save(
        actor=actor,
        classroom_unit=klass.classroom_unit,
        assessment=klass.assessment,
        entries=entries,
    )
    assert result.is_applied, result.problems


def test_header_and_names_paste_lands_every_value_on_its_student_and_ctrl_z_takes_it_back(
    page, live_server
):
    """The issue's failure: a block copied with its header row and names column, pasted into the
    first cell, was written one row and one column off, onto the wrong students."""
    klass = _class()
    earlier = {("Adams", "A"): "1", ("Baker", "A"): "2", ("Chen", "B"): "5", ("Dunn", "A"): "4"}
    _save(klass, klass.teacher, earlier)
    _open_grid(page, live_server, klass)
    dunn = klass.students["Dunn"]

    # Rows in another order than the grid's, names written three ways, one by SIS id only, the
    # skills' columns swapped and titled as a spreadsheet would.
    _cell(page, klass.students["Adams"], "A").click()
    _paste(
        page,
        "Student\tB (max 6)\tA\r\n"
        "Chen, Cy\t6\t3\r\n"
        "Ava Adams\t2.5\t4\r\n"
        f"{dunn.sis_id}\t\tA\r\n"
        "Baker Bo\t0\t1,5\r\n",
    )
    expect(page.locator("#grid-note")).to_contain_text("each on its student and skill")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    pasted = {
        ("Adams", "A"): "4",
        ("Adams", "B"): "2.5",
        ("Baker", "A"): "1.5",
        ("Baker", "B"): "0",
        ("Chen", "A"): "3",
        ("Chen", "B"): "6",
        ("Dunn", "A"): "A",
    }
    assert klass.saved() == pasted

    # Ctrl+Z after the paste was saved: every earlier value comes back, saved as new versions.
    page.keyboard.press("Control+z")
    expect(page.locator("#grid-note")).to_contain_text("Undid paste of 7 values")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved() == earlier
    adams_a = ScoreChange.objects.filter(
        student=klass.students["Adams"], assessment_skill__skill__code="A"
    ).order_by("pk")
    assert [(change.version, change.reason) for change in adams_a] == [
        (1, ""),
        (2, ""),
        (3, "Undo"),
    ]
    # The history shows the undo as one.
    _cell(page, klass.students["Adams"], "A").click()
    page.keyboard.press("Alt+h")
    expect(page.locator("#history-dialog tbody tr").first).to_contain_text("Undo")


def test_a_paste_it_cannot_place_for_sure_shows_where_each_value_goes_and_waits(page, live_server):
    klass = _class()
    _save(klass, klass.teacher, {("Adams", "A"): "1"})
    _open_grid(page, live_server, klass)
    _cell(page, klass.students["Adams"], "A").click()

    _paste(page, "Name\tA\tB\nAdams, Ava\t3\t4\nZed Zulu\t2\t2\n")
    dialog = page.get_by_role("dialog", name="Check where these values would go")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("“Zed Zulu” is not a student of this class.")
    rows = dialog.locator("#paste-places tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Adams, Ava")
    expect(dialog.locator("#paste-left")).to_contain_text("Zed Zulu")
    # Nothing is written, not even in the grid, until the teacher confirms.
    expect(_cell(page, klass.students["Adams"], "A")).to_have_value("1")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.locator("#grid-note")).to_have_text("Paste cancelled: nothing changed.")
    assert klass.saved() == {("Adams", "A"): "1"}

    # A plain block too long for where it lands asks too; confirming pastes what fits.
    _cell(page, klass.students["Chen"], "B").click()
    _paste(page, "5\n6\n1\n")
    expect(dialog).to_contain_text("longer than the grid")
    dialog.get_by_role("button", name="Paste 2 values").click()
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved() == {("Adams", "A"): "1", ("Chen", "B"): "5", ("Dunn", "B"): "6"}

    # A plain block that fits, into the focused cell, keeps working as before.
    _cell(page, klass.students["Adams"], "B").click()
    _paste(page, "2\n3\n")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved()[("Baker", "B")] == "3"


def test_steady_typing_is_saved_as_it_goes_not_only_after_the_last_key(page, live_server):
    """The issue's failure: 33 s of steady typing sent one save, after the last key."""
    klass = _class()
    _open_grid(page, live_server, klass)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    _cell(page, klass.students["Adams"], "A").click()
    # Eight cells typed at five keys a second without a pause (each "1.25" then Tab).
    for _ in range(8):
        page.keyboard.type("1.25", delay=200)
        page.keyboard.press("Tab")
        page.wait_for_timeout(200)
    sent_while_typing = len(posts)
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert sent_while_typing >= 3, "saves go out while typing goes on"
    assert len(klass.saved()) == 8


def test_a_co_teachers_saved_change_appears_without_a_reload_marked_as_theirs(page, live_server):
    klass = _class()
    _open_grid(page, live_server, klass)
    adams = klass.students["Adams"]
    _save(klass, klass.co_teacher, {("Adams", "B"): "5"})
    expect(_cell(page, adams, "B")).to_have_value("5", timeout=12_000)
    expect(page.locator(f"#msg-{adams.pk}-1")).to_have_text("Changed by Kim Co")
    expect(page.locator("#grid-note")).to_contain_text("Kim Co changed Adams, Ava, B")
    # The teacher's next change builds on the co-teacher's version: no false conflict.
    _cell(page, adams, "B").click()
    page.keyboard.type("6")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved()[("Adams", "B")] == "6"


def test_the_grid_opens_on_the_first_empty_cell_and_ctrl_d_fills_down(page, live_server):
    klass = _class()
    _save(klass, klass.teacher, {("Adams", "A"): "3", ("Baker", "A"): "2"})
    _open_grid(page, live_server, klass)
    chen = klass.students["Chen"]
    expect(_cell(page, chen, "A")).to_be_focused()

    # An optional reason goes with the changes made while it is filled in.
    page.get_by_label("Reason for your next changes").fill("Late work")
    _cell(page, chen, "A").click()
    page.keyboard.type("4")
    page.keyboard.press("Shift+ArrowDown")
    page.keyboard.press("Control+d")
    expect(_cell(page, klass.students["Dunn"], "A")).to_have_value("4")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert klass.saved()[("Dunn", "A")] == "4"
    filled = ScoreChange.objects.get(student=klass.students["Dunn"])
    assert filled.reason == "Late work"

    # The header row stays in view with the last student at 1366 × 768.
    _cell(page, klass.students["Dunn"], "B").click()
    box = page.locator("#score-grid thead").bounding_box()
    assert box is not None and 0 <= box["y"] < 768


def test_signing_out_saves_what_is_pending_then_clears_the_local_copy(page, live_server):
    klass = _class()
    _open_grid(page, live_server, klass)
    _cell(page, klass.students["Adams"], "A").click()
    page.keyboard.type("2")
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/login/$"))
    assert klass.saved() == {("Adams", "A"): "2"}
    assert _local_values(page) == []


def test_signing_out_with_a_value_the_server_cannot_take_warns_first(page, live_server):
    klass = _class()
    _open_grid(page, live_server, klass)
    page.route(API, lambda route: route.fulfill(status=503, body="down")
               if route.request.method == "POST" else route.continue_())  # fmt: skip
    _cell(page, klass.students["Adams"], "A").click()
    page.keyboard.type("2")
    expect(_status(page)).to_contain_text("retrying", timeout=SAVE_WAIT_MS)
    messages: list[str] = []

    def answer(dialog: Any) -> None:
        messages.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    page.get_by_role("button", name="Log out").click()
    expect(page.locator("#grid-note")).to_have_text(
        "Not signed out: your values stay here.", timeout=SAVE_WAIT_MS + 5000
    )
    assert messages and "1 value could not be saved" in messages[0]
    assert [record["value"] for record in _local_values(page)] == ["2"]


def _local_values(page) -> list[dict]:
    return page.evaluate(
        """() => new Promise((resolve) => {
            const opening = indexedDB.open("thinslice-scores", 1);
            opening.onupgradeneeded = () => opening.result.createObjectStore("pending",
                {keyPath: "key"}).createIndex("user", "user");
            opening.onsuccess = () => {
                const request = opening.result.transaction("pending").objectStore("pending")
                    .getAll();
                request.onsuccess = () => resolve(request.result);
            };
        })"""
    )


def test_phone_mode_enters_a_small_group_one_student_at_a_time(chromium, live_server):
    klass = _class()
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        _open_grid(page, live_server, klass)
        nav = page.locator("#phone-nav")
        expect(nav).to_be_visible()
        expect(page.locator("#phone-position")).to_have_text("Student 1 of 4: Adams, Ava")
        # One student is shown; the table's header and other rows are not.
        expect(page.locator("#score-grid thead")).to_be_hidden()
        expect(_cell(page, klass.students["Baker"], "A")).to_be_hidden()
        wide = page.evaluate(
            """() => [...document.querySelectorAll("body *")]
                .filter((e) => e.getBoundingClientRect().right > 390 && e.offsetParent)
                .map((e) => e.tagName + "#" + e.id + "." + e.className)"""
        )
        assert wide == []
        expect(_cell(page, klass.students["Adams"], "A")).to_have_attribute("inputmode", "decimal")

        _cell(page, klass.students["Adams"], "A").tap()
        page.keyboard.type("3")
        _cell(page, klass.students["Adams"], "B").tap()
        page.keyboard.type("5.5")
        page.get_by_role("button", name="Next student").tap()
        expect(page.locator("#phone-position")).to_have_text("Student 2 of 4: Baker, Bo")
        page.get_by_role("button", name="Absent").tap()
        page.get_by_role("button", name="Next student").tap()
        _cell(page, klass.students["Chen"], "A").tap()
        page.keyboard.type("9")  # above max: checked as on the laptop
        expect(page.locator(f"#msg-{klass.students['Chen'].pk}-0")).to_have_text(
            "9 is outside 0 to 4 points."
        )
        page.keyboard.press("Backspace")
        page.keyboard.type("4")
        expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
        assert klass.saved() == {
            ("Adams", "A"): "3",
            ("Adams", "B"): "5.5",
            ("Baker", "A"): "A",
            ("Baker", "B"): "A",
            ("Chen", "A"): "4",
        }
    finally:
        context.close()
