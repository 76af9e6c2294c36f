"""The Django admin for district set-up, scoped like every other entry point.

District admins use the admin for their own district only; superusers see every district. Rows,
choices in drop-downs and saved relations all go through ``visible_to`` and the tenancy check.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest

from classrooms.services import district_mismatch_problems


def is_setup_user(user: Any) -> bool:
    """Superusers and district admins may use the set-up admin."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return bool(user.is_district_admin and user.district_id is not None)


class ThinsliceAdminSite(admin.AdminSite):
    site_header = "Thinslice set-up"
    site_title = "Thinslice set-up"
    index_title = "District set-up"

    def has_permission(self, request: HttpRequest) -> bool:
        return is_setup_user(request.user)


site = ThinsliceAdminSite(name="admin")


class ScopedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A sidebar filter whose choices are only rows the user may see."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        ordering = self.field_admin_ordering(field, request, model_admin)
        visible = _visible(field.related_model, request)
        if ordering:
            visible = visible.order_by(*ordering)
        return [(row.pk, str(row)) for row in visible]


class ScopedAdmin(admin.ModelAdmin):
    """Rows from ``visible_to``, choices from ``visible_to``, relations within one district.

    District-owned models get their district from the signed-in district admin.
    """

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_setup_user(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_setup_user(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_roster_ids_read_only(self.model, super().get_readonly_fields(request, obj))

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [
            (name, ScopedRelatedFieldListFilter) if _is_relation(self.model, name) else name
            for name in super().get_list_filter(request)
        ]

    def get_exclude(self, request: HttpRequest, obj: Any = None) -> Any:
        excluded = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser and _has_district_field(self.model):
            excluded.append("district")
        return excluded

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", _visible(db_field.related_model, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", _visible(db_field.related_model, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form_class = super().get_form(request, obj, change, **kwargs)
        district_id = getattr(request.user, "district_id", None)
        model = self.model

        class TenancyCheckedForm(form_class):  # type: ignore[valid-type, misc]
            def _post_clean(self) -> None:
                if _has_district_field(model) and self.instance.district_id is None:
                    self.instance.district_id = district_id
                super()._post_clean()
                related = [
                    value for value in self.cleaned_data.values() if isinstance(value, models.Model)
                ]
                for value in self.cleaned_data.values():
                    if isinstance(value, models.QuerySet):
                        related.extend(value)
                problems = district_mismatch_problems(self.instance, related)
                if problems:
                    self.add_error(None, ValidationError(problems))

        return TenancyCheckedForm


class ScopedInline(admin.TabularInline):
    """Inline rows and their choices come from ``visible_to`` too; roster ids stay read-only."""

    extra = 0

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return _with_roster_ids_read_only(self.model, super().get_readonly_fields(request, obj))

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined]

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        kwargs.setdefault("queryset", _visible(db_field.related_model, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_setup_user(request.user)


def _with_roster_ids_read_only(model: Any, readonly: Any) -> list[Any]:
    """Roster ids belong to the student information system; only an import changes them, on
    a row's own page and in the rows shown inside another's (a year's terms, a class's
    enrollments) alike."""
    fields = list(readonly)
    if any(field.name == "sourced_id" for field in model._meta.concrete_fields):
        fields.append("sourced_id")
    return fields


def _visible(model: Any, request: HttpRequest) -> models.QuerySet:
    return model._default_manager.visible_to(request.user)  # type: ignore[no-any-return]


def _is_relation(model: Any, name: Any) -> bool:
    if not isinstance(name, str) or "__" in name:
        return False
    try:
        field = model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - a list_filter entry that is not a field
        return False
    return bool(field.is_relation)


def _has_district_field(model: Any) -> bool:
    return any(field.name == "district" for field in model._meta.concrete_fields)
