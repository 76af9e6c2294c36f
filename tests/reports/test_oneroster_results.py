"""OneRoster 1.1 results export: a zip of manifest, categories, line items and results."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

from classrooms.models import AuditEvent
from reports import exports
from reports.exports import oneroster_results
from reports.tasks import export_csv_task
from tests.conftest import World
from tests.reports.test_exports import ENTERED_AT, add_tricky_student, measure

pytestmark = pytest.mark.django_db


def results_zip(actor: Any, **filters: Any) -> zipfile.ZipFile:
    prepared = exports.export_prepare(
        actor=actor, kind="oneroster_results", filters=exports.ExportFilters(**filters)
    )
    data = b"".join(exports.export_stream(prepared=prepared))
    return zipfile.ZipFile(io.BytesIO(data))


def table(archive: zipfile.ZipFile, name: str) -> tuple[list[str], list[dict[str, str]]]:
    text = archive.read(name).decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    return records[0], [dict(zip(records[0], row, strict=True)) for row in records[1:]]


def test_the_zip_holds_the_four_files_and_a_bulk_manifest(world: World) -> None:
    archive = results_zip(world.users["admin_a"])

    assert archive.namelist() == ["manifest.csv", "categories.csv", "lineItems.csv", "results.csv"]
    header, manifest = table(archive, "manifest.csv")
    assert header == ["propertyName", "value"]
    values = {row["propertyName"]: row["value"] for row in manifest}
    assert values["manifest.version"] == "1.0"
    assert values["oneroster.version"] == "1.1"
    assert {name for name, mode in values.items() if mode == "bulk"} == {
        "file.categories",
        "file.lineItems",
        "file.results",
    }
    assert values["file.users"] == values["file.classes"] == "absent"
    assert values["source.systemName"] == "Thinslice"


def test_categories_are_the_three_assessment_kinds(world: World) -> None:
    header, rows = table(results_zip(world.users["admin_a"]), "categories.csv")

    assert header == ["sourcedId", "status", "dateLastModified", "title"]
    assert rows == [
        {
            "sourcedId": f"thinslice-category-{kind}",
            "status": "",
            "dateLastModified": "",
            "title": t,
        }
        for kind, t in (
            ("pre", "Pre-assessment"),
            ("formative", "Formative checkpoint"),
            ("post", "Post-assessment"),
        )
    ]


def test_line_items_are_each_skill_of_each_assessment_of_each_classroom_unit(
    world: World,
) -> None:
    classroom_unit = world.classroom_units["a1"]
    classroom = classroom_unit.classroom
    classroom.sourced_id = "sis-class-7"
    classroom.save(update_fields=["sourced_id"])

    header, rows = table(
        results_zip(world.users["admin_a"], school_id=classroom.school_id), "lineItems.csv"
    )

    assert header == list(oneroster_results.LINE_ITEM_COLUMNS)
    assert len(rows) == 8  # pre, two checkpoints, post × skills A and B
    pre_b = measure(world, "pre", "B")
    assert rows[1] == {
        "sourcedId": f"thinslice-lineitem-{classroom_unit.pk}-{pre_b.pk}",
        "status": "",
        "dateLastModified": "",
        "title": "Pre: B",
        "description": "Fractions a, week 1: B",
        "assignDate": "2026-10-26",
        "dueDate": "2026-11-01",
        "classSourcedId": "sis-class-7",
        "categorySourcedId": "thinslice-category-pre",
        "gradingPeriodSourcedId": f"thinslice-term-{classroom.term_id}",
        "resultValueMin": "0",
        "resultValueMax": "6.00",
    }
    post_a = rows[6]
    assert (post_a["title"], post_a["assignDate"], post_a["dueDate"]) == (
        "Post: A",
        "2026-12-14",
        "2026-12-20",
    )
    assert rows[0]["description"] == "Fractions a, week 1: Skill A"


def test_results_map_scores_statuses_and_student_ids(world: World) -> None:
    tricky = add_tricky_student(world)
    imported = world.students["a1"]
    imported.sourced_id = "sis-student-42"
    imported.save(update_fields=["sourced_id"])
    classroom_unit = world.classroom_units["a1"]

    header, rows = table(results_zip(world.users["teacher_a1"]), "results.csv")

    assert header == [column.name for column in oneroster_results.RESULT_COLUMNS]
    by_line_item = {(row["studentSourcedId"], row["lineItemSourcedId"]): row for row in rows}
    assert len(rows) == 4

    def line_item(kind: str, code: str) -> str:
        return f"thinslice-lineitem-{classroom_unit.pk}-{measure(world, kind, code).pk}"

    pre_a = by_line_item[("sis-student-42", line_item("pre", "A"))]
    assert pre_a["scoreStatus"] == "fully graded"
    assert pre_a["score"] == "3.00"
    assert pre_a["sourcedId"] == (
        f"thinslice-result-{classroom_unit.pk}-{measure(world, 'pre', 'A').pk}-{imported.pk}"
    )
    # A student not imported from the SIS is named by their SIS id (neutralised: it starts "-").
    assert tricky.sis_id == "-77"
    scored = by_line_item[("'-77", line_item("pre", "B"))]
    assert (scored["scoreStatus"], scored["score"], scored["scoreDate"]) == (
        "fully graded",
        "2.50",
        ENTERED_AT.date().isoformat(),
    )
    absent = by_line_item[("'-77", line_item("post", "A"))]
    exempt = by_line_item[("'-77", line_item("post", "B"))]
    assert (absent["scoreStatus"], absent["score"]) == ("not submitted", "")
    assert (exempt["scoreStatus"], exempt["score"]) == ("exempt", "")
    assert {row["status"] + row["dateLastModified"] + row["comment"] for row in rows} == {""}


def test_every_reference_points_at_a_row_of_the_export(world: World) -> None:
    add_tricky_student(world)
    archive = results_zip(world.users["admin_a"])

    categories = {row["sourcedId"] for row in table(archive, "categories.csv")[1]}
    line_items = table(archive, "lineItems.csv")[1]
    results = table(archive, "results.csv")[1]

    assert {row["categorySourcedId"] for row in line_items} <= categories
    assert {row["lineItemSourcedId"] for row in results} <= {row["sourcedId"] for row in line_items}
    assert len({row["sourcedId"] for row in results}) == len(results)
    assert len({row["sourcedId"] for row in line_items}) == len(line_items) == 16


def test_a_teacher_sends_back_only_their_own_classes(world: World) -> None:
    archive = results_zip(world.users["teacher_a2"])

    line_items = table(archive, "lineItems.csv")[1]
    results = table(archive, "results.csv")[1]

    prefix = f"thinslice-lineitem-{world.classroom_units['a2'].pk}-"
    assert {row["sourcedId"][: len(prefix)] for row in line_items} == {prefix}
    assert [row["studentSourcedId"] for row in results] == [world.students["a2"].sis_id]


def test_the_export_is_audited_with_the_results_row_count(world: World) -> None:
    add_tricky_student(world)

    results_zip(world.users["admin_a"])

    event = AuditEvent.objects.all_schools().get()
    assert (event.kind, event.outcome, event.row_count) == (
        "export_oneroster_results",
        "succeeded",
        5,
    )
    assert event.parameters["format"] == "zip of CSV files"


def test_the_page_downloads_a_zip(world: World, client: Any) -> None:
    client.force_login(world.users["admin_a"])

    response = client.post(reverse("export-page"), {"kind": "oneroster_results"})

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].endswith('.zip"')
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None


def test_a_large_results_export_is_written_by_a_job(
    world: World, tmp_path: Path, settings: Any
) -> None:
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    settings.THINSLICE_EXPORT_JOB_BATCH = 1
    add_tricky_student(world)
    prepared = exports.export_prepare(actor=world.users["admin_a"], kind="oneroster_results")
    job = exports.export_job_create(prepared=prepared)

    export_csv_task(job.pk)

    job.refresh_from_db()
    assert job.file_name.endswith(".zip")
    archive = zipfile.ZipFile(tmp_path / job.file_name)
    streamed = results_zip(world.users["admin_a"])
    for name in oneroster_results.FILES:
        assert sorted(archive.read(name).splitlines()) == sorted(streamed.read(name).splitlines())
    assert job.rows_written == 5
