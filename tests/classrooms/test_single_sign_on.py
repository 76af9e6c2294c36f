"""Single sign-on per district through a real OpenID Connect provider (django-oidc-provider, its
own process on loopback): authorization code with PKCE; only people the district already has."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from django.urls import reverse

from classrooms.models import SignInProvider, User
from tests.conftest import World
from tests.oidc_provider import OidcProvider, start_oidc_provider  # noqa: F401 - a fixture

pytestmark = pytest.mark.django_db

PEOPLE = [
    ("mteacher", "provider-pw-1", "teacher.a1@district-a.example"),
    ("stranger", "provider-pw-2", "stranger@elsewhere.example"),
    ("bperson", "provider-pw-3", "only.in.b@district-b.example"),
]


def district_sso(
    world: World, start: Callable[..., OidcProvider], base_url: str = "http://testserver"
) -> SignInProvider:
    """District A's OpenID Connect button, pointing at a freshly started provider."""
    provider = SignInProvider.objects.create(
        district=world.districts["a"],
        kind="openid_connect",
        label="Loopback ID",
        client_id="pending",
        server_url="http://127.0.0.1:1",
    )
    redirect_uri = base_url + reverse(
        "openid_connect_callback", kwargs={"provider_id": provider.provider_id}
    )
    started = start(redirect_uri, PEOPLE)
    provider.client_id = started.client_id
    provider.secret = started.secret
    provider.server_url = started.issuer
    provider.save()
    teacher = world.users["teacher_a1"]
    teacher.email = "Teacher.A1@district-a.example"
    teacher.save(update_fields=["email"])
    only_b = world.users["teacher_b1"]
    only_b.email = "only.in.b@district-b.example"
    only_b.save(update_fields=["email"])
    return provider


def sign_in_at_provider(authorize_url: str, username: str, password: str) -> str:
    """What a browser does at the provider: its sign-in form, then back to Thinslice. Returns
    the callback address the provider sends the browser to."""
    browser = requests.Session()
    url = authorize_url
    for _step in range(10):
        response = browser.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and "csrfmiddlewaretoken" in response.text:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
            assert token
            next_field = re.search(r'name="next" value="([^"]*)"', response.text)
            response = browser.post(
                url,
                data={
                    "csrfmiddlewaretoken": token.group(1),
                    "username": username,
                    "password": password,
                    "next": next_field.group(1).replace("&amp;", "&") if next_field else "",
                },
                headers={"Referer": url},
                allow_redirects=False,
                timeout=10,
            )
        assert response.status_code in (301, 302), (response.status_code, response.text[:500])
        url = urljoin(url, response.headers["Location"])
        if not url.startswith(authorize_url.split("/authorize")[0]):
            return url
    raise AssertionError("the provider never sent the browser back")


def sso_sign_in(client: Any, world: World, provider: SignInProvider, person: int) -> Any:
    start = client.post(
        reverse("sso-start", kwargs={"slug": world.districts["a"].slug, "provider_pk": provider.pk})
    )
    assert start.status_code == 302
    authorize_url = start["Location"]
    username, password, _email = PEOPLE[person]
    callback = urlsplit(sign_in_at_provider(authorize_url, username, password))
    return start, client.get(f"{callback.path}?{callback.query}")


def _signed_in_as(client: Any) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return None if user_id is None else User.objects.all_schools().get(pk=user_id)


def test_a_teacher_signs_in_through_the_districts_openid_connect_provider_with_pkce(
    client: Any,
    world: World,
    start_oidc_provider: Callable[..., OidcProvider],  # noqa: F811
) -> None:
    provider = district_sso(world, start_oidc_provider)

    start, landed = sso_sign_in(client, world, provider, 0)

    query = parse_qs(urlsplit(start["Location"]).query)
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) >= 43
    assert landed.status_code == 302, landed.content.decode()[:500]
    assert landed["Location"] == reverse("home")
    assert _signed_in_as(client) == world.users["teacher_a1"]
    assert client.get(reverse("home")).status_code == 200


def test_someone_the_district_does_not_have_is_refused_and_no_account_is_made(
    client: Any,
    world: World,
    start_oidc_provider: Callable[..., OidcProvider],  # noqa: F811
) -> None:
    provider = district_sso(world, start_oidc_provider)
    accounts = User.objects.all_schools().count()

    _start, refused = sso_sign_in(client, world, provider, 1)

    assert refused.status_code == 403
    assert "has no account for the person you signed in as" in refused.content.decode()
    assert _signed_in_as(client) is None
    assert User.objects.all_schools().count() == accounts


def test_another_districts_person_is_refused_without_naming_that_district(
    client: Any,
    world: World,
    start_oidc_provider: Callable[..., OidcProvider],  # noqa: F811
) -> None:
    provider = district_sso(world, start_oidc_provider)

    _start, refused = sso_sign_in(client, world, provider, 2)

    assert refused.status_code == 403
    assert world.districts["b"].name not in refused.content.decode()
    assert _signed_in_as(client) is None


def test_a_deactivated_person_is_refused_with_a_clear_page(
    client: Any,
    world: World,
    start_oidc_provider: Callable[..., OidcProvider],  # noqa: F811
) -> None:
    provider = district_sso(world, start_oidc_provider)
    teacher = world.users["teacher_a1"]
    teacher.is_active = False
    teacher.save(update_fields=["is_active"])

    _start, refused = sso_sign_in(client, world, provider, 0)

    assert refused.status_code == 403
    assert "deactivated" in refused.content.decode()
    assert _signed_in_as(client) is None


def test_the_districts_sign_in_page_offers_its_buttons_only(client: Any, world: World) -> None:
    SignInProvider.objects.create(
        district=world.districts["b"],
        kind="openid_connect",
        label="B Only ID",
        client_id="b",
        server_url="https://id.district-b.example",
    )
    page_a = client.get(reverse("district-login", kwargs={"slug": world.districts["a"].slug}))
    page_b = client.get(reverse("district-login", kwargs={"slug": world.districts["b"].slug}))

    assert "B Only ID" not in page_a.content.decode()
    assert "Sign in with B Only ID" in page_b.content.decode()
    assert "https://id.district-b.example" in page_b["Content-Security-Policy"]
