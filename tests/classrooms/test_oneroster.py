"""OneRoster 1.1 CSV roster import: the service, the command and the upload page.

Fixtures under tests/fixtures/oneroster/: ``valid`` (a small district, bulk, LF), ``messy`` (the
same district as an SIS might really send it: byte-order mark, CRLF, columns reversed, extension
columns, every value quoted, quoted commas and newlines, status and dateLastModified filled, a
demographics.csv) and ``broken`` (several row-level problems, for the demo). Other variants are
made from ``valid`` in each test, so each states the one thing it changes.
"""

from __future__ import annotations

import csv
import datetime
import io
import shutil
import zipfile
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Score
from classrooms import oneroster
from classrooms.models import (
    AcademicYear,
    AuditEvent,
    Classroom,
    District,
    Enrollment,
    RosterImport,
    RosterImportChange,
    School,
    Student,
    Term,
    User,
)
from classrooms.oneroster.plan import RosterPlan
from tests import factories
from tests.conftest import World

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "oneroster"

# What the valid fixture makes in an empty district.
FIRST_IMPORT = {
    "schools": 2,
    "academic_years": 1,
    "terms": 4,  # two semesters, a grading period and the "Full year" of ELA 4
    "classrooms": 4,
    "students": 5,  # Gus (grade PK) is skipped
    "teachers": 2,  # the administrator is skipped
    "enrollments": 6,
    "teacher_assignments": 4,
}


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def export_copy(tmp_path: Path, name: str = "valid") -> Path:
    folder = tmp_path / name
    shutil.copytree(FIXTURES / name, folder)
    return folder


def edit(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(folder: Path, file: str, line: str) -> None:
    with (folder / file).open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")


def drop_rows(folder: Path, file: str, *sourced_ids: str) -> None:
    lines = (folder / file).read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.split(",")[0] not in sourced_ids]
    assert len(kept) == len(lines) - len(sourced_ids)
    (folder / file).write_text("\n".join(kept) + "\n", encoding="utf-8")


def manifest(folder: Path, **modes: str) -> None:
    """Set ``file.<name>`` rows of the manifest, e.g. users="delta"."""
    for name, mode in modes.items():
        text = (folder / "manifest.csv").read_text(encoding="utf-8")
        lines = [
            f"file.{name},{mode}" if line.startswith(f"file.{name},") else line
            for line in text.splitlines()
        ]
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def zip_bytes(folder: Path, inner: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"{inner}{path.name}")
    return buffer.getvalue()


def run(
    district: District,
    folder: Path,
    *,
    dry_run: bool = False,
    actor: Any = None,
    confirm_district: bool = False,
) -> oneroster.RosterImportResult:
    source = oneroster.roster_source_from_path(path=folder)
    return oneroster.roster_import(
        actor=actor,
        district=district,
        source=source,
        dry_run=dry_run,
        confirm_district=confirm_district,
    )


def same_system(district: District) -> District:
    """Record the fixtures' district org on ``district``, as an earlier import would have."""
    district.oneroster_sourced_id = "org-district"
    district.save(update_fields=["oneroster_sourced_id"])
    return district


def created(result: oneroster.RosterImportResult) -> dict[str, int]:
    return {key: counts.creates for key, counts in result.counts.items()}


def changes(result: oneroster.RosterImportResult) -> dict[str, tuple[int, int, int]]:
    """(creates, updates, deactivations) of the entities that change."""
    return {
        key: (counts.creates, counts.updates, counts.deactivations)
        for key, counts in result.counts.items()
        if counts.change_count
    }


def _tables() -> list[Any]:
    tables: list[Any] = [
        model
        for label in ("classrooms", "units", "assessments", "reports")
        for model in apps.get_app_config(label).get_models()
        if model not in (AuditEvent, RosterImport, RosterImportChange)
    ]
    return [
        *tables,
        Classroom.teachers.through,
        School.coaches.through,
        Student.groups.through,
    ]


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit log, field by field (updated_at included)."""
    return {
        model._meta.label: list(model._base_manager.order_by("pk").values_list())
        for model in _tables()
    }


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._base_manager.count() for model in _tables()}


@pytest.fixture
def imported(district: District, tmp_path: Path) -> District:
    """The district after importing the valid fixture."""
    result = run(district, FIXTURES / "valid")
    assert result.applied, [str(problem) for problem in result.problems]
    return district


def score_for(student: Student, classroom: Classroom, teacher: User) -> Score:
    unit = factories.make_unit(classroom.school.district, title=f"Unit {classroom.pk}")
    classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=unit)
    assessment_skill = unit.assessments.get(kind="pre").assessment_skills.first()
    return Score.objects.create(
        classroom_unit=classroom_unit,
        student=student,
        assessment_skill=assessment_skill,
        points=Decimal("3"),
        entered_by=teacher,
        entered_at=timezone.now(),
    )


# ---------------------------------------------------------------------------------------------
# First import, re-import
# ---------------------------------------------------------------------------------------------


def test_first_import_creates_the_roster(district: District) -> None:
    result = run(district, FIXTURES / "valid")

    assert result.applied
    assert created(result) == FIRST_IMPORT
    assert result.counts["students"].skipped == 1
    north = School.objects.get(district=district, sourced_id="org-north")
    assert (north.name, north.code) == ("North Elementary", "NE01")
    assert School.objects.get(sourced_id="org-south").name == "South Elementary, Annex"
    year = AcademicYear.objects.get(district=district)
    assert (year.name, year.sourced_id) == ("2026-2027", "year-2027")
    assert set(Term.objects.filter(academic_year=year).values_list("name", flat=True)) == {
        "Fall 2026",
        "Spring 2027",
        "Quarter 1",
        "Full year",
    }


def test_classrooms_take_subject_grade_and_term_from_class_then_course(imported: District) -> None:
    rooms = {room.sourced_id: room for room in Classroom.objects.filter(school__district=imported)}

    assert (rooms["class-math5a"].name, rooms["class-math5a"].subject) == (
        "Math 5, period 1",
        "Math",
    )
    # grade and subject from the course when the class leaves them blank
    assert (rooms["class-math5b"].grade_level, rooms["class-math5b"].subject) == ("5", "Math")
    # a quoted newline in the title; the course title when no subjects are given
    assert (rooms["class-sci5"].name, rooms["class-sci5"].subject) == ("Science 5 (lab)", "Science")
    assert rooms["class-sci5"].term.sourced_id == "sem-fall"  # the first of termSourcedIds
    # a class of the whole school year gets the year's "Full year" term
    assert rooms["class-ela4"].term.name == "Full year"
    assert rooms["class-ela4"].term.start_date == datetime.date(2026, 8, 17)
    assert rooms["class-ela4"].school.sourced_id == "org-south"


def test_students_teachers_and_enrollments_are_imported(imported: District) -> None:
    students = {
        student.sourced_id: student for student in Student.objects.filter(district=imported)
    }
    assert set(students) == {"s-ava", "s-ben", "s-cara", "s-dev", "s-eli"}
    assert students["s-ava"].sis_id == "100001"
    assert students["s-cara"].sis_id == "s-cara"  # no identifier: the sourcedId
    assert students["s-ben"].family_name == "O'Brien, Jr."
    assert students["s-eli"].grade_level == "4"  # blank grade: from the class
    rivera = User.objects.get(username="mrivera")
    assert rivera.district == imported
    assert not rivera.has_usable_password()
    assert not rivera.is_district_admin
    assert rivera.email == "mrivera@riverside.example"
    assert set(rivera.taught_classrooms.values_list("sourced_id", flat=True)) == {
        "class-math5a",
        "class-math5b",
    }
    assert not User.objects.filter(username="pboss").exists()
    cara = Enrollment.objects.get(sourced_id="e-12")
    assert cara.start_date == datetime.date(2026, 8, 17)  # blank beginDate: the term's start
    ava_science = Enrollment.objects.get(sourced_id="e-13")
    assert ava_science.end_date == datetime.date(2026, 12, 18)


def test_reimporting_the_same_files_changes_nothing(imported: District) -> None:
    before = snapshot()

    result = run(imported, FIXTURES / "valid")

    assert result.applied
    assert changes(result) == {}
    assert result.counts["enrollments"].unchanged == 6
    assert snapshot() == before


def test_dry_run_reports_without_writing_anything_but_the_audit_row(district: District) -> None:
    before = snapshot()

    result = run(district, FIXTURES / "valid", dry_run=True)

    assert created(result) == FIRST_IMPORT
    assert not result.applied
    assert snapshot() == before
    event = AuditEvent.objects.get(district=district)
    assert event.kind == "roster_import_dry_run"
    assert event.outcome == "succeeded"


def test_a_changed_row_updates_only_that_row(imported: District, tmp_path: Path) -> None:
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "Ava,Nguyen", "Ava,Nguyen-Park")
    edit(folder, "classes.csv", "Math 5, period 1", "Math 5, period 1A")

    result = run(imported, folder)

    assert changes(result) == {"classrooms": (0, 1, 0), "students": (0, 1, 0)}
    assert Student.objects.get(sourced_id="s-ava").family_name == "Nguyen-Park"
    assert Classroom.objects.get(sourced_id="class-math5a").name == "Math 5, period 1A"


# ---------------------------------------------------------------------------------------------
# What real exports vary in
# ---------------------------------------------------------------------------------------------


def _rewrite(folder: Path, change: Callable[[list[list[str]]], list[list[str]]], **kw: Any) -> None:
    for path in folder.glob("*.csv"):
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        buffer = io.StringIO(newline="")
        csv.writer(
            buffer, lineterminator=kw.get("ends", "\n"), quoting=kw.get("quoting", 0)
        ).writerows(change(rows))
        data = buffer.getvalue().encode("utf-8")
        path.write_bytes((b"\xef\xbb\xbf" if kw.get("bom") else b"") + data)


def _reordered_with_metadata(rows: list[list[str]]) -> list[list[str]]:
    if rows[0] == ["propertyName", "value"]:
        return rows
    order = [*range(1, len(rows[0])), 0]  # sourcedId last
    header = ["metadata.district.note", *(rows[0][i] for i in order), "metadata.extra"]
    return [header] + [["a, b", *(row[i] for i in order), "x\ny"] for row in rows[1:]]


def _status_and_date_filled(rows: list[list[str]]) -> list[list[str]]:
    header = rows[0]
    if "status" not in header:
        return rows
    status, modified = header.index("status"), header.index("dateLastModified")
    filled = [header]
    for row in rows[1:]:
        row = list(row)
        row[status], row[modified] = "active", "2026-08-01T12:00:00Z"
        filled.append(row)
    return filled


VARIANTS: dict[str, Callable[[Path], None]] = {
    "byte-order mark": lambda folder: _rewrite(folder, lambda rows: rows, bom=True),
    "CRLF line ends": lambda folder: _rewrite(folder, lambda rows: rows, ends="\r\n"),
    "columns reordered, metadata.* columns": lambda folder: _rewrite(
        folder, _reordered_with_metadata
    ),
    "every value quoted": lambda folder: _rewrite(folder, lambda rows: rows, quoting=csv.QUOTE_ALL),
    "status and dateLastModified filled": lambda folder: _rewrite(folder, _status_and_date_filled),
    "header in other letter case": lambda folder: edit(
        folder, "users.csv", "givenName,familyName", "GivenName,FAMILYNAME"
    ),
}


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_export_variants_import_like_the_plain_one(
    district: District, tmp_path: Path, variant: str
) -> None:
    folder = export_copy(tmp_path)
    VARIANTS[variant](folder)

    result = run(district, folder)

    assert result.applied, [str(problem) for problem in result.problems]
    assert created(result) == FIRST_IMPORT
    again = run(district, FIXTURES / "valid")
    assert changes(again) == {}, "the variant was read differently from the plain export"


def test_messy_real_world_export_imports_like_the_plain_one(district: District) -> None:
    result = run(district, FIXTURES / "messy")

    assert result.applied, [str(problem) for problem in result.problems]
    assert created(result) == FIRST_IMPORT
    assert any("demographics.csv" in str(warning) for warning in result.warnings)
    assert changes(run(district, FIXTURES / "valid")) == {}


def test_zip_upload_with_the_files_in_a_folder_imports(district: District) -> None:
    data = zip_bytes(FIXTURES / "valid", inner="export-2026/")
    source = oneroster.roster_source_from_zip(data=data, label="export.zip")

    result = oneroster.roster_import(actor=None, district=district, source=source, dry_run=False)

    assert result.applied
    assert created(result) == FIRST_IMPORT


# ---------------------------------------------------------------------------------------------
# Deactivation, never deletion; scores kept
# ---------------------------------------------------------------------------------------------


def test_tobedeleted_student_is_deactivated_and_keeps_scores(
    imported: District, tmp_path: Path
) -> None:
    ben = Student.objects.get(sourced_id="s-ben")
    math = Classroom.objects.get(sourced_id="class-math5a")
    score = score_for(ben, math, User.objects.get(username="mrivera"))
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "s-ben,,", "s-ben,tobedeleted,")

    result = run(imported, folder)

    assert changes(result) == {"students": (0, 0, 1), "enrollments": (0, 0, 1)}
    ben.refresh_from_db()
    assert not ben.is_active
    enrollment = Enrollment.objects.get(sourced_id="e-11")
    assert enrollment.end_date == max(
        enrollment.start_date, timezone.localdate() - datetime.timedelta(days=1)
    )
    assert Score.objects.filter(pk=score.pk, student=ben).exists()
    assert changes(run(imported, folder)) == {}


def test_users_and_enrollments_missing_from_a_bulk_file_are_deactivated(
    imported: District, tmp_path: Path
) -> None:
    dev = Student.objects.get(sourced_id="s-dev")
    chen = User.objects.get(username="achen")
    score = score_for(dev, Classroom.objects.get(sourced_id="class-ela4"), chen)
    folder = export_copy(tmp_path)
    drop_rows(folder, "users.csv", "s-dev", "t-chen")
    drop_rows(folder, "enrollments.csv", "e-3", "e-4", "e-14")
    scores_before = Score.objects.count()

    result = run(imported, folder)

    assert changes(result) == {
        "students": (0, 0, 1),
        "teachers": (0, 0, 1),
        "enrollments": (0, 0, 1),
        "teacher_assignments": (0, 0, 2),
    }
    dev.refresh_from_db()
    chen.refresh_from_db()
    assert not dev.is_active
    assert not chen.is_active
    assert not chen.taught_classrooms.exists()
    assert Enrollment.objects.get(sourced_id="e-14").end_date is not None
    assert Student.objects.filter(pk=dev.pk).exists()
    assert Score.objects.count() == scores_before
    assert Score.objects.filter(pk=score.pk).exists()
    assert changes(run(imported, folder)) == {}


def _lines(folder: Path, file: str) -> list[str]:
    return (folder / file).read_text(encoding="utf-8").splitlines()


def test_deactivated_student_is_active_again_when_back_in_the_file(
    imported: District, tmp_path: Path
) -> None:
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "s-ben,,", "s-ben,tobedeleted,")
    run(imported, folder)

    result = run(imported, FIXTURES / "valid")

    assert changes(result) == {"students": (0, 1, 0), "enrollments": (0, 1, 0)}
    assert Student.objects.get(sourced_id="s-ben").is_active
    assert Enrollment.objects.get(sourced_id="e-11").end_date is None


def test_delta_file_changes_only_its_rows(imported: District, tmp_path: Path) -> None:
    folder = tmp_path / "delta"
    folder.mkdir()
    shutil.copy(FIXTURES / "valid" / "manifest.csv", folder)
    manifest(
        folder,
        users="delta",
        enrollments="delta",
        orgs="absent",
        academicSessions="absent",
        classes="absent",
        courses="absent",
    )
    header = _lines(FIXTURES / "valid", "users.csv")[0]
    (folder / "users.csv").write_text(
        f"{header}\ns-ben,tobedeleted,2026-09-01T00:00:00Z,true,org-north,student,ben.o,,Ben,"
        "O'Brien,,100002,,,,,05,\n",
        encoding="utf-8",
    )
    header = _lines(FIXTURES / "valid", "enrollments.csv")[0]
    # a new enrollment of a student and a class imported earlier
    (folder / "enrollments.csv").write_text(
        f"{header}\ne-20,,,class-sci5,org-north,s-cara,student,false,2026-09-01,\n",
        encoding="utf-8",
    )

    result = run(imported, folder)

    assert result.applied, [str(problem) for problem in result.problems]
    assert changes(result) == {"students": (0, 0, 1), "enrollments": (1, 0, 1)}
    assert not Student.objects.get(sourced_id="s-ben").is_active
    assert Student.objects.get(sourced_id="s-dev").is_active
    assert Enrollment.objects.get(sourced_id="e-20").classroom.sourced_id == "class-sci5"


def test_district_admin_account_is_never_deactivated_by_a_file(
    imported: District, tmp_path: Path
) -> None:
    rivera = User.objects.get(username="mrivera")
    rivera.is_district_admin = True
    rivera.save(update_fields=["is_district_admin"])
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "t-rivera,,", "t-rivera,tobedeleted,")

    result = run(imported, folder)

    assert result.applied
    rivera.refresh_from_db()
    assert rivera.is_active
    assert any("district admin" in str(warning) for warning in result.warnings)


def test_rows_made_in_thinslice_are_taken_over_by_code_and_sis_id(
    district: District,
) -> None:
    school = factories.SchoolFactory(district=district, name="North", code="NE01")
    student = factories.StudentFactory(district=district, sis_id="100001")

    result = run(district, FIXTURES / "valid")

    assert result.applied
    assert created(result)["schools"] == 1
    school.refresh_from_db()
    student.refresh_from_db()
    assert (school.sourced_id, school.name) == ("org-north", "North Elementary")
    assert (student.sourced_id, student.given_name) == ("s-ava", "Ava")


def test_import_into_one_district_leaves_others_alone(world: World) -> None:
    district_b = world.districts["b"]
    students_b = set(Student.objects.filter(district=district_b).values_list("pk", "sis_id"))

    result = run(same_system(world.districts["a"]), FIXTURES / "valid")

    assert result.applied
    assert School.objects.filter(district=world.districts["a"], sourced_id="org-north").exists()
    assert not School.objects.filter(district=district_b, sourced_id="org-north").exists()
    assert set(Student.objects.filter(district=district_b).values_list("pk", "sis_id")) == (
        students_b
    )


def test_two_districts_each_import_the_same_username(world: World) -> None:
    # Both districts take their roster from systems that export the same fixture's district org.
    first = run(same_system(world.districts["a"]), FIXTURES / "valid")
    second = run(same_system(world.districts["b"]), FIXTURES / "valid")

    assert first.applied, [str(problem) for problem in first.problems]
    assert second.applied, [str(problem) for problem in second.problems]
    riveras = User.objects.filter(username="mrivera")
    assert {user.district_id for user in riveras} == {
        world.districts["a"].pk,
        world.districts["b"].pk,
    }


def test_a_roster_never_takes_over_an_admin_account_it_did_not_create(
    district: District,
) -> None:
    admin = factories.UserFactory(username="mrivera", district=district, is_district_admin=True)
    before = (admin.password, admin.first_name, admin.sourced_id)

    result = run(district, FIXTURES / "valid")

    assert not result.applied
    problem = next(p for p in result.problems if p.column == "username")
    assert (problem.file, problem.line) == ("users.csv", 2)
    assert "made in Thinslice" in str(problem)
    admin.refresh_from_db()
    assert (admin.password, admin.first_name, admin.sourced_id) == before


def test_a_refused_username_never_names_another_districts_accounts(world: World) -> None:
    factories.UserFactory(username="mrivera", district=world.districts["b"])

    result = run(same_system(world.districts["a"]), FIXTURES / "valid")

    assert result.applied, [str(problem) for problem in result.problems]
    assert not any("mrivera" in str(warning) for warning in result.warnings)


# ---------------------------------------------------------------------------------------------
# Broken exports: a clear message naming file, line and column, and nothing changed
# ---------------------------------------------------------------------------------------------


def _remove_column(folder: Path, file: str, column: str) -> None:
    rows = list(csv.reader(io.StringIO((folder / file).read_text(encoding="utf-8"), newline="")))
    index = rows[0].index(column)
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(
        [cell for position, cell in enumerate(row) if position != index] for row in rows
    )
    (folder / file).write_text(buffer.getvalue(), encoding="utf-8")


def _latin1(folder: Path) -> None:
    text = (folder / "users.csv").read_text(encoding="utf-8").replace("Ramos", "Ramírez")
    (folder / "users.csv").write_bytes(text.encode("latin-1"))


def _utf16(folder: Path) -> None:
    text = (folder / "orgs.csv").read_text(encoding="utf-8")
    (folder / "orgs.csv").write_bytes(text.encode("utf-16"))


def _username_of_an_account_made_here(folder: Path) -> None:
    district = District.objects.get(name="Riverside Unified")
    factories.UserFactory(username="jdoe", district=district, is_district_admin=True)
    edit(folder, "users.csv", "teacher,mrivera,", "teacher,jdoe,")


def _sis_id_of_another_imported_student(folder: Path) -> None:
    edit(folder, "users.csv", "Cara,Patel,,,", "Cara,Patel,,100002,")


BROKEN: dict[str, tuple[Callable[[Path], None], str, int | None, str, str]] = {
    "missing required column": (
        lambda folder: _remove_column(folder, "users.csv", "givenName"),
        "users.csv",
        1,
        "givenName",
        "required column is missing",
    ),
    "broken class reference": (
        lambda folder: edit(folder, "enrollments.csv", "e-15,,,class-ela4", "e-15,,,class-art9"),
        "enrollments.csv",
        11,
        "classSourcedId",
        "no class with sourcedId 'class-art9' in classes.csv",
    ),
    "broken school reference": (
        lambda folder: edit(folder, "classes.csv", "Room 3,org-south", "Room 3,org-west"),
        "classes.csv",
        4,
        "schoolSourcedId",
        "no school with sourcedId 'org-west' in orgs.csv",
    ),
    "broken term reference": (
        lambda folder: edit(
            folder, "classes.csv", "org-north,sem-fall,Math", "org-north,sem-x,Math"
        ),
        "classes.csv",
        2,
        "termSourcedIds",
        "no term with sourcedId 'sem-x'",
    ),
    "duplicate sourcedId": (
        lambda folder: append(
            folder, "users.csv", "s-ava,,,true,org-north,student,ava2,,Ava,N,,100099,,,,,05,"
        ),
        "users.csv",
        11,
        "sourcedId",
        "'s-ava' is used twice (also on line 5)",
    ),
    "bad begin date": (
        lambda folder: edit(
            folder,
            "enrollments.csv",
            "s-dev,student,false,2026-08-17",
            "s-dev,student,false,08/17/2026",
        ),
        "enrollments.csv",
        10,
        "beginDate",
        "'08/17/2026' is not a date; write it as YYYY-MM-DD",
    ),
    "impossible session date": (
        lambda folder: edit(
            folder,
            "academicSessions.csv",
            "Spring 2027,semester,2027-01-19",
            "Spring 2027,semester,2027-02-30",
        ),
        "academicSessions.csv",
        4,
        "startDate",
        "'2027-02-30' is not a date",
    ),
    "bad dateLastModified": (
        lambda folder: edit(folder, "orgs.csv", "org-north,,", "org-north,,last tuesday"),
        "orgs.csv",
        3,
        "dateLastModified",
        "'last tuesday' is not a date and time",
    ),
    "unknown user role": (
        lambda folder: edit(
            folder, "users.csv", "org-south,student,dev.r", "org-south,pupil,dev.r"
        ),
        "users.csv",
        8,
        "role",
        "unknown role 'pupil'",
    ),
    "unknown enrollment role": (
        lambda folder: edit(folder, "enrollments.csv", "s-eli,student", "s-eli,learner"),
        "enrollments.csv",
        11,
        "role",
        "unknown enrollment role 'learner'",
    ),
    "unknown status": (
        lambda folder: edit(folder, "users.csv", "s-cara,,", "s-cara,archived,"),
        "users.csv",
        7,
        "status",
        "unknown status 'archived'",
    ),
    "unknown grade": (
        lambda folder: edit(folder, "users.csv", "Patel,,,,,,,05", "Patel,,,,,,,fifth"),
        "users.csv",
        7,
        "grades",
        "unknown grade 'fifth'",
    ),
    "latin-1 encoding": (_latin1, "users.csv", 8, "", "not UTF-8 text (byte 0xED"),
    "UTF-16 encoding": (_utf16, "orgs.csv", 1, "", "UTF-16"),
    "row with too many values": (
        lambda folder: edit(folder, "orgs.csv", "NE01,org-district", "NE01,org-district,extra"),
        "orgs.csv",
        3,
        "",
        "this row has 8 values but the header has 7 columns",
    ),
    "missing file": (
        lambda folder: (folder / "enrollments.csv").unlink(),
        "enrollments.csv",
        None,
        "",
        "manifest.csv says this file is bulk, but it is missing",
    ),
    "missing manifest": (
        lambda folder: (folder / "manifest.csv").unlink(),
        "manifest.csv",
        None,
        "",
        "no manifest.csv",
    ),
    "unknown manifest mode": (
        lambda folder: manifest(folder, users="full"),
        "manifest.csv",
        16,
        "value",
        "file.users is 'full'; use bulk, delta or absent",
    ),
    "enrollment role differs from the user's": (
        lambda folder: edit(folder, "enrollments.csv", "s-eli,student", "s-eli,teacher"),
        "enrollments.csv",
        11,
        "role",
        "the enrollment role is teacher, but user 's-eli' is a student",
    ),
    "username of an account made in Thinslice": (
        _username_of_an_account_made_here,
        "users.csv",
        2,
        "username",
        "the username 'jdoe' belongs to an account made in Thinslice, not by a roster import",
    ),
    "SIS id of another student": (
        _sis_id_of_another_imported_student,
        "users.csv",
        7,
        "identifier",
        "the same SIS id as line 6",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_export_names_file_line_and_column_and_changes_nothing(
    imported: District, tmp_path: Path, case: str
) -> None:
    break_it, file, line, column, message = BROKEN[case]
    folder = export_copy(tmp_path)
    # A change that would apply if the rest of the export were fine.
    edit(folder, "users.csv", "Ava,Nguyen", "Avery,Nguyen")
    break_it(folder)
    before = snapshot()
    audit_rows = AuditEvent.objects.count()

    result = run(imported, folder)

    assert not result.applied
    assert any(
        (problem.file, problem.line, problem.column) == (file, line, column)
        and message in problem.message
        for problem in result.problems
    ), [str(problem) for problem in result.problems]
    assert snapshot() == before
    assert Student.objects.get(sourced_id="s-ava").given_name == "Ava"
    assert AuditEvent.objects.count() == audit_rows + 1
    event = AuditEvent.objects.latest("pk")
    assert (event.kind, event.outcome) == ("roster_import", "failed")
    assert str(result.problems[0]) in event.result["problems"]


def test_broken_fixture_lists_every_problem_in_file_order(district: District) -> None:
    counts = row_counts()

    result = run(district, FIXTURES / "broken")

    shown = [str(problem) for problem in result.problems]
    assert shown[:4] == [
        "users.csv line 8, column role: unknown role 'pupil'; OneRoster 1.1 roles are "
        "administrator, aide, guardian, parent, proctor, relative, student, teacher.",
        "users.csv line 9, column grades: the grade is blank, and the student is in no class "
        "that gives one.",
        "users.csv line 11, column sourcedId: 's-ava' is used twice (also on line 5); every "
        "sourcedId in a file must be unique.",
        "enrollments.csv line 10, column beginDate: '08/17/2026' is not a date; write it as "
        "YYYY-MM-DD (e.g. 2026-08-17).",
    ]
    assert (
        "enrollments.csv line 11, column classSourcedId: no class with sourcedId 'class-art9' "
        "in classes.csv." in shown
    )
    assert row_counts() == counts


def test_not_a_zip_is_refused_with_a_clear_message(district: District) -> None:
    source = oneroster.roster_source_from_zip(data=b"sourcedId,name\n", label="roster.csv")

    result = oneroster.roster_import(actor=None, district=district, source=source, dry_run=True)

    assert [str(problem) for problem in result.problems] == [
        "roster.csv: this is not a zip file. Upload the OneRoster export as a .zip holding "
        "manifest.csv, orgs.csv, academicSessions.csv, users.csv, classes.csv and "
        "enrollments.csv."
    ]
    assert AuditEvent.objects.get(district=district).outcome == "failed"


def test_only_the_districts_admins_may_import(world: World) -> None:
    with pytest.raises(PermissionDenied):
        run(world.districts["a"], FIXTURES / "valid", actor=world.users["teacher_a1"])

    assert not School.objects.filter(sourced_id="org-north").exists()


# ---------------------------------------------------------------------------------------------
# The management command
# ---------------------------------------------------------------------------------------------


def test_command_imports_a_folder(district: District) -> None:
    out = io.StringIO()

    call_command("oneroster_import", str(FIXTURES / "valid"), district=district.pk, stdout=out)

    assert School.objects.filter(district=district).count() == 2
    assert "The import did create 28," in out.getvalue()
    event = AuditEvent.objects.get(district=district)
    assert (event.actor, event.actor_name) == (None, "server operator (manage.py)")


def test_command_dry_run_changes_nothing(district: District, tmp_path: Path) -> None:
    out = io.StringIO()
    archive = tmp_path / "export.zip"
    archive.write_bytes(zip_bytes(FIXTURES / "valid"))

    call_command("oneroster_import", str(archive), district=district.pk, dry_run=True, stdout=out)

    assert not School.objects.filter(district=district).exists()
    assert "Importing would create 28," in out.getvalue()


def test_command_fails_on_problems_and_names_them(district: District) -> None:
    err = io.StringIO()

    with pytest.raises(CommandError, match="5 problems: nothing was changed"):
        call_command(
            "oneroster_import",
            str(FIXTURES / "broken"),
            district=district.pk,
            stdout=io.StringIO(),
            stderr=err,
        )

    assert "users.csv line 8, column role: unknown role 'pupil'" in err.getvalue()
    assert not School.objects.filter(district=district).exists()


def test_command_refuses_an_unknown_district(db: Any) -> None:
    with pytest.raises(CommandError, match="no district with id 999"):
        call_command("oneroster_import", str(FIXTURES / "valid"), district=999)


# ---------------------------------------------------------------------------------------------
# The upload page
# ---------------------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _upload(client: Client, folder: Path = FIXTURES / "valid") -> Any:
    upload = SimpleUploadedFile("export.zip", zip_bytes(folder), content_type="application/zip")
    return client.post(reverse("roster-import"), {"file": upload})


@pytest.mark.parametrize("user_key", ["anonymous", "teacher_a1", "coach_a1", "no_role_a"])
def test_import_page_is_for_district_admins_only(
    world: World, upload_folder: Path, user_key: str
) -> None:
    client = _client(None if user_key == "anonymous" else world.users[user_key])
    before = row_counts()

    page = client.get(reverse("roster-import"))
    posted = _upload(client)

    if user_key == "anonymous":
        assert page.status_code == posted.status_code == 302
        assert page["Location"].startswith(reverse("login"))
    else:
        assert page.status_code == posted.status_code == 403
        assert "Only a district admin can import" in posted.content.decode()
    assert row_counts() == before
    assert not AuditEvent.objects.exists()


def test_admin_previews_then_applies_an_upload(world: World, upload_folder: Path) -> None:
    same_system(world.districts["a"])
    client = _client(world.users["admin_a"])
    assert client.get(reverse("roster-import")).status_code == 200

    preview = _upload(client)

    assert preview.status_code == 200
    # The world's school year has the fixture's dates, so it is adopted with one of its terms.
    assert "Importing would create 26, update 2" in preview.content.decode()
    assert not School.objects.filter(sourced_id="org-north").exists()
    token = preview.context["apply_form"].initial["token"]

    done = client.post(reverse("roster-import"), {"token": token})

    assert done.status_code == 200
    assert "The import did create 26, update 2" in done.content.decode()
    assert School.objects.get(sourced_id="org-north").district == world.districts["a"]
    kinds = list(
        AuditEvent.objects.filter(district=world.districts["a"])
        .order_by("pk")
        .values_list("kind", "outcome", "actor__username")
    )
    assert kinds == [
        ("roster_import_dry_run", "succeeded", "admin_a"),
        ("roster_import", "succeeded", "admin_a"),
    ]
    # The kept upload is gone: the same token cannot import twice.
    again = client.post(reverse("roster-import"), {"token": token})
    assert again.status_code == 400
    assert "imported already or has expired" in again.content.decode()
    assert not list(upload_folder.iterdir())


def test_broken_upload_shows_problems_and_no_apply_button(
    world: World, upload_folder: Path
) -> None:
    client = _client(world.users["admin_a"])

    preview = _upload(client, FIXTURES / "broken")

    content = preview.content.decode()
    assert preview.status_code == 200
    assert "5 problems: nothing was changed" in content
    assert "unknown role &#x27;pupil&#x27;" in content
    assert preview.context["apply_form"] is None
    assert not upload_folder.exists() or not list(upload_folder.iterdir())


def test_another_admins_token_is_refused(world: World, upload_folder: Path) -> None:
    same_system(world.districts["b"])
    preview = _upload(_client(world.users["admin_b"]))
    token = preview.context["apply_form"].initial["token"]
    before = row_counts()

    refused = _client(world.users["admin_a"]).post(reverse("roster-import"), {"token": token})

    assert refused.status_code == 400
    assert "belongs to someone else" in refused.content.decode()
    assert row_counts() == before


def test_forged_token_is_refused(world: World, upload_folder: Path) -> None:
    refused = _client(world.users["admin_a"]).post(
        reverse("roster-import"), {"token": "forged:token"}
    )

    assert refused.status_code == 400
    assert "cannot be read" in refused.content.decode()


def test_import_is_all_or_nothing_when_the_database_refuses(
    district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply = RosterPlan.apply

    def apply_then_fail(plan: Any) -> None:
        apply(plan)  # every row is written …
        raise IntegrityError("duplicate key value violates unique constraint")  # … then refused

    monkeypatch.setattr(RosterPlan, "apply", apply_then_fail)
    counts = row_counts()

    result = run(district, FIXTURES / "valid")

    assert not result.applied
    assert "the database refused the import, so nothing was changed" in str(result.problems[0])
    assert row_counts() == counts
    assert AuditEvent.objects.get(district=district).outcome == "failed"
