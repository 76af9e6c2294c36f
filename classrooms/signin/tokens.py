"""One-time links. Django's token machinery: a token is bound to the account's password hash and
last sign-in, so it stops working once used (the password changes) and after its timeout."""

from __future__ import annotations

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Invitation links: another salt than password resets, so neither link opens the other's
    page."""

    key_salt = "thinslice.classrooms.signin.InvitationTokenGenerator"


invitation_token_generator = InvitationTokenGenerator()
