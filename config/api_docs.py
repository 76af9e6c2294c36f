"""The API's Swagger UI page, under a Content-Security-Policy it can live with.

drf-spectacular's ``SpectacularSwaggerView`` writes its start-up script inline, which the site's
policy (script-src 'self') refuses. ``SpectacularSwaggerSplitView`` serves that script from the
same URL with ``?script`` instead, so scripts stay same-origin. Its template still carries one
small inline ``<style>`` block (box-sizing, margins), so this page alone may use inline styles.
It shows the API's shape, never student data. Everything still comes from this origin: the
Swagger UI files are the sidecar's static files.
"""

from __future__ import annotations

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from drf_spectacular.views import SpectacularSwaggerSplitView

api_docs_view = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)
