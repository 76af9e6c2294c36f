from django.urls import path
from rest_framework.routers import SimpleRouter

from units.api import views

router = SimpleRouter()
router.register("units", views.UnitViewSet, basename="unit")
router.register("classroom-units", views.ClassroomUnitViewSet, basename="classroom-unit")

urlpatterns = [
    path("units/rollover/", views.UnitRolloverView.as_view(), name="unit-rollover"),
    *router.urls,
    path("units/<int:unit_id>/copy/", views.UnitCopyView.as_view(), name="unit-copy"),
    path("units/<int:unit_id>/share/", views.UnitShareView.as_view(), name="unit-share"),
    path("units/<int:unit_id>/start/", views.UnitStartView.as_view(), name="unit-start"),
    path(
        "classroom-units/<int:classroom_unit_id>/reflection/",
        views.ClassroomUnitReflectionView.as_view(),
        name="classroom-unit-reflection",
    ),
]
