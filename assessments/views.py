"""The home page (a teacher's classrooms with their assessment calendars, a coach's schools, an
admin's district), the score grid of one classroom unit × assessment, and a cell's history.

The grid saves through the bulk score API (assessments/api/views.py), which calls the one write
path, ``services.scores_save``; these pages only read.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from assessments import selectors
from assessments.unit_versions import classroom_unit_version_move
from classrooms.scoped_views import ScopedView
from units.models import ClassroomUnit


class HomeView(LoginRequiredMixin, TemplateView):
    """After login, per role: my classrooms and their calendars, my schools, my district."""

    template_name = "assessments/home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["home"] = selectors.home_for(self.request.user)
        return context


class _ClassroomUnitPage(ScopedView, TemplateView):
    """A page about one visible classroom unit; another school's or district's is a 404."""

    model = ClassroomUnit

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("classroom__school", "unit")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        self.classroom_unit = get_object_or_404(
            self.get_queryset(), pk=self.kwargs["classroom_unit_id"]
        )
        context["classroom_unit"] = self.classroom_unit
        return context


class ScoreGridView(_ClassroomUnitPage):
    """Teachers of the classroom and district admins enter scores; coaches read them."""

    template_name = "assessments/score_grid.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            context["grid"] = selectors.score_grid(
                user=self.request.user,
                classroom_unit=self.classroom_unit,
                assessment_id=self.kwargs["assessment_id"],
                today=timezone.localdate(),
            )
        except ObjectDoesNotExist:
            raise Http404("This assessment is not part of the classroom's unit.") from None
        return context


class ScoreHistoryView(_ClassroomUnitPage):
    """The changes of one cell (``?student=<id>&skill=<code>``), as a partial for the grid."""

    template_name = "assessments/score_history.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        student = self.request.GET.get("student", "")
        skill_code = self.request.GET.get("skill", "")
        if not student.isdigit() or not skill_code:
            raise Http404("Choose a cell: ?student=<id>&skill=<code>.")
        try:
            context["history"] = selectors.score_history(
                user=self.request.user,
                classroom_unit=self.classroom_unit,
                assessment_id=self.kwargs["assessment_id"],
                student_id=int(student),
                skill_code=skill_code,
            )
        except ObjectDoesNotExist:
            raise Http404("No such cell.") from None
        return context


class ClassroomUnitMoveView(ScopedView, View):
    """Move a running class onto its unit's latest version, when no score would be stranded."""

    model = ClassroomUnit

    def post(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        classroom_unit = get_object_or_404(
            self.get_queryset().select_related("classroom", "unit"),
            pk=kwargs["classroom_unit_id"],
        )
        try:
            moved = classroom_unit_version_move(actor=request.user, classroom_unit=classroom_unit)
        except PermissionDenied as denied:
            return render(request, "units/unit_forbidden.html", {"reason": denied}, status=403)
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
            return redirect("units:library")
        messages.success(
            request,
            _("%(classroom)s now follows version %(version)s of '%(title)s'.")
            % {
                "classroom": moved.classroom.name,
                "version": moved.unit.version,
                "title": moved.unit.title,
            },
        )
        return redirect("units:library")
