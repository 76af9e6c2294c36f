"""Benchmark: the full growth rebuild beside one PostgreSQL aggregate query over the same scores,
and the incremental rebuild after one class's scores change.

    .venv/bin/python -m bench.growth_rebuild [--students 20000 100000] [--repeat 3]
                                             [--json bench/results/growth_rebuild.json]

One command does everything, per size: a scratch PostgreSQL database (dropped first if it
exists), ``migrate``, ``seed_demo --students N``, ``ANALYZE``, then in this process, ``--repeat``
rounds, each running one after the other (so load from elsewhere falls on all alike):

1. **Reference**: one SQL statement over the same scores that computes the growth summaries
   directly: each student's pre% and post% (pivot), then n, incomplete, means, SDs, mean gain
   and mean g per classroom unit, school × unit and district × unit, for everyone and for each
   student group and its rest (GROUPING SETS), as PERFORMANCE.md describes. It stores nothing.
   Run with PostgreSQL's defaults and with the rebuild's own session settings (``jit = off``,
   ``work_mem = 256MB``).
2. **First build** (``reports.services.growth_rebuild``, what ``manage.py growth_rebuild`` and
   the periodic task run) on empty growth tables: student rows and summaries are emptied first.
3. **Periodic rebuild** over unchanged scores: every student row is computed again from the
   scores and compared with the stored one; a unit whose student rows, student groups and
   classroom units are those its summaries were built from is left alone, so no summary is
   built and nothing but the build times is written.

The best round of each counts; the target (issue 11) is periodic rebuild ≤ 1.5 × reference.
The first build, which writes every row the reference does not, is reported beside it. Each
rebuild's phases are timed (``phase`` hook of the service). The t quantiles of the 95%
intervals come from SciPy; what a new worker pays for them (SciPy's import) is measured apart.

4. **Incremental rebuild** (``reports.services.classroom_unit_growth_rebuild``, what the Celery
   task runs after a score change) of one class, ``--repeat`` × 3 times each, median: after a
   post score's points change (who counts stays the same) and after a post score is marked
   absent and back (the class's counts change, so suppression is solved again). Reported with
   the queries it ran and the summary rows it wrote; neither should grow with the district.
5. **A save during a full rebuild**: a teacher's whole-class save through the save service,
   timed alone and while a full rebuild runs in another connection (target: within 2×).

Prints a table and writes the figures as JSON; the scratch database is dropped whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import (
    ScratchDatabase,
    add_scratch_run_arguments,
    clean_up_on_sigterm,
    django_close,
    django_setup,
    git_commit,
    manage,
    production_env,
)

TARGET_RATIO = 1.5

# One aggregate query over the scores: pivot each student's pre and post percentage, then every
# group statistic that has a plain SQL aggregate, for classroom units, school × unit and district ×
# unit, for everyone and for each student group against the rest.
REFERENCE_SQL = """
WITH per_student AS (
  SELECT sc.classroom_unit_id, sc.student_id,
    100 * sum(sc.points) FILTER (WHERE a.kind = 'pre' AND sc.status = 'scored')
        / sum(ask.max_points) FILTER (WHERE a.kind = 'pre' AND sc.status = 'scored') AS pre,
    100 * sum(sc.points) FILTER (WHERE a.kind = 'post' AND sc.status = 'scored')
        / sum(ask.max_points) FILTER (WHERE a.kind = 'post' AND sc.status = 'scored') AS post
  FROM assessments_score sc
  JOIN units_assessmentskill ask ON ask.id = sc.assessment_skill_id
  JOIN units_assessment a ON a.id = ask.assessment_id
  GROUP BY sc.classroom_unit_id, sc.student_id
), facts AS (
  SELECT ps.classroom_unit_id, ps.student_id, s.district_id, c.school_id, cu.unit_id,
         ps.pre::float8 AS pre, ps.post::float8 AS post, (ps.post - ps.pre)::float8 AS gain,
         CASE WHEN ps.pre < 100 THEN ((ps.post - ps.pre) / (100 - ps.pre))::float8 END AS g
  FROM per_student ps
  JOIN units_classroomunit cu ON cu.id = ps.classroom_unit_id
  JOIN classrooms_classroom c ON c.id = cu.classroom_id
  JOIN classrooms_school s ON s.id = c.school_id
), parts AS (
  SELECT f.*, g.id AS group_id, (m.student_id IS NOT NULL) AS in_group
  FROM facts f
  JOIN classrooms_studentgroup g ON g.district_id = f.district_id
  LEFT JOIN classrooms_student_groups m
         ON m.student_id = f.student_id AND m.studentgroup_id = g.id
  UNION ALL
  SELECT f.*, NULL, NULL FROM facts f
)
SELECT district_id, school_id, unit_id, classroom_unit_id, group_id, in_group,
  count(*) FILTER (WHERE gain IS NOT NULL) AS n,
  count(*) FILTER (WHERE gain IS NULL) AS incomplete,
  avg(pre) FILTER (WHERE gain IS NOT NULL), avg(post) FILTER (WHERE gain IS NOT NULL),
  avg(gain), stddev_samp(gain),
  stddev_samp(pre) FILTER (WHERE gain IS NOT NULL),
  stddev_samp(post) FILTER (WHERE gain IS NOT NULL),
  avg(g), count(g)
FROM parts
GROUP BY GROUPING SETS (
  (district_id, school_id, unit_id, classroom_unit_id, group_id, in_group),
  (district_id, school_id, unit_id, group_id, in_group),
  (district_id, unit_id, group_id, in_group)
)
"""

REBUILD_SESSION = ("SET LOCAL jit = off", "SET LOCAL work_mem = '256MB'")


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.growth_rebuild",
        description=(
            "Full growth rebuild beside one PostgreSQL aggregate query over the same scores "
            f"(target ≤ {TARGET_RATIO:g}×), and the incremental rebuild of one class."
        ),
    )
    parser.add_argument(
        "--students",
        type=int,
        nargs="+",
        default=[20_000, 100_000],
        help="seed_demo sizes, one run each (20000 100000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed repetitions (3)")
    add_scratch_run_arguments(
        parser, results_name="growth_rebuild.json", database="thinslice_growth_bench"
    )
    options = parser.parse_args(argv)
    if options.repeat < 1 or any(size < 30 for size in options.students):
        parser.error("--repeat must be ≥ 1 and every size ≥ 30 students")
    if any(size > 500_000 for size in options.students):
        parser.error("a run is bounded: at most 500000 students")
    return options


def _phase_timer(phases: dict[str, float]) -> Callable[[str], Any]:
    """The service's ``phase`` hook: adds each step's seconds to ``phases``."""

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - started

    return phase


def _reference(label: str) -> tuple[float, int]:
    """Seconds and rows of one run of the reference query."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        if label == "rebuild settings":
            for setting in REBUILD_SESSION:
                cursor.execute(setting)
        started = time.perf_counter()
        cursor.execute(REFERENCE_SQL)
        rows = len(cursor.fetchall())
        return time.perf_counter() - started, rows


def _empty_growth_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reports_studentgrowth, reports_classroomunitgrowthsummary,"
            " reports_schoolunitgrowthsummary, reports_districtunitgrowthsummary"
        )


def _rebuild() -> dict[str, Any]:
    """One full rebuild of every district: seconds, phases and what it built and wrote."""
    from reports import services

    phases: dict[str, float] = {}
    started = time.perf_counter()
    results = services.growth_rebuild(phase=_phase_timer(phases))
    elapsed = time.perf_counter() - started
    return {
        "s": elapsed,
        "phases_s": phases,
        "classroom_units": sum(result.classroom_units for result in results),
        "student_rows": sum(result.student_rows for result in results),
        "student_rows_written": sum(result.student_rows_written for result in results),
        "summary_rows": sum(result.summary_rows for result in results),
        "summary_rows_written": sum(result.summary_rows_written for result in results),
    }


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    best = min(runs, key=lambda run: run["s"])
    return {**best, "all_s": [run["s"] for run in runs]}


def full_rebuild_rounds(repeat: int) -> dict[str, Any]:
    """``repeat`` rounds of: the reference (both settings), a first build on emptied growth
    tables, a periodic rebuild over unchanged scores. Best of each."""
    references: dict[str, list[float]] = {"defaults": [], "rebuild settings": []}
    first: list[dict[str, Any]] = []
    steady: list[dict[str, Any]] = []
    rows = 0
    for number in range(repeat):
        for label in references:
            seconds, rows = _reference(label)
            references[label].append(seconds)
        _empty_growth_tables()
        first.append(_rebuild())
        steady.append(_rebuild())
        print(
            f"  round {number + 1}: reference "
            + " / ".join(f"{values[-1]:.2f}" for values in references.values())
            + f" s, first build {first[-1]['s']:.2f} s, periodic rebuild {steady[-1]['s']:.2f} s"
        )
    best_reference = {label: min(values) for label, values in references.items()}
    return {
        "reference_s": min(best_reference.values()),
        "reference_by_settings_s": best_reference,
        "reference_all_s": references,
        "reference_rows": rows,
        "first": _best(first),
        "steady": _best(steady),
    }


def first_quantiles() -> dict[str, Any]:
    """What Student's t quantiles cost a new worker process: SciPy's first import and the
    quantiles of every distinct n of the stored rows (later rebuilds compute them in
    microseconds)."""
    import subprocess

    from reports.models import (
        ClassroomUnitGrowthSummary,
        DistrictUnitGrowthSummary,
        SchoolUnitGrowthSummary,
    )

    sizes: set[int] = set()
    for model in (ClassroomUnitGrowthSummary, SchoolUnitGrowthSummary, DistrictUnitGrowthSummary):
        # cross-tenant: the benchmark reads every row it built.
        sizes.update(
            model.objects.all_schools()
            .filter(is_suppressed=False, n__gte=2)
            .values_list("n", flat=True)
            .distinct()
        )
    program = (
        "import time; started = time.perf_counter()\n"
        "from reports.growth import confidence_t_quantiles\n"
        f"confidence_t_quantiles({sorted(sizes)!r})\n"
        "print(time.perf_counter() - started)"
    )
    output = subprocess.run(  # noqa: S603 - this interpreter, a fixed program
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    ).stdout
    return {"distinct_n": len(sizes), "s": float(output.strip())}


def save_during_rebuild(repeat: int) -> dict[str, Any]:
    """A teacher's whole-class save (through the save service, committed, with the growth
    update it marks) timed on its own and while a full rebuild of the district runs in another
    connection: the rebuild must not hold it up (issue 11: within 2× its usual time)."""
    import threading

    from django.db import connections

    from assessments.models import Score
    from assessments.services import ScoreEntry, scores_save
    from reports import services
    from reports.tasks import classroom_unit_growth_rebuild_task

    # cross-tenant: the benchmark picks the class with the first post-assessment score.
    first = (
        Score.objects.all_schools()
        .filter(assessment_skill__assessment__kind="post")
        .select_related("classroom_unit__classroom", "assessment_skill__assessment")
        .order_by("pk")
        .first()
    )
    if first is None:
        raise SystemExit("The seeded district has no post-assessment score to save.")
    classroom_unit = first.classroom_unit
    assessment = first.assessment_skill.assessment
    teacher = classroom_unit.classroom.teachers.first()
    cells = list(
        Score.objects.all_schools()
        .filter(classroom_unit=classroom_unit, assessment_skill__assessment=assessment)
        .select_related("assessment_skill__skill")
    )
    versions = {(cell.student_id, cell.assessment_skill.skill.code): cell.version for cell in cells}

    def save(number: int) -> float:
        entries = []
        for (student_id, code), version in versions.items():
            value = "1" if number % 2 == 0 else "0"
            entries.append(ScoreEntry(student_id, code, value, expected_version=version))
        started = time.perf_counter()
        result = scores_save(
            actor=teacher, classroom_unit=classroom_unit, assessment=assessment, entries=entries
        )
        elapsed = time.perf_counter() - started
        for row in result.saved:
            versions[(row["student_id"], row["skill_code"])] = row["version"]
        return elapsed

    # The rebuilds a save queues run on a Celery worker in production, not in the save; here
    # they are only counted, so that the save's own time is measured (no broker: they would
    # run inline).
    queued: list[int] = []
    classroom_unit_growth_rebuild_task.apply_async = lambda args, countdown: queued.append(args[0])
    alone = [save(number) for number in range(repeat * 5)]
    during: list[float] = []
    rebuilding = threading.Event()

    def rebuild() -> None:
        try:
            rebuilding.set()
            services.growth_rebuild()
        finally:
            rebuilding.clear()
            connections.close_all()

    thread = threading.Thread(target=rebuild)
    thread.start()
    rebuilding.wait(10)
    number = 0
    while thread.is_alive():
        during.append(save(number))
        number += 1
        time.sleep(0.05)
    thread.join()
    return {
        "cells": len(versions),
        "alone_median_ms": statistics.median(alone) * 1000,
        "during_median_ms": statistics.median(during) * 1000 if during else None,
        "during_max_ms": max(during) * 1000 if during else None,
        "during_saves": len(during),
        "ratio": statistics.median(during) / statistics.median(alone) if during else None,
    }


def _summary_rows_at(built_at: Any) -> int:
    from reports.models import (
        ClassroomUnitGrowthSummary,
        DistrictUnitGrowthSummary,
        SchoolUnitGrowthSummary,
    )

    # cross-tenant: the benchmark counts the rows one rebuild wrote.
    return sum(
        model.objects.all_schools().filter(built_at=built_at).count()
        for model in (
            ClassroomUnitGrowthSummary,
            SchoolUnitGrowthSummary,
            DistrictUnitGrowthSummary,
        )
    )


def incremental_times(repeat: int) -> dict[str, Any]:
    """Change one post score of one class, then rebuild that classroom unit and its roll-ups:
    points only (the class's counts stay), then absent and back (they change)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessments.models import Score, ScoreStatus
    from reports import services
    from reports.models import GrowthBuild

    # cross-tenant: the benchmark picks any class with post-assessment scores.
    score = (
        Score.objects.all_schools()
        .filter(assessment_skill__assessment__kind="post", status=ScoreStatus.SCORED)
        .select_related("assessment_skill", "classroom_unit")
        .order_by("pk")
        .first()
    )
    if score is None:
        raise SystemExit("The seeded district has no post-assessment score to change.")
    classroom_unit_id = score.classroom_unit_id
    class_size = (
        Score.objects.all_schools()
        .filter(classroom_unit_id=classroom_unit_id)
        .values("student_id")
        .distinct()
        .count()
    )
    maximum = score.assessment_skill.max_points
    scores = Score.objects.all_schools().filter(pk=score.pk)
    edits: dict[str, Callable[[int], Any]] = {
        "points": lambda number: scores.update(points=maximum if number % 2 == 0 else 0),
        "absent": lambda number: (
            scores.update(status=ScoreStatus.ABSENT, points=None)
            if number % 2 == 0
            else scores.update(status=ScoreStatus.SCORED, points=maximum)
        ),
    }
    scenarios = {}
    for name, edit in edits.items():
        times, queries, written = [], set(), []
        for number in range(repeat * 3):
            edit(number)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)
                times.append(time.perf_counter() - started)
            queries.add(len(captured))
            built_at = GrowthBuild.objects.get(classroom_unit_id=classroom_unit_id).built_at
            written.append(_summary_rows_at(built_at))
        scenarios[name] = {
            "median_ms": statistics.median(times) * 1000,
            "all_ms": [value * 1000 for value in times],
            "queries": sorted(queries),
            "summary_rows_written": sorted(set(written)),
        }
    scores.update(status=score.status, points=score.points)
    return {"class_size": class_size, **scenarios}


def measure(database: ScratchDatabase, students: int, repeat: int) -> dict[str, Any]:
    django_close()
    database.create()
    env = production_env(database.url)
    manage(env, "migrate", "--noinput")
    seeded_at = time.perf_counter()
    manage(env, "seed_demo", "--students", str(students))
    seed_s = time.perf_counter() - seeded_at

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM assessments_score")
        (score_rows,) = cursor.fetchone()
    print(f"  {score_rows} scores; {repeat} rounds of reference, first build, periodic rebuild:")
    full = full_rebuild_rounds(repeat)
    quantiles = first_quantiles()
    print(f"  t quantiles: {quantiles['distinct_n']} in {quantiles['s']:.2f} s; incremental …")
    incremental = incremental_times(repeat)
    print("  a class saved alone and during a full rebuild …")
    saves = save_during_rebuild(repeat)
    reference_s = full["reference_s"]
    return {
        "students": students,
        "score_rows": score_rows,
        "seed_s": seed_s,
        **full,
        "ratio_first": full["first"]["s"] / reference_s,
        "ratio_steady": full["steady"]["s"] / reference_s,
        "first_quantiles": quantiles,
        "incremental": incremental,
        "save_during_rebuild": saves,
    }


def table(results: list[dict[str, Any]]) -> str:
    header = [
        "students",
        "scores",
        "reference s",
        "first build s",
        "× ref",
        "periodic s",
        "× ref",
        "incr. points ms",
        "queries",
        "rows",
        "incr. absent ms",
        "queries",
        "rows",
    ]
    lines = [header]
    for result in results:
        incremental = result["incremental"]
        row = [
            f"{result['students']}",
            f"{result['score_rows']}",
            f"{result['reference_s']:.2f}",
            f"{result['first']['s']:.2f}",
            f"{result['ratio_first']:.2f}",
            f"{result['steady']['s']:.2f}",
            f"{result['ratio_steady']:.2f}",
        ]
        for name in ("points", "absent"):
            scenario = incremental[name]
            row += [
                f"{scenario['median_ms']:.1f}",
                "/".join(str(count) for count in scenario["queries"]),
                "/".join(str(count) for count in scenario["summary_rows_written"]),
            ]
        lines.append(row)
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    rendered = []
    for number, line in enumerate(lines):
        rendered.append(
            "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        )
        if number == 0:
            rendered.append("  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    clean_up_on_sigterm()
    database = ScratchDatabase(server_url=options.pg, name=options.database)
    results = []
    started = time.perf_counter()
    try:
        print(f"Scratch database {database.name} (PostgreSQL {database.server_version()})")
        database.create()
        django_setup(production_env(database.url))
        for students in options.students:
            print(f"{students} students:")
            results.append(measure(database, students, options.repeat))
    finally:
        django_close()
        database.drop()

    print()
    print(table(results))
    print()
    for result in results:
        for label, run in (("first build", result["first"]), ("periodic", result["steady"])):
            print(
                f"{result['students']} students, {label}: {run['student_rows']} student rows "
                f"({run['student_rows_written']} written), {run['summary_rows']} summary rows "
                f"({run['summary_rows_written']} written); phases "
                + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in run["phases_s"].items())
            )
        quantiles = result["first_quantiles"]
        saves = result["save_during_rebuild"]
        print(
            f"{result['students']} students: t quantiles in a new worker (SciPy's import "
            f"included) {quantiles['distinct_n']} in {quantiles['s']:.2f} s; incremental class "
            f"of {result['incremental']['class_size']} students; a save of "
            f"{saves['cells']} cells {saves['alone_median_ms']:.1f} ms alone, "
            + (
                f"{saves['during_median_ms']:.1f} ms (max {saves['during_max_ms']:.1f}) during "
                f"a full rebuild ({saves['during_saves']} saves) = {saves['ratio']:.2f}×"
                if saves["during_saves"]
                else "no save finished during the rebuild"
            )
        )
    first_ratio = max(result["ratio_first"] for result in results)
    steady_ratio = max(result["ratio_steady"] for result in results)
    print(
        f"\nFull rebuild / reference: periodic rebuild ≤ {steady_ratio:.2f}× (target ≤ "
        f"{TARGET_RATIO:g}×), first build ≤ {first_ratio:.2f}×. Incremental (points / absent): "
        + ", ".join(
            f"{result['incremental']['points']['median_ms']:.0f} / "
            f"{result['incremental']['absent']['median_ms']:.0f} ms"
            for result in results
        )
        + "."
    )
    document = {
        "benchmark": "growth_rebuild",
        "when": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "target_ratio": TARGET_RATIO,
        "reference_sql": " ".join(REFERENCE_SQL.split()),
        "results": results,
        "elapsed_s": time.perf_counter() - started,
    }
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(document, indent=2) + "\n")
    print(f"Figures written to {options.json}")
    if options.check and steady_ratio > TARGET_RATIO:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
