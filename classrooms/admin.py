"""Set-up pages for districts, schools, terms, classrooms, staff and students."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from classrooms.admin_scoping import ScopedAdmin, ScopedInline, site
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    Student,
    StudentGroup,
    Term,
    User,
)


@admin.register(District, site=site)
class DistrictAdmin(ScopedAdmin):
    list_display = ["name", "formative_cap", "minimum_n", "growth_target", "proficiency_cut"]
    fieldsets = [
        (None, {"fields": ["name"]}),
        (
            "Unit plans and reports",
            {
                "fields": [
                    "formative_cap",
                    "teachers_write_units",
                    "minimum_n",
                    "growth_target",
                    "developing_cut",
                    "proficiency_cut",
                    "retention_years",
                ]
            },
        ),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A district admin works inside their district; only platform operators create districts.
        return bool(request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)


@admin.register(School, site=site)
class SchoolAdmin(ScopedAdmin):
    list_display = ["name", "code", "district"]
    search_fields = ["name", "code"]
    filter_horizontal = ["coaches"]


class TermInline(ScopedInline):
    model = Term


@admin.register(AcademicYear, site=site)
class AcademicYearAdmin(ScopedAdmin):
    list_display = ["name", "start_date", "end_date"]
    inlines = [TermInline]


class EnrollmentInline(ScopedInline):
    model = Enrollment
    autocomplete_fields = ["student"]


@admin.register(Classroom, site=site)
class ClassroomAdmin(ScopedAdmin):
    list_display = ["name", "school", "subject", "grade_level", "term"]
    list_filter = ["subject", "grade_level"]
    search_fields = ["name", "school__name", "subject"]
    filter_horizontal = ["teachers"]
    inlines = [EnrollmentInline]


@admin.register(StudentGroup, site=site)
class StudentGroupAdmin(ScopedAdmin):
    list_display = ["name"]


@admin.register(Student, site=site)
class StudentAdmin(ScopedAdmin):
    list_display = ["family_name", "given_name", "sis_id", "grade_level", "is_active"]
    list_filter = ["grade_level", "is_active", "groups"]
    search_fields = ["family_name", "given_name", "sis_id"]
    filter_horizontal = ["groups"]
    readonly_fields = ["erase_link"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A student is deleted only through the privacy page (reports/privacy.py), which
        # deletes their scores, history and growth with them and records the deletion in the
        # audit log; the admin's delete would do neither. So nobody deletes them here.
        return False

    @admin.display(description="Delete on request")
    def erase_link(self, obj: Student) -> str:
        if obj.pk is None:
            return "-"
        return format_html(
            '<a href="{}">Delete this student and all their data…</a>',
            reverse("student-erase", args=[obj.pk]),
        )


@admin.register(Enrollment, site=site)
class EnrollmentAdmin(ScopedAdmin):
    list_display = ["student", "classroom", "start_date", "end_date"]
    autocomplete_fields = ["student", "classroom"]
    list_select_related = ["student", "classroom__school"]


@admin.register(User, site=site)
class StaffAdmin(UserAdmin, ScopedAdmin):
    """Staff accounts. District admins manage their own district's staff, never superusers."""

    list_display = ["username", "first_name", "last_name", "email", "is_district_admin"]
    list_filter = ["is_district_admin", "is_active"]
    superuser_fieldsets = [
        *UserAdmin.fieldsets,  # type: ignore[misc]
        ("Thinslice", {"fields": ["district", "is_district_admin"]}),
    ]
    district_admin_fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["is_active", "is_district_admin", "is_staff"]}),
    ]

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        if request.user.is_superuser:
            return self.superuser_fieldsets
        return self.district_admin_fieldsets

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return None
