"""Roster import benchmark (issue 17): a OneRoster set of 100 000 students, 4 000 classes and
250 000 enrollments imported into an empty district (dry run, then apply) and imported again
unchanged; each step's time and the process's peak memory (so far) printed, and the time
PostgreSQL's COPY takes to load the same CSV rows into staging tables, measured in the same run.

Targets: apply ≤ 3 × COPY; re-import of the unchanged set ≤ 1 × COPY.

    .venv/bin/python -m bench.roster_import [--students 100000] [--classes 4000] \
        [--enrollments 250000] [--json bench/results/roster_import.json] [--check]
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.harness import (
    ScratchDatabase,
    add_scratch_run_arguments,
    clean_up_on_sigterm,
    django_close,
    django_setup,
    production_env,
)

APPLY_TARGET = 3.0
REIMPORT_TARGET = 1.0
SCHOOLS = 40
DISTRICT_NAME = "Bench Unified"


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--classes", type=int, default=4_000)
    parser.add_argument("--enrollments", type=int, default=250_000)
    add_scratch_run_arguments(
        parser, results_name="roster_import.json", database="thinslice_bench_roster"
    )
    return parser.parse_args(argv)


def _write(path: Path, header: list[str], rows: Any) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def write_export(folder: Path, students: int, classes: int, enrollments: int) -> None:
    """A bulk OneRoster 1.1 set: one district org, SCHOOLS schools, a school year with two
    semesters, a teacher per class, the students spread over the classes."""
    teachers = classes
    _write(
        folder / "manifest.csv",
        ["propertyName", "value"],
        [
            ("manifest.version", "1.0"),
            ("oneroster.version", "1.1"),
            *((f"file.{name}", "bulk") for name in ("academicSessions", "classes", "enrollments")),
            *((f"file.{name}", "bulk") for name in ("orgs", "users")),
            ("file.courses", "absent"),
            ("file.demographics", "absent"),
        ],
    )
    _write(
        folder / "orgs.csv",
        "sourcedId status dateLastModified name type identifier parentSourcedId".split(),
        [
            ("org-district", "", "", DISTRICT_NAME, "district", "BU", ""),
            *(
                (f"org-{n}", "", "", f"School {n}", "school", f"S{n:03d}", "org-district")
                for n in range(SCHOOLS)
            ),
        ],
    )
    _write(
        folder / "academicSessions.csv",
        "sourcedId status dateLastModified title type startDate endDate parentSourcedId "
        "schoolYear".split(),
        [
            ("year", "", "", "2026-2027", "schoolYear", "2026-08-17", "2027-06-11", "", "2027"),
            ("fall", "", "", "Fall", "semester", "2026-08-17", "2027-01-15", "year", "2027"),
            ("spring", "", "", "Spring", "semester", "2027-01-19", "2027-06-11", "year", "2027"),
        ],
    )
    _write(
        folder / "classes.csv",
        "sourcedId status dateLastModified title grades courseSourcedId classCode classType "
        "location schoolSourcedId termSourcedIds subjects".split(),
        (
            (
                f"c-{n}",
                "",
                "",
                f"Class {n}",
                f"{n % 12 + 1:02d}",
                "",
                f"C{n}",
                "scheduled",
                "",
                f"org-{n % SCHOOLS}",
                "fall" if n % 2 else "spring",
                "Math",
            )
            for n in range(classes)
        ),
    )
    _write(
        folder / "users.csv",
        "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds "
        "givenName familyName middleName identifier email".split(),
        (
            *(
                (f"t-{n}", "", "", "true", f"org-{n % SCHOOLS}", "teacher", f"bench.t{n}", "")
                + (f"Teacher{n}", "Bench", "", f"T{n}", f"t{n}@bench.example")
                for n in range(teachers)
            ),
            *(
                (f"s-{n}", "", "", "true", f"org-{n % SCHOOLS}", "student", f"bench.s{n}", "")
                + (f"Student{n}", "Bench", "", f"{100000 + n}", "")
                for n in range(students)
            ),
        ),
    )

    def enrollment_rows() -> Any:
        for n in range(classes):
            yield (f"e-t{n}", "", "", f"c-{n}", f"org-{n % SCHOOLS}", f"t-{n}", "teacher")
        per_school = max(classes // SCHOOLS, 1)
        for n in range(enrollments):
            # The j-th class of a student is the j-th after their own one in their school.
            student, j = n % students, n // students
            school = student % SCHOOLS
            room = school + SCHOOLS * ((student // SCHOOLS + j) % per_school)
            yield (f"e-{n}", "", "", f"c-{room}", f"org-{school}", f"s-{student}")

    _write(
        folder / "enrollments.csv",
        "sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId "
        "role".split(),
        (row if len(row) == 7 else (*row, "student") for row in enrollment_rows()),
    )


def timed(step: Callable[[], Any]) -> tuple[Any, float, int]:
    """The step's result, its seconds and the process's peak resident memory so far in bytes
    (getrusage: no tracing overhead in the times; the peak only grows, step after step)."""
    started = time.perf_counter()
    result = step()
    seconds = time.perf_counter() - started
    return result, seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def copy_seconds(folder: Path) -> float:
    """COPY every CSV file of the set into an unlogged staging table of text columns."""
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        for path in sorted(folder.glob("*.csv")):
            with path.open(encoding="utf-8") as handle:
                header = next(csv.reader(handle))
            table = f"staging_{path.stem.lower()}"
            columns = ", ".join(f'"{name}" text' for name in header)
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
            cursor.execute(f"CREATE UNLOGGED TABLE {table} ({columns})")
            with cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy:
                with path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
    return time.perf_counter() - started


def measure(students: int, classes: int, enrollments: int) -> dict[str, Any]:
    from django.core.management import call_command

    from classrooms import oneroster
    from classrooms.models import District

    call_command("migrate", verbosity=0)
    district = District.objects.create(name=DISTRICT_NAME)
    with tempfile.TemporaryDirectory(prefix="thinslice-bench-roster-") as folder_name:
        folder = Path(folder_name)
        write_export(folder, students, classes, enrollments)

        def run(dry_run: bool) -> Any:
            source = oneroster.roster_source_from_path(path=folder)
            result = oneroster.roster_import(
                actor=None, district=district, source=source, dry_run=dry_run
            )
            if result.problems:
                raise SystemExit("\n".join(str(problem) for problem in result.problems[:20]))
            return result

        dry_run, dry_seconds, dry_peak = timed(lambda: run(True))
        applied, apply_seconds, apply_peak = timed(lambda: run(False))
        again, again_seconds, again_peak = timed(lambda: run(False))
        copy = copy_seconds(folder)
    return {
        "students": students,
        "classes": classes,
        "enrollments": enrollments,
        "rows": dry_run.row_count,
        "created": sum(counts.creates for counts in applied.counts.values()),
        "reimport_changes": again.change_count,
        "dry_run_s": dry_seconds,
        "dry_run_peak_mb": dry_peak / 1e6,
        "apply_s": apply_seconds,
        "apply_peak_mb": apply_peak / 1e6,
        "reimport_s": again_seconds,
        "reimport_peak_mb": again_peak / 1e6,
        "copy_s": copy,
        "apply_ratio": apply_seconds / copy,
        "reimport_ratio": again_seconds / copy,
    }


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    clean_up_on_sigterm()
    database = ScratchDatabase(server_url=options.pg, name=options.database)
    try:
        print(f"Scratch database {database.name} (PostgreSQL {database.server_version()})")
        database.create()
        django_setup(production_env(database.url))
        result = measure(options.students, options.classes, options.enrollments)
    finally:
        django_close()
        database.drop()
    print(
        f"{result['students']} students, {result['classes']} classes, {result['enrollments']} "
        f"enrollments ({result['rows']} rows, {result['created']} created):\n"
        f"  dry run   {result['dry_run_s']:8.2f} s, peak {result['dry_run_peak_mb']:7.1f} MB\n"
        f"  apply     {result['apply_s']:8.2f} s, peak {result['apply_peak_mb']:7.1f} MB\n"
        f"  re-import {result['reimport_s']:8.2f} s, peak {result['reimport_peak_mb']:7.1f} MB "
        f"({result['reimport_changes']} changes)\n"
        f"  COPY      {result['copy_s']:8.2f} s\n"
        f"apply / COPY = {result['apply_ratio']:.2f}× (target ≤ {APPLY_TARGET:g}×), "
        f"re-import / COPY = {result['reimport_ratio']:.2f}× (target ≤ {REIMPORT_TARGET:g}×)"
    )
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    missed = result["apply_ratio"] > APPLY_TARGET or result["reimport_ratio"] > REIMPORT_TARGET
    return 3 if options.check and missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
