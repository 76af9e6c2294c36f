"""Base classes for pages and API views: every one starts from ``visible_to(request.user)``.

Subclasses narrow the rows in ``scope_queryset``; overriding ``get_queryset`` is refused when the
class is defined, so no view can forget the scope. A row outside the scope is a 404.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import viewsets


class _ScopedQuerysetMixin:
    model: ClassVar[type[models.Model]]
    request: Any

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset; narrow rows in scope_queryset instead."
            )

    def get_queryset(self) -> models.QuerySet:
        visible = self.model._default_manager.visible_to(self.request.user)  # type: ignore[attr-defined]
        return self.scope_queryset(visible)

    def scope_queryset(self, queryset: models.QuerySet) -> models.QuerySet:
        return queryset


class ScopedViewSet(_ScopedQuerysetMixin, viewsets.GenericViewSet):
    """DRF viewset over the rows the caller may see."""

    queryset = None


class ScopedView(LoginRequiredMixin, _ScopedQuerysetMixin):
    """Mixin for Django class-based pages over the rows the signed-in user may see."""


def district_admins_only(request: HttpRequest, reason: str) -> HttpResponse:
    """The 403 page of the district admin pages (roster import, audit log, privacy) for anyone
    else signed in: it says why (``reason``) and links home."""
    return render(request, "classrooms/roster_forbidden.html", {"reason": reason}, status=403)
