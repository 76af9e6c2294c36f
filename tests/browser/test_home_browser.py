"""Signing in and the home page, in a real Chromium, with the keyboard."""

from __future__ import annotations

import pytest

from tests.browser.conftest import log_in
from tests.conftest import build_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_teacher_signs_in_sees_own_classroom_and_opens_its_roster(page, live_server):
    world = build_world()
    log_in(page, live_server, "teacher_a1")
    page.get_by_role("heading", name="My classrooms").wait_for()
    assert page.get_by_role("heading", name="Class a1").is_visible()
    assert page.get_by_text("Class b1").count() == 0

    # The roster loads in place (htmx) without leaving the page.
    page.get_by_role("button", name="Show students").click()
    student = world.students["a1"]
    page.get_by_role("cell", name=f"{student.family_name}, {student.given_name}").wait_for()
    assert page.url.rstrip("/") == live_server.url


def test_login_form_works_from_the_keyboard_alone(page, live_server):
    build_world()
    page.goto(f"{live_server.url}/login/")
    # The username field takes focus as the page opens; typing starts there.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_username'")
    page.keyboard.type("coach_a1")
    page.keyboard.press("Tab")
    page.keyboard.type("pw-for-tests")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My schools").wait_for()
    assert page.get_by_role("rowheader", name="School a1").is_visible()


def test_wrong_password_is_explained_in_the_page(page, live_server):
    build_world()
    log_in(page, live_server, "teacher_a1", password="wrong")
    assert page.get_by_role("alert").inner_text().startswith("That username and password")
