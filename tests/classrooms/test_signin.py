"""Signing in when usernames are unique per district; "forgot password"; invitations by email,
one through a real SMTP server on loopback."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from classrooms.models import SignInFailure, User
from tests import factories
from tests.conftest import World
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^\s]+/(?:welcome|reset)/[^\s]+/")


def _rostered(district: Any, username: str, email: str = "") -> User:
    """A teacher as a roster import makes them: no password yet."""
    user = factories.UserFactory(username=username, district=district, email=email)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def _log_in(client: Any, path: str, username: str, password: str) -> Any:
    return client.post(path, {"username": username, "password": password}, follow=True)


def _signed_in_as(client: Any) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return None if user_id is None else User.objects.all_schools().get(pk=user_id)


# --- Accounts per district ---------------------------------------------------------------------


def test_two_districts_each_have_a_teacher14_who_signs_in_to_their_own_account(
    client: Any, world: World
) -> None:
    first = factories.UserFactory(username="teacher14", district=world.districts["a"])
    second = factories.UserFactory(username="teacher14", district=world.districts["b"])
    second.set_password("another-pw-for-tests")
    second.save(update_fields=["password"])

    _log_in(client, reverse("login"), "teacher14", "pw-for-tests")
    assert _signed_in_as(client) == first
    client.logout()
    _log_in(client, reverse("login"), "teacher14", "another-pw-for-tests")
    assert _signed_in_as(client) == second


def test_the_districts_sign_in_address_resolves_a_username_both_districts_have(
    client: Any, world: World
) -> None:
    factories.UserFactory(username="teacher14", district=world.districts["a"])
    second = factories.UserFactory(username="teacher14", district=world.districts["b"])
    path = reverse("district-login", kwargs={"slug": world.districts["b"].slug})

    response = _log_in(client, path, "teacher14", "pw-for-tests")

    assert _signed_in_as(client) == second
    assert response.redirect_chain[-1][0] == reverse("home")


def test_an_ambiguous_sign_in_is_refused_without_naming_any_district(
    client: Any, world: World
) -> None:
    factories.UserFactory(username="teacher14", district=world.districts["a"])
    factories.UserFactory(username="teacher14", district=world.districts["b"])

    response = _log_in(client, reverse("login"), "teacher14", "pw-for-tests")

    text = response.content.decode()
    assert _signed_in_as(client) is None
    assert "did not match" in text
    assert world.districts["a"].name not in text and world.districts["b"].name not in text


def test_a_district_address_signs_in_only_that_districts_accounts(
    client: Any, world: World
) -> None:
    path = reverse("district-login", kwargs={"slug": world.districts["b"].slug})

    _log_in(client, path, "teacher_a1", "pw-for-tests")

    assert _signed_in_as(client) is None


def test_an_unknown_district_address_is_a_404(client: Any, world: World) -> None:
    response = client.get(reverse("district-login", kwargs={"slug": "nowhere"}))
    assert response.status_code == 404


def test_an_email_address_signs_in_too(client: Any, world: World) -> None:
    teacher = world.users["teacher_a1"]
    teacher.email = "Ms.Teacher@district-a.example"
    teacher.save(update_fields=["email"])

    _log_in(client, reverse("login"), "ms.teacher@district-a.example", "pw-for-tests")

    assert _signed_in_as(client) == teacher


def test_the_same_username_twice_in_one_district_is_refused(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="teacher_a1", district=world.districts["a"])


def test_a_superuser_belongs_to_no_district(world: World) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="operator", district=world.districts["a"], is_superuser=True)


def test_a_district_admin_never_reaches_a_superusers_account(client: Any, world: World) -> None:
    operator = User.objects.create(
        username="operator", is_superuser=True, is_staff=True, password=make_password("x-pw-1")
    )
    client.force_login(world.users["admin_a"])

    page = client.get(reverse("admin:classrooms_user_change", args=[operator.pk]))
    reset = client.post(
        reverse("admin:auth_user_password_change", args=[operator.pk]),
        {"password1": "taken-over-pw-81", "password2": "taken-over-pw-81"},
    )

    assert page.status_code == 302
    assert reset.status_code in (302, 403, 404)
    operator.refresh_from_db()
    assert operator.check_password("x-pw-1")
    assert User.objects.visible_to(world.users["admin_a"]).filter(pk=operator.pk).count() == 0


# --- Forgot password ---------------------------------------------------------------------------


def _link(body: str) -> str:
    found = LINK.search(body)
    assert found, body
    return found.group(0)


def test_forgot_password_reaches_a_rostered_teacher_who_never_had_one(
    client: Any, world: World
) -> None:
    teacher = _rostered(world.districts["a"], "rostered1", "rostered1@district-a.example")

    response = client.post(reverse("password-reset"), {"email": "ROSTERED1@district-a.example"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["rostered1@district-a.example"]
    assert "rostered1" in mail.outbox[0].body
    landed = _choose_password(client, _link(mail.outbox[0].body), "a-new-pw-for-tests-81")
    assert landed.redirect_chain[-1][0] == reverse("home")
    teacher.refresh_from_db()
    assert teacher.check_password("a-new-pw-for-tests-81")
    assert _signed_in_as(client) == teacher


def test_forgot_password_says_the_same_for_an_unknown_address(client: Any, world: World) -> None:
    response = client.post(reverse("password-reset"), {"email": "nobody@nowhere.example"})
    assert response.status_code == 302
    assert mail.outbox == []


def _choose_password(client: Any, link: str, password: str) -> Any:
    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert page.context["validlink"], "the emailed link should open the password form"
    return client.post(
        page.redirect_chain[-1][0],
        {"new_password1": password, "new_password2": password},
        follow=True,
    )


# --- Invitations -------------------------------------------------------------------------------


def test_admin_invites_everyone_without_a_sign_in_and_each_link_works_once(
    client: Any, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    waiting = _rostered(world.districts["a"], "newteacher", "new@district-a.example")
    _rostered(world.districts["b"], "elsewhere", "elsewhere@district-b.example")
    client.force_login(world.users["admin_a"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("invitation-send"), {"whom": "everyone"}, follow=True)

    assert "Sent 1 invitation." in response.content.decode()
    assert [message.to for message in mail.outbox] == [["new@district-a.example"]]
    link = _link(mail.outbox[0].body)
    client.logout()
    landed = _choose_password(client, link, "first-day-pw-for-tests-7")
    assert landed.redirect_chain[-1][0] == reverse("home")
    assert _signed_in_as(client) == waiting
    client.logout()
    again = client.get(link, follow=True)
    assert not again.context["validlink"]


def test_admin_invites_one_school(
    client: Any, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    at_a1 = _rostered(world.districts["a"], "a1new", "a1new@district-a.example")
    world.classrooms["a1"].teachers.add(at_a1)
    _rostered(world.districts["a"], "a2new", "a2new@district-a.example")
    client.force_login(world.users["admin_a"])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("invitation-send"), {"whom": "school", "school": world.schools["a1"].pk}
        )

    assert [message.to for message in mail.outbox] == [["a1new@district-a.example"]]


def test_an_admin_cannot_invite_another_districts_person(client: Any, world: World) -> None:
    other = _rostered(world.districts["b"], "elsewhere", "elsewhere@district-b.example")
    client.force_login(world.users["admin_a"])

    response = client.post(reverse("invitation-send"), {"whom": "person", "person": other.pk})

    assert response.status_code == 400
    assert mail.outbox == []


def test_a_teacher_cannot_invite(client: Any, world: World) -> None:
    client.force_login(world.users["teacher_a1"])
    response = client.post(reverse("invitation-send"), {"whom": "everyone"})
    assert response.status_code == 403


def test_an_invitation_travels_through_a_real_smtp_server_and_its_link_sets_the_password(
    client: Any,
    world: World,
    smtp_server: SmtpServer,  # noqa: F811
    django_capture_on_commit_callbacks: Any,
) -> None:
    waiting = _rostered(world.districts["a"], "smtpteacher", "smtp@district-a.example")
    client.force_login(world.users["admin_a"])

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("invitation-send"), {"whom": "person", "person": waiting.pk})

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "smtp@district-a.example"
    body = message.get_payload(decode=True).decode()
    client.logout()
    landed = _choose_password(client, _link(body), "smtp-pw-for-tests-42")
    assert landed.redirect_chain[-1][0] == reverse("home")
    waiting.refresh_from_db()
    assert waiting.check_password("smtp-pw-for-tests-42")


# --- Humane lockout ----------------------------------------------------------------------------


def _wrong(client: Any, username: str = "teacher_a1") -> str:
    response = client.post(reverse("login"), {"username": username, "password": "wrong-guess"})
    return str(response.content.decode())


def test_the_third_wrong_password_warns_before_logging_in_pauses(client: Any, world: World) -> None:
    first, second, third = _wrong(client), _wrong(client), _wrong(client)

    assert "more wrong password" not in first + second
    assert "2 more wrong passwords pause logging in" in third


def test_a_district_admin_unlocks_a_locked_out_teacher(client: Any, world: World) -> None:
    for _attempt in range(5):
        _wrong(client)
    locked = client.post(reverse("login"), {"username": "teacher_a1", "password": "pw-for-tests"})
    assert locked.status_code == 429
    admin = Client()
    admin.force_login(world.users["admin_a"])

    admin.post(
        reverse("admin:classrooms_user_changelist"),
        {"action": "unlock_sign_in", "_selected_action": [world.users["teacher_a1"].pk]},
    )

    _log_in(client, reverse("login"), "teacher_a1", "pw-for-tests")
    assert _signed_in_as(client) == world.users["teacher_a1"]


def test_one_password_sprayed_across_usernames_from_one_address_is_refused(
    client: Any, world: World
) -> None:
    sprayed = "Spring2026!"
    teacher = world.users["teacher_a1"]
    teacher.set_password(sprayed)
    teacher.save()
    for username in ("coach_a1", "coach_a2", "teacher_a2", "admin_a"):
        _log_in(client, reverse("login"), username, sprayed)

    _log_in(client, reverse("login"), "teacher_a1", sprayed)

    assert _signed_in_as(client) is None
    stored = SignInFailure.objects.values_list("password_digest", flat=True)
    assert sprayed not in "".join(stored)


def test_the_same_password_from_another_address_still_signs_in(client: Any, world: World) -> None:
    sprayed = "Spring2026!"
    teacher = world.users["teacher_a1"]
    teacher.set_password(sprayed)
    teacher.save()
    for username in ("coach_a1", "coach_a2", "teacher_a2", "admin_a"):
        client.post(reverse("login"), {"username": username, "password": sprayed})

    elsewhere = Client(REMOTE_ADDR="10.9.9.9")
    _log_in(elsewhere, reverse("login"), "teacher_a1", sprayed)

    assert _signed_in_as(elsewhere) == teacher
