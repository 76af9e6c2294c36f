"""Aggregate growth export: stored summaries by district, school and classroom, de-identified,
with suppressed cells empty (never 0), scoped per role."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from classrooms.models import AuditEvent, StudentGroup
from reports import exports
from reports.exports.aggregate_growth import AGGREGATE_COLUMNS
from reports.models import (
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    SchoolUnitGrowthSummary,
)
from reports.tasks import export_csv_task
from tests.conftest import World
from tests.reports.test_exports import read_csv, run_export

pytestmark = pytest.mark.django_db

BUILT_AT = datetime.datetime(2026, 11, 2, 6, 0, 0, tzinfo=datetime.UTC)
STATISTICS = {
    "n": 20,
    "incomplete_count": 2,
    "mean_pre_percentage": 40.0,
    "mean_post_percentage": 65.5,
    "mean_gain": 25.5,
    "mean_gain_lower": 20.004,
    "mean_gain_upper": 30.996,
    "class_average_normalized_gain": 0.425,
    "hake_band": "medium",
    "mean_individual_normalized_gain": 0.41,
    "at_ceiling_count": 1,
    "little_room_to_grow_count": 2,
    "effect_size_d_av": 1.2345678,
    "target_met_count": 12,
    "share_meeting_target": 0.6,
}
WRITTEN = {
    "n": "20",
    "incomplete_count": "2",
    "mean_pre_percentage": "40.00",
    "mean_post_percentage": "65.50",
    "mean_gain": "25.50",
    "mean_gain_lower": "20.00",
    "mean_gain_upper": "31.00",
    "class_average_normalized_gain": "0.4250",
    "hake_band": "medium",
    "mean_individual_normalized_gain": "0.4100",
    "at_ceiling_count": "1",
    "little_room_to_grow_count": "2",
    "effect_size_d_av": "1.2346",
    "target_met_count": "12",
    "share_meeting_target": "0.6000",
    "pre_gap": "",
    "post_gap": "",
    "gap_change": "",
}
STUDENT_COLUMNS = {"student_sis_id", "student_family_name", "student_given_name"}


def add_summaries(world: World) -> StudentGroup:
    """An 'all' row per district, school and classroom unit, and in school a1 a suppressed row
    for English learners (stored, wrongly, with n = 3, which must still never show)."""
    row = {"part": "all", "built_at": BUILT_AT, **STATISTICS}
    for key in ("a", "b"):
        DistrictUnitGrowthSummary.objects.create(
            district=world.districts[key], unit=world.units[key], **row
        )
    for key in ("a1", "a2", "b1"):
        unit = world.units[key[0]]
        SchoolUnitGrowthSummary.objects.create(school=world.schools[key], unit=unit, **row)
        ClassroomUnitGrowthSummary.objects.create(classroom_unit=world.classroom_units[key], **row)
    group = StudentGroup.objects.get(name="English learners a")
    SchoolUnitGrowthSummary.objects.create(
        school=world.schools["a1"],
        unit=world.units["a"],
        student_group=group,
        part="group",
        is_suppressed=True,
        suppression_reason="fewer_than_minimum",
        built_at=BUILT_AT,
        n=3,
    )
    return group


def rows_of(actor: Any, **filters: Any) -> list[dict[str, str]]:
    return read_csv(run_export(actor, "aggregate_growth", **filters))[1]


def cells(rows: list[dict[str, str]]) -> set[tuple[str, str, str]]:
    """(level, school, classroom) of each row."""
    return {(row["level"], row["school_name"], row["classroom_name"]) for row in rows}


def test_admin_gets_district_school_and_classroom_rows_of_their_district(world: World) -> None:
    add_summaries(world)

    header, rows = read_csv(run_export(world.users["admin_a"], "aggregate_growth"))

    assert header == [column.name for column in AGGREGATE_COLUMNS["district"]]
    assert not STUDENT_COLUMNS & set(header)
    assert cells(rows) == {
        ("district", "", ""),
        ("school", "School a1", ""),
        ("school", "School a2", ""),
        ("classroom", "School a1", "Class a1"),
        ("classroom", "School a2", "Class a2"),
    }
    assert len(rows) == 6  # school a1 also has its suppressed group row
    district = next(row for row in rows if row["level"] == "district")
    assert district == {
        "level": "district",
        "school_code": "",
        "school_name": "",
        "classroom_unit_id": "",
        "classroom_name": "",
        "academic_year": "",
        "term": "",
        "subject": "Math",
        "unit_title": "Fractions a",
        "unit_version": "1",
        "student_group": "",
        "part": "all",
        "is_suppressed": "false",
        "suppression_reason": "",
        **WRITTEN,
        "built_at": "2026-11-02T06:00:00Z",
    }
    classroom_unit = world.classroom_units["a1"]
    a1 = next(row for row in rows if row["classroom_name"] == "Class a1")
    assert a1["classroom_unit_id"] == str(classroom_unit.pk)
    assert a1["academic_year"] == classroom_unit.classroom.term.academic_year.name
    assert a1["school_code"] == world.schools["a1"].code


def test_a_suppressed_cell_is_empty_never_zero_whatever_was_stored(world: World) -> None:
    add_summaries(world)

    rows = rows_of(world.users["admin_a"])

    (suppressed,) = [row for row in rows if row["part"] == "group"]
    assert suppressed["student_group"] == "English learners a"
    assert (suppressed["is_suppressed"], suppressed["suppression_reason"]) == (
        "true",
        "fewer_than_minimum",
    )
    assert {suppressed[name] for name in WRITTEN} == {""}


def test_a_coach_gets_their_schools_and_its_classrooms_but_no_district_row(world: World) -> None:
    add_summaries(world)

    rows = rows_of(world.users["coach_a1"])

    assert cells(rows) == {("school", "School a1", ""), ("classroom", "School a1", "Class a1")}


def test_a_teacher_gets_only_their_classrooms(world: World) -> None:
    add_summaries(world)

    rows = rows_of(world.users["teacher_a2"])

    assert cells(rows) == {("classroom", "School a2", "Class a2")}


def test_another_districts_admin_sees_only_their_own(world: World) -> None:
    add_summaries(world)

    rows = rows_of(world.users["admin_b"])

    assert {row["school_name"] for row in rows} == {"", "School b1"}
    assert {row["unit_title"] for row in rows} == {"Fractions b"}


def test_a_member_without_a_role_gets_no_aggregate(world: World) -> None:
    with pytest.raises(PermissionDenied, match="none of those roles"):
        exports.export_prepare(actor=world.users["no_role_a"], kind="aggregate_growth")


def test_filters_narrow_every_level(world: World) -> None:
    add_summaries(world)
    admin = world.users["admin_a"]
    a2 = world.classrooms["a2"]

    by_school = rows_of(admin, school_id=a2.school_id)
    by_year = rows_of(admin, academic_year_id=a2.term.academic_year_id)

    assert cells(by_school) == {("school", "School a2", ""), ("classroom", "School a2", "Class a2")}
    assert cells(by_year) == {
        ("district", "", ""),  # the unit was taught in that year
        ("school", "School a2", ""),
        ("classroom", "School a2", "Class a2"),
    }
    assert rows_of(admin, subject="Science") == []
    assert rows_of(admin, unit_id=world.units["b"].pk) == []


def test_the_aggregate_export_is_audited(world: World) -> None:
    add_summaries(world)

    rows_of(world.users["coach_a1"])

    event = AuditEvent.objects.all_schools().get()
    assert (event.kind, event.actor, event.row_count) == (
        "export_aggregate_growth",
        world.users["coach_a1"],
        3,
    )


def test_a_job_writes_the_aggregate_export(world: World, tmp_path: Path, settings: Any) -> None:
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    add_summaries(world)
    prepared = exports.export_prepare(actor=world.users["admin_a"], kind="aggregate_growth")
    job = exports.export_job_create(prepared=prepared)

    export_csv_task(job.pk)

    job.refresh_from_db()
    assert (job.status, job.rows_written, job.estimated_rows) == ("succeeded", 6, 6)
    written = (tmp_path / job.file_name).read_bytes()
    assert written == run_export(world.users["admin_a"], "aggregate_growth")
