"""Application logs and error reports carry no personal data.

Students' names are the data this product keeps, and staff usernames are often e-mail addresses.
The application logs ids and paths only; this module is the net under that rule:

- ``RedactPersonalDataFilter`` sits on every handler in ``LOGGING``. It blanks e-mail addresses and
  the values of query strings (a search box puts a name into ``?q=``) in each message, traceback
  and stack.
- Django's request logging (4xx and 5xx) names the path only, never the body; the filter keeps it
  so for anything that quotes a URL.
- ``PersonalDataReporterFilter`` keeps form fields and local variables out of the error reports
  Django mails to ADMINS in production: either may hold a student's name.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter

EMAIL_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# A query string after a path: "/admin/classrooms/student/?q=Smith" keeps the path and "q=".
QUERY_STRING = re.compile(r"/[^\s?\"'<>]*\?[^\s\"'<>]+")

EMAIL_REPLACEMENT = "[email redacted]"
VALUE_REPLACEMENT = "[redacted]"

_traceback_formatter = logging.Formatter()


def _without_query_values(match: re.Match[str]) -> str:
    path, query = match.group(0).split("?", 1)
    names = (part.split("=", 1)[0] for part in query.split("&"))
    return path + "?" + "&".join(f"{name}={VALUE_REPLACEMENT}" for name in names)


def redact(text: str) -> str:
    """Blank e-mail addresses, and the values in query strings, in one piece of log text."""
    text = EMAIL_ADDRESS.sub(EMAIL_REPLACEMENT, text)
    return QUERY_STRING.sub(_without_query_values, text)


class RedactPersonalDataFilter(logging.Filter):
    """Rewrite each record in place, so every handler after this one sees the redacted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # arguments that do not fit the format
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and not record.exc_text:
            record.exc_text = _traceback_formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class PersonalDataReporterFilter(SafeExceptionReporterFilter):
    """In production (DEBUG off), error reports list the names of form fields and local
    variables, never their values."""

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
