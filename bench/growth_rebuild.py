"""Benchmark: the full growth rebuild beside one PostgreSQL aggregate query over the same scores,
and the incremental rebuild after one class's scores change.

    .venv/bin/python -m bench.growth_rebuild [--students 20000 100000] [--repeat 3]
                                             [--json bench/results/growth_rebuild.json]

One command does everything, per size: a scratch PostgreSQL database (dropped first if it
exists), ``migrate``, ``seed_demo --students N``, ``ANALYZE``, then in this process:

1. **Reference**: one SQL statement over the same scores that computes the growth summaries
   directly: each student's pre% and post% (pivot), then n, incomplete, means, SDs, mean gain
   and mean g per classroom unit, school × unit and district × unit, for everyone and for each
   student group and its rest (GROUPING SETS), as PERFORMANCE.md describes. It stores nothing.
   Run ``--repeat`` times with PostgreSQL's defaults and with the rebuild's own session settings
   (``jit = off``, ``work_mem = 256MB``); the best time counts.
2. **Full rebuild** (``reports.services.growth_rebuild``, what ``manage.py growth_rebuild`` and the
   periodic task run): once on empty growth tables (the first build), then ``--repeat`` times
   over unchanged scores (the periodic rebuild: rows that did not change are not rewritten).
   Both are compared with the reference; the target is ≤ 1.5×.
3. **Incremental rebuild** (``reports.services.classroom_unit_growth_rebuild``, what the Celery
   task runs after a score change): one score of one class is changed, then that classroom
   unit, its school × unit and its district × unit are rebuilt; ``--repeat`` × 3 times, median,
   with the number of queries. It should not grow with the district.

Prints a table and writes the figures as JSON; the scratch database is dropped whatever happens.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bench.harness import (
    ScratchDatabase,
    add_scratch_run_arguments,
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


def _best(seconds: list[float]) -> float:
    return min(seconds)


@contextmanager
def _phase_timer(phases: dict[str, float]) -> Iterator[None]:
    """Time the rebuild's phases by wrapping its steps (the benchmark only; nothing persists)."""
    from reports import growth_sql, rollups, services

    originals: list[tuple[Any, str, Callable[..., Any]]] = []

    def wrap(module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phases[label] = phases.get(label, 0.0) + time.perf_counter() - started

        originals.append((module, name, original))
        setattr(module, name, timed)

    wrap(growth_sql, "district_student_growth_rebuild", "student rows (SQL)")
    wrap(growth_sql, "district_classroom_unit_cells", "classroom-unit cells (SQL)")
    wrap(rollups, "district_unit_publish", "roll-ups, suppression, summary rows")
    wrap(services, "_rollup_locks", "locks")
    try:
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def reference_time(repeat: int) -> tuple[float, dict[str, float], int]:
    """Best time of the reference query, by session settings; and its row count."""
    from django.db import connection, transaction

    times: dict[str, list[float]] = {"defaults": [], "rebuild settings": []}
    rows = 0
    for _ in range(repeat):
        for label in times:
            with transaction.atomic(), connection.cursor() as cursor:
                if label == "rebuild settings":
                    for setting in REBUILD_SESSION:
                        cursor.execute(setting)
                started = time.perf_counter()
                cursor.execute(REFERENCE_SQL)
                rows = len(cursor.fetchall())
                times[label].append(time.perf_counter() - started)
    best = {label: _best(values) for label, values in times.items()}
    return min(best.values()), best, rows


def full_rebuild_times(repeat: int) -> dict[str, Any]:
    from reports import services
    from reports.models import ClassroomUnitGrowthSummary, StudentGrowth

    first_phases: dict[str, float] = {}
    with _phase_timer(first_phases):
        started = time.perf_counter()
        results = services.growth_rebuild()
        first = time.perf_counter() - started
    steady_times: list[float] = []
    steady_phases: dict[str, float] = {}
    for _ in range(repeat):
        phases: dict[str, float] = {}
        with _phase_timer(phases):
            started = time.perf_counter()
            services.growth_rebuild()
            elapsed = time.perf_counter() - started
        if not steady_times or elapsed < min(steady_times):
            steady_phases = phases
        steady_times.append(elapsed)
    # cross-tenant: the benchmark counts every row it built.
    return {
        "first_s": first,
        "first_phases_s": first_phases,
        "steady_s": _best(steady_times),
        "steady_all_s": steady_times,
        "steady_phases_s": steady_phases,
        "student_rows": StudentGrowth.objects.all_schools().count(),
        "classroom_units": sum(result.classroom_units for result in results),
        "summary_rows": sum(result.summary_rows for result in results),
        "classroom_unit_summary_rows": ClassroomUnitGrowthSummary.objects.all_schools().count(),
    }


def incremental_times(repeat: int) -> dict[str, Any]:
    """Change one post score of one class, then rebuild that classroom unit and its roll-ups."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from assessments.models import Score, ScoreStatus
    from reports import services

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
    times = []
    queries = 0
    maximum = score.assessment_skill.max_points
    for number in range(repeat * 3):
        points = maximum if number % 2 == 0 else 0
        Score.objects.all_schools().filter(pk=score.pk).update(points=points)
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)
            times.append(time.perf_counter() - started)
        queries = len(captured)
    return {
        "median_ms": statistics.median(times) * 1000,
        "all_ms": [value * 1000 for value in times],
        "queries": queries,
        "class_size": class_size,
    }


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
    print(f"  {score_rows} scores; reference query …")
    reference_s, reference_by_settings, reference_rows = reference_time(repeat)
    print(f"  reference {reference_s:.2f} s; full rebuild …")
    full = full_rebuild_times(repeat)
    print(f"  full rebuild {full['first_s']:.2f} s first, {full['steady_s']:.2f} s steady; …")
    incremental = incremental_times(repeat)
    return {
        "students": students,
        "score_rows": score_rows,
        "seed_s": seed_s,
        "reference_s": reference_s,
        "reference_by_settings_s": reference_by_settings,
        "reference_rows": reference_rows,
        "full_rebuild": full,
        "ratio_first": full["first_s"] / reference_s,
        "ratio_steady": full["steady_s"] / reference_s,
        "incremental": incremental,
    }


def table(results: list[dict[str, Any]]) -> str:
    header = [
        "students",
        "scores",
        "reference s",
        "full first s",
        "× ref",
        "full steady s",
        "× ref",
        "incremental ms",
        "queries",
    ]
    lines = [header]
    for result in results:
        full = result["full_rebuild"]
        lines.append(
            [
                f"{result['students']}",
                f"{result['score_rows']}",
                f"{result['reference_s']:.2f}",
                f"{full['first_s']:.2f}",
                f"{result['ratio_first']:.2f}",
                f"{full['steady_s']:.2f}",
                f"{result['ratio_steady']:.2f}",
                f"{result['incremental']['median_ms']:.1f}",
                f"{result['incremental']['queries']}",
            ]
        )
    widths = [max(len(line[index]) for line in lines) for index in range(len(header))]
    rendered = []
    for number, line in enumerate(lines):
        rendered.append(
            "  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True))
        )
        if number == 0:
            rendered.append("  ".join("-" * width for width in widths))
    return "\n".join(rendered)


def _exit_on_sigterm(signum: int, _frame: Any) -> None:
    raise SystemExit(f"Stopped by signal {signum}.")


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so the cleanup below runs on `kill`
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
        full = result["full_rebuild"]
        print(
            f"{result['students']} students: {full['student_rows']} student rows, "
            f"{full['summary_rows']} summary rows; steady phases "
            + ", ".join(
                f"{name} {seconds:.2f} s" for name, seconds in full["steady_phases_s"].items()
            )
        )
    first_ratio = max(result["ratio_first"] for result in results)
    steady_ratio = max(result["ratio_steady"] for result in results)
    incremental = [result["incremental"]["median_ms"] for result in results]
    queries = {result["incremental"]["queries"] for result in results}
    print(
        f"\nFull rebuild / reference: steady ≤ {steady_ratio:.2f}×, first build ≤ "
        f"{first_ratio:.2f}× (target ≤ {TARGET_RATIO:g}×). Incremental: "
        + ", ".join(f"{ms:.0f} ms" for ms in incremental)
        + f" with {'/'.join(str(q) for q in sorted(queries))} queries."
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
