"""Exports over the API: streamed (200) or a job (202), scoped like the pages, audited."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from classrooms.models import AuditEvent
from reports.models import ExportJob
from reports.tasks import export_csv_task
from tests.conftest import World
from tests.reports.test_exports import SCORE_HEADER, read_csv

pytestmark = pytest.mark.django_db


def api(world: World, user_key: str | None) -> APIClient:
    client = APIClient()
    if user_key is not None:
        client.force_authenticate(world.users[user_key])
    return client


def test_a_small_export_streams_at_once(world: World) -> None:
    response = api(world, "admin_a").post(reverse("export-create"), {"kind": "scores"})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    header, rows = read_csv(b"".join(response.streaming_content))
    assert header == SCORE_HEADER
    assert {row["school_name"] for row in rows} == {"School a1", "School a2"}
    assert AuditEvent.objects.all_schools().get().kind == "export_scores"


def test_filters_take_only_ids_the_caller_may_see(world: World) -> None:
    client = api(world, "teacher_a1")

    other_school = client.post(
        reverse("export-create"), {"kind": "scores", "school": world.schools["a2"].pk}
    )
    other_unit = client.post(
        reverse("export-create"), {"kind": "scores", "unit": world.units["b"].pk}
    )
    unknown_kind = client.post(reverse("export-create"), {"kind": "everything"})

    assert other_school.status_code == 400 and "school" in other_school.json()
    assert other_unit.status_code == 400 and "unit" in other_unit.json()
    assert unknown_kind.status_code == 400 and "kind" in unknown_kind.json()
    assert not AuditEvent.objects.all_schools().exists()


@pytest.mark.parametrize("kind", ["scores", "student_growth", "oneroster_results"])
def test_a_coach_gets_403_for_student_level_exports(world: World, kind: str) -> None:
    response = api(world, "coach_a1").post(reverse("export-create"), {"kind": kind})

    assert response.status_code == 403
    assert "Coaches" in response.json()["detail"]


def test_anonymous_callers_are_refused(world: World) -> None:
    response = api(world, None).post(reverse("export-create"), {"kind": "scores"})

    assert response.status_code in (401, 403)


def test_a_large_export_is_a_job_with_its_url(
    world: World, tmp_path: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    settings.THINSLICE_EXPORT_ASYNC_ROWS = 1
    client = api(world, "admin_a")

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("export-create"), {"kind": "scores", "excel": True}, format="json"
        )

    assert response.status_code == 202
    job = ExportJob.objects.all_schools().get()
    assert response["Location"] == reverse("export-job-detail", args=[job.pk])
    body = response.json()
    assert (body["id"], body["status"], body["download_url"]) == (job.pk, "pending", None)
    assert len(callbacks) == 1

    export_csv_task(job.pk)
    detail = client.get(reverse("export-job-detail", args=[job.pk])).json()
    assert (detail["status"], detail["progress_percent"], detail["rows_written"]) == (
        "succeeded",
        100,
        2,
    )
    download = client.get(detail["download_url"])
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    assert len(read_csv(data[3:])[1]) == 2


def test_a_job_file_is_only_for_its_requester_and_the_districts_admins(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    settings.THINSLICE_EXPORT_ASYNC_ROWS = 0  # every export streams; the job is made directly
    from reports import exports

    prepared = exports.export_prepare(actor=world.users["teacher_a1"], kind="scores")
    job = exports.export_job_create(prepared=prepared)
    export_csv_task(job.pk)
    url = reverse("api-export-job-download", args=[job.pk])

    assert api(world, "teacher_a1").get(url).status_code == 200
    assert api(world, "admin_a").get(url).status_code == 200
    assert api(world, "coach_a1").get(url).status_code == 404
    assert api(world, "admin_b").get(url).status_code == 404
    assert api(world, None).get(url).status_code in (401, 403)
    ExportJob.objects.all_schools().filter(pk=job.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert api(world, "teacher_a1").get(url).status_code == 410
