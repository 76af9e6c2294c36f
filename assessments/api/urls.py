from django.urls import path
from rest_framework.routers import SimpleRouter

from assessments.api import views

router = SimpleRouter()
router.register("scores", views.ScoreViewSet, basename="score")

urlpatterns = [
    *router.urls,
    path(
        "classroom-units/<int:classroom_unit_id>/assessments/<int:assessment_id>/scores/",
        views.ScoreBulkSaveView.as_view(),
        name="score-bulk-save",
    ),
    path(
        "classroom-units/<int:classroom_unit_id>/move/",
        views.ClassroomUnitMoveView.as_view(),
        name="classroom-unit-move-api",
    ),
]
