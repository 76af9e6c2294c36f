"""Forms of the sign-in pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.utils.translation import gettext_lazy as _

from classrooms.models import District, School, User


class DistrictAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, with the district of the sign-in address (None on /login/)."""

    district: District | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            self.user_cache = authenticate(
                self.request, username=username, password=password, district=self.district
            )
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class PeoplePasswordResetForm(PasswordResetForm):
    """ "Forgot password": the email reaches every active account with that address, those
    rostered without a password included (Django's form skips them): a link to set one is how
    they get in."""

    def get_users(self, email: str) -> Iterator[Any]:
        # cross-tenant: an address may be someone's in two districts; each account gets its own
        # link, sent only to that address, and the page says the same whatever was found.
        accounts = User.objects.all_schools().filter(email__iexact=email, is_active=True)
        return (account for account in accounts if account.email.lower() == email.lower())


class InvitationForm(forms.Form):
    """Whom a district admin invites: one person, a school's staff, or everyone who cannot sign
    in yet."""

    WHOM_CHOICES = [
        ("person", _("One person")),
        ("school", _("Everyone at a school who cannot sign in yet")),
        ("everyone", _("Everyone in the district who cannot sign in yet")),
    ]
    whom = forms.ChoiceField(
        label=_("Whom to invite"), choices=WHOM_CHOICES, widget=forms.RadioSelect
    )
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    school = forms.ModelChoiceField(
        label=_("School"), queryset=School.objects.none(), required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        staff = User.objects.visible_to(user).filter(is_active=True, district__isnull=False)
        self.fields["person"].queryset = staff  # type: ignore[attr-defined]
        self.fields["school"].queryset = School.objects.visible_to(user)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        whom = cleaned.get("whom")
        if whom == "person" and not cleaned.get("person"):
            self.add_error("person", _("Choose the person to invite."))
        if whom == "school" and not cleaned.get("school"):
            self.add_error("school", _("Choose the school whose staff to invite."))
        return cleaned
