"""Sign-in addresses: the platform's and each district's, password reset, invitations."""

from django.contrib.auth import views as auth_views
from django.urls import path

from classrooms.signin import views

urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("d/<slug:slug>/login/", views.SignInView.as_view(), name="district-login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password-reset/sent/",
        views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "welcome/<uidb64>/<token>/",
        views.InvitationAcceptView.as_view(),
        name="invitation-accept",
    ),
    path("people/invite/", views.InvitationView.as_view(), name="invitation-send"),
]
