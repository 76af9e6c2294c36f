"""Celery tasks for exports. Tasks take ids, claim their job atomically, and call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from assessments import exports
from assessments.models import ExportJob, ExportStatus

EXPORT_MAX_RETRIES = 3


@shared_task(bind=True, acks_late=True, max_retries=EXPORT_MAX_RETRIES)
def export_csv_task(self: Any, job_id: int) -> str:
    """Write one export job's file; idempotent: only the worker that moves the job from pending
    to running writes it (a second delivery finds it claimed or done and does nothing).

    A transient database error puts the job back to pending and retries with a growing delay,
    at most EXPORT_MAX_RETRIES times; after that, or on any other error, the job fails with
    the reason (``export_job_run`` records it in the audit log).
    """
    # cross-tenant: the task has only the job's id; export_job_run re-scopes the rows to
    # visible_to(job.requested_by).
    claimed = (
        ExportJob.objects.all_schools()
        .filter(id=job_id, status=ExportStatus.PENDING)
        .update(status=ExportStatus.RUNNING, started_at=timezone.now(), attempts=F("attempts") + 1)
    )
    if not claimed:  # another worker has it, or it is done
        return "skipped"
    try:
        job = exports.export_job_run(job_id=job_id)
    except exports.TRANSIENT_ERRORS as error:
        reason = f"The database was unavailable ({type(error).__name__})."
        if self.request.retries < self.max_retries:
            exports.export_job_release(job_id=job_id, message=f"{reason} Trying again.")
            raise self.retry(exc=error, countdown=5 * 2**self.request.retries) from error
        job = exports.export_job_fail(job_id=job_id, message=f"{reason} Gave up after retries.")
    return str(job.status)


@shared_task(acks_late=True)
def export_files_expire_task() -> int:
    """Periodic (celery beat): delete the files of expired export jobs; returns how many."""
    return exports.export_job_files_expire()
