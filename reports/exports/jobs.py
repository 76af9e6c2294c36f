"""Large exports written to a file by Celery: the life-cycle of an ExportJob.

An export of more than THINSLICE_EXPORT_ASYNC_ROWS rows becomes a job (``export_job_create``)
that a Celery task (reports/tasks.py) claims and writes (``export_job_attempt``) to a file under
THINSLICE_EXPORT_DIR, in batches of classroom units with the progress saved between batches,
the rows scoped again to the requester as they are then. Only the requester and the district's
admins may download the file (``export_job_file_open``, audited), until it expires
THINSLICE_EXPORT_TTL_HOURS after it was written (``export_job_files_expire``). Deleting a
student's data withdraws the district's student-level files (``export_job_files_withdraw``).
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from classrooms.audit import audit_event_record
from reports.exports.exporting import (
    PreparedExport,
    export_audit_record,
    export_blocks,
    export_prepare,
    export_row_count,
)
from reports.exports.registry import STUDENT_LEVEL_KINDS, export_definition
from reports.exports.scoping import ExportFilters, classroom_unit_ids
from reports.exports.settings import (
    export_directory,
    export_job_batch_classroom_units,
    export_ttl,
)
from reports.exports.writing import ExportProgress, rebuffer
from reports.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)

# A job is started at most this many times, whatever stopped the earlier starts (a transient
# error, retried, or a worker that died while writing it), so a job that kills its worker every
# time ends failed instead of coming back for ever.
EXPORT_MAX_ATTEMPTS = 6
# pg_try_advisory_lock(namespace, job id): held by the one worker writing the job; a claim
# waits this long for the lock of a worker that died to go with its connection.
EXPORT_CLAIM_WAIT_SECONDS = 15
_JOB_LOCK_NAMESPACE = 0x6578  # "ex"
# Errors worth another try: the database went away or refused for a moment.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)


@transaction.atomic
def export_job_create(*, prepared: PreparedExport) -> ExportJob:
    """Queue ``prepared`` as an ExportJob; the task starts after the transaction commits."""
    job = ExportJob(
        district=prepared.scope.district,
        requested_by=prepared.scope.actor,
        kind=prepared.kind,
        parameters={
            "filters": prepared.filters.as_json(),
            "excel": prepared.excel,
            "xlsx": prepared.xlsx,
        },
    )
    job.full_clean()
    job.save()
    from reports.tasks import export_csv_task  # here, not on top: reports.tasks imports us

    transaction.on_commit(lambda: export_csv_task.delay(job.pk))
    return job


def _job_prepared(job: ExportJob) -> PreparedExport:
    """The job's export, scoped again to its requester as they are now."""
    return export_prepare(
        actor=job.requested_by,
        kind=job.kind,
        filters=ExportFilters.from_json(job.parameters.get("filters") or {}),
        excel=bool(job.parameters.get("excel")),
        xlsx=bool(job.parameters.get("xlsx")),
    )


def _jobs() -> QuerySet[ExportJob]:
    # cross-tenant: a task knows only the job's id; the rows it writes are scoped to
    # job.requested_by (``_job_prepared``), and pages reach jobs through visible_to.
    return ExportJob.objects.all_schools()


def export_job_run(*, job_id: int) -> ExportJob:
    """Write a claimed (running) job's file: re-scope to the requester, count the rows, write
    batches of classroom units to a temporary file with the progress saved after each, then
    move it into place and mark the job succeeded. Transient database errors are raised for
    the task to retry (nothing is kept); any other error fails the job with the reason."""
    job = _jobs().select_related("requested_by", "district").get(pk=job_id)
    if job.status != ExportStatus.RUNNING:
        return job
    part_path: Path | None = None
    try:
        prepared = _job_prepared(job)
        estimated = export_row_count(prepared=prepared)
        _jobs().filter(pk=job.pk).update(estimated_rows=estimated, rows_written=0)
        batch_size = export_job_batch_classroom_units()
        ids = classroom_unit_ids(scope=prepared.scope, filters=prepared.filters)
        batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
        relative = Path(str(job.district_id)) / f"{job.pk}-{secrets.token_hex(8)}"
        relative = relative.with_suffix(f".{prepared.extension}")
        final_path = export_directory() / relative
        final_path.parent.mkdir(parents=True, exist_ok=True)
        part_path = final_path.with_name(final_path.name + ".part")

        def checkpoint(rows: int) -> None:
            _jobs().filter(pk=job.pk).update(rows_written=rows)

        progress = ExportProgress(checkpoint=checkpoint)
        with part_path.open("wb") as output:
            for chunk in rebuffer(
                export_blocks(prepared=prepared, progress=progress, batches=batches)
            ):
                output.write(chunk)
        size = part_path.stat().st_size
        os.replace(part_path, final_path)
        part_path = None
    except TRANSIENT_ERRORS:
        _remove(part_path)
        raise
    except PermissionDenied as refused:
        _remove(part_path)
        return export_job_fail(job_id=job.pk, message=f"Refused: {refused}")
    except Exception as error:
        logger.exception("Export job %s failed", job.pk)
        _remove(part_path)
        return export_job_fail(
            job_id=job.pk, message=f"The export failed ({type(error).__name__})."
        )
    finished_at = timezone.now()
    with transaction.atomic():
        finished = (
            _jobs()
            .filter(pk=job.pk, status=ExportStatus.RUNNING)
            .update(
                status=ExportStatus.SUCCEEDED,
                rows_written=progress.rows,
                file_name=str(relative),
                file_size=size,
                finished_at=finished_at,
                expires_at=finished_at + export_ttl(),
                message="",
            )
        )
        job.refresh_from_db()
        if finished:
            export_audit_record(
                prepared,
                progress.rows,
                succeeded=True,
                delivery=f"written to a file (job #{job.pk})",
                size=size,
                job=job,
            )
    if not finished:  # stopped while being written (export_job_files_withdraw): never served
        _remove(final_path)
    return job


class ExportClaim(StrEnum):
    """What ``export_job_claim`` found: the job is this worker's to write, finished (or gone),
    or held by another worker still connected to the database."""

    CLAIMED = "claimed"
    DONE = "done"
    BUSY = "busy"


@contextmanager
def export_job_claim(*, job_id: int) -> Iterator[ExportClaim]:
    """Claim a job for the worker running the block.

    One worker at a time writes a job: the claimer holds a session advisory lock
    on the job until the block ends, which the server drops by itself when a worker dies (its
    connection closes, noticed once the backend's current statement ends; the claim waits up to
    EXPORT_CLAIM_WAIT_SECONDS for that, then answers BUSY). Holding it, the worker moves the job
    to running from pending, or from running: a running job whose lock nobody holds was being
    written by a worker that died, and its message came back (acks late). Whatever such a
    worker left of the job's file is removed. A job that succeeded or failed is DONE, and a job
    already started EXPORT_MAX_ATTEMPTS times fails with the reason instead of starting again.
    """
    if not _job_lock(job_id):
        yield ExportClaim.BUSY
        return
    try:
        claimed = (
            _jobs()
            .filter(id=job_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING])
            .update(
                status=ExportStatus.RUNNING,
                started_at=timezone.now(),
                attempts=F("attempts") + 1,
                rows_written=0,
            )
        )
        if not claimed:
            yield ExportClaim.DONE
            return
        job = _jobs().only("pk", "district_id", "attempts").get(pk=job_id)
        _job_files_remove(job)
        if job.attempts > EXPORT_MAX_ATTEMPTS:
            export_job_fail(
                job_id=job_id,
                message=(
                    f"The export was started {EXPORT_MAX_ATTEMPTS} times without finishing "
                    "(the worker writing it stopped each time). Try a smaller export, or ask an "
                    "administrator to check the background worker."
                ),
            )
            yield ExportClaim.DONE
            return
        yield ExportClaim.CLAIMED
    finally:
        _job_unlock(job_id)


def _job_lock(job_id: int) -> bool:
    deadline = time.monotonic() + EXPORT_CLAIM_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_JOB_LOCK_NAMESPACE, job_id])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def _job_unlock(job_id: int) -> None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_JOB_LOCK_NAMESPACE, job_id])
    except DatabaseError:
        # The connection is gone, and the lock went with it.
        logger.warning("Export job %s: the connection holding its lock was lost", job_id)


def _job_files_remove(job: ExportJob) -> None:
    """Remove every file of a job that has not succeeded: what an interrupted run left, whole
    or partly written (a succeeded job's file name is recorded; these are not)."""
    directory = export_directory() / str(job.district_id)
    for path in directory.glob(f"{job.pk}-*"):
        _remove(path)


class ExportAttempt(StrEnum):
    """How one delivery of a job's task ended: the job succeeded or failed, nothing was to be
    done, the job is being written by another worker (look again later), or a transient error
    asks for a retry."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    BUSY = "busy"
    RETRY = "retry"


def export_job_attempt(*, job_id: int, may_retry: bool) -> ExportAttempt:
    """One delivery of a job's task: claim the job (``export_job_claim``) and write it.

    A transient database error, while claiming or writing, asks for a retry (``RETRY``, the job
    put back to pending) when ``may_retry``, and otherwise fails the job with the reason.
    """
    try:
        with export_job_claim(job_id=job_id) as claim:
            if claim == ExportClaim.DONE:
                return ExportAttempt.SKIPPED
            if claim == ExportClaim.BUSY:
                return ExportAttempt.BUSY
            return ExportAttempt(export_job_run(job_id=job_id).status)
    except TRANSIENT_ERRORS as error:
        reason = f"The database was unavailable ({type(error).__name__})."
        if not connection.in_atomic_block:  # inline in a caller's transaction: keep it
            close_old_connections()  # a lost connection is opened again
    if may_retry:
        export_job_release(job_id=job_id, message=f"{reason} Trying again.")
        return ExportAttempt.RETRY
    job = export_job_fail(job_id=job_id, message=f"{reason} Gave up after retries.")
    return ExportAttempt(job.status)


def export_job_release(*, job_id: int, message: str) -> None:
    """Put a running job back to pending before its task retries (the claim is taken again)."""
    _jobs().filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.PENDING, message=message
    )


def export_job_fail(*, job_id: int, message: str) -> ExportJob:
    """Mark a job failed with the reason, and audit the failed export."""
    _jobs().filter(pk=job_id).exclude(status=ExportStatus.SUCCEEDED).update(
        status=ExportStatus.FAILED, message=message, finished_at=timezone.now()
    )
    job = _jobs().select_related("requested_by", "district").get(pk=job_id)
    try:
        prepared = _job_prepared(job)
    except (PermissionDenied, ValidationError):
        # The requester may no longer export: audit with what the job itself knows.
        audit_event_record(
            district=job.district,
            actor=job.requested_by,
            kind=f"export_{job.kind}",
            parameters={"export": job.get_kind_display(), "job": job.pk, **job.parameters},
            row_count=job.rows_written,
            succeeded=False,
            message=message,
        )
        return job
    export_audit_record(
        prepared,
        job.rows_written,
        succeeded=False,
        delivery=f"written to a file (job #{job.pk})",
        message=message,
        job=job,
    )
    return job


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


class ExportFileGone(Exception):
    """The job's file expired or is no longer there (HTTP 410)."""


@dataclass(frozen=True)
class ExportFile:
    path: Path
    filename: str
    content_type: str
    size: int


def export_job_file_open(*, actor: Any, job_id: int) -> ExportFile:
    """The file of a job ``actor`` may download (the requester or a district admin of its
    district, through ``visible_to``), and an audit row for the download.

    ExportJob.DoesNotExist when the job is not theirs to see; ValidationError while it is not
    ready; ExportFileGone once it expired (the file is then removed).
    """
    job = (
        ExportJob.objects.visible_to(actor)
        .select_related("district", "requested_by")
        .get(pk=job_id)
    )
    if job.status != ExportStatus.SUCCEEDED:
        raise ValidationError("This export is not ready: it is still running or it failed.")
    path = export_directory() / job.file_name
    if job.expires_at is None or job.expires_at <= timezone.now():
        _remove(path)
        raise ExportFileGone("This export has expired. Export the data again.")
    if not path.is_file():
        raise ExportFileGone("This export's file is no longer there. Export the data again.")
    label = job.get_kind_display()
    audit_event_record(
        district=job.district,
        actor=actor,
        kind="export_download",
        parameters={
            "export": label,
            "job": job.pk,
            "requested by": str(job.requested_by),
            "written at": job.finished_at,
        },
        row_count=job.rows_written,
        succeeded=True,
        message=f"Downloaded the file of {label} (job #{job.pk}).",
    )
    definition = export_definition(job.kind)
    written_on = timezone.localtime(job.finished_at or job.created_at).date()
    xlsx = bool(job.parameters.get("xlsx"))
    return ExportFile(
        path=path,
        filename=definition.filename(district=job.district, day=written_on, xlsx=xlsx),
        content_type=definition.file_content_type(xlsx=xlsx),
        size=job.file_size,
    )


def export_job_files_expire() -> int:
    """Delete the files of expired jobs (the job rows stay, for the record); returns how many."""
    removed = 0
    expired = (
        _jobs()
        .filter(status=ExportStatus.SUCCEEDED, expires_at__lte=timezone.now())
        .exclude(file_name="")
    )
    for file_name in expired.values_list("file_name", flat=True).iterator():
        path = export_directory() / file_name
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def export_job_files_withdraw(*, district_id: int, reason: str) -> int:
    """Withdraw every student-level export of a district whose rows may name a student whose
    data was just deleted: ready files expire at once (removed once the caller's transaction
    commits; a rollback keeps them), and jobs still waiting or being written are stopped, failed
    with ``reason`` (a batch written before the deletion may hold the student; the worker
    writing one removes its file instead of finishing it). Aggregate exports hold no student and
    stay. Returns how many jobs were withdrawn; their rows stay, for the record, with ``reason``.
    """
    now = timezone.now()
    # Locked, so a job finishing meanwhile is seen finished (and expired), never missed.
    jobs = list(
        _jobs()
        .select_for_update()
        .filter(district_id=district_id, kind__in=[kind.value for kind in STUDENT_LEVEL_KINDS])
        .filter(
            Q(status=ExportStatus.SUCCEEDED, expires_at__gt=now)
            | Q(status__in=[ExportStatus.PENDING, ExportStatus.RUNNING])
        )
        .order_by("pk")
        .values_list("pk", "status")
    )
    ready = [pk for pk, status in jobs if status == ExportStatus.SUCCEEDED]
    if ready:
        _jobs().filter(pk__in=ready).update(expires_at=now, message=reason)
        transaction.on_commit(export_job_files_expire)
    for pk, status in jobs:
        if status != ExportStatus.SUCCEEDED:
            export_job_fail(job_id=pk, message=f"{reason} This export was stopped; export again.")
    return len(jobs)


def export_job_list(*, actor: Any, limit: int = 20) -> list[ExportJob]:
    """The latest jobs ``actor`` may see (their own; a district admin's: the district's)."""
    return list(
        ExportJob.objects.visible_to(actor)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")[:limit]
    )
