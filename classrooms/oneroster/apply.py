"""Writing a plan that has no problems. The caller holds the transaction (see services.py), so a
refusal by the database leaves nothing written."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import models
from django.utils import timezone

from classrooms.models import (
    AcademicYear,
    Classroom,
    Enrollment,
    School,
    Student,
    Term,
    User,
)
from classrooms.oneroster.state import PlanState
from classrooms.oneroster.undo import ChangeLog


def plan_apply(plan: PlanState, log: ChangeLog) -> None:
    """Write the plan: creates first, in an order where every row's references exist; ``log``
    records each write (for the import's undo)."""
    now = timezone.now()
    models_by_entity: dict[str, type[models.Model]] = {
        "schools": School,
        "academic_years": AcademicYear,
        "terms": Term,
        "classrooms": Classroom,
        "students": Student,
        "teachers": User,
        "enrollments": Enrollment,
    }
    unusable_password = make_password(None)
    for entity, model in models_by_entity.items():
        creates: list[models.Model] = []
        updates: list[models.Model] = []
        olds: list[dict[str, Any]] = []
        changed: set[str] = set()
        for item in plan.items[entity].values():
            if item.action == "create":
                instance = model(**item.values)
                for name, target in item.refs.items():
                    setattr(instance, name, target.instance)
                if entity == "teachers":
                    instance.password = unusable_password  # type: ignore[attr-defined]
                item.instance = instance
                creates.append(instance)
            elif item.action in ("update", "deactivate"):
                instance = item.existing
                assert instance is not None  # noqa: S101 (updates have a row)
                for name, value in item.values.items():
                    setattr(instance, name, value)
                for name, target in item.refs.items():
                    setattr(instance, name, target.instance)
                changed.update(item.changed)
                updates.append(instance)
                olds.append(dict(item.old))
        if creates:
            model._default_manager.bulk_create(creates, batch_size=1000)
            for instance in creates:
                log.created(instance)
        if updates:
            fields = sorted(changed)
            if any(f.name == "updated_at" for f in model._meta.fields):
                for instance, old in zip(updates, olds, strict=True):
                    old["updated_at"] = instance.updated_at  # type: ignore[attr-defined]
                    instance.updated_at = now  # type: ignore[attr-defined]
                fields.append("updated_at")
            model._default_manager.bulk_update(updates, fields, batch_size=500)
            for instance, old in zip(updates, olds, strict=True):
                log.updated(instance, old)
    through = Classroom.teachers.through
    if plan.assignments_to_remove:
        removed = through._default_manager.filter(pk__in=plan.assignments_to_remove)
        for assignment in removed:
            log.deleted(assignment)
        removed.delete()
    if plan.assignments_to_add:
        added = through._default_manager.bulk_create(
            [
                through(classroom=classroom.instance, user=teacher.instance)
                for classroom, teacher in plan.assignments_to_add
            ],
            batch_size=1000,
        )
        for assignment in added:
            log.created(assignment)
