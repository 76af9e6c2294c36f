"""Set-up pages for districts, schools, terms, classrooms, staff and students."""

from __future__ import annotations

from typing import Any

from axes.utils import reset as axes_reset
from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from rest_framework.authtoken.models import Token

from classrooms.admin_scoping import ScopedAdmin, ScopedInline, site
from classrooms.models import (
    AcademicYear,
    Classroom,
    District,
    Enrollment,
    School,
    SignInProvider,
    Student,
    StudentGroup,
    Term,
    User,
)
from classrooms.signin import credentials


@admin.register(District, site=site)
class DistrictAdmin(ScopedAdmin):
    list_display = ["name", "formative_cap", "minimum_n", "growth_target", "proficiency_cut"]
    fieldsets = [
        (None, {"fields": ["name", "slug"]}),
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
        ("Thinslice", {"fields": ["district", "is_district_admin", "api_tokens"]}),
    ]
    district_admin_fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Person", {"fields": ["first_name", "last_name", "email"]}),
        ("Access", {"fields": ["is_active", "is_district_admin", "is_staff", "api_tokens"]}),
    ]

    actions = ["sign_out_everywhere", "unlock_sign_in"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return [*super().get_readonly_fields(request, obj), "api_tokens"]

    @admin.display(description="API tokens")
    def api_tokens(self, obj: User) -> str:
        tokens = list(Token.objects.filter(user=obj)) if obj.pk else []
        if not tokens:
            return "None"
        return "; ".join(
            f"issued {token.created:%Y-%m-%d %H:%M}, "
            + ("expired" if credentials.token_is_expired(token) else "expires ")
            + (
                ""
                if credentials.token_is_expired(token)
                else f"{credentials.token_expires_at(token):%Y-%m-%d %H:%M}"
            )
            for token in tokens
        )

    @admin.action(description="Sign out everywhere (end their sessions and API tokens)")
    def sign_out_everywhere(self, request: HttpRequest, queryset: Any) -> None:
        people = list(queryset)
        for person in people:
            credentials.sign_out_everywhere(actor=request.user, person=person)  # type: ignore[arg-type]
        self.message_user(request, f"Signed out everywhere: {len(people)} people.")

    @admin.action(description="Unlock sign-in (after too many wrong passwords)")
    def unlock_sign_in(self, request: HttpRequest, queryset: Any) -> None:
        # The failed attempts django-axes counts per username and address, from every address.
        people = list(queryset)
        for person in people:
            axes_reset(username=person.username)
        self.message_user(request, f"Sign-in unlocked: {len(people)} people.")

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return self.add_fieldsets
        if request.user.is_superuser:
            return self.superuser_fieldsets
        return self.district_admin_fieldsets

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        return None


class SignInProviderForm(forms.ModelForm):
    """The client secret is never shown again; left empty, the saved one is kept."""

    secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the saved one.",
    )
    server_url = forms.URLField(
        label="Issuer URL",
        required=False,
        assume_scheme="https",
        help_text=SignInProvider._meta.get_field("server_url").help_text,
    )

    class Meta:
        model = SignInProvider
        fields = [
            "district",
            "label",
            "kind",
            "client_id",
            "secret",
            "server_url",
            "tenant",
            "roster_id_claim",
            "is_enabled",
        ]

    def clean_secret(self) -> str:
        secret = self.cleaned_data.get("secret") or ""
        if not secret and self.instance.pk is not None:
            return self.instance.secret
        return secret


@admin.register(SignInProvider, site=site)
class SignInProviderAdmin(ScopedAdmin):
    """Single sign-on, set up by each district's admin for their own district."""

    form = SignInProviderForm
    list_display = ["label", "kind", "is_enabled"]
    fields = [
        "label",
        "kind",
        "client_id",
        "secret",
        "server_url",
        "tenant",
        "roster_id_claim",
        "is_enabled",
    ]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if request.user.is_superuser:
            return ["district", *self.fields]
        return self.fields
