"""Sign-in pages: the district's sign-in address, "forgot password", invitations.

Django's own auth views do the work; these classes only name the forms, templates and token
generators. The invitation page is for district admins (classrooms.access decides)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import requests
from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialApp
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from classrooms import access
from classrooms.models import District
from classrooms.scoped_views import ScopedView, district_admins_only
from classrooms.signin import credentials, invitations, sso
from classrooms.signin.forms import (
    DistrictAuthenticationForm,
    InvitationForm,
    PeoplePasswordResetForm,
)
from classrooms.signin.tokens import invitation_token_generator

# The sign-in page warns from this many wrong passwords on (before the pause comes).
WARN_AFTER_FAILURES = 3
# A link that sets a password signs the person in with the backend that resolves districts.
SIGN_IN_BACKEND = "classrooms.authentication.DistrictAccountBackend"


class SignInView(auth_views.LoginView):
    """/login/ (any district: the password picks the account) and /d/<slug>/login/ (one
    district: its usernames only)."""

    form_class = DistrictAuthenticationForm
    template_name = "registration/login.html"
    district: District | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        slug = kwargs.get("slug")
        if slug is not None:
            # cross-tenant: the sign-in page of a district is public, found by its address.
            self.district = District.objects.all_schools().filter(slug=slug).first()
            if self.district is None:
                raise Http404(_("No district signs in at this address."))
        return super().dispatch(request, *args, **kwargs)

    def get_form(self, form_class: Any = None) -> Any:
        form = super().get_form(form_class)
        form.district = self.district  # type: ignore[attr-defined]
        return form

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["district"] = self.district
        context["sso_providers"] = self.sso_providers
        return context

    def render_to_response(self, context: dict[str, Any], **kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **kwargs)
        origins = sorted({sso.provider_origin(provider) for provider in self.sso_providers})
        if origins:
            # A sign-in button posts here and is redirected on to the district's provider,
            # which the page's form-action must allow.
            response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
        return response  # type: ignore[no-any-return]

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        response.context_data["attempts_left"] = lockout_attempts_left(  # type: ignore[attr-defined]
            self.request, form.data.get("username", "")
        )
        return response

    @property
    def sso_providers(self) -> list[Any]:
        if self.district is None:
            return []
        return sso.enabled_providers(self.district)


def lockout_attempts_left(request: HttpRequest, username: str) -> int | None:
    """After WARN_AFTER_FAILURES wrong passwords for this username from this address, how many
    tries are left before signing in pauses (django-axes counts them); None before that."""
    failures = AxesProxyHandler.get_failures(request, {"username": username})
    if failures < WARN_AFTER_FAILURES:
        return None
    return max(0, settings.AXES_FAILURE_LIMIT - failures)


class SingleSignOnStartView(View):
    """A district's sign-in button: remember which provider, then go there (authorization code
    with PKCE, by allauth)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, slug: str, provider_pk: int) -> HttpResponse:
        # cross-tenant: a district's sign-in buttons are public, found by its address.
        district = District.objects.all_schools().filter(slug=slug).first()
        provider = (
            next((row for row in sso.enabled_providers(district) if row.pk == provider_pk), None)
            if district is not None
            else None
        )
        if provider is None:
            raise Http404(_("This district has no such sign-in button."))
        request.session[sso.SESSION_KEY] = provider.pk
        adapter = get_social_adapter()
        social_provider = adapter.get_provider(request, provider.provider_id)
        next_url = request.POST.get("next") or None
        if next_url and not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = None
        try:
            return social_provider.redirect(  # type: ignore[no-any-return]
                request, process="login", next_url=next_url
            )
        except (requests.RequestException, ValueError, KeyError):
            # The provider's configuration could not be read (down, or set up wrong).
            return render(request, "socialaccount/authentication_error.html", status=502)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PeoplePasswordResetForm
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The emailed link: choose a password, then land on the home page, signed in."""

    template_name = "registration/password_reset_confirm.html"
    post_reset_login = True
    post_reset_login_backend = SIGN_IN_BACKEND
    success_url = reverse_lazy("home")


class InvitationAcceptView(PasswordResetConfirmView):
    """The invitation's link: the same page with a welcome, on its own one-time token."""

    token_generator = invitation_token_generator
    template_name = "registration/invitation_accept.html"
    reset_url_token = "choose-password"  # noqa: S105 - a URL segment, not a password


class InvitationView(ScopedView, View):
    """A district admin invites staff of their district to set a password."""

    model = District
    template_name = "classrooms/invitation_form.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        district = self.get_queryset().filter(pk=request.user.district_id).first()
        if district is None or not access.can(request.user, "manage_district", district):
            return district_admins_only(request, _("Only a district admin can invite staff."))
        self.district = district
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._page(InvitationForm(user=request.user))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = InvitationForm(request.POST, user=request.user)
        if not form.is_valid():
            return self._page(form, status=400)
        recipients = invitations.invitation_recipients(
            actor=request.user,  # type: ignore[arg-type]
            whom=form.cleaned_data["whom"],
            person=form.cleaned_data.get("person"),
            school=form.cleaned_data.get("school"),
        )
        try:
            without_email = invitations.invitations_send(
                actor=request.user,  # type: ignore[arg-type]
                recipients=recipients,
                base_url=request.build_absolute_uri("/"),
            )
        except PermissionDenied as refused:
            return district_admins_only(request, str(refused))
        sent = len(recipients) - len(without_email)
        messages.success(
            request,
            ngettext("Sent %(count)d invitation.", "Sent %(count)d invitations.", sent)
            % {"count": sent},
        )
        if without_email:
            names = ", ".join(str(person) for person in without_email)
            messages.warning(
                request,
                _("Not invited, no email address: %(names)s. Add one in the set-up pages.")
                % {"names": names},
            )
        return redirect("invitation-send")

    def _page(self, form: InvitationForm, status: int = 200) -> HttpResponse:
        waiting = invitations.people_without_sign_in(actor=self.request.user)  # type: ignore[arg-type]
        context = {"form": form, "district": self.district, "waiting_count": waiting.count()}
        return render(self.request, self.template_name, context, status=status)


def provider_callback(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """allauth's Google or Microsoft callback; one that no sign-in of this browser started
    (no provider in its session) is a 404, as allauth answers for OpenID Connect."""

    @functools.wraps(view)
    def callback(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except SocialApp.DoesNotExist:
            raise Http404(_("No sign-in was started here.")) from None

    return callback


class SignOutEverywhereView(LoginRequiredMixin, View):
    """A person ends all their sessions (other browsers, a shared computer left signed in) and
    API tokens, this one included."""

    template_name = "registration/sign_out_everywhere.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name)

    def post(self, request: HttpRequest) -> HttpResponse:
        credentials.sign_out_everywhere(actor=request.user, person=request.user)  # type: ignore[arg-type]
        logout(request)
        messages.success(request, _("You are signed out everywhere."))
        return redirect("login")
