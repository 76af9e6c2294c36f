"""The audit log of a district's imports, exports and privacy operations: written once, read by
district admins.

Every roster import (dry run or applied, succeeded or refused), every export, every student
erasure and every retention purge calls ``audit_event_record``. Nothing in the product changes
or deletes an audit row: there is no page, API or admin for that, and the model and its
queryset refuse to (classrooms/models.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from classrooms import access
from classrooms.models import AuditEvent, AuditOutcome, District, User

# Who ran an action without a signed-in account (``manage.py`` on the server).
SERVER_OPERATOR_NAME = "server operator (manage.py)"


def audit_actor_name(*, actor: User | None) -> str:
    """How an actor is named in the log, kept as it was at the time of the event."""
    if actor is None:
        return SERVER_OPERATOR_NAME
    full_name = actor.get_full_name()
    if full_name:
        return f"{full_name} ({actor.username})"
    return actor.username


def audit_event_record(
    *,
    district: District,
    actor: User | None,
    kind: str,
    parameters: Mapping[str, Any],
    row_count: int,
    succeeded: bool,
    message: str = "",
    result: Mapping[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    """Add one row to ``district``'s audit log: who (``actor``; None for a server command), what
    (``kind`` and its ``parameters``, e.g. an export's filters), how many rows and the outcome.
    ``actor_name`` names a run without an account other than the server operator (celery beat).

    The row is only ever added. Call it inside the transaction of the work it records when that
    work succeeds (both are kept or neither), and after the rollback when it fails.
    """
    event = AuditEvent(
        district=district,
        actor=actor,
        actor_name=(actor_name or audit_actor_name(actor=actor))[:200],
        kind=kind,
        parameters=dict(parameters),
        row_count=max(row_count, 0),
        outcome=AuditOutcome.SUCCEEDED if succeeded else AuditOutcome.FAILED,
        message=message,
        result=dict(result or {}),
    )
    event.full_clean()
    event.save()
    return event


def audit_log_readable(*, user: Any) -> bool:
    """Whether ``user`` may open the audit log page: district admins and platform operators."""
    if not user.is_authenticated:
        return False
    if user.is_superuser and user.is_active:
        return True
    district = District.objects.visible_to(user).filter(pk=user.district_id).first()
    if district is None:
        return False
    return access.can(user, "manage_district", district)
