"""Exports over the API: ask for an export, follow a large one's job, download its file.

- ``POST /api/exports/`` with the kind, filters and options: 200 with the file streamed as it is
  read when it is small enough, else 202 with the job (and its URL in ``Location``).
- ``GET /api/export-jobs/`` and ``/api/export-jobs/<id>/``: the jobs the caller may see (their
  own; a district admin's: the district's), with progress.
- ``GET /api/export-jobs/<id>/download/``: the file, until it expires (410 after).

The rules live in reports/exports/; the export page uses the same services.
"""

from __future__ import annotations

from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classrooms.models import AcademicYear, School
from classrooms.scoped_views import ScopedViewSet
from reports import exports
from reports.export_views import export_file_response, export_response
from reports.models import ExportJob, ExportKind
from units.models import Unit

FILE = "The file: CSV, or for OneRoster results a zip of CSV files."


class ExportInputSerializer(serializers.Serializer):
    """Which export and which rows; the ids must be ones the caller may see."""

    kind = serializers.ChoiceField(choices=ExportKind.choices)
    academic_year = serializers.PrimaryKeyRelatedField(
        queryset=AcademicYear.objects.none(), required=False, allow_null=True
    )
    school = serializers.PrimaryKeyRelatedField(
        queryset=School.objects.none(), required=False, allow_null=True
    )
    subject = serializers.CharField(required=False, allow_blank=True, max_length=80, default="")
    unit = serializers.PrimaryKeyRelatedField(
        queryset=Unit.objects.none(), required=False, allow_null=True
    )
    # Off by default here: an API caller is a program, which reads plain UTF-8 (the export page,
    # where people download for Excel, starts with the byte-order mark unless they choose not to).
    excel = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Start the CSV with a byte-order mark, so Excel reads it as UTF-8.",
    )
    file_format = serializers.ChoiceField(
        choices=[("csv", "CSV"), ("xlsx", "Excel workbook")],
        required=False,
        default="csv",
        help_text="csv (the default) or xlsx, an Excel workbook (not for oneroster_results, "
        "a zip of CSV files).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("file_format") == "xlsx":
            if not exports.export_definition(attrs["kind"]).offers_workbook:
                raise serializers.ValidationError(
                    {"file_format": "This export is a zip of CSV files; choose csv."}
                )
        return attrs

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:  # the schema generator: no caller, so no choices
            return
        user = request.user
        district_id = getattr(user, "district_id", None)
        querysets: dict[str, QuerySet[Any]] = {
            "academic_year": AcademicYear.objects.visible_to(user).filter(district_id=district_id),
            "school": School.objects.visible_to(user).filter(district_id=district_id),
            "unit": Unit.objects.visible_to(user).filter(district_id=district_id),
        }
        for name, queryset in querysets.items():
            cast(serializers.PrimaryKeyRelatedField, self.fields[name]).queryset = queryset

    def export_filters(self) -> exports.ExportFilters:
        data = self.validated_data
        return exports.ExportFilters(
            academic_year_id=data["academic_year"].pk if data.get("academic_year") else None,
            school_id=data["school"].pk if data.get("school") else None,
            subject=data.get("subject") or "",
            unit_id=data["unit"].pk if data.get("unit") else None,
        )


class ExportJobOutputSerializer(serializers.ModelSerializer):
    # A plain string here: the kinds are listed once, on the input (an enum named "kind" in two
    # components would clash with the assessment kinds in the schema).
    kind = serializers.CharField(help_text="scores, student_growth or oneroster_results")
    requested_by = serializers.CharField(source="requested_by.username")
    progress_percent = serializers.IntegerField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "kind",
            "status",
            "requested_by",
            "parameters",
            "estimated_rows",
            "rows_written",
            "progress_percent",
            "file_size",
            "message",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != "succeeded":
            return None
        return reverse("api-export-job-download", args=[job.pk])


class ExportNotReady(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This export is not ready."


class ExportGone(APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "This export has expired."


class ExportCreateView(APIView):
    """Run an export: streamed now (200) when small enough, else a job (202)."""

    @extend_schema(
        request=ExportInputSerializer,
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=FILE),
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description=FILE),
            (200, exports.XLSX_CONTENT_TYPE): OpenApiResponse(
                OpenApiTypes.BINARY, description=FILE
            ),
            (202, "application/json"): ExportJobOutputSerializer,
        },
    )
    def post(self, request: Request) -> Any:
        serializer = ExportInputSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        prepared = exports.export_prepare(
            actor=request.user,
            kind=serializer.validated_data["kind"],
            filters=serializer.export_filters(),
            excel=serializer.validated_data["excel"],
            xlsx=serializer.validated_data["file_format"] == "xlsx",
        )
        if not exports.export_exceeds_threshold(prepared=prepared):
            return export_response(prepared)
        job = exports.export_job_create(prepared=prepared)
        body = ExportJobOutputSerializer(job, context={"request": request}).data
        location = reverse("export-job-detail", args=[job.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


class ExportJobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Export jobs the caller may see, newest first, with their progress."""

    model = ExportJob
    serializer_class = ExportJobOutputSerializer

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("requested_by").order_by("-created_at", "-pk")


class ExportJobDownloadView(APIView):
    """A job's file, for its requester and the district's admins, until it expires."""

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description=FILE),
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description=FILE),
            409: OpenApiResponse(description="Not ready yet, or failed."),
            410: OpenApiResponse(description="Expired."),
        }
    )
    def get(self, request: Request, pk: int) -> Any:
        job = get_object_or_404(ExportJob.objects.visible_to(request.user), pk=pk)
        try:
            file = exports.export_job_file_open(actor=request.user, job_id=job.pk)
        except ValidationError as not_ready:
            raise ExportNotReady(" ".join(not_ready.messages)) from None
        except exports.ExportFileGone as gone:
            raise ExportGone(str(gone)) from None
        return export_file_response(file)
