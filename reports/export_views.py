"""Export pages: choose an export and its filters, download it (streamed) or follow its job.

The views only check the form's shape and render; the rules live in reports/exports/.
Everyone signed in with a role gets the page, with the kinds of export their role allows; a
job's page and its file are reached through ``ExportJob.objects.visible_to`` (the requester and
the district's admins), so anyone else gets a 404.
"""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    FileResponse,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from classrooms.models import AcademicYear, School
from classrooms.scoped_views import ScopedView
from reports import exports
from reports.models import ExportJob, ExportKind
from units.models import Unit


class ExportForm(forms.Form):
    """Which export, which rows, which format. Choices are what ``user`` may see."""

    kind = forms.ChoiceField(label="Export", widget=forms.RadioSelect)
    academic_year = forms.ModelChoiceField(
        queryset=AcademicYear.objects.none(), required=False, empty_label="All years"
    )
    school = forms.ModelChoiceField(
        queryset=School.objects.none(), required=False, empty_label="All schools"
    )
    subject = forms.ChoiceField(required=False)
    unit = forms.ModelChoiceField(
        queryset=Unit.objects.none(), required=False, empty_label="All units"
    )
    file_format = forms.ChoiceField(
        label="File",
        choices=[
            ("excel_csv", "CSV for Excel (UTF-8 with a byte-order mark, so accents show right)"),
            ("plain_csv", "CSV, plain UTF-8 (for other programs)"),
            ("xlsx", "Excel workbook (.xlsx)"),
        ],
        required=False,
        initial="excel_csv",
        widget=forms.RadioSelect,
    )

    def __init__(self, *args: Any, user: Any, kinds: list[ExportKind], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        district_id = user.district_id
        kind_field = cast(forms.ChoiceField, self.fields["kind"])
        kind_field.choices = [(kind.value, kind.label) for kind in kinds]
        if kinds and not self.is_bound:
            self.initial.setdefault("kind", kinds[0].value)
        years = AcademicYear.objects.visible_to(user).filter(district_id=district_id)
        schools = School.objects.visible_to(user).filter(district_id=district_id)
        units = Unit.objects.visible_to(user).filter(district_id=district_id)
        self._set_queryset("academic_year", years)
        self._set_queryset("school", schools.order_by("name"))
        self._set_queryset("unit", units.order_by("subject", "grade_level", "title"))
        subjects = units.order_by("subject").values_list("subject", flat=True).distinct()
        subject_field = cast(forms.ChoiceField, self.fields["subject"])
        subject_field.choices = [("", "All subjects"), *((s, s) for s in subjects)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        data["file_format"] = data.get("file_format") or "excel_csv"
        kind = data.get("kind")
        if data["file_format"] == "xlsx" and kind:
            if not exports.export_definition(kind).offers_workbook:
                self.add_error("file_format", "This export is a zip of CSV files; choose CSV.")
        return data

    def _set_queryset(self, name: str, queryset: QuerySet[Any]) -> None:
        cast(forms.ModelChoiceField, self.fields[name]).queryset = queryset

    def export_filters(self) -> exports.ExportFilters:
        data = self.cleaned_data
        return exports.ExportFilters(
            academic_year_id=data["academic_year"].pk if data.get("academic_year") else None,
            school_id=data["school"].pk if data.get("school") else None,
            subject=data.get("subject") or "",
            unit_id=data["unit"].pk if data.get("unit") else None,
        )


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "reports/export_forbidden.html", {"reason": reason}, status=403)


def export_response(prepared: exports.PreparedExport) -> StreamingHttpResponse:
    """The export streamed as it is read, as a download."""
    response = StreamingHttpResponse(
        exports.export_stream(prepared=prepared), content_type=prepared.content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{prepared.filename}"'
    return response


def export_file_response(file: exports.ExportFile) -> FileResponse:
    response = FileResponse(
        file.path.open("rb"),
        as_attachment=True,
        filename=file.filename,
        content_type=file.content_type,
    )
    response.block_size = exports.CHUNK_BYTES
    return response


class ExportPageView(ScopedView, View):
    """GET: the export form and the user's latest export jobs. POST: the export, streamed when
    it is small enough, otherwise a job (then the job's page)."""

    model = ExportJob
    template_name = "reports/export_page.html"
    kinds: list[ExportKind]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.kinds = exports.export_kinds_available(actor=request.user)
        if not self.kinds:
            try:
                exports.export_scope(actor=request.user, student_level=False)
            except PermissionDenied as refused:
                return _forbidden(request, str(refused))
        return super().dispatch(request, *args, **kwargs)

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("requested_by").order_by("-created_at", "-pk")

    def _page(self, form: ExportForm, status: int = 200, error: str = "") -> HttpResponse:
        context = {
            "form": form,
            "jobs": self.get_queryset()[:20],
            "error": error,
            "threshold": exports.export_async_rows(),
        }
        return render(self.request, self.template_name, context, status=status)

    def _form(self, data: Any = None) -> ExportForm:
        return ExportForm(data, user=self.request.user, kinds=self.kinds)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._page(self._form())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        form = self._form(request.POST)
        if not form.is_valid():
            return self._page(form, status=400)
        try:
            prepared = exports.export_prepare(
                actor=request.user,
                kind=form.cleaned_data["kind"],
                filters=form.export_filters(),
                excel=form.cleaned_data["file_format"] != "plain_csv",
                xlsx=form.cleaned_data["file_format"] == "xlsx",
            )
        except PermissionDenied as refused:
            return _forbidden(request, str(refused))
        if exports.export_exceeds_threshold(prepared=prepared):
            job = exports.export_job_create(prepared=prepared)
            return HttpResponseRedirect(reverse("export-job", args=[job.pk]))
        return export_response(prepared)


class ExportJobView(ScopedView, View):
    """A job's progress (htmx polls the progress part until it is finished) and its link."""

    model = ExportJob

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("requested_by")

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        job = get_object_or_404(self.get_queryset(), pk=pk)
        template = "reports/export_job.html"
        if getattr(request, "htmx", False):
            template = "reports/export_job_progress.html"
        return render(request, template, {"job": job, "now": timezone.now()})


class ExportJobDownloadView(ScopedView, View):
    """A job's file, for its requester and the district's admins, until it expires."""

    model = ExportJob

    def get(self, request: HttpRequest, pk: int) -> HttpResponseBase:
        job = get_object_or_404(self.get_queryset(), pk=pk)
        try:
            file = exports.export_job_file_open(actor=request.user, job_id=job.pk)
        except ValidationError as not_ready:
            context = {"job": job, "reason": " ".join(not_ready.messages), "now": timezone.now()}
            return render(request, "reports/export_job.html", context, status=409)
        except exports.ExportFileGone as gone:
            context = {"job": job, "reason": str(gone), "now": timezone.now()}
            return render(request, "reports/export_job.html", context, status=410)
        return export_file_response(file)
