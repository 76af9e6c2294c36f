"""The home page, and the score pages: the grid of one classroom unit × assessment and the
history of its cells."""

from django.urls import path

from assessments import views

urlpatterns = [
    path("", views.HomeView.as_view(), name="home"),
    path(
        "classrooms/<int:classroom_unit_id>/assessments/<int:assessment_id>/scores/",
        views.ScoreGridView.as_view(),
        name="score-grid",
    ),
    path(
        "classrooms/<int:classroom_unit_id>/assessments/<int:assessment_id>/scores/history/",
        views.ScoreHistoryView.as_view(),
        name="score-history",
    ),
    path(
        "units/classes/<int:classroom_unit_id>/move/",
        views.ClassroomUnitMoveView.as_view(),
        name="classroom-unit-move",
    ),
]
