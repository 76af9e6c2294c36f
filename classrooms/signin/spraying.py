"""Password spraying: one password tried across many usernames from one address.

django-axes pauses one username from one address after a few failures; a sprayer stays under
that by trying each username once. Here, once one address has tried the same wrong password for
SPRAY_USERNAMES different usernames within the window, that password is refused from that
address for every username until the window passes, even where it is right.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from classrooms.models import SignInFailure


def _digest(password: str) -> str:
    return salted_hmac(
        "thinslice.classrooms.signin.spraying", password, algorithm="sha256"
    ).hexdigest()


def _window_start() -> datetime.datetime:
    return timezone.now() - datetime.timedelta(minutes=settings.THINSLICE_SPRAY_WINDOW_MINUTES)


def password_is_sprayed(*, address: str | None, password: str) -> bool:
    """Whether this address has tried this password on too many usernames just now."""
    tried = (
        SignInFailure.objects.filter(
            address=address, password_digest=_digest(password), failed_at__gte=_window_start()
        )
        .values("username")
        .distinct()
        .count()
    )
    return tried >= settings.THINSLICE_SPRAY_USERNAMES


def sign_in_failure_record(*, address: str | None, username: str, password: str) -> None:
    """Remember a wrong password (as a keyed hash) for the window; forget older ones."""
    SignInFailure.objects.filter(failed_at__lt=_window_start()).delete()
    SignInFailure.objects.create(
        address=address, password_digest=_digest(password), username=username[:254]
    )
