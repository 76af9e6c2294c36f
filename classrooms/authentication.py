"""Signing in when usernames are unique per district, not across the platform.

The district is resolved first: from the district's own sign-in address (``/d/<slug>/login/``,
the address invitations and the district's SSO buttons use), else from what was typed (an email
address names its person wherever they are; a username may exist in several districts). Among
the active accounts that could be meant, the password decides: exactly one account whose password
matches signs in, anything else is the same "did not match" as a wrong password, so the answer
never tells one district which usernames another has.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.db.models import Q
from django.http import HttpRequest

from classrooms.models import District, User
from classrooms.signin.spraying import password_is_sprayed, sign_in_failure_record
from config.lockout import client_address


def sign_in_candidates(login: str, *, district: District | None) -> list[User]:
    """The active accounts ``login`` (a username or an email address) may name: within
    ``district`` when the sign-in address gives one, else the platform operators and every
    district's accounts with that username or email."""
    login = login.strip()
    if not login:
        return []
    matches = Q(username=login)
    if "@" in login:
        matches |= Q(email__iexact=login)
    # cross-tenant: the district is not known yet; the password picks the one account, and a
    # failure says nothing about which districts hold the name.
    accounts = User.objects.all_schools().filter(matches, is_active=True)
    if district is not None:
        accounts = accounts.filter(district=district)
    return list(accounts.order_by("pk")[:20])


class DistrictAccountBackend(ModelBackend):
    """Django's model backend, resolving the district before the password is checked.

    ``district`` (a District) comes from the district's sign-in address; without it every
    account the name may mean is tried, and the password must match exactly one.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        district: District | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = _address(request)
        if request is not None and password_is_sprayed(address=address, password=password):
            return None
        candidates = sign_in_candidates(username, district=district)
        if not candidates:
            # Hash once anyway, so a name nobody has takes as long as a wrong password.
            User().set_password(password)
            matched = []
        else:
            matched = [
                user
                for user in candidates
                if user.check_password(password) and self.user_can_authenticate(user)
            ]
        if len(matched) != 1:
            if request is not None:
                sign_in_failure_record(address=address, username=username, password=password)
            return None
        return matched[0]


def _address(request: HttpRequest | None) -> str | None:
    if request is None:
        return None
    # The same address django-axes counts (the trusted proxies' X-Forwarded-For, or the peer).
    return client_address(request)
