"""Log in, load a classroom's roster, log out; the pages' scripts and styles are our own.

The home page itself is tested in tests/assessments/test_home_page.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _home_text(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    return response.content.decode()


def test_login_page_logs_a_teacher_in_with_username_and_password(client, world):
    response = client.post(
        reverse("login"), {"username": "teacher_a1", "password": "pw-for-tests"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("home")
    assert "My classrooms" in response.content.decode()


def test_wrong_password_is_explained_and_keeps_the_user_out(client, world):
    response = client.post(reverse("login"), {"username": "teacher_a1", "password": "nope"})
    assert "did not match" in response.content.decode()
    assert client.get(reverse("home")).status_code == 302


def test_roster_loads_for_own_classroom_and_is_404_for_others(client, world):
    client.force_login(world.users["teacher_a1"])
    own = client.get(reverse("classroom-roster", args=[world.classrooms["a1"].pk]))
    assert own.status_code == 200
    assert world.students["a1"].family_name in own.content.decode()
    other = client.get(reverse("classroom-roster", args=[world.classrooms["b1"].pk]))
    assert other.status_code == 404


def test_logout_ends_the_session(client, world):
    client.force_login(world.users["teacher_a1"])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_pages_load_htmx_and_the_stylesheet_from_this_server(client, world):
    text = _home_text(client, world.users["teacher_a1"])
    assert '<script src="/static/django_htmx/htmx-2.min.js"' in text
    assert 'href="/static/classrooms/thinslice.css"' in text
    assert "https://" not in text and "http://" not in text, "no third-party origin on the page"
    for static_path in ("/static/django_htmx/htmx-2.min.js", "/static/classrooms/thinslice.css"):
        assert client.get(static_path).status_code == 200
