"""Growth report pages (read-only): reports home, school overview, a unit's skills and student
groups in a school, and one classroom unit.

Every page finds its row in ``visible_to(user)`` through ScopedView, so another school's or
district's page is a 404 (it is not there, rather than forbidden). The numbers come from
reports/selectors/, which reads stored summaries only.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views.generic import TemplateView

from classrooms.models import School
from classrooms.scoped_views import ScopedView
from reports import selectors
from units.models import ClassroomUnit, Unit


class ReportsHomeView(LoginRequiredMixin, TemplateView):
    template_name = "reports/reports_home.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["home"] = selectors.reports_home(user=self.request.user)
        return context


class _SchoolPage(ScopedView, TemplateView):
    """A page about one visible school."""

    model = School

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("district")

    def school(self) -> School:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def unit(self) -> Unit:
        try:
            return Unit.objects.visible_to(self.request.user).get(pk=self.kwargs["unit_id"])
        except Unit.DoesNotExist:
            raise Http404("No such unit.") from None


class SchoolGrowthView(_SchoolPage):
    template_name = "reports/school_growth.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        school = self.school()
        context["school"] = school
        context["report"] = selectors.school_growth(user=self.request.user, school=school)
        return context


class SchoolUnitSkillsView(_SchoolPage):
    template_name = "reports/school_unit_skills.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        school = self.school()
        context["school"] = school
        context["report"] = selectors.school_unit_skills(
            user=self.request.user, school=school, unit=self.unit()
        )
        return context


class SchoolUnitGroupsView(_SchoolPage):
    template_name = "reports/school_unit_groups.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        school = self.school()
        context["school"] = school
        context["report"] = selectors.school_unit_groups(
            user=self.request.user, school=school, unit=self.unit()
        )
        return context


class ClassroomUnitGrowthView(ScopedView, TemplateView):
    model = ClassroomUnit
    template_name = "reports/classroom_unit_growth.html"

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        return queryset.select_related("classroom__school__district", "unit")

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        classroom_unit = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        context["classroom_unit"] = classroom_unit
        context["report"] = selectors.classroom_unit_growth(
            user=self.request.user, classroom_unit=classroom_unit
        )
        return context
