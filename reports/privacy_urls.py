"""District admin pages for privacy: student erasure on request and the retention policy."""

from django.urls import path

from reports import privacy_views

urlpatterns = [
    path("privacy/", privacy_views.PrivacyView.as_view(), name="privacy"),
    path(
        "privacy/students/<int:pk>/erase/",
        privacy_views.StudentEraseView.as_view(),
        name="student-erase",
    ),
]
