"""Sign-in pages: the district's sign-in address, "forgot password", invitations.

Django's own auth views do the work; these classes only name the forms, templates and token
generators. The invitation page is for district admins (classrooms.access decides)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from classrooms import access
from classrooms.models import District
from classrooms.scoped_views import ScopedView, district_admins_only
from classrooms.signin import invitations
from classrooms.signin.forms import (
    DistrictAuthenticationForm,
    InvitationForm,
    PeoplePasswordResetForm,
)
from classrooms.signin.tokens import invitation_token_generator

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

    def get_form(self, form_class: Any = None) -> DistrictAuthenticationForm:
        form = super().get_form(form_class)
        form.district = self.district
        return form  # type: ignore[no-any-return]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["district"] = self.district
        return context


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
