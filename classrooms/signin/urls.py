"""Sign-in addresses: the platform's and each district's, password reset, invitations."""

from allauth.socialaccount.providers.google import views as google_views
from allauth.socialaccount.providers.microsoft import views as microsoft_views
from allauth.socialaccount.providers.openid_connect import views as openid_connect_views
from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import TemplateView

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
    path(
        "account/sign-out-everywhere/",
        views.SignOutEverywhereView.as_view(),
        name="sign-out-everywhere",
    ),
    path("people/invite/", views.InvitationView.as_view(), name="invitation-send"),
    # Single sign-on: a district's button starts it; allauth's callbacks (only those: sign-in
    # starts from the district's page, and allauth's own sign-up and account pages are not used).
    path(
        "d/<slug:slug>/sso/<int:provider_pk>/",
        views.SingleSignOnStartView.as_view(),
        name="sso-start",
    ),
    path(
        "accounts/oidc/<str:provider_id>/login/callback/",
        openid_connect_views.callback,
        name="openid_connect_callback",
    ),
    path(
        "accounts/google/login/callback/",
        views.provider_callback(google_views.oauth2_callback),
        name="google_callback",
    ),
    path(
        "accounts/microsoft/login/callback/",
        views.provider_callback(microsoft_views.oauth2_callback),
        name="microsoft_callback",
    ),
    path(
        "accounts/login/cancelled/",
        TemplateView.as_view(template_name="socialaccount/login_cancelled.html"),
        name="socialaccount_login_cancelled",
    ),
    path(
        "accounts/login/error/",
        TemplateView.as_view(template_name="socialaccount/authentication_error.html"),
        name="socialaccount_login_error",
    ),
]
