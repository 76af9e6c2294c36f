from django.urls import URLPattern, URLResolver, include, path
from django.views.i18n import JavaScriptCatalog
from drf_spectacular.views import SpectacularAPIView

from classrooms.admin_scoping import site as setup_admin
from classrooms.signin.token_views import ObtainExpiringToken
from config.api_docs import api_docs_view

api_patterns: list[URLPattern | URLResolver] = [
    path("", include("classrooms.api.urls")),
    path("", include("units.api.urls")),
    path("", include("assessments.api.urls")),
    path("", include("reports.api.export_urls")),
    path("token/", ObtainExpiringToken.as_view(), name="api-token"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", api_docs_view, name="api-docs"),
]

handler404 = "config.api.not_found"

urlpatterns = [
    path("admin/", setup_admin.urls),
    # The translations of the pages' JavaScript (the score grid's messages).
    path("jsi18n/", JavaScriptCatalog.as_view(), name="javascript-catalog"),
    path("api/", include(api_patterns)),
    path("reports/", include("reports.urls")),
    path("units/", include("units.urls")),
    path("", include("assessments.urls")),
    path("", include("assessments.csv_urls")),
    path("", include("classrooms.roster_urls")),
    path("", include("reports.privacy_urls")),
    path("", include("reports.export_urls")),
    path("", include("classrooms.urls")),
]
