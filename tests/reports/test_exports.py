"""CSV exports: columns and values, scoping per role, spreadsheet safety, streaming, audit.

Built on the conftest world (district A with schools a1 and a2, district B with b1), plus a
hand-built class in a1 whose values are known to the cent and the second.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse

from assessments.models import Score, ScoreStatus
from classrooms.models import AuditEvent, Student
from reports import exports
from reports.exports import ExportFilters, oneroster_results, writing
from reports.exports.aggregate_growth import AGGREGATE_COLUMNS
from reports.exports.columns import ColumnType, ExportColumn, sql_format
from reports.exports.scores import SCORE_COLUMNS
from reports.exports.student_growth import STUDENT_GROWTH_COLUMNS
from reports.models import ExportKind, StudentGrowth
from tests import factories
from tests.conftest import World
from units.models import AssessmentSkill

pytestmark = pytest.mark.django_db

ENTERED_AT = datetime.datetime(2026, 10, 27, 14, 3, 11, 500_000, tzinfo=datetime.UTC)
BUILT_AT = datetime.datetime(2026, 11, 2, 6, 0, 0, tzinfo=datetime.UTC)
PROJECT = Path(__file__).resolve().parent.parent.parent

SCORE_HEADER = [
    "student_sis_id",
    "student_family_name",
    "student_given_name",
    "school_name",
    "classroom_name",
    "unit_title",
    "unit_version",
    "assessment_kind",
    "assessment_week",
    "skill_code",
    "points",
    "max_points",
    "status",
    "entered_at",
]
GROWTH_HEADER = [
    "student_sis_id",
    "student_family_name",
    "student_given_name",
    "student_grade_level",
    "classroom_unit_id",
    "school_code",
    "school_name",
    "academic_year",
    "term",
    "classroom_name",
    "subject",
    "unit_title",
    "unit_version",
    "pre_percentage",
    "post_percentage",
    "gain",
    "normalized_gain",
    "is_at_ceiling",
    "has_little_room_to_grow",
    "is_target_met",
    "is_complete",
    "pre_band",
    "post_band",
    "slope_per_week",
    "built_at",
]


# --- helpers -------------------------------------------------------------------------------------


def measure(world: World, kind: str, code: str, district_key: str = "a") -> AssessmentSkill:
    return AssessmentSkill.objects.get(
        assessment__unit=world.units[district_key], assessment__kind=kind, skill__code=code
    )


def add_tricky_student(world: World) -> Any:
    """A student of class a1 whose every name starts like a spreadsheet formula, with a score of
    2.5 on the pre-assessment's skill B, an absence on the post's A and an exemption on its B."""
    student = factories.EnrollmentFactory(
        classroom=world.classrooms["a1"],
        student__district=world.districts["a"],
        student__sis_id="-77",
        student__family_name='=HYPERLINK("http://x","y")',
        student__given_name="+Ann",
    ).student
    classroom_unit = world.classroom_units["a1"]
    for kind, code, status, points in (
        ("pre", "B", ScoreStatus.SCORED, Decimal("2.5")),
        ("post", "A", ScoreStatus.ABSENT, None),
        ("post", "B", ScoreStatus.EXEMPT, None),
    ):
        Score.objects.create(
            classroom_unit=classroom_unit,
            student=student,
            assessment_skill=measure(world, kind, code),
            status=status,
            points=points,
            entered_at=ENTERED_AT,
        )
    return student


def written_by_copy(column: ExportColumn, value: Any) -> str:
    """The cell COPY writes for ``value`` (a float8) in ``column``, as the exports write it."""
    # Fixed SQL around the column's formatting; the value is a parameter.
    formatted = sql_format(column, "value")
    select = f"SELECT {formatted} FROM (SELECT %s::float8 AS value) AS export_rows"  # noqa: S608
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY ({select}) TO STDOUT (FORMAT csv)", [value]) as copy:
            written = b"".join(bytes(block) for block in copy)
    return written.decode("utf-8").removesuffix("\n")


def run_export(actor: Any, kind: str = "scores", excel: bool = False, **filters: Any) -> bytes:
    prepared = exports.export_prepare(
        actor=actor, kind=kind, filters=ExportFilters(**filters), excel=excel
    )
    return b"".join(exports.export_stream(prepared=prepared))


def read_csv(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (as dicts), sorted by their values: exports have no set order."""
    text = data.decode("utf-8")
    records = list(csv.reader(io.StringIO(text, newline="")))
    header, body = records[0], records[1:]
    rows = [dict(zip(header, record, strict=True)) for record in sorted(body)]
    return header, rows


def rows_of(actor: Any, kind: str = "scores", **filters: Any) -> list[dict[str, str]]:
    return read_csv(run_export(actor, kind, **filters))[1]


def schools_in(rows: list[dict[str, str]]) -> set[str]:
    return {row["school_name"] for row in rows}


# --- student-level scores: columns and values -----------------------------------------------------


def test_scores_export_has_the_documented_columns_and_exact_values(world: World) -> None:
    student = add_tricky_student(world)

    header, rows = read_csv(run_export(world.users["admin_a"], unit_id=world.units["a"].pk))

    assert header == SCORE_HEADER
    tricky = [row for row in rows if row["student_sis_id"] == "'-77"]
    assert tricky == [
        {
            "student_sis_id": "'-77",
            "student_family_name": '\'=HYPERLINK("http://x","y")',
            "student_given_name": "'+Ann",
            "school_name": "School a1",
            "classroom_name": "Class a1",
            "unit_title": "Fractions a",
            "unit_version": "1",
            "assessment_kind": kind,
            "assessment_week": week,
            "skill_code": code,
            "points": points,
            "max_points": max_points,
            "status": status,
            "entered_at": "2026-10-27T14:03:11Z",
        }
        for kind, week, code, points, max_points, status in (
            ("post", "8", "A", "", "4.00", "absent"),
            ("post", "8", "B", "", "6.00", "exempt"),
            ("pre", "1", "B", "2.50", "6.00", "scored"),
        )
    ]
    world_score = world.scores["a1"]
    (plain,) = [row for row in rows if row["student_sis_id"] == world.students["a1"].sis_id]
    assert plain["points"] == "3.00"
    assert plain["student_family_name"] == world.students["a1"].family_name
    assert plain["entered_at"] == world_score.entered_at.astimezone(datetime.UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert student.pk  # the tricky student is really in the district


def test_text_starting_like_a_formula_is_quoted_but_numbers_stay_numbers(world: World) -> None:
    add_tricky_student(world)
    for start in ("=", "+", "-", "@", "\t", "\r"):
        factories.EnrollmentFactory(
            classroom=world.classrooms["a1"],
            student__district=world.districts["a"],
            student__family_name=f"{start}cmd",
        )
        Score.objects.create(
            classroom_unit=world.classroom_units["a1"],
            student=world.classrooms["a1"].enrollments.latest("pk").student,
            assessment_skill=measure(world, "pre", "A"),
            points=Decimal("0.5"),
            entered_at=ENTERED_AT,
        )

    data = run_export(world.users["admin_a"])

    family_names = {row["student_family_name"] for row in read_csv(data)[1]}
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert f"'{start}cmd" in family_names
        assert f"{start}cmd" not in family_names
    # Numbers are written bare: a spreadsheet reads them as numbers.
    assert b",0.50,4.00,scored," in data
    assert b",2.50,6.00,scored," in data
    assert b"'0.50" not in data and b"'2.50" not in data


def test_a_formula_after_a_separator_or_with_a_fullwidth_sign_is_quoted(world: World) -> None:
    for family_name in ("Smith;=1+1;", "＝cmd", "Lee|@SUM(A1)"):
        enrollment = factories.EnrollmentFactory(
            classroom=world.classrooms["a1"],
            student__district=world.districts["a"],
            student__family_name=family_name,
        )
        Score.objects.create(
            classroom_unit=world.classroom_units["a1"],
            student=enrollment.student,
            assessment_skill=measure(world, "pre", "A"),
            points=Decimal("1"),
            entered_at=ENTERED_AT,
        )

    data = run_export(world.users["admin_a"])

    family_names = {row["student_family_name"] for row in read_csv(data)[1]}
    assert {"Smith;'=1+1;", "'＝cmd", "Lee|'@SUM(A1)"} <= family_names


def test_export_is_utf8_without_a_byte_order_mark_unless_asked_for_excel(world: World) -> None:
    factories.EnrollmentFactory(
        classroom=world.classrooms["a1"],
        student__district=world.districts["a"],
        student__family_name="Nguyễn",
    )
    Score.objects.create(
        classroom_unit=world.classroom_units["a1"],
        student=world.classrooms["a1"].enrollments.latest("pk").student,
        assessment_skill=measure(world, "pre", "A"),
        points=Decimal("1"),
        entered_at=ENTERED_AT,
    )
    admin = world.users["admin_a"]

    plain = run_export(admin)
    for_excel = run_export(admin, excel=True)

    assert plain.startswith(b"student_sis_id,")
    assert for_excel.startswith(b"\xef\xbb\xbfstudent_sis_id,")
    assert for_excel[3:] == plain
    assert "Nguyễn".encode() in plain


def test_export_lines_end_with_lf_and_cells_with_commas_or_line_ends_are_quoted(
    world: World,
) -> None:
    factories.EnrollmentFactory(
        classroom=world.classrooms["a1"],
        student__district=world.districts["a"],
        student__family_name="Smith, Jr.\nthe second",
    )
    Score.objects.create(
        classroom_unit=world.classroom_units["a1"],
        student=world.classrooms["a1"].enrollments.latest("pk").student,
        assessment_skill=measure(world, "pre", "A"),
        points=Decimal("1"),
        entered_at=ENTERED_AT,
    )

    data = run_export(world.users["admin_a"])

    assert b"\r\n" not in data
    assert b'"Smith, Jr.\nthe second"' in data
    assert "Smith, Jr.\nthe second" in {row["student_family_name"] for row in read_csv(data)[1]}


# --- scoping --------------------------------------------------------------------------------------


def test_district_admin_exports_the_whole_district_and_nothing_else(world: World) -> None:
    rows_a = rows_of(world.users["admin_a"])
    rows_b = rows_of(world.users["admin_b"])

    assert schools_in(rows_a) == {"School a1", "School a2"}
    assert schools_in(rows_b) == {"School b1"}


def test_teacher_exports_only_their_own_classrooms(world: World) -> None:
    rows = rows_of(world.users["teacher_a1"])

    assert schools_in(rows) == {"School a1"}
    assert {row["student_sis_id"] for row in rows} == {world.students["a1"].sis_id}


@pytest.mark.parametrize("kind", ["scores", "student_growth", "oneroster_results"])
def test_coach_gets_no_student_level_export(world: World, kind: str) -> None:
    with pytest.raises(PermissionDenied, match="Coaches"):
        exports.export_prepare(actor=world.users["coach_a1"], kind=kind)


def test_a_teacher_who_also_coaches_exports_only_the_classrooms_they_teach(world: World) -> None:
    teacher = world.users["teacher_a1"]
    world.schools["a2"].coaches.add(teacher)

    assert schools_in(rows_of(teacher)) == {"School a1"}


@pytest.mark.parametrize("user_key", ["no_role_a", "inactive", "anonymous"])
def test_people_without_a_role_export_nothing(world: World, user_key: str) -> None:
    from django.contrib.auth.models import AnonymousUser

    if user_key == "inactive":
        user = factories.UserFactory(district=world.districts["a"], is_active=False)
        world.classrooms["a1"].teachers.add(user)
    elif user_key == "anonymous":
        user = AnonymousUser()
    else:
        user = world.users[user_key]

    assert exports.export_kinds_available(actor=user) == []
    with pytest.raises(PermissionDenied):
        exports.export_prepare(actor=user, kind="scores")


def test_filters_by_another_districts_ids_find_nothing(world: World) -> None:
    admin = world.users["admin_a"]
    other = world.classrooms["b1"]

    assert rows_of(admin, school_id=other.school_id) == []
    assert rows_of(admin, unit_id=world.units["b"].pk) == []
    assert rows_of(admin, academic_year_id=other.term.academic_year_id) == []


def test_filters_narrow_by_school_year_subject_and_unit(world: World) -> None:
    admin = world.users["admin_a"]
    a2 = world.classrooms["a2"]
    science = factories.make_unit(world.districts["a"], title="Cells")
    science.subject = "Science"
    science.save(update_fields=["subject"])
    classroom_unit = factories.ClassroomUnitFactory(classroom=world.classrooms["a1"], unit=science)
    Score.objects.create(
        classroom_unit=classroom_unit,
        student=world.students["a1"],
        assessment_skill=science.assessments.get(kind="pre").assessment_skills.first(),
        points=Decimal("1"),
        entered_at=ENTERED_AT,
    )

    assert schools_in(rows_of(admin, school_id=a2.school_id)) == {"School a2"}
    year_rows = rows_of(admin, academic_year_id=a2.term.academic_year_id)
    assert schools_in(year_rows) == {"School a2"}  # each factory classroom has its own year
    assert {row["unit_title"] for row in rows_of(admin, subject="Science")} == {"Cells"}
    assert {row["unit_title"] for row in rows_of(admin, unit_id=world.units["a"].pk)} == {
        "Fractions a"
    }
    assert len(rows_of(admin)) == 3


# --- student growth -------------------------------------------------------------------------------


def test_student_growth_export_has_one_row_per_student_and_classroom_unit(world: World) -> None:
    classroom_unit = world.classroom_units["a1"]
    grown = world.students["a1"]
    at_ceiling = add_tricky_student(world)
    StudentGrowth.objects.create(
        classroom_unit=classroom_unit,
        student=grown,
        pre_percentage=50.0,
        post_percentage=62.3456,
        gain=12.3456,
        normalized_gain=0.246912,
        is_at_ceiling=False,
        is_target_met=False,
        is_complete=True,
        pre_band="developing",
        post_band="developing",
        slope_per_week=-0.125,
        built_at=BUILT_AT,
    )
    StudentGrowth.objects.create(
        classroom_unit=classroom_unit,
        student=at_ceiling,
        pre_percentage=100.0,
        post_percentage=None,
        is_at_ceiling=True,
        is_target_met=None,
        is_complete=False,
        built_at=BUILT_AT,
    )
    StudentGrowth.objects.create(  # another district: never exported by admin_a
        classroom_unit=world.classroom_units["b1"],
        student=world.students["b1"],
        is_complete=False,
        built_at=BUILT_AT,
    )

    header, rows = read_csv(run_export(world.users["admin_a"], "student_growth"))

    assert header == GROWTH_HEADER
    by_sis = {row["student_sis_id"]: row for row in rows}
    assert set(by_sis) == {grown.sis_id, "'-77"}
    classroom = classroom_unit.classroom
    assert by_sis[grown.sis_id] == {
        "student_sis_id": grown.sis_id,
        "student_family_name": grown.family_name,
        "student_given_name": grown.given_name,
        "student_grade_level": "5",
        "classroom_unit_id": str(classroom_unit.pk),
        "school_code": classroom.school.code,
        "school_name": "School a1",
        "academic_year": classroom.term.academic_year.name,
        "term": classroom.term.name,
        "classroom_name": "Class a1",
        "subject": "Math",
        "unit_title": "Fractions a",
        "unit_version": "1",
        "pre_percentage": "50.00",
        "post_percentage": "62.35",
        "gain": "12.35",
        "normalized_gain": "0.2469",
        "is_at_ceiling": "false",
        "has_little_room_to_grow": "false",
        "is_target_met": "false",
        "is_complete": "true",
        "pre_band": "developing",
        "post_band": "developing",
        "slope_per_week": "-0.13",
        "built_at": "2026-11-02T06:00:00Z",
    }
    ceiling = by_sis["'-77"]
    assert (ceiling["pre_percentage"], ceiling["post_percentage"]) == ("100.00", "")
    assert (ceiling["gain"], ceiling["normalized_gain"]) == ("", "")
    assert (ceiling["is_at_ceiling"], ceiling["is_target_met"]) == ("true", "")
    assert ceiling["is_complete"] == "false"


def test_student_growth_export_for_a_teacher_holds_only_their_classes(world: World) -> None:
    for key in ("a1", "a2"):
        StudentGrowth.objects.create(
            classroom_unit=world.classroom_units[key],
            student=world.students[key],
            is_complete=False,
            built_at=BUILT_AT,
        )

    rows = rows_of(world.users["teacher_a2"], "student_growth")

    assert [row["school_name"] for row in rows] == ["School a2"]


# --- formatting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "places", "written"),
    [
        (50.0, 2, "50.00"),
        (2.675, 2, "2.68"),  # 15 significant digits first, as PostgreSQL's float8 → numeric
        (0.125, 2, "0.13"),  # half away from zero
        (-0.125, 2, "-0.13"),
        (-0.001, 2, "0.00"),  # no negative zero
        (0.1 + 0.2, 4, "0.3000"),
        (None, 2, ""),
    ],
)
def test_numbers_are_rounded_half_away_from_zero(value: Any, places: int, written: str) -> None:
    column = ExportColumn("x", "x", ColumnType.NUMBER, places=places)

    assert written_by_copy(column, value) == written


def test_rebuffer_joins_small_blocks_into_chunks_of_about_256_kb() -> None:
    blocks = [b"x" * 100] * 10_000  # 1 MB in 100-byte blocks, as COPY hands rows over

    chunks = list(writing.rebuffer(blocks))

    assert b"".join(chunks) == b"".join(blocks)
    assert all(len(chunk) >= exports.CHUNK_BYTES for chunk in chunks[:-1])
    assert all(len(chunk) < exports.CHUNK_BYTES + 100 for chunk in chunks)
    assert len(chunks) == 4


def test_rows_are_read_in_chunks_of_about_256_kb(world: World) -> None:
    classroom_unit = world.classroom_units["a1"]
    pre_a = measure(world, "pre", "A")
    students = Student.objects.bulk_create(
        Student(
            district=world.districts["a"],
            sis_id=f"BULK{number:05d}",
            given_name="G" * 90,
            family_name="F" * 90,
            grade_level="5",
        )
        for number in range(2500)
    )
    Score.objects.bulk_create(
        Score(
            classroom_unit=classroom_unit,
            student=student,
            assessment_skill=pre_a,
            points=Decimal("1"),
            entered_at=ENTERED_AT,
        )
        for student in students
    )
    prepared = exports.export_prepare(actor=world.users["admin_a"], kind="scores")

    chunks = list(exports.export_stream(prepared=prepared))

    assert len(chunks) >= 2
    assert all(len(chunk) >= exports.CHUNK_BYTES for chunk in chunks[:-1])
    assert all(len(chunk) <= 2 * exports.CHUNK_BYTES for chunk in chunks)
    assert len(read_csv(b"".join(chunks))[1]) == 2500 + 2


# --- streaming responses --------------------------------------------------------------------------


def test_export_page_streams_the_file_as_an_attachment(world: World, client: Client) -> None:
    client.force_login(world.users["admin_a"])

    response = client.post(reverse("export-page"), {"kind": "scores"})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="district-a-scores-\d{4}-\d\d-\d\d\.csv"',
        response["Content-Disposition"],
    )
    data = b"".join(response.streaming_content)
    # Excel-ready unless plain UTF-8 is chosen: the byte-order mark first.
    assert data.startswith(b"\xef\xbb\xbfstudent_sis_id,")
    header, rows = read_csv(data[3:])
    assert header == SCORE_HEADER
    assert schools_in(rows) == {"School a1", "School a2"}

    plain = client.post(reverse("export-page"), {"kind": "scores", "file_format": "plain_csv"})

    assert b"".join(plain.streaming_content).startswith(b"student_sis_id,")


def test_export_page_offers_each_role_its_kinds(world: World, client: Client) -> None:
    everything = {"scores", "student_growth", "aggregate_growth", "oneroster_results"}
    for user_key, offered in (
        ("admin_a", everything),
        ("teacher_a1", everything),
        ("coach_a1", {"aggregate_growth"}),
        ("no_role_a", set()),
    ):
        client.force_login(world.users[user_key])
        response = client.get(reverse("export-page"))
        if not offered:
            assert response.status_code == 403
            assert "none of those roles" in response.content.decode()
            continue
        assert response.status_code == 200
        form = response.context["form"]
        assert {value for value, _label in form.fields["kind"].choices} == offered


def test_export_page_refuses_a_coach_a_student_level_export(world: World, client: Client) -> None:
    client.force_login(world.users["coach_a1"])

    response = client.post(reverse("export-page"), {"kind": "scores"})

    assert response.status_code == 400  # not one of the coach's choices
    assert "kind" in response.context["form"].errors
    assert not AuditEvent.objects.all_schools().filter(kind__startswith="export_").exists()


def test_export_page_refuses_a_school_of_another_district(world: World, client: Client) -> None:
    client.force_login(world.users["admin_a"])

    response = client.post(
        reverse("export-page"), {"kind": "scores", "school": world.schools["b1"].pk}
    )

    assert response.status_code == 400
    assert "school" in response.context["form"].errors


def test_export_page_sends_anonymous_visitors_to_sign_in(client: Client, world: World) -> None:
    response = client.get(reverse("export-page"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- audit ----------------------------------------------------------------------------------------


def test_every_streamed_export_is_audited_with_who_filters_rows_and_outcome(
    world: World,
) -> None:
    admin = world.users["admin_a"]

    run_export(admin, excel=True, school_id=world.schools["a1"].pk, subject="Math")

    event = AuditEvent.objects.visible_to(admin).get()
    assert (event.actor, event.kind, event.outcome) == (admin, "export_scores", "succeeded")
    assert event.row_count == 1
    assert event.parameters == {
        "export": "Student-level scores",
        "filters": {"school": f"School a1 (#{world.schools['a1'].pk})", "subject": "Math"},
        "format": "CSV, UTF-8 with byte-order mark (Excel)",
        "delivery": "streamed",
    }
    assert event.result["bytes"] > 0
    assert event.district == world.districts["a"]


def test_a_teachers_export_is_audited_in_their_district(world: World) -> None:
    run_export(world.users["teacher_b1"], "student_growth")

    event = AuditEvent.objects.all_schools().get(kind="export_student_growth")
    assert event.district == world.districts["b"]
    assert event.actor == world.users["teacher_b1"]
    assert event.row_count == 0


def test_an_export_that_fails_while_reading_is_audited_as_failed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        yield b"half a row"
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(writing, "rows_csv_blocks", broken)
    prepared = exports.export_prepare(actor=world.users["admin_a"], kind="scores")

    with pytest.raises(RuntimeError):
        b"".join(exports.export_stream(prepared=prepared))

    event = AuditEvent.objects.all_schools().get()
    assert (event.kind, event.outcome) == ("export_scores", "failed")
    assert "RuntimeError" in event.message


def test_a_download_closed_before_the_end_is_audited_as_failed(world: World) -> None:
    prepared = exports.export_prepare(actor=world.users["admin_a"], kind="scores", excel=True)
    stream = exports.export_stream(prepared=prepared)

    next(stream)
    stream.close()

    event = AuditEvent.objects.all_schools().get()
    assert event.outcome == "failed"
    assert "stopped before the end" in event.message


def test_audit_log_page_lists_the_export_for_district_admins(world: World, client: Client) -> None:
    run_export(world.users["teacher_a1"])
    client.force_login(world.users["admin_a"])

    page = client.get(reverse("audit-event-list")).content.decode()

    assert "export_scores" in page or "Student-level scores" in page
    assert "teacher_a1" in page


# --- the data dictionary --------------------------------------------------------------------------


def test_the_data_dictionary_documents_every_column_of_every_export() -> None:
    text = (PROJECT / "docs" / "data-dictionary.md").read_text()
    documented = set(re.findall(r"^\| `([A-Za-z_.]+)` \|", text, flags=re.MULTILINE))
    columns = {
        *(column.name for column in SCORE_COLUMNS),
        *(column.name for column in STUDENT_GROWTH_COLUMNS),
        *(column.name for column in AGGREGATE_COLUMNS["district"]),
        *(column.name for column in oneroster_results.RESULT_COLUMNS),
        *oneroster_results.LINE_ITEM_COLUMNS,
        *oneroster_results.CATEGORY_COLUMNS,
        "propertyName",
        "value",
    }

    assert not columns - documented, f"document these columns: {sorted(columns - documented)}"
    for kind in ExportKind:
        assert f"`{kind.value}`" in text, kind


def test_every_kind_of_export_is_in_the_registry_and_named_by_it() -> None:
    assert set(exports.EXPORTS) == set(ExportKind)
    for kind, definition in exports.EXPORTS.items():
        assert definition.kind == kind
    assert exports.STUDENT_LEVEL_KINDS == {
        ExportKind.SCORES,
        ExportKind.STUDENT_GROWTH,
        ExportKind.ONEROSTER_RESULTS,
    }
