"""Signing in for the first day, in a real Chromium: an invitation through a real SMTP server,
single sign-on through a real OpenID Connect provider; every sign-in page passes axe."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from classrooms.models import SignInProvider
from tests.browser.axe import assert_accessible
from tests.browser.conftest import log_in
from tests.conftest import build_world
from tests.oidc_provider import OidcProvider, start_oidc_provider  # noqa: F401 - a fixture
from tests.smtp_server import SmtpServer, smtp_server  # noqa: F401 - a fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"https?://\S+/welcome/\S+/")


def test_an_invited_teacher_sets_a_password_from_the_email_and_lands_on_their_home(
    page: Any,
    live_server: Any,
    smtp_server: SmtpServer,  # noqa: F811
) -> None:
    world = build_world()
    teacher = world.users["teacher_a1"]
    teacher.email = "teacher.a1@district-a.example"
    teacher.set_unusable_password()
    teacher.save()

    log_in(page, live_server, "admin_a")
    page.get_by_role("link", name="Invite staff").click()
    page.get_by_role("heading", name="Invite staff of District A").wait_for()
    assert_accessible(page)
    page.get_by_label("Everyone in the district who cannot sign in yet").check()
    page.get_by_role("button", name="Send invitations").click()
    page.get_by_text("Sent 1 invitation.").wait_for()
    page.context.clear_cookies()

    [message] = smtp_server.wait_for(1)
    assert message["To"] == "teacher.a1@district-a.example"
    link = LINK.search(message.get_payload(decode=True).decode())
    assert link
    page.goto(link.group(0))
    page.get_by_role("heading", name="Welcome to Thinslice").wait_for()
    assert_accessible(page)
    page.get_by_label("New password", exact=True).fill("first-day-pw-for-tests-9")
    page.get_by_label("New password again").fill("first-day-pw-for-tests-9")
    page.get_by_role("button", name="Save the password and log in").click()

    page.get_by_role("heading", name="My classrooms").wait_for()
    assert page.get_by_role("heading", name="Class a1").is_visible()


def test_a_teacher_signs_in_through_the_loopback_openid_connect_provider(
    page: Any,
    live_server: Any,
    start_oidc_provider: Any,  # noqa: F811
) -> None:
    world = build_world()
    teacher = world.users["teacher_a1"]
    teacher.email = "teacher.a1@district-a.example"
    teacher.save(update_fields=["email"])
    provider = SignInProvider.objects.create(
        district=world.districts["a"],
        kind="openid_connect",
        label="Loopback ID",
        client_id="pending",
        server_url="http://127.0.0.1:1",
    )
    callback = live_server.url + reverse(
        "openid_connect_callback", kwargs={"provider_id": provider.provider_id}
    )
    started: OidcProvider = start_oidc_provider(
        callback, [("mteacher", "provider-pw-1", "teacher.a1@district-a.example")]
    )
    provider.client_id, provider.secret = started.client_id, started.secret
    provider.server_url = started.issuer
    provider.save()

    page.goto(
        live_server.url + reverse("district-login", kwargs={"slug": world.districts["a"].slug})
    )
    page.get_by_role("heading", name="Log in to District A").wait_for()
    assert_accessible(page)
    page.get_by_role("button", name="Sign in with Loopback ID").click()
    page.get_by_label("Provider username").fill("mteacher")
    page.get_by_label("Provider password").fill("provider-pw-1")
    page.get_by_role("button", name="Sign in at the provider").click()

    page.get_by_role("heading", name="My classrooms").wait_for()
    assert page.get_by_role("heading", name="Class a1").is_visible()


def test_the_sign_in_pages_pass_axe(page: Any, live_server: Any) -> None:
    build_world()
    for path in (reverse("login"), reverse("password-reset"), reverse("password-reset-done")):
        page.goto(live_server.url + path)
        assert_accessible(page)
    log_in(page, live_server, "teacher_a1")
    page.get_by_role("link", name="Sign out everywhere").click()
    page.get_by_role("heading", name="Sign out everywhere").wait_for()
    assert_accessible(page)
