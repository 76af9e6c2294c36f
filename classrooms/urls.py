from django.urls import include, path

from classrooms import views

urlpatterns = [
    path("", include("classrooms.signin.urls")),
    path(
        "classrooms/<int:pk>/roster/",
        views.ClassroomRosterView.as_view(),
        name="classroom-roster",
    ),
]
