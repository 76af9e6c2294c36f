"""Writing a plan that has no problems. The caller holds the transaction (see services.py), so a
refusal by the database leaves nothing written."""

from __future__ import annotations

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


def plan_apply(plan: PlanState) -> None:
    """Write the plan: creates first, in an order where every row's references exist."""
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
        if creates:
            model._default_manager.bulk_create(creates, batch_size=1000)
        if updates:
            fields = sorted(changed)
            if any(f.name == "updated_at" for f in model._meta.fields):
                for instance in updates:
                    instance.updated_at = now  # type: ignore[attr-defined]
                fields.append("updated_at")
            model._default_manager.bulk_update(updates, fields, batch_size=500)
    through = Classroom.teachers.through
    if plan.assignments_to_remove:
        through._default_manager.filter(pk__in=plan.assignments_to_remove).delete()
    if plan.assignments_to_add:
        through._default_manager.bulk_create(
            [
                through(classroom=classroom.instance, user=teacher.instance)
                for classroom, teacher in plan.assignments_to_add
            ],
            batch_size=1000,
        )
