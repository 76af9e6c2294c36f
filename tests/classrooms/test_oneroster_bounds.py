"""Bounded work for any upload: an export is read as a stream, so a zip of blank lines is refused
with a clear problem in bounded memory; any byte sequence (NUL, bytes that are not UTF-8, a very
long line) is a row problem in the dry run, never a 500; a failed import is audited; and the
import applies the plan its dry run made without reading the export again.
"""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError

from classrooms import oneroster
from classrooms.models import AuditEvent, District, School, Student
from classrooms.oneroster import reading
from classrooms.oneroster.apply import plan_apply
from tests import factories
from tests.classrooms.test_oneroster import (
    FIXTURES,
    edit,
    export_copy,
    row_counts,
    run,
    zip_bytes,
)


def _zip_with_blank_lines(folder: Path, file: str, megabytes: int) -> bytes:
    """The export of ``folder`` with ``megabytes`` MB of blank lines after ``file``'s rows."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            with archive.open(path.name, "w", force_zip64=True) as member:
                member.write(path.read_bytes())
                if path.name == file:
                    block = b"\n" * (1 << 20)
                    for _ in range(megabytes):
                        member.write(block)
    return buffer.getvalue()


def test_a_zip_of_blank_lines_is_refused_in_bounded_memory(district: District) -> None:
    data = _zip_with_blank_lines(FIXTURES / "valid", "users.csv", 200)
    assert len(data) < 1_000_000  # 200 MB of newlines zip to a few hundred KB

    tracemalloc.start()
    try:
        source = oneroster.roster_source_from_zip(data=data, label="bomb.zip")
        result = oneroster.roster_import(actor=None, district=district, source=source, dry_run=True)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [str(problem) for problem in result.problems] == [
        "users.csv line 11: more than 1,000 blank lines in a row from this line; this does not "
        "look like a OneRoster export, so it was not read further."
    ]
    assert peak < 30_000_000, f"peak {peak / 1e6:.0f} MB"
    assert AuditEvent.objects.get(district=district).outcome == "failed"


def test_a_nul_in_a_name_is_a_problem_of_the_dry_run(district: District, tmp_path: Path) -> None:
    folder = export_copy(tmp_path)
    edit(folder, "users.csv", "Ava,Nguyen", "Ava,Ngu\x00yen")

    dry_run = run(district, folder, dry_run=True)
    applied = run(district, folder)

    expected = [
        "users.csv line 5, column familyName: this value holds a NUL character (byte 0x00), "
        "which cannot be stored; remove it in the export and import again."
    ]
    assert [str(problem) for problem in dry_run.problems] == expected
    assert [str(problem) for problem in applied.problems] == expected
    assert not Student.objects.exists()
    assert list(AuditEvent.objects.order_by("pk").values_list("kind", "outcome")) == [
        ("roster_import_dry_run", "failed"),
        ("roster_import", "failed"),
    ]


def test_bytes_that_are_not_utf8_name_their_line(district: District, tmp_path: Path) -> None:
    folder = export_copy(tmp_path)
    users = folder / "users.csv"
    users.write_bytes(users.read_bytes().replace(b"Dev,Ramos", b"Dev,Ram\xf6s"))

    result = run(district, folder, dry_run=True)

    assert [str(problem) for problem in result.problems] == [
        "users.csv line 8: the file is not UTF-8 text (byte 0xF6 cannot be read); save it as "
        'UTF-8 ("CSV UTF-8" in Excel) and import again.'
    ]


def test_an_overlong_line_is_a_problem(district: District, tmp_path: Path) -> None:
    folder = export_copy(tmp_path)
    with (folder / "classes.csv").open("a", encoding="utf-8") as handle:
        handle.write("x" * (reading.MAX_LINE_CHARACTERS + 10) + "\n")

    result = run(district, folder, dry_run=True)

    assert [problem.file for problem in result.problems] == ["classes.csv"]
    assert "longer than 100,000 characters" in result.problems[0].message


def test_a_database_refusal_while_applying_is_audited_not_a_500(
    district: District, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(plan: Any, log: Any) -> None:
        plan_apply(plan, log)
        raise DataError("PostgreSQL text fields cannot contain NUL (0x00) bytes")

    monkeypatch.setattr("classrooms.oneroster.plan.plan_apply", refuse)
    before = row_counts()

    result = run(district, FIXTURES / "valid")

    assert not result.applied
    assert "the database refused the import" in str(result.problems[0])
    assert row_counts() == before
    assert AuditEvent.objects.get(district=district).outcome == "failed"


def _dry_run_and_keep(district: District, data: bytes, admin: Any) -> str:
    source = oneroster.roster_source_from_zip(data=data, label="export.zip")
    result = oneroster.roster_import(actor=admin, district=district, source=source, dry_run=True)
    assert result.is_valid
    return oneroster.roster_plan_keep(
        actor=admin, district=district, plan=result.plan, filename="export.zip"
    )


@pytest.fixture
def admin(district: District, settings: Any, tmp_path: Path) -> Any:
    settings.THINSLICE_ROSTER_UPLOAD_DIR = str(tmp_path / "uploads")
    return factories.UserFactory(district=district, is_district_admin=True)


def test_the_import_applies_the_dry_runs_plan_without_reading_the_export_again(
    district: District, admin: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = _dry_run_and_keep(district, zip_bytes(FIXTURES / "valid"), admin)

    def no_second_read(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the export was read again")

    monkeypatch.setattr(reading, "_read_rows", no_second_read)
    result, filename = oneroster.roster_import_kept(
        actor=admin, district=district, token=token, confirm_district=False
    )

    assert result.applied, [str(problem) for problem in result.problems]
    assert filename == "export.zip"
    assert School.objects.filter(district=district).count() == 2
    with pytest.raises(ValidationError, match="imported already"):
        oneroster.roster_import_kept(
            actor=admin, district=district, token=token, confirm_district=False
        )


def test_a_plan_is_not_applied_once_the_roster_changed_since_its_dry_run(
    district: District, admin: Any
) -> None:
    token = _dry_run_and_keep(district, zip_bytes(FIXTURES / "valid"), admin)
    factories.SchoolFactory(district=district, name="Made meanwhile")
    before = row_counts()

    result, _ = oneroster.roster_import_kept(
        actor=admin, district=district, token=token, confirm_district=False
    )

    assert not result.applied
    assert "roster changed since this dry run" in str(result.problems[0])
    assert row_counts() == before
