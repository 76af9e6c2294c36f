"""Undoing an import: every applied import records what it changed (each row it created, each
updated field's value before and after, each teacher assignment it removed), and a district
admin can roll it back while no later change touched the same rows.

The rollback is checked first (``roster_rollback_check``, shown on the import's page): a row the
import created or updated must still be as the import left it (same values, same ``updated_at``),
a row it created must have nothing that depends on it but other rows of the same import (no
score, no later enrollment, no group membership), and a teacher assignment it removed must not
have been made again. Anything else blocks the rollback and is listed. The rollback itself
(``roster_rollback``) checks again inside one transaction, deletes what the import created,
restores each updated field (``updated_at`` included) and re-creates the removed assignments with
their ids, so the roster is row by row as it was before the import; it is audited.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.admin.utils import NestedObjects
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, models, transaction
from django.utils import timezone

from classrooms import access
from classrooms.audit import audit_event_record
from classrooms.models import (
    AuditEvent,
    AuditKind,
    District,
    Enrollment,
    RosterChangeAction,
    RosterImport,
    RosterImportChange,
    Student,
    User,
)

# How many blockers the page lists (the count is always given).
SHOWN_BLOCKERS = 50
_NAMES = {
    "classrooms.district": "the district",
    "classrooms.school": "school",
    "classrooms.academicyear": "school year",
    "classrooms.term": "term",
    "classrooms.classroom": "classroom",
    "classrooms.student": "student",
    "classrooms.user": "teacher",
    "classrooms.enrollment": "enrollment",
    "classrooms.classroom_teachers": "teacher assignment",
}


def json_value(value: Any) -> Any:
    """A field's value as JSON keeps it exactly (datetimes to the microsecond)."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


@dataclass
class ChangeLog:
    """What one import writes, in the order it writes it."""

    records: list[RosterImportChange] = field(default_factory=list)

    def _add(
        self, instance: models.Model, action: str, old: dict[str, Any], new: dict[str, Any]
    ) -> None:
        self.records.append(
            RosterImportChange(
                position=len(self.records),
                model=instance._meta.label_lower,
                object_id=instance.pk,
                action=action,
                old={name: json_value(value) for name, value in old.items()},
                new={name: json_value(value) for name, value in new.items()},
                student_id=_student_id(instance),
            )
        )

    def created(self, instance: models.Model) -> None:
        marker = _tracked(instance)
        self._add(instance, RosterChangeAction.CREATED, {}, marker)

    def updated(self, instance: models.Model, old: dict[str, Any]) -> None:
        new = {name: getattr(instance, name) for name in old}
        self._add(instance, RosterChangeAction.UPDATED, old, new)

    def deleted(self, instance: models.Model) -> None:
        old = {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}
        self._add(instance, RosterChangeAction.DELETED, old, {})


def _student_id(instance: models.Model) -> int | None:
    if isinstance(instance, Student):
        return instance.pk
    if isinstance(instance, Enrollment):
        return instance.student_id
    return None


def _tracked(instance: models.Model) -> dict[str, Any]:
    """What shows a created row is still as the import left it: ``updated_at`` when the model
    has one, else its fields."""
    names = [f.attname for f in instance._meta.concrete_fields if not f.primary_key]
    if "updated_at" in names:
        names = ["updated_at"]
    return {name: getattr(instance, name) for name in names if name != "password"}


def roster_import_record(
    *, district: District, audit_event: AuditEvent, log: ChangeLog
) -> RosterImport | None:
    """Keep what an applied import changed (nothing is kept for an import that changed
    nothing)."""
    if not log.records:
        return None
    batch = RosterImport.objects.create(district=district, audit_event=audit_event)
    for record in log.records:
        record.roster_import = batch
    RosterImportChange.objects.bulk_create(log.records, batch_size=2000)
    return batch


@dataclass
class RollbackCheck:
    """What rolling an import back would do, and what blocks it."""

    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    blockers: list[str] = field(default_factory=list)
    already: bool = False

    @property
    def possible(self) -> bool:
        return not self.blockers and not self.already

    @property
    def count_rows(self) -> list[tuple[str, int, int, int]]:
        """(what, rows deleted, rows restored, assignments made again) per kind of row."""
        return [
            (
                _NAMES.get(label, label),
                counts[RosterChangeAction.CREATED],
                counts[RosterChangeAction.UPDATED],
                counts[RosterChangeAction.DELETED],
            )
            for label, counts in self.counts.items()
        ]


def _model(label: str) -> type[models.Model]:
    return apps.get_model(label)


def roster_rollback_check(*, actor: User, roster_import: RosterImport) -> RollbackCheck:
    """What rolling ``roster_import`` back would do now, and what blocks it."""
    access.require(actor, "manage_district", roster_import.district)
    return _check(roster_import)


def _describe(label: str, instance: Any, object_id: int) -> str:
    noun = _NAMES.get(label, label)
    return f"{noun} '{instance}'" if instance is not None else f"{noun} #{object_id}"


def _check(roster_import: RosterImport) -> RollbackCheck:
    check = RollbackCheck(already=roster_import.rolled_back_at is not None)
    changes = list(roster_import.changes.order_by("position"))
    by_model: dict[str, list[RosterImportChange]] = defaultdict(list)
    for change in changes:
        by_model[change.model].append(change)
        check.counts[change.model][change.action] += 1
    created: dict[str, set[int]] = defaultdict(set)
    created_rows: list[models.Model] = []
    for label, group in by_model.items():
        model = _model(label)
        ids = [change.object_id for change in group]
        rows = {row.pk: row for row in model._base_manager.filter(pk__in=ids)}
        for change in group:
            row = rows.get(change.object_id)
            if change.action == RosterChangeAction.DELETED:
                again = {k: v for k, v in change.old.items() if k != "id"}
                if model._base_manager.filter(**again).exists():
                    check.blockers.append(
                        f"{_describe(label, None, change.object_id)} removed by the import was "
                        "made again since."
                    )
                continue
            if row is None:
                check.blockers.append(
                    f"{_describe(label, None, change.object_id)} was deleted since the import."
                )
                continue
            moved = [
                name
                for name, value in change.new.items()
                if json_value(getattr(row, name)) != value
            ]
            if moved:
                check.blockers.append(
                    f"{_describe(label, row, change.object_id)} was changed since the import "
                    f"({', '.join(moved)})."
                )
                continue
            if change.action == RosterChangeAction.CREATED:
                created[label].add(row.pk)
                created_rows.append(row)
    if created_rows:
        collector = NestedObjects(using=DEFAULT_DB_ALIAS)
        rows_by_model: dict[type[models.Model], list[models.Model]] = defaultdict(list)
        for row in created_rows:
            rows_by_model[type(row)].append(row)
        for rows_of_model in rows_by_model.values():  # one model per call
            collector.collect(rows_of_model)
        outside = [
            protected
            for protected in collector.protected
            if protected.pk not in created[protected._meta.label_lower]
        ]
        for protected in outside[:SHOWN_BLOCKERS]:
            check.blockers.append(
                f"{protected._meta.verbose_name} '{protected}' depends on a row the import created."
            )
        for model, instances in collector.data.items():
            label = model._meta.label_lower
            if model is RosterImportChange:
                continue
            for instance in instances:
                if instance.pk not in created[label]:
                    check.blockers.append(
                        f"{model._meta.verbose_name} '{instance}' was added since the import and "
                        "depends on a row it created."
                    )
    return check


def roster_rollback(*, actor: User, roster_import: RosterImport) -> RollbackCheck:
    """Roll ``roster_import`` back in one transaction, audited; ValidationError (listing what
    blocks it) when it cannot be, audited too."""
    access.require(actor, "manage_district", roster_import.district)
    try:
        return _rollback(actor, roster_import)
    except ValidationError as refused:
        audit_event_record(
            district=roster_import.district,
            actor=actor,
            kind=AuditKind.ROSTER_ROLLBACK,
            parameters={"roster_import": roster_import.pk},
            row_count=0,
            succeeded=False,
            message=f"Roster import #{roster_import.pk} was not rolled back: nothing changed.",
            result={"blockers": refused.messages[:SHOWN_BLOCKERS]},
        )
        raise


def _rollback(actor: User, roster_import: RosterImport) -> RollbackCheck:
    with transaction.atomic():
        # One import or rollback of a district at a time.
        list(
            District.objects.select_for_update()
            .filter(pk=roster_import.district_id)
            .values_list("pk")
        )
        batch = RosterImport.objects.select_for_update().get(pk=roster_import.pk)
        check = _check(batch)
        if not check.possible:
            reason = ["This import was rolled back already."] if check.already else check.blockers
            raise ValidationError(reason[:SHOWN_BLOCKERS])
        changes = list(batch.changes.order_by("-position"))
        for change in changes:
            model = _model(change.model)
            if change.action == RosterChangeAction.CREATED:
                model._base_manager.filter(pk=change.object_id).delete()
            elif change.action == RosterChangeAction.UPDATED:
                restored = {name: _python(model, name, value) for name, value in change.old.items()}
                model._base_manager.filter(pk=change.object_id).update(**restored)
            else:
                values = {name: _python(model, name, value) for name, value in change.old.items()}
                model._base_manager.create(**values)
        total = len(changes)
        event = audit_event_record(
            district=batch.district,
            actor=actor,
            kind=AuditKind.ROSTER_ROLLBACK,
            parameters={"roster_import": batch.pk, "import_event": batch.audit_event_id},
            row_count=total,
            succeeded=True,
            message=f"Roster import #{batch.pk} rolled back: {total} row changes undone.",
            result={label: dict(counts) for label, counts in check.counts.items()},
        )
        RosterImport.objects.filter(pk=batch.pk).update(
            rolled_back_at=timezone.now(), rollback_event=event
        )
        batch.changes.all().delete()  # what they recorded is undone; names are not kept
    return check


def _python(model: type[models.Model], attname: str, value: Any) -> Any:
    """A recorded JSON value as the field holds it (a date, a datetime, a decimal)."""
    for model_field in model._meta.concrete_fields:
        if model_field.attname == attname:
            return model_field.to_python(value)
    return value
