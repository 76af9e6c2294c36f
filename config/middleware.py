"""Project-wide middleware: request size limits with clear answers, and no caching of student data.

``RequestSizeLimitMiddleware`` refuses a body larger than the settings allow before any view or
other middleware reads it, and turns Django's own parse-time limits (too many fields, too many
files, a body too big) into a page or JSON that says what happened, instead of a bare
"Bad Request (400)" or a DEBUG traceback.

``NoStoreMiddleware`` marks every response to a signed-in user, and every API response, as never
to be stored by a browser or a proxy: such pages show students and their scores, and a shared
school computer must not show them again from its cache after a logout.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template import engines
from django.utils.cache import add_never_cache_headers

logger = logging.getLogger(__name__)

API_PATH_PREFIX = "/api/"
FORM_CONTENT_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
UPLOAD_CONTENT_TYPE = "multipart/form-data"

REFUSAL_PAGE = """{% extends "base.html" %}
{% block title %}{{ title }} · Thinslice{% endblock %}
{% block content %}
<section class="card narrow">
  <h1>{{ title }}</h1>
  <p class="error" role="alert">{{ message }}</p>
  <p><a href="{% url 'home' %}">Back to Thinslice</a></p>
</section>
{% endblock %}
"""

GetResponse = Callable[[HttpRequest], HttpResponseBase]


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f}".removesuffix(".0")


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _wants_json(request: HttpRequest) -> bool:
    return (
        request.path_info.startswith(API_PATH_PREFIX)
        or request.content_type == "application/json"
        or "application/json" in request.headers.get("Accept", "")
    )


def refusal_response(
    request: HttpRequest, *, status: int, title: str, message: str
) -> HttpResponse:
    """The answer to a request refused for its size: JSON ``{"detail": ...}`` for the API and
    scripts, a page for people."""
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    page = engines["django"].from_string(REFUSAL_PAGE)
    return HttpResponse(page.render({"title": title, "message": message}, request), status=status)


class RequestSizeLimitMiddleware:
    """Bodies over the limits get 413 (too large) or 400 (too many fields or files) with a
    message that says which limit and what to do, before anything else reads them."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        refusal = self.refusal(request)
        if refusal is not None:
            return refusal
        return self.get_response(request)

    def refusal(self, request: HttpRequest) -> HttpResponse | None:
        length = _content_length(request)
        if request.content_type == UPLOAD_CONTENT_TYPE:
            if length > settings.THINSLICE_MAX_UPLOAD_REQUEST_BYTES:
                return self._too_large_upload(request, length)
        elif length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return self._too_large_body(request, length)
        if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
            # Parse the form here, so that Django's limits on it are answered clearly below;
            # the CSRF check would parse it next anyway.
            try:
                request.POST  # noqa: B018
            except RequestDataTooBig:
                return self._too_large_body(request, length)
            except TooManyFieldsSent:
                return self._refuse(
                    request,
                    status=400,
                    title="Too many fields",
                    message=(
                        f"This form sent more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} "
                        "fields, the most one request may send. Save it in smaller parts."
                    ),
                )
            except TooManyFilesSent:
                return self._refuse(
                    request,
                    status=400,
                    title="Too many files",
                    message=(
                        f"This form sent more than {settings.DATA_UPLOAD_MAX_NUMBER_FILES} "
                        "files, the most one request may send. Upload them one at a time."
                    ),
                )
            except MultiPartParserError:
                return self._refuse(
                    request,
                    status=400,
                    title="Upload not readable",
                    message="The upload could not be read. Choose the file again and retry.",
                )
        return None

    def _too_large_upload(self, request: HttpRequest, length: int) -> HttpResponse:
        limit = settings.THINSLICE_MAX_UPLOAD_FILE_BYTES
        return self._refuse(
            request,
            status=413,
            title="File too large",
            message=(
                f"This upload is {_megabytes(length)} MB. Files of up to {_megabytes(limit)} MB "
                "are accepted."
            ),
        )

    def _too_large_body(self, request: HttpRequest, length: int) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        size = f" ({_megabytes(length)} MB)" if length else ""
        return self._refuse(
            request,
            status=413,
            title="Request too large",
            message=(
                f"This request is too large{size}: at most {_megabytes(limit)} MB of data is "
                "accepted in one request. Send fewer rows at a time."
            ),
        )

    def _refuse(
        self, request: HttpRequest, *, status: int, title: str, message: str
    ) -> HttpResponse:
        # The path and the size only: never the body.
        logger.warning(
            "Refused a request (%s, %s bytes): %s", title, _content_length(request), request.path
        )
        return refusal_response(request, status=status, title=title, message=message)


class NoStoreMiddleware:
    """Responses to a signed-in user and all API responses: ``Cache-Control: no-store`` (with
    Django's other never-cache directives) and ``Pragma: no-cache`` for old proxies. Static files
    are left cacheable; WhiteNoise answers them before this runs anyway."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if self.must_not_store(request):
            add_never_cache_headers(response)
            response["Pragma"] = "no-cache"
        return response

    def must_not_store(self, request: HttpRequest) -> bool:
        if request.path_info.startswith(self.static_prefix):
            return False
        if request.path_info.startswith(API_PATH_PREFIX):
            return True
        user = getattr(request, "user", None)
        return user is not None and user.is_authenticated
