"""Pages for the CSV upload of one assessment's scores (classroom unit id, assessment id)."""

from django.urls import path

from assessments import csv_views

urlpatterns = [
    path(
        "classrooms/<int:classroom_unit_id>/assessments/<int:assessment_id>/scores.csv",
        csv_views.ScoreCsvTemplateView.as_view(),
        name="score-csv-template",
    ),
    path(
        "classrooms/<int:classroom_unit_id>/assessments/<int:assessment_id>/scores/upload/",
        csv_views.ScoreCsvUploadView.as_view(),
        name="score-csv-upload",
    ),
]
