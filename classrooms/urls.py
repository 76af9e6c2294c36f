from django.contrib.auth import views as auth_views
from django.urls import path

from classrooms import views

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "classrooms/<int:pk>/roster/",
        views.ClassroomRosterView.as_view(),
        name="classroom-roster",
    ),
]
