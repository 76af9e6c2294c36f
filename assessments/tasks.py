"""Celery tasks for exports. Tasks take ids and call one service."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from assessments import exports
from assessments.exports import ExportAttempt

EXPORT_MAX_RETRIES = 3
# A job another worker is still writing is looked at again this much later.
EXPORT_BUSY_RETRY_SECONDS = 30


@shared_task(bind=True, acks_late=True, max_retries=EXPORT_MAX_RETRIES)
def export_csv_task(self: Any, job_id: int) -> str:
    """Write one export job's file, once (``exports.export_job_attempt``): a delivery that
    finds the job done does nothing; one that finds it being written by another worker looks
    again later; one that comes back after its worker died takes the job over.

    A transient database error puts the job back to pending and retries after
    THINSLICE_EXPORT_RETRY_SECONDS, doubling each time, at most EXPORT_MAX_RETRIES times; after
    that, or on any other error, the job fails with the reason (audited).
    """
    attempt = exports.export_job_attempt(
        job_id=job_id, may_retry=self.request.retries < self.max_retries
    )
    if attempt == ExportAttempt.BUSY:
        # Not a failure: as many looks as it takes while the other worker writes the job.
        raise self.retry(countdown=EXPORT_BUSY_RETRY_SECONDS, max_retries=self.request.retries + 1)
    if attempt == ExportAttempt.RETRY:
        countdown = settings.THINSLICE_EXPORT_RETRY_SECONDS * 2**self.request.retries
        raise self.retry(countdown=countdown)
    return str(attempt)


@shared_task(acks_late=True)
def export_files_expire_task() -> int:
    """Periodic (celery beat): delete the files of expired export jobs; returns how many."""
    return exports.export_job_files_expire()
