"""Celery tasks for growth rows. Tasks take ids, and call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from reports import services


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
)
def classroom_unit_growth_rebuild_task(classroom_unit_id: int) -> int:
    """Rebuild one classroom unit's student growth; idempotent (rows are replaced whole)."""
    return services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def growth_rebuild_stale_task() -> int:
    """Periodic (celery beat): rebuild whatever is still marked stale."""
    return services.growth_rebuild_stale()
