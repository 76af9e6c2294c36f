"""Single sign-on per district with django-allauth: Google, Microsoft (Entra ID) and any OpenID
Connect provider (Clever, ClassLink, a district's own).

Each district's admin sets up its providers (classrooms.SignInProvider); allauth's apps are made
from those rows, never from settings. The authorization-code flow always uses PKCE. Signing in
matches a person the district already has: by the email address the provider says it verified,
or by the roster's sourcedId in the provider's ``roster_id_claim``. It never creates an account;
anyone unknown or deactivated gets a page that says so (and nothing about other districts).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp, SocialLogin
from django.contrib.auth import login as django_login
from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import render
from django.utils.translation import gettext as _

from classrooms.models import SignInProvider, SignInProviderKind, User

# The provider a sign-in started with, kept in the session until its callback.
SESSION_KEY = "thinslice_sso_provider"
SIGN_IN_BACKEND = "classrooms.authentication.DistrictAccountBackend"
MICROSOFT_LOGIN = "https://login.microsoftonline.com"
GOOGLE_LOGIN = "https://accounts.google.com"


def provider_social_app(provider: SignInProvider) -> SocialApp:
    """allauth's app for a district's provider (not saved: the SignInProvider row is the
    record)."""
    settings: dict[str, Any] = {"oauth_pkce_enabled": True}
    if provider.kind == SignInProviderKind.OPENID_CONNECT:
        settings["server_url"] = provider.server_url
    if provider.kind == SignInProviderKind.MICROSOFT:
        settings["tenant"] = provider.tenant or "organizations"
    return SocialApp(
        provider=str(provider.kind),
        provider_id=provider.provider_id,
        name=provider.label,
        client_id=provider.client_id,
        secret=provider.secret,
        settings=settings,
    )


def provider_origin(provider: SignInProvider) -> str:
    """Where the browser is sent to sign in (the sign-in page's form-action allows it)."""
    if provider.kind == SignInProviderKind.GOOGLE:
        return GOOGLE_LOGIN
    if provider.kind == SignInProviderKind.MICROSOFT:
        return MICROSOFT_LOGIN
    parts = urlsplit(provider.server_url)
    return f"{parts.scheme}://{parts.netloc}"


def enabled_providers(district: Any) -> list[SignInProvider]:
    """The providers a district's sign-in page offers."""
    # cross-tenant: a district's sign-in page is public; it lists its own buttons only.
    return list(SignInProvider.objects.all_schools().filter(district=district, is_enabled=True))


def _started_provider(request: HttpRequest | None) -> SignInProvider | None:
    if request is None or not hasattr(request, "session"):
        return None
    provider_pk = request.session.get(SESSION_KEY)
    if provider_pk is None:
        return None
    # cross-tenant: the provider this browser started signing in with, kept in its session.
    return (
        SignInProvider.objects.all_schools()
        .filter(pk=provider_pk, is_enabled=True)
        .select_related("district")
        .first()
    )


def sso_person_match(*, provider: SignInProvider, sociallogin: SocialLogin) -> User | None:
    """The district's person this sign-in is: an account of the provider's district with the
    verified email the provider vouches for, or with the roster's sourcedId in the configured
    claim. ``None`` when there is no one, or more than one."""
    claims = sociallogin.account.extra_data or {}
    matches = Q(pk__in=[])
    verified = [address.email for address in sociallogin.email_addresses if address.verified]
    for email in verified:
        matches |= Q(email__iexact=email)
    if provider.roster_id_claim:
        roster_id = claims.get(provider.roster_id_claim)
        if isinstance(roster_id, str) and roster_id:
            matches |= Q(sourced_id=roster_id)
    # cross-tenant: looked up within the provider's district only.
    people = list(User.objects.all_schools().filter(matches, district=provider.district_id)[:2])
    if len(people) != 1:
        return None
    return people[0]


def _refused(request: HttpRequest, reason: str) -> ImmediateHttpResponse:
    response = render(request, "registration/sso_refused.html", {"reason": reason}, status=403)
    return ImmediateHttpResponse(response)


class DistrictSocialAccountAdapter(DefaultSocialAccountAdapter):
    """allauth's apps come from the districts' SignInProvider rows; sign-in never signs up."""

    def list_apps(
        self, request: HttpRequest, provider: Any = None, client_id: Any = None
    ) -> list[SocialApp]:
        started = _started_provider(request)
        if started is None:
            return []
        app = provider_social_app(started)
        if provider and provider not in (app.provider, app.provider_id):
            return []
        if client_id and client_id != app.client_id:
            return []
        return [app]

    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        return False

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        provider = _started_provider(request)
        if provider is None:
            raise _refused(request, _("This sign-in was not started from a district's page."))
        # Matched afresh at every sign-in (no stored link): the district's roster decides, so a
        # changed email or a removed person takes effect at once.
        person = sso_person_match(provider=provider, sociallogin=sociallogin)
        if person is None:
            raise _refused(
                request,
                _(
                    "%(district)s has no account for the person you signed in as. Ask your "
                    "district's Thinslice administrator to add you, with the email address "
                    "you use at %(provider)s."
                )
                % {"district": provider.district.name, "provider": provider.label},
            )
        if not person.is_active:
            raise _refused(
                request,
                _(
                    "Your Thinslice account at %(district)s is deactivated. Ask your district's "
                    "Thinslice administrator if this is a mistake."
                )
                % {"district": provider.district.name},
            )
        request.session.pop(SESSION_KEY, None)
        sociallogin.user = person  # an existing account: allauth signs it in, never signs up


class ThinsliceAccountAdapter(DefaultAccountAdapter):
    """allauth's account side: no sign-up, and sessions made with the district backend."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def login(self, request: HttpRequest, user: Any) -> None:
        django_login(request, user, backend=SIGN_IN_BACKEND)
