"""axe finds nothing to fix on the score grid's states added by issue 13: the grid itself, the
paste that asks first, the history with a reason, and the phone mode."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.axe import assert_accessible
from tests.browser.test_score_grid import SAVE_WAIT_MS, _cell, _class, _open_grid, _paste, _status
from tests.browser.test_score_grid_safety import _save

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_grid_paste_preview_and_history_with_a_reason_are_accessible(page, live_server):
    klass = _class()
    _save(klass, klass.teacher, {("Adams", "A"): "1"})
    _open_grid(page, live_server, klass)
    assert_accessible(page)

    _paste(page, "Name\tA\nZed Zulu\t2\nAdams, Ava\t3\n")
    expect(page.locator("#paste-dialog")).to_be_visible()
    assert_accessible(page)
    page.locator("#paste-dialog").get_by_role("button", name="Paste 1 value").click()
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    page.keyboard.press("Control+z")
    expect(_status(page)).to_have_text("All saved", timeout=SAVE_WAIT_MS)
    assert_accessible(page)

    _cell(page, klass.students["Adams"], "A").click()
    page.keyboard.press("Alt+h")
    expect(page.locator("#history-dialog tbody tr")).to_have_count(3)
    assert_accessible(page)


def test_phone_mode_is_accessible(chromium, live_server):
    klass = _class()
    context = chromium.new_context(
        viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    try:
        _open_grid(page, live_server, klass)
        expect(page.locator("#phone-nav")).to_be_visible()
        assert_accessible(page)
    finally:
        context.close()
