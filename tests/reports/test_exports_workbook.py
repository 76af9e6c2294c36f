"""Exports as Excel workbooks: typed cells read back with openpyxl, the header frozen, text that
a spreadsheet could run kept as text; the OneRoster zip is not offered as a workbook."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from assessments.models import Score
from reports import exports
from tests import factories
from tests.conftest import World
from tests.reports.test_exports import ENTERED_AT, add_tricky_student, measure


def workbook_rows(actor: Any, kind: str = "scores") -> tuple[Any, list[tuple[Any, ...]]]:
    prepared = exports.export_prepare(actor=actor, kind=kind, xlsx=True)
    data = b"".join(exports.export_stream(prepared=prepared))
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    return sheet, list(sheet.iter_rows(values_only=True))


def test_a_scores_workbook_has_typed_cells_and_a_frozen_header(world: World) -> None:
    add_tricky_student(world)
    enrollment = factories.EnrollmentFactory(
        classroom=world.classrooms["a1"],
        student__district=world.districts["a"],
        student__sis_id="000123",
        student__family_name="Smith;=1+1;",
    )
    Score.objects.create(
        classroom_unit=world.classroom_units["a1"],
        student=enrollment.student,
        assessment_skill=measure(world, "pre", "A"),
        points=Decimal("3.5"),
        entered_at=ENTERED_AT,
    )

    sheet, rows = workbook_rows(world.users["admin_a"])

    header, body = rows[0], rows[1:]
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    by_sis_id = {
        row[header.index("student_sis_id")]: dict(zip(header, row, strict=True)) for row in body
    }
    smith = by_sis_id["000123"]  # an SIS id stays text
    assert smith["student_family_name"] == "Smith;=1+1;"
    assert smith["points"] == 3.5 and isinstance(smith["points"], float)
    assert isinstance(smith["assessment_week"], int)
    assert isinstance(smith["entered_at"], datetime.datetime)
    tricky = by_sis_id["-77"]
    assert tricky["student_family_name"] == '=HYPERLINK("http://x","y")'
    assert tricky["student_given_name"] == "+Ann"
    # No cell is a formula: text that looks like one is a string with Excel's quote prefix.
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    family = header.index("student_family_name") + 1
    quoted = [
        cell.quotePrefix
        for cell in cells
        if cell.column == family and str(cell.value).startswith("=")
    ]
    assert quoted and all(quoted)


def test_aggregate_growth_is_offered_as_a_workbook(world: World) -> None:
    coach = world.users["coach_a1"]

    _, rows = workbook_rows(coach, "aggregate_growth")

    assert rows[0][0] == "level"


def test_the_oneroster_zip_is_not_a_workbook(world: World, client: Client) -> None:
    with pytest.raises(ValidationError):
        exports.export_prepare(actor=world.users["admin_a"], kind="oneroster_results", xlsx=True)
    client.force_login(world.users["admin_a"])

    response = client.post(
        reverse("export-page"), {"kind": "oneroster_results", "file_format": "xlsx"}
    )

    assert response.status_code == 400
    assert "zip of CSV files" in response.content.decode()


def test_the_export_page_downloads_a_workbook(world: World, client: Client) -> None:
    client.force_login(world.users["admin_a"])

    response = client.post(reverse("export-page"), {"kind": "scores", "file_format": "xlsx"})

    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX_CONTENT_TYPE
    assert response["Content-Disposition"].endswith('.xlsx"')
    book = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.worksheets[0]["A1"].value == "student_sis_id"
