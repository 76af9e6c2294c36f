"""The home page: it needs a login and shows what fits each role, and only that."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _home_text(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_home_requires_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_teacher_home_lists_only_their_classrooms(client, world):
    text = _home_text(client, world.users["teacher_a1"])
    assert "Class a1" in text
    assert "Class a2" not in text
    assert "Class b1" not in text
    assert "Fractions a" in text


def test_coach_home_lists_only_coached_schools(client, world):
    text = _home_text(client, world.users["coach_a1"])
    assert "My schools" in text
    assert "School a1" in text
    assert "School a2" not in text
    assert "Set-up" not in text


def test_admin_home_shows_the_whole_district_and_the_setup_link(client, world):
    text = _home_text(client, world.users["admin_a"])
    assert "School a1" in text and "School a2" in text
    assert "School b1" not in text
    assert reverse("admin:index") in text
    assert reverse("roster-import") in text
    assert reverse("audit-event-list") in text


def test_user_without_role_is_told_what_to_do(client, world):
    text = _home_text(client, world.users["no_role_a"])
    assert "Ask your district admin" in text
