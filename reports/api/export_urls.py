"""Export API routes: run an export, its jobs, a job's file."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from reports.api import export_views

router = SimpleRouter()
router.register("export-jobs", export_views.ExportJobViewSet, basename="export-job")

urlpatterns = [
    path("exports/", export_views.ExportCreateView.as_view(), name="export-create"),
    path(
        "export-jobs/<int:pk>/download/",
        export_views.ExportJobDownloadView.as_view(),
        name="api-export-job-download",
    ),
    *router.urls,
]
