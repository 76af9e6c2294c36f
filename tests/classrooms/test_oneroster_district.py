"""The right district and the same school year: an export of another district is refused until
the district admin confirms it, and a school year or term is found by its dates whatever its title.
"""

from __future__ import annotations

import datetime
from pathlib import Path

from django.urls import reverse

from classrooms.models import AcademicYear, AuditEvent, District, School, Term
from tests import factories
from tests.classrooms.test_oneroster import (
    FIXTURES,
    _client,
    _upload,
    changes,
    edit,
    export_copy,
    row_counts,
    run,
)
from tests.conftest import World


def test_another_districts_export_is_refused_until_confirmed(db: None) -> None:
    riverbend = factories.DistrictFactory(name="Riverbend Unified")
    before = row_counts()

    dry_run = run(riverbend, FIXTURES / "valid", dry_run=True)
    unconfirmed = run(riverbend, FIXTURES / "valid")

    assert "for the district 'Riverside Unified' (identifier RUSD, sourcedId org-district)" in (
        dry_run.district_mismatch
    )
    assert "not Riverbend Unified" in dry_run.district_mismatch
    assert dry_run.is_valid  # the plan is shown, with the question
    assert not unconfirmed.applied
    assert any("Riverside Unified" in str(problem) for problem in unconfirmed.problems)
    assert row_counts() == before
    assert AuditEvent.objects.filter(district=riverbend, kind="roster_import").get().outcome == (
        "failed"
    )

    confirmed = run(riverbend, FIXTURES / "valid", confirm_district=True)

    assert confirmed.applied
    riverbend.refresh_from_db()
    assert (riverbend.oneroster_sourced_id, riverbend.oneroster_identifier) == (
        "org-district",
        "RUSD",
    )
    # Confirmed once, the same system's district org is this district from now on.
    assert run(riverbend, FIXTURES / "valid").applied


def test_the_districts_own_export_needs_no_confirmation(db: None) -> None:
    district = factories.DistrictFactory(name="riverside  unified")

    result = run(district, FIXTURES / "valid")

    assert result.applied
    assert result.district_mismatch == ""


def test_a_recorded_district_refuses_another_systems_district_of_the_same_name(
    db: None, tmp_path: Path
) -> None:
    district = factories.DistrictFactory(name="Riverside Unified")
    assert run(district, FIXTURES / "valid").applied
    folder = export_copy(tmp_path)
    edit(folder, "orgs.csv", "org-district,,,Riverside Unified", "org-other,,,Riverside Unified")
    for file in ("orgs.csv",):
        edit(folder, file, "NE01,org-district", "NE01,org-other")
        edit(folder, file, "SE02,org-district", "SE02,org-other")
    edit(folder, "users.csv", "true,org-district,administrator", "true,org-other,administrator")

    result = run(district, folder, dry_run=True)

    assert "sourcedId org-other" in result.district_mismatch
    assert "Earlier imports into Riverside Unified came from" in result.district_mismatch


def test_a_school_year_with_another_title_but_the_same_dates_is_the_same_year(
    db: None,
) -> None:
    district = factories.DistrictFactory(name="Riverside Unified")
    year = AcademicYear.objects.create(
        district=district,
        name="2026–27",
        start_date=datetime.date(2026, 8, 17),
        end_date=datetime.date(2027, 6, 11),
    )
    fall = Term.objects.create(
        academic_year=year,
        name="Autumn",
        start_date=datetime.date(2026, 8, 17),
        end_date=datetime.date(2027, 1, 15),
    )

    result = run(district, FIXTURES / "valid")

    assert result.applied
    assert changes(result)["academic_years"] == (0, 1, 0)
    assert list(AcademicYear.objects.filter(district=district).values_list("pk", flat=True)) == [
        year.pk
    ]
    year.refresh_from_db()
    assert (year.name, year.sourced_id) == ("2026-2027", "year-2027")
    fall.refresh_from_db()
    assert (fall.name, fall.sourced_id) == ("Fall 2026", "sem-fall")
    assert any("'2026–27' has the same dates" in str(note) for note in result.warnings)
    # … and importing again is a no-op.
    assert changes(run(district, FIXTURES / "valid")) == {}


def test_two_school_years_with_the_same_dates_in_one_file_are_a_problem(
    district: District, tmp_path: Path
) -> None:
    folder = export_copy(tmp_path)
    with (folder / "academicSessions.csv").open("a", encoding="utf-8") as handle:
        handle.write("year-dup,,,SY 26-27,schoolYear,2026-08-17,2027-06-11,,2027\n")

    result = run(district, folder, dry_run=True)

    assert [str(problem) for problem in result.problems] == [
        "academicSessions.csv line 6, column startDate: the same school year dates as line 2."
    ]


def test_the_preview_asks_and_the_import_needs_the_confirmation(
    world: World, upload_folder: Path
) -> None:
    client = _client(world.users["admin_a"])

    preview = _upload(client)

    content = preview.content.decode()
    assert "Is this District A's roster?" in content
    assert 'name="confirm_district"' in content
    token = preview.context["apply_form"].initial["token"]

    refused = client.post(reverse("roster-import"), {"token": token})

    assert "Riverside Unified" in refused.content.decode()
    assert not School.objects.filter(sourced_id="org-north").exists()

    again = _upload(client).context["apply_form"].initial["token"]
    done = client.post(reverse("roster-import"), {"token": again, "confirm_district": "on"})

    assert "The import did create" in done.content.decode()
    assert School.objects.get(sourced_id="org-north").district == world.districts["a"]
