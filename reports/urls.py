"""Growth report pages; config/urls.py mounts them at reports/."""

from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.ReportsHomeView.as_view(), name="home"),
    path("schools/<int:pk>/", views.SchoolGrowthView.as_view(), name="school"),
    path(
        "schools/<int:pk>/units/<int:unit_id>/skills/",
        views.SchoolUnitSkillsView.as_view(),
        name="school-unit-skills",
    ),
    path(
        "schools/<int:pk>/units/<int:unit_id>/groups/",
        views.SchoolUnitGroupsView.as_view(),
        name="school-unit-groups",
    ),
    path(
        "classroom-units/<int:pk>/",
        views.ClassroomUnitGrowthView.as_view(),
        name="classroom-unit",
    ),
]
