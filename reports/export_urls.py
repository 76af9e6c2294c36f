"""Export pages: the export form, a large export's job page and its file."""

from django.urls import path

from reports import export_views

urlpatterns = [
    path("exports/", export_views.ExportPageView.as_view(), name="export-page"),
    path("exports/jobs/<int:pk>/", export_views.ExportJobView.as_view(), name="export-job"),
    path(
        "exports/jobs/<int:pk>/download/",
        export_views.ExportJobDownloadView.as_view(),
        name="export-job-download",
    ),
]
