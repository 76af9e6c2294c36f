"""Celery tasks for growth rows, export jobs and the retention purge. Tasks take ids, and call
one service.

A task that gives up (its retries after database errors ran out, or an error not worth
retrying) records the failure on the builds it was updating, so the report pages say the update
failed rather than pending for ever; a task that succeeds clears the failures it superseded.
A worker that dies mid-build loses nothing: each build is one transaction, and the message comes
back (acks late) to be built again.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError, OperationalError, close_old_connections, connection

from reports import exports, privacy, services
from reports.exports.settings import export_retry_seconds

logger = logging.getLogger(__name__)

GROWTH_MAX_RETRIES = 3


class GrowthTask(Task):  # type: ignore[misc]
    """A growth task whose final failure is recorded on the builds it covers (the task's own
    ``classroom_unit_id`` or ``district_id`` argument; neither: every district)."""

    def on_failure(
        self, exc: BaseException, task_id: str, args: Any, kwargs: Any, einfo: Any
    ) -> None:
        scope = _scope(self, args, kwargs)
        reason = f"The rebuild failed ({type(exc).__name__})"
        if isinstance(exc, OperationalError):
            reason += f" after {self.max_retries} retries"
        try:
            if not connection.in_atomic_block:  # inline in a caller's transaction: keep it
                close_old_connections()  # the error may have broken this worker's connection
            services.growth_build_outcome_record(failure=f"{reason}.", **scope)
        except DatabaseError:
            logger.exception("Could not record the failed growth rebuild %s", scope)


# Every growth task: acknowledged late (a worker that dies mid-build gives the message back),
# retried with backoff after database errors, at most GROWTH_MAX_RETRIES times.
growth_task = shared_task(
    base=GrowthTask,
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=GROWTH_MAX_RETRIES,
    retry_backoff=True,
)


def _scope(task: Task, args: Any, kwargs: Any) -> dict[str, Any]:
    """The ids the task was called with, by name (classroom_unit_id or district_id)."""
    return dict(inspect.signature(task.run).bind(*args, **kwargs).arguments)


@growth_task
def classroom_unit_growth_rebuild_task(classroom_unit_id: int) -> int:
    """Rebuild one classroom unit's student growth and its school and district roll-ups;
    idempotent (rows are replaced whole)."""
    written = services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)
    services.growth_build_outcome_record(classroom_unit_id=classroom_unit_id)
    return written


@growth_task
def growth_rebuild_stale_task() -> int:
    """Periodic (celery beat): rebuild whatever is still marked stale."""
    rebuilt = services.growth_rebuild_stale()
    services.growth_build_outcome_record()
    return rebuilt


@growth_task
def growth_rebuild_task(district_id: int | None = None) -> list[dict[str, object]]:
    """Periodic (celery beat): the set-based full rebuild of one district or all, in one task
    (never one task per classroom). Returns, per district, when it was built and what it wrote.

    A district whose rebuild fails does not stop the others: once every district was tried, the
    first failure is raised, so the task is retried (a database error) or, when it gives up,
    marks failed the builds still waiting; the districts built meanwhile are current.
    """
    results = services.growth_rebuild(district_id=district_id)
    services.growth_build_outcome_record(district_id=district_id)
    failed = [result.error for result in results if result.error is not None]
    if failed:
        raise failed[0]
    return [
        {
            "district_id": result.district_id,
            "built_at": result.built_at.isoformat() if result.built_at else None,
            "classroom_units": result.classroom_units,
            "student_rows": result.student_rows,
            "summary_rows": result.summary_rows,
        }
        for result in results
    ]


# ---------------------------------------------------------------------------------------------
# Export jobs (reports/exports/jobs.py)
# ---------------------------------------------------------------------------------------------

EXPORT_MAX_RETRIES = 3
# A job another worker is still writing is looked at again this much later.
EXPORT_BUSY_RETRY_SECONDS = 30


# The task was assessments.tasks.export_csv_task before exports moved to reports; it keeps that
# name so that messages already queued (jobs waiting in the broker) still find it.
@shared_task(
    name="assessments.tasks.export_csv_task",
    bind=True,
    acks_late=True,
    max_retries=EXPORT_MAX_RETRIES,
)
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
    if attempt == exports.ExportAttempt.BUSY:
        # Not a failure: as many looks as it takes while the other worker writes the job.
        raise self.retry(countdown=EXPORT_BUSY_RETRY_SECONDS, max_retries=self.request.retries + 1)
    if attempt == exports.ExportAttempt.RETRY:
        countdown = export_retry_seconds() * 2**self.request.retries
        raise self.retry(countdown=countdown)
    return str(attempt)


# Renamed from assessments.tasks.export_files_expire_task (the beat schedule names the new one):
# a message of the old name left in the broker only skips one hourly run.
@shared_task(acks_late=True)
def export_files_expire_task() -> int:
    """Periodic (celery beat): delete the files of expired export jobs; returns how many."""
    return exports.export_job_files_expire()


# Registered under its name from before it moved here from classrooms/tasks.py, so that messages
# already queued under that name (and the beat schedule in config/settings/base.py) still run it.
@shared_task(
    name="classrooms.tasks.retention_purge_task",
    acks_late=True,
    autoretry_for=(OperationalError,),
    max_retries=3,
    retry_backoff=True,
)
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
