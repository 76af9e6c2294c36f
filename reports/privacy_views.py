"""District admin pages for privacy: find a student and delete their data on request (with a
confirm step that says what goes), and see the district's retention period and what a purge
would delete now.

Only district admins of their own district get past ``dispatch`` (anyone else signed in gets a
403 page that says why); a student of another district is a 404, as it is not in
``visible_to``. The rules and the deleting live in reports/privacy.py.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views import View

from classrooms import access, selectors
from classrooms.models import District, Student
from classrooms.scoped_views import ScopedView, district_admins_only
from reports import privacy

ADMINS_ONLY = "Only a district admin can delete students' data or see the retention policy."


class StudentSearchForm(forms.Form):
    q = forms.CharField(label="SIS id or name", required=False, max_length=100, strip=True)


class StudentEraseForm(forms.Form):
    """The confirm step: the admin types the student's SIS id, so a slip cannot erase."""

    sis_id = forms.CharField(label="Type the student's SIS id to confirm", max_length=64)

    def __init__(self, *args: Any, student: Student, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.student = student

    def clean_sis_id(self) -> str:
        typed = str(self.cleaned_data["sis_id"]).strip()
        if typed != self.student.sis_id:
            raise forms.ValidationError("This is not the student's SIS id; nothing was deleted.")
        return typed


class _DistrictAdminPage(ScopedView, View):
    model = District
    district: District

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        district = self.get_queryset().filter(pk=request.user.district_id).first()
        if district is None or not access.can(request.user, "manage_district", district):
            return district_admins_only(request, ADMINS_ONLY)
        self.district = district
        return super().dispatch(request, *args, **kwargs)


class PrivacyView(_DistrictAdminPage):
    """GET: a search for students (``?q=``) with a link to delete each, and the retention
    policy with what a purge would delete today (a dry run: nothing changes)."""

    template_name = "reports/district_privacy.html"
    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        form = StudentSearchForm(request.GET)
        query = form.cleaned_data["q"] if form.is_valid() else ""
        students = selectors.student_search(user=request.user, district=self.district, query=query)
        retention = None
        if self.district.retention_years is not None:
            retention = privacy.district_retention_purge(
                actor=request.user,
                district=self.district,
                dry_run=True,
                today=timezone.localdate(),
            )
        context = {
            "district": self.district,
            "form": form,
            "query": query,
            "students": students,
            "retention": retention,
        }
        return render(request, self.template_name, context)


class StudentEraseView(_DistrictAdminPage):
    """GET: what deleting this student removes, and the confirm form. POST: delete it all
    (``privacy.student_erase``), then back to the privacy page with what was deleted."""

    template_name = "reports/student_erase.html"

    def _student(self) -> Student:
        students = Student.objects.visible_to(self.request.user).filter(
            district_id=self.district.pk
        )
        return get_object_or_404(students, pk=self.kwargs["pk"])

    def _page(self, student: Student, form: StudentEraseForm, status: int = 200) -> HttpResponse:
        counts = privacy.student_erasure_counts(actor=self.request.user, student=student)
        context = {"district": self.district, "student": student, "counts": counts, "form": form}
        return render(self.request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        student = self._student()
        return self._page(student, StudentEraseForm(student=student))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        student = self._student()
        form = StudentEraseForm(request.POST, student=student)
        if not form.is_valid():
            return self._page(student, form, status=400)
        erasure = privacy.student_erase(actor=request.user, student=student)
        messages.success(
            request,
            f"Deleted student #{erasure.student_id} and all their data: "
            f"{erasure.counts.described()}. The audit log records it.",
        )
        return redirect("privacy")
