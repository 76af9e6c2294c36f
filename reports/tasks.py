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
    """Rebuild one classroom unit's student growth and its school and district roll-ups;
    idempotent (rows are replaced whole)."""
    return services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def growth_rebuild_stale_task() -> int:
    """Periodic (celery beat): rebuild whatever is still marked stale."""
    return services.growth_rebuild_stale()


@shared_task(acks_late=True, autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def growth_rebuild_task(district_id: int | None = None) -> list[dict[str, object]]:
    """Periodic (celery beat): the set-based full rebuild of one district or all, in one task
    (never one task per classroom). Returns, per district, when it was built and what it wrote.
    """
    return [
        {
            "district_id": result.district_id,
            "built_at": result.built_at.isoformat(),
            "classroom_units": result.classroom_units,
            "student_rows": result.student_rows,
            "summary_rows": result.summary_rows,
        }
        for result in services.growth_rebuild(district_id=district_id)
    ]
