"""Celery tasks of the classrooms app. Tasks take ids (or nothing) and call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from classrooms import privacy


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def retention_purge_task(district_id: int | None = None) -> list[dict[str, object]]:
    """Periodic (celery beat): purge learner data past each district's retention period (or
    one district's). Idempotent: a second run finds nothing more to delete, and records so."""
    return [
        {
            "district_id": result.district_id,
            "cutoff": result.cutoff.isoformat(),
            "counts": result.counts.as_dict(),
            "audit_event_id": result.event.pk if result.event else None,
        }
        for result in privacy.retention_purge(
            district_id=district_id, actor_name=privacy.SCHEDULED_RETENTION_ACTOR
        )
    ]
