"""Login attempts limited by django-axes: the backend that refuses, and the page that explains.

django-axes calls ``lockout_response`` (settings.AXES_LOCKOUT_CALLABLE) for /login/ and the set-up
admin's login alike. The page does not echo the username back, and says the same whether or not
the account exists.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKOUT_STATUS = 429  # Too Many Requests
LOCKOUT_TEMPLATE = "registration/lockout.html"


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    failure_limit = get_failure_limit(request, credentials)
    if minutes is None:
        message = (
            f"Logging in is paused after {failure_limit} failed attempts. Ask your district's "
            "Thinslice administrator to unlock it."
        )
    else:
        message = (
            f"Logging in is paused for {minutes} minute{'s' if minutes != 1 else ''} after "
            f"{failure_limit} failed attempts."
        )
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        return JsonResponse({"detail": message}, status=LOCKOUT_STATUS)
    context = {"message": message, "minutes": minutes, "failure_limit": failure_limit}
    return render(request, LOCKOUT_TEMPLATE, context, status=LOCKOUT_STATUS)


class LoginAttemptsBackend(AxesStandaloneBackend):
    """django-axes' check, first in AUTHENTICATION_BACKENDS: a locked-out username and address
    are refused before any password is checked.

    Every login over HTTP (the login page, the set-up admin, the API token endpoint) passes its
    request and is counted. A call without a request (Django's test client ``login()``, a shell)
    is not an attempt from anywhere, so there is nothing to count or refuse; django-axes itself
    would raise instead.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def client_address(request: HttpRequest) -> str | None:
    """The address a login attempt came from (settings.AXES_CLIENT_IP_CALLABLE).

    Behind DJANGO_TRUSTED_PROXY_COUNT reverse proxies, each of which appends the address it saw
    to X-Forwarded-For, the client is the entry that many places from the right: entries further
    left were written by the client and could be anything. With no proxy (the default) it is
    REMOTE_ADDR, and a forwarded header is ignored.
    """
    proxies = settings.THINSLICE_TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [
            address.strip()
            for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if address.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
