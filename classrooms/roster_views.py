"""District admin pages: the OneRoster roster import (dry-run preview, then apply) and the audit
log of imports and exports.

The views only check the form's shape and render; the rules live in classrooms/oneroster/ and
classrooms/audit.py. Only district admins get past ``dispatch``: anyone else signed in gets a 403
page that says why. The district is always the admin's own, found through ``visible_to``.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.views import View
from django.views.generic import ListView

from classrooms import access, oneroster
from classrooms.audit import audit_log_readable
from classrooms.models import AuditEvent, District, RosterImport, User
from classrooms.oneroster import undo
from classrooms.scoped_views import ScopedView, district_admins_only


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label="OneRoster export (.zip)",
        help_text="A zip of manifest.csv, orgs.csv, academicSessions.csv, users.csv, classes.csv "
        "and enrollments.csv (courses.csv and demographics.csv may be there too).",
        widget=forms.ClearableFileInput(attrs={"accept": ".zip,application/zip"}),
    )


class RosterApplyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    # Shown only when the export's district org is not this district (see oneroster/district.py).
    confirm_district = forms.BooleanField(required=False)


class RosterImportView(ScopedView, View):
    """GET: the upload form. POST with a file: a dry run and its preview. POST with the
    preview's token: the import of exactly the previewed file, all or nothing."""

    model = District
    district: District
    form_template = "classrooms/roster_import.html"
    preview_template = "classrooms/roster_import_preview.html"
    done_template = "classrooms/roster_import_done.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        district = self.get_queryset().filter(pk=request.user.district_id).first()
        if district is None or not access.can(request.user, "manage_district", district):
            return district_admins_only(
                request, "Only a district admin can import the district's roster."
            )
        self.district = district
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._form_page(RosterUploadForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "token" in request.POST:
            return self._apply(RosterApplyForm(request.POST))
        return self._preview(RosterUploadForm(request.POST, request.FILES))

    def _context(self, **extra: Any) -> dict[str, Any]:
        return {
            "district": self.district,
            "max_megabytes": oneroster.MAX_UPLOAD_BYTES // 1_000_000,
            **extra,
        }

    def _form_page(
        self, form: RosterUploadForm, error: str = "", status: int = 200
    ) -> HttpResponse:
        context = self._context(form=form, error=error)
        return render(self.request, self.form_template, context, status=status)

    def _preview(self, form: RosterUploadForm) -> HttpResponse:
        if not form.is_valid():
            return self._form_page(form, status=400)
        upload = form.cleaned_data["file"]
        # One byte more than the limit is enough to tell that the file is too large.
        data = upload.read(oneroster.MAX_UPLOAD_BYTES + 1)
        source = oneroster.roster_source_from_zip(data=data, label=upload.name)
        result = oneroster.roster_import(
            actor=self.request.user, district=self.district, source=source, dry_run=True
        )
        token = ""
        if result.is_valid:
            token = oneroster.roster_plan_keep(
                actor=self.request.user,
                district=self.district,
                plan=result.plan,
                filename=upload.name,
            )
        return self._preview_page(result, upload.name, token)

    def _preview_page(
        self, result: oneroster.RosterImportResult, filename: str, token: str = ""
    ) -> HttpResponse:
        apply_form = RosterApplyForm(initial={"token": token}) if token else None
        context = self._context(
            result=result, filename=filename, apply_form=apply_form, form=RosterUploadForm()
        )
        return render(self.request, self.preview_template, context)

    def _apply(self, form: RosterApplyForm) -> HttpResponse:
        try:
            if not form.is_valid():
                raise ValidationError("This preview cannot be read. Upload the file again.")
            result, filename = oneroster.roster_import_kept(
                actor=self.request.user,
                district=self.district,
                token=form.cleaned_data["token"],
                confirm_district=form.cleaned_data["confirm_district"],
            )
        except ValidationError as refused:
            return self._form_page(RosterUploadForm(), error=" ".join(refused.messages), status=400)
        if not result.applied:
            return self._preview_page(result, filename)
        context = self._context(result=result, filename=filename)
        return render(self.request, self.done_template, context)


class RosterImportDetailView(ScopedView, View):
    """An applied import: what it changed and, previewed, what rolling it back would do or what
    blocks it (GET); POST rolls it back, all or nothing (classrooms/oneroster/undo.py)."""

    model = RosterImport
    template_name = "classrooms/roster_import_detail.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not request.user.is_district_admin:
            return district_admins_only(
                request, "Only a district admin can roll back the district's roster imports."
            )
        return super().dispatch(request, *args, **kwargs)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("district", "audit_event", "rollback_event")

    def _page(self, roster_import: RosterImport, status: int = 200, **extra: Any) -> HttpResponse:
        actor = cast(User, self.request.user)
        check = undo.roster_rollback_check(actor=actor, roster_import=roster_import)
        context = {"roster_import": roster_import, "check": check, **extra}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self._page(get_object_or_404(self.get_queryset(), pk=pk))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        roster_import = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            undo.roster_rollback(actor=cast(User, request.user), roster_import=roster_import)
        except ValidationError as refused:
            roster_import.refresh_from_db()
            return self._page(roster_import, status=409, refused=refused.messages)
        roster_import.refresh_from_db()
        return self._page(roster_import, rolled_back=True)


class AuditEventListView(ScopedView, ListView):
    """The district's audit log, newest first; read-only (GET only, no edit or delete)."""

    # ScopedView declares ``model`` a class variable, ListView an instance one; both read it.
    model = AuditEvent  # type: ignore[misc]
    paginate_by = 50
    template_name = "classrooms/audit_event_list.html"
    context_object_name = "audit_events"
    http_method_names = ["get", "head", "options"]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not audit_log_readable(user=request.user):
            return district_admins_only(
                request, "Only a district admin can read the district's audit log."
            )
        return super().dispatch(request, *args, **kwargs)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("actor", "district").order_by("-created_at", "-pk")
