"""The unit planner's pages (under /units/)."""

from django.urls import path

from units import views

app_name = "units"

urlpatterns = [
    path("", views.UnitLibraryView.as_view(), name="library"),
    path("new/", views.UnitPlanView.as_view(), name="new"),
    path("burden/", views.PlanBurdenView.as_view(), name="burden"),
    path("rollover/", views.RolloverView.as_view(), name="rollover"),
    path("<int:unit_id>/edit/", views.UnitPlanView.as_view(), name="edit"),
    path("<int:unit_id>/start/", views.UnitStartView.as_view(), name="start"),
    path("<int:unit_id>/copy/", views.UnitCopyView.as_view(), name="copy"),
    path("<int:unit_id>/share/", views.UnitShareView.as_view(), name="share"),
    path(
        "classes/<int:classroom_unit_id>/reflection/",
        views.ClassroomUnitReflectView.as_view(),
        name="reflect",
    ),
]
