"""Tokens and sessions that end: expiry, password change, deactivation, sign out everywhere."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from classrooms.signin import credentials
from tests.conftest import World

pytestmark = pytest.mark.django_db


def _token(client: Any, username: str) -> str:
    response = client.post(
        reverse("api-token"),
        {"username": username, "password": "pw-for-tests"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    assert "expires_at" in response.json()
    return str(response.json()["token"])


def _api(token: str) -> int:
    return Client(HTTP_AUTHORIZATION=f"Token {token}").get("/api/classrooms/").status_code


def test_a_token_expires_after_the_configured_days(client: Any, world: World, settings) -> None:
    settings.THINSLICE_API_TOKEN_DAYS = 30
    token = _token(client, "teacher_a1")
    assert _api(token) == 200
    Token.objects.filter(key=token).update(
        created=Token.objects.get(key=token).created - datetime.timedelta(days=31)
    )

    assert _api(token) == 401
    fresh = _token(client, "teacher_a1")
    assert fresh != token
    assert _api(fresh) == 200


def test_a_token_does_not_outlive_a_password_change(client: Any, world: World) -> None:
    token = _token(client, "teacher_a1")
    teacher = world.users["teacher_a1"]

    teacher.set_password("a-changed-pw-for-tests-3")
    teacher.save()

    assert _api(token) == 401


def test_deactivation_ends_tokens_and_sessions(client: Any, world: World) -> None:
    token = _token(client, "teacher_a1")
    browser = Client()
    browser.force_login(world.users["teacher_a1"])
    teacher = world.users["teacher_a1"]

    teacher.is_active = False
    teacher.save(update_fields=["is_active"])

    assert _api(token) == 401
    assert not Token.objects.filter(user=teacher).exists()
    assert browser.get(reverse("home")).status_code == 302


def test_sign_out_everywhere_ends_every_session_and_token(client: Any, world: World) -> None:
    teacher = world.users["teacher_a1"]
    token = _token(client, "teacher_a1")
    other_browser = Client()
    other_browser.force_login(teacher)
    client.force_login(teacher)

    response = client.post(reverse("sign-out-everywhere"))

    assert response.status_code == 302
    assert other_browser.get(reverse("home")).status_code == 302
    assert client.get(reverse("home")).status_code == 302
    assert _api(token) == 401


def test_a_district_admin_lists_and_revokes_a_persons_tokens(client: Any, world: World) -> None:
    teacher = world.users["teacher_a1"]
    token = _token(client, "teacher_a1")
    client.force_login(world.users["admin_a"])

    page = client.get(reverse("admin:classrooms_user_change", args=[teacher.pk]))
    assert "expires" in page.content.decode()
    client.post(
        reverse("admin:classrooms_user_changelist"),
        {"action": "sign_out_everywhere", "_selected_action": [teacher.pk]},
    )

    assert _api(token) == 401


def test_a_district_admin_cannot_sign_out_another_districts_person(world: World) -> None:
    with pytest.raises(credentials.PermissionDenied):
        credentials.sign_out_everywhere(
            actor=world.users["admin_a"], person=world.users["teacher_b1"]
        )


def test_the_session_cookie_ends_when_the_browser_closes(client: Any, world: World) -> None:
    response = client.post(reverse("login"), {"username": "teacher_a1", "password": "pw-for-tests"})

    cookie = response.cookies["sessionid"]
    assert cookie.value
    assert cookie["expires"] == "" and cookie["max-age"] == ""
