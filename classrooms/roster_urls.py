"""District admin pages: roster import and the audit log."""

from django.urls import path

from classrooms import roster_views

urlpatterns = [
    path("roster/import/", roster_views.RosterImportView.as_view(), name="roster-import"),
    path(
        "roster/imports/<int:pk>/",
        roster_views.RosterImportDetailView.as_view(),
        name="roster-import-detail",
    ),
    path("audit/", roster_views.AuditEventListView.as_view(), name="audit-event-list"),
]
