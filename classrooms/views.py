"""A classroom's roster, loaded in place with htmx on the home page (assessments/views.py)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404
from django.views.generic import TemplateView

from classrooms import selectors


class ClassroomRosterView(LoginRequiredMixin, TemplateView):
    template_name = "classrooms/classroom_roster.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        try:
            classroom, enrollments = selectors.classroom_roster(
                user=self.request.user, classroom_id=kwargs["pk"]
            )
        except ObjectDoesNotExist:
            raise Http404("No such classroom.") from None
        context.update(classroom=classroom, enrollments=enrollments)
        return context
