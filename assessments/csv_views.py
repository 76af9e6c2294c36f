"""CSV upload of one assessment's scores: download a template, preview a file, apply it.

The views only load the scoped rows, check the form's shape and render; the rules live in
assessments/score_csv.py. Only the classroom's teachers and district admins get past ``dispatch``
(a coach gets a 403 page that says why; a classroom outside the user's scope is a 404).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views import View

from assessments import score_csv
from classrooms import access
from classrooms.scoped_views import ScopedView
from units.models import Assessment, ClassroomUnit
from units.services import format_points


class ScoreCsvUploadForm(forms.Form):
    # Empty files reach score_csv, which explains them better than "The submitted file is empty."
    file = forms.FileField(label="CSV file", allow_empty_file=True)


class ScoreCsvApplyForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)


class _ScoreCsvView(ScopedView, View):
    """Loads the visible classroom unit and one of its unit's assessments; only writers pass."""

    model = ClassroomUnit
    classroom_unit: ClassroomUnit
    assessment: Assessment

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("classroom__school", "unit")

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.classroom_unit = get_object_or_404(self.get_queryset(), pk=kwargs["classroom_unit_id"])
        self.assessment = get_object_or_404(
            Assessment.objects.visible_to(request.user),
            pk=kwargs["assessment_id"],
            unit_id=self.classroom_unit.unit_id,
        )
        try:
            access.require(request.user, "enter_scores", self.classroom_unit)
        except PermissionDenied as denied:
            return render(
                request,
                "assessments/score_csv_forbidden.html",
                {**self._page_context(), "reason": str(denied)},
                status=403,
            )
        return super().dispatch(request, *args, **kwargs)

    def _page_context(self) -> dict[str, Any]:
        measures = self.assessment.assessment_skills.select_related("skill").order_by("skill__code")
        return {
            "classroom_unit": self.classroom_unit,
            "classroom": self.classroom_unit.classroom,
            "assessment": self.assessment,
            "measures": [(m.skill.code, format_points(m.max_points)) for m in measures],
            "max_megabytes": score_csv.MAX_UPLOAD_BYTES // 1_000_000,
            "grid_url": _grid_url(self.classroom_unit, self.assessment),
        }


def _grid_url(classroom_unit: ClassroomUnit, assessment: Assessment) -> str | None:
    try:
        return reverse("score-grid", args=[classroom_unit.pk, assessment.pk])
    except NoReverseMatch:  # the grid page is not there yet
        return None


class ScoreCsvTemplateView(_ScoreCsvView):
    """GET: the class's current scores as a CSV to edit and upload again."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        content = score_csv.score_csv_template(
            actor=request.user, classroom_unit=self.classroom_unit, assessment=self.assessment
        )
        filename = score_csv.score_csv_filename(
            classroom_unit=self.classroom_unit, assessment=self.assessment
        )
        response = HttpResponse(content, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class ScoreCsvUploadView(_ScoreCsvView):
    """GET: the upload form. POST with a file: the preview. POST with a token: apply it."""

    upload_template = "assessments/score_csv_upload.html"
    preview_template = "assessments/score_csv_preview.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self._upload_page(ScoreCsvUploadForm())

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if "token" in request.POST:
            return self._apply(ScoreCsvApplyForm(request.POST))
        return self._preview(ScoreCsvUploadForm(request.POST, request.FILES))

    def _upload_page(
        self, form: ScoreCsvUploadForm, error: str = "", status: int = 200
    ) -> HttpResponse:
        context = {**self._page_context(), "form": form, "error": error}
        return render(self.request, self.upload_template, context, status=status)

    def _preview_page(
        self, preview: score_csv.CsvPreview, filename: str, refused: bool = False
    ) -> HttpResponse:
        token = ""
        if preview.can_apply:
            token = score_csv.score_csv_token(
                actor=self.request.user,
                classroom_unit=self.classroom_unit,
                assessment=self.assessment,
                preview=preview,
                filename=filename,
            )
        context = {
            **self._page_context(),
            "preview": preview,
            "filename": filename,
            "refused": refused,
            "apply_form": ScoreCsvApplyForm(initial={"token": token}) if token else None,
            "form": ScoreCsvUploadForm(),
        }
        return render(self.request, self.preview_template, context)

    def _preview(self, form: ScoreCsvUploadForm) -> HttpResponse:
        if not form.is_valid():
            return self._upload_page(form)
        upload = form.cleaned_data["file"]
        # One byte more than the limit is enough to tell that the file is too large.
        data = upload.read(score_csv.MAX_UPLOAD_BYTES + 1)
        preview = score_csv.score_csv_preview(
            actor=self.request.user,
            classroom_unit=self.classroom_unit,
            assessment=self.assessment,
            data=data,
        )
        return self._preview_page(preview, upload.name)

    def _apply(self, form: ScoreCsvApplyForm) -> HttpResponse:
        try:
            if not form.is_valid():
                raise ValidationError("This preview cannot be read. Upload the file again.")
            upload = score_csv.score_csv_token_read(
                token=form.cleaned_data["token"],
                actor=self.request.user,
                classroom_unit=self.classroom_unit,
                assessment=self.assessment,
            )
        except ValidationError as refused:
            return self._upload_page(
                ScoreCsvUploadForm(), error=" ".join(refused.messages), status=400
            )
        result = score_csv.score_csv_apply(
            actor=self.request.user,
            classroom_unit=self.classroom_unit,
            assessment=self.assessment,
            text=upload.text,
            versions=upload.versions,
        )
        filename = upload.filename
        if not result.is_applied:
            return self._preview_page(result.preview, filename, refused=True)
        if result.applied_count:
            changes = "change" if result.applied_count == 1 else "changes"
            messages.success(
                self.request,
                f"Saved {result.applied_count} {changes} to {self.assessment.title} "
                f"from {filename}.",
            )
        else:
            messages.info(self.request, f"Nothing to save: {filename} matches the current scores.")
        return HttpResponseRedirect(
            _grid_url(self.classroom_unit, self.assessment) or reverse("home")
        )
