"""Large exports: a job, a Celery task that writes the file, progress, download rights, expiry."""

from __future__ import annotations

import datetime
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from classrooms.models import AuditEvent
from config.celery import app as celery_app
from reports import exports
from reports.exports import jobs, writing
from reports.models import ExportJob, ExportStatus
from reports.tasks import export_csv_task, export_files_expire_task
from tests import factories
from tests.celery_worker import celery_worker_queue  # noqa: F401  (fixture)
from tests.conftest import World
from tests.reports.test_exports import SCORE_HEADER, add_tricky_student, read_csv, run_export

pytestmark = pytest.mark.django_db


@pytest.fixture
def export_dir(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Jobs write here; the threshold is 1 row, so any export with 2 rows or more is a job."""
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    settings.THINSLICE_EXPORT_ASYNC_ROWS = 1
    monkeypatch.setenv("THINSLICE_EXPORT_DIR", str(tmp_path))  # for a worker process
    return tmp_path


def job_for(
    world: World,
    user_key: str = "teacher_a1",
    kind: str = "scores",
    excel: bool = False,
    **filters: Any,
) -> ExportJob:
    prepared = exports.export_prepare(
        actor=world.users[user_key],
        kind=kind,
        filters=exports.ExportFilters(**filters),
        excel=excel,
    )
    return exports.export_job_create(prepared=prepared)


def finished(job: ExportJob) -> ExportJob:
    export_csv_task(job.pk)
    job.refresh_from_db()
    return job


# --- the job path ---------------------------------------------------------------------------------


def test_a_large_export_from_the_page_becomes_a_job_queued_after_commit(
    world: World, export_dir: Path, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    add_tricky_student(world)
    client.force_login(world.users["admin_a"])

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("export-page"), {"kind": "scores", "excel": "on"})

    job = ExportJob.objects.visible_to(world.users["admin_a"]).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("export-job", args=[job.pk])
    assert (job.status, job.kind, job.requested_by) == ("pending", "scores", world.users["admin_a"])
    assert job.parameters == {
        "filters": {"academic_year": None, "school": None, "subject": "", "unit": None},
        "excel": True,
        "xlsx": False,
    }
    assert len(callbacks) == 1, "the task is queued once, after the job is committed"


def test_the_task_writes_the_same_file_the_stream_would(world: World, export_dir: Path) -> None:
    add_tricky_student(world)
    job = job_for(world, "admin_a", excel=True)

    assert export_csv_task(job.pk) == "succeeded"

    job.refresh_from_db()
    path = export_dir / job.file_name
    assert path.is_file() and path.parent.parent == export_dir
    assert job.file_size == path.stat().st_size
    assert job.rows_written == job.estimated_rows == 5
    assert job.progress_percent == 100
    assert job.finished_at is not None and job.expires_at is not None
    assert job.expires_at - job.finished_at == datetime.timedelta(hours=24)
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    streamed = run_export(world.users["admin_a"], excel=True)
    assert sorted(data.splitlines()) == sorted(streamed.splitlines())
    assert read_csv(data[3:])[0] == SCORE_HEADER
    assert not list(export_dir.rglob("*.part"))


def test_a_claimed_job_is_never_run_twice(world: World, export_dir: Path) -> None:
    job = job_for(world, "admin_a")

    assert export_csv_task(job.pk) == "succeeded"
    assert export_csv_task(job.pk) == "skipped"

    job.refresh_from_db()
    assert job.attempts == 1
    assert len(list(export_dir.rglob("*.csv"))) == 1


def test_the_task_rescopes_rows_to_the_requester(world: World, export_dir: Path) -> None:
    job = job_for(world, "teacher_a1")

    finished(job)

    data = (export_dir / job.file_name).read_bytes()
    assert {row["school_name"] for row in read_csv(data)[1]} == {"School a1"}


def test_a_requester_who_lost_their_classes_gets_a_failed_job(
    world: World, export_dir: Path
) -> None:
    job = job_for(world, "teacher_a1")
    world.classrooms["a1"].teachers.remove(world.users["teacher_a1"])

    job = finished(job)

    assert job.status == ExportStatus.FAILED
    assert job.message.startswith("Refused:")
    assert not list(export_dir.rglob("*.csv"))
    event = AuditEvent.objects.all_schools().get(kind="export_scores")
    assert (event.outcome, event.actor) == ("failed", world.users["teacher_a1"])


def test_progress_is_saved_after_each_batch_of_classroom_units(
    world: World, export_dir: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.THINSLICE_EXPORT_JOB_BATCH = 1
    job = job_for(world, "admin_a")
    seen: list[tuple[int, int]] = []
    original = exports.ExportProgress.batch_done

    def spy(progress: exports.ExportProgress) -> None:
        original(progress)
        saved = ExportJob.objects.all_schools().get(pk=job.pk)
        seen.append((saved.rows_written, saved.estimated_rows))

    monkeypatch.setattr(exports.ExportProgress, "batch_done", spy)

    finished(job)

    assert seen == [(1, 2), (2, 2)]  # classroom units of a1 and a2, one score each


def test_a_transient_error_is_retried_then_the_job_succeeds(
    world: World, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = job_for(world, "admin_a")
    original = jobs.export_job_run
    calls: list[int] = []

    def flaky(*, job_id: int) -> ExportJob:
        calls.append(job_id)
        if len(calls) == 1:
            raise OperationalError("the server closed the connection")
        return original(job_id=job_id)

    monkeypatch.setattr(jobs, "export_job_run", flaky)

    export_csv_task.apply(args=[job.pk], throw=False)

    job.refresh_from_db()
    assert (job.status, job.attempts, len(calls)) == ("succeeded", 2, 2)


def test_retries_are_bounded_then_the_job_fails_and_is_audited(
    world: World, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = job_for(world, "admin_a")

    def down(*, job_id: int) -> ExportJob:
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(jobs, "export_job_run", down)
    # Each retry runs inline in apply(); a retry must not raise out of it.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)

    export_csv_task.apply(args=[job.pk])

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert job.attempts == 4  # the first try and three retries
    assert "Gave up" in job.message
    event = AuditEvent.objects.all_schools().get(kind="export_scores")
    assert event.outcome == "failed"
    assert event.parameters["delivery"] == f"written to a file (job #{job.pk})"


def test_any_other_error_fails_the_job_at_once(
    world: World, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = job_for(world, "admin_a")

    def broken(*args: Any, **kwargs: Any) -> Any:
        yield b"a,b\n"
        raise ValueError("bad row")

    monkeypatch.setattr(writing, "rows_csv_blocks", broken)

    job = finished(job)

    assert (job.status, job.attempts) == ("failed", 1)
    assert "ValueError" in job.message
    assert not list(export_dir.rglob("*.csv*"))


def test_a_job_is_audited_once_when_it_is_written(world: World, export_dir: Path) -> None:
    job = finished(job_for(world, "admin_a", school_id=world.schools["a2"].pk))

    event = AuditEvent.objects.all_schools().get()
    assert (event.kind, event.outcome, event.row_count) == ("export_scores", "succeeded", 1)
    assert event.parameters["delivery"] == f"written to a file (job #{job.pk})"
    assert event.parameters["job"] == job.pk
    assert event.parameters["filters"] == {"school": f"School a2 (#{world.schools['a2'].pk})"}


# --- the job page ---------------------------------------------------------------------------------


def test_the_job_page_polls_its_progress_until_the_job_is_done(
    world: World, export_dir: Path, client: Client
) -> None:
    job = job_for(world, "teacher_a1")
    client.force_login(world.users["teacher_a1"])

    pending = client.get(reverse("export-job", args=[job.pk]))
    partial = client.get(reverse("export-job", args=[job.pk]), HTTP_HX_REQUEST="true")

    assert pending.status_code == 200
    assert 'hx-trigger="every 2s"' in pending.content.decode()
    assert "<progress" in partial.content.decode()
    assert "<html" not in partial.content.decode()
    finished(job)
    done = client.get(reverse("export-job", args=[job.pk]), HTTP_HX_REQUEST="true").content
    assert b"hx-trigger" not in done
    assert reverse("export-job-download", args=[job.pk]).encode() in done


def test_the_export_page_lists_the_jobs_the_user_may_see(
    world: World, export_dir: Path, client: Client
) -> None:
    own = job_for(world, "teacher_a1")
    other = job_for(world, "teacher_a2")
    client.force_login(world.users["teacher_a1"])

    jobs = list(client.get(reverse("export-page")).context["jobs"])

    assert jobs == [own]
    client.force_login(world.users["admin_a"])
    assert set(client.get(reverse("export-page")).context["jobs"]) == {own, other}


# --- downloads ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_key", "status"),
    [
        ("teacher_a1", 200),  # the requester
        ("admin_a", 200),  # another person: a district admin of the district
        ("coach_a1", 404),  # coaches the requester's school, but did not ask for it
        ("teacher_a2", 404),
        ("admin_b", 404),  # another district's admin
        ("no_role_a", 404),
    ],
)
def test_only_the_requester_and_the_districts_admins_may_download(
    world: World, export_dir: Path, client: Client, user_key: str, status: int
) -> None:
    job = finished(job_for(world, "teacher_a1"))
    client.force_login(world.users[user_key])

    response = client.get(reverse("export-job-download", args=[job.pk]))

    assert response.status_code == status
    downloads = AuditEvent.objects.all_schools().filter(kind="export_download")
    if status == 200:
        assert response["Content-Disposition"].startswith('attachment; filename="district-a-')
        body = b"".join(response.streaming_content)
        assert body == (export_dir / job.file_name).read_bytes()
        event = downloads.get()
        assert (event.actor, event.row_count) == (world.users[user_key], job.rows_written)
    else:
        assert not downloads.exists()
        assert client.get(reverse("export-job", args=[job.pk])).status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(
    world: World, export_dir: Path, client: Client
) -> None:
    job = finished(job_for(world, "teacher_a1"))

    response = client.get(reverse("export-job-download", args=[job.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_deactivated_requester_can_no_longer_download(
    world: World, export_dir: Path, client: Client
) -> None:
    job = finished(job_for(world, "teacher_a1"))
    teacher = world.users["teacher_a1"]
    client.force_login(teacher)
    teacher.is_active = False
    teacher.save(update_fields=["is_active"])

    response = client.get(reverse("export-job-download", args=[job.pk]))

    assert response.status_code in (302, 404)


def test_an_expired_download_is_gone_and_its_file_removed(
    world: World, export_dir: Path, client: Client
) -> None:
    job = finished(job_for(world, "teacher_a1"))
    path = export_dir / job.file_name
    ExportJob.objects.all_schools().filter(pk=job.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    client.force_login(world.users["teacher_a1"])

    response = client.get(reverse("export-job-download", args=[job.pk]))

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not path.exists()
    assert not AuditEvent.objects.all_schools().filter(kind="export_download").exists()


def test_a_job_that_is_not_ready_cannot_be_downloaded(
    world: World, export_dir: Path, client: Client
) -> None:
    job = job_for(world, "teacher_a1")
    client.force_login(world.users["teacher_a1"])

    response = client.get(reverse("export-job-download", args=[job.pk]))

    assert response.status_code == 409


def test_the_periodic_task_removes_expired_files_only(world: World, export_dir: Path) -> None:
    expired = finished(job_for(world, "teacher_a1"))
    kept = finished(job_for(world, "teacher_a2"))
    ExportJob.objects.all_schools().filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )

    assert export_files_expire_task() == 1

    assert not (export_dir / expired.file_name).exists()
    assert (export_dir / kept.file_name).exists()


# --- a real worker --------------------------------------------------------------------------------


@pytest.mark.celery_worker
def test_a_real_worker_writes_the_file_of_a_job_queued_after_commit(
    export_dir: Path,
    celery_worker_queue: str,  # noqa: F811
) -> None:
    from tests.conftest import build_world

    world = build_world()
    job = job_for(world, "admin_a")  # committed: the worker sees it, and the task is queued

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.2)

    assert job.status == ExportStatus.SUCCEEDED, job.message
    rows = read_csv((export_dir / job.file_name).read_bytes())[1]
    assert {row["school_name"] for row in rows} == {"School a1", "School a2"}
    assert factories  # the world is built with the project's factories
