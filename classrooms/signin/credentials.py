"""Tokens and sessions that end: API tokens expire, and a password change, a deactivation or
"sign out everywhere" ends every token and session the person had.

Sessions carry a hash of the password and ``User.sessions_epoch`` (User.get_session_auth_hash),
so raising the epoch ends them all at their next request; a deactivated person's session ends
because the backend no longer returns them.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from classrooms import access
from classrooms.models import User


def token_lifetime() -> datetime.timedelta:
    return datetime.timedelta(days=settings.THINSLICE_API_TOKEN_DAYS)


def token_expires_at(token: Token) -> datetime.datetime:
    return token.created + token_lifetime()


def token_is_expired(token: Token) -> bool:
    return token_expires_at(token) <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing tokens older than THINSLICE_API_TOKEN_DAYS."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Token]:
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(
                _("This API token has expired. Get a new one with POST /api/token/.")
            )
        return user, token


@transaction.atomic
def sign_out_everywhere(*, actor: User, person: User) -> None:
    """End every session and API token of ``person``: themselves, or a district admin for
    someone of their district (never a superuser)."""
    if actor.pk != person.pk:
        if person.is_superuser:
            raise PermissionDenied(_("A platform operator's sessions are not ended from here."))
        access.require(actor, "manage_district", person)
    Token.objects.filter(user=person).delete()
    User.objects.filter(pk=person.pk).update(sessions_epoch=F("sessions_epoch") + 1)


def person_tokens(*, actor: User, person: User) -> list[Token]:
    """A person's API tokens, for themselves or their district admin."""
    if actor.pk != person.pk:
        access.require(actor, "manage_district", person)
    return list(Token.objects.filter(user=person))


@receiver(pre_save, sender=User, dispatch_uid="thinslice_credentials_before_save")
def _remember_credentials(sender: Any, instance: User, **kwargs: Any) -> None:
    # Every path that changes a password or deactivates (set-up pages, password reset, the
    # roster import, a shell) saves the User; catching it here is what makes it every path.
    if instance.pk is None:
        instance._credentials_changed = False  # type: ignore[attr-defined]
        return
    before = User.objects.filter(pk=instance.pk).values("password", "is_active").first()
    instance._credentials_changed = before is not None and (  # type: ignore[attr-defined]
        before["password"] != instance.password or (before["is_active"] and not instance.is_active)
    )


@receiver(post_save, sender=User, dispatch_uid="thinslice_credentials_after_save")
def _revoke_tokens_on_credential_change(sender: Any, instance: User, **kwargs: Any) -> None:
    if getattr(instance, "_credentials_changed", False):
        Token.objects.filter(user=instance).delete()
