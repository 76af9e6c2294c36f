"""Every tenant-owned model reaches users only through a ScopedQuerySet that knows its scope.

A new model in one of the project's apps whose default manager does not hand out a
``ScopedQuerySet`` fails here, and so does a queryset whose ``scope_path`` does not lead to the
kind of row its ``scope_level`` names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.db import models

from classrooms.models import Classroom, District, School, Student
from classrooms.querysets import _SCOPE_FUNCTIONS, ScopedQuerySet
from units.models import UnitLineage

TENANT_APPS = ("classrooms", "units", "assessments", "reports")

# The model a queryset's scope_path must end at, by scope level ("": the model itself).
SCOPE_TARGET: dict[str, type[models.Model] | None] = {
    "classroom": Classroom,
    "school": School,
    "district": District,
    "district_admin": District,
    "student": Student,
    "user": None,
    "unit_library": UnitLineage,
    "platform": None,
}


def _project_app_labels() -> list[str]:
    """Apps whose code lives in this repository, not in the virtualenv: ours, new ones too."""
    base_dir = Path(settings.BASE_DIR).resolve()
    labels = []
    for config in apps.get_app_configs():
        app_path = Path(config.path).resolve()
        if base_dir in app_path.parents and ".venv" not in app_path.parts:
            labels.append(config.label)
    return labels


def _project_models() -> list[type[models.Model]]:
    # Auto-created many-to-many tables (School.coaches, Classroom.teachers, Student.groups) are
    # left out: no view, API or admin lists them on their own.
    return [
        model
        for label in _project_app_labels()
        for model in apps.get_app_config(label).get_models()
    ]


def _scoped_queryset_classes() -> list[type[ScopedQuerySet]]:
    found: list[type[ScopedQuerySet]] = []
    pending = list(ScopedQuerySet.__subclasses__())
    while pending:
        subclass = pending.pop()
        found.append(subclass)
        pending.extend(subclass.__subclasses__())
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _models_using(queryset_class: type[ScopedQuerySet]) -> list[type[models.Model]]:
    return [
        model for model in apps.get_models() if type(model._default_manager.all()) is queryset_class
    ]


def _path_target(model: type[models.Model], path: str) -> type[models.Model]:
    """The model that ``path`` (e.g. ``classroom_unit__classroom``) leads to from ``model``."""
    current: Any = model
    for part in path.split("__") if path else []:
        if part == "pk":
            continue
        field = current._meta.get_field(part)
        assert field.related_model is not None, f"{current.__name__}.{part} is not a relation"
        current = field.related_model
    return current


def test_project_apps_include_the_tenant_apps() -> None:
    assert set(TENANT_APPS) <= set(_project_app_labels())
    assert Classroom in _project_models()


@pytest.mark.parametrize("model", _project_models(), ids=lambda model: model._meta.label)
def test_every_project_model_has_a_scoped_default_queryset(model: type[models.Model]) -> None:
    queryset = model._default_manager.all()

    assert isinstance(queryset, ScopedQuerySet), (
        f"{model._meta.label}'s default manager gives a {type(queryset).__name__}; give it a "
        "ScopedQuerySet subclass naming its scope_level and scope_path (STYLE.md, Tenancy)."
    )


@pytest.mark.parametrize("queryset_class", _scoped_queryset_classes(), ids=lambda cls: cls.__name__)
def test_scoped_queryset_names_a_known_scope(queryset_class: type[ScopedQuerySet]) -> None:
    assert queryset_class.scope_level in _SCOPE_FUNCTIONS
    assert isinstance(queryset_class.scope_path, str)


@pytest.mark.parametrize("queryset_class", _scoped_queryset_classes(), ids=lambda cls: cls.__name__)
def test_scope_path_leads_to_the_scope_level_model(queryset_class: type[ScopedQuerySet]) -> None:
    models_using = _models_using(queryset_class)
    assert models_using, f"{queryset_class.__name__} is no model's default queryset"

    for model in models_using:
        wanted = SCOPE_TARGET[queryset_class.scope_level] or model
        target = _path_target(model, queryset_class.scope_path)
        assert target is wanted, (
            f"{model.__name__}.{queryset_class.scope_path!r} leads to {target.__name__}, "
            f"but scope level {queryset_class.scope_level!r} needs {wanted.__name__}"
        )


@pytest.mark.parametrize("queryset_class", _scoped_queryset_classes(), ids=lambda cls: cls.__name__)
def test_visible_to_builds_and_runs_for_every_scoped_queryset(
    world: Any, queryset_class: type[ScopedQuerySet]
) -> None:
    # Not a superuser: a platform operator's filter is empty and would not touch scope_path.
    for user_key in ("admin_a", "teacher_a1", "coach_a1", "no_role_a"):
        user = world.users[user_key]
        for model in _models_using(queryset_class):
            visible = model._default_manager.visible_to(user)  # type: ignore[attr-defined]
            assert len(list(visible)) <= model._base_manager.count(), (user_key, model.__name__)
