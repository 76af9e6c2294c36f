"""Load: many simulated users (Locust) entering scores, reading reports and exporting at once,
against gunicorn + PostgreSQL + a Celery worker on loopback, for a bounded time.

    .venv/bin/python -m bench.load [--students 2000] [--teachers 16] [--coaches 8] [--admins 2]
                                   [--warmup 15] [--seconds 60] [--json bench/results/load.json]

One command does everything: installs Locust if it is missing (the ``load`` extra of
pyproject.toml), builds a scratch PostgreSQL database (``migrate``, ``seed_demo``), starts a
private redis-server, one Celery worker and gunicorn with production settings on 127.0.0.1,
and runs Locust headless (bench/load_users.py): the users start and sign in during
``--warmup`` seconds, then the load goes on for ``--seconds`` measured ones:

- teachers (one class each, a different teacher per class) save scores through the bulk-save
  API the grid uses (a few cells, or the whole class), open the grid and their class's growth
  report; each save queues a growth rebuild for the worker;
- coaches read the growth reports of the schools they coach;
- district admins export: a school's scores, the district's scores (a job the worker writes,
  followed to its file), aggregate growth.

Then it waits for the export jobs the run started to finish, and checks in the database that
every acknowledged score write is there: a history row with the acknowledged version and value
for every write, and each cell's score at its last acknowledged version and value.

Prints p50/p95/p99 per endpoint, the server errors (5xx or no answer), other unexpected answers,
the acknowledged and lost writes and the export jobs; writes the same as JSON. Exit status 0, or
1 when any server error, unexpected answer, lost write or unfinished export job occurred. The
servers are stopped and the scratch database dropped whatever happens. Not part of the test run.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.harness import (
    PROJECT_ROOT,
    CeleryWorker,
    GunicornServer,
    RedisServer,
    ScratchDatabase,
    add_scratch_run_arguments,
    clean_up_on_sigterm,
    django_close,
    django_setup,
    git_commit,
    manage,
    percentile,
    production_env,
    table,
    token_get,
    write_json,
)

USERS_FILE = Path(__file__).with_name("load_users.py")
JOB_WAIT_SECONDS = 180


def locust_ensure() -> str:
    """Install Locust (the ``load`` extra of pyproject.toml) into this interpreter when it is
    missing; returns its version."""
    if importlib.util.find_spec("locust") is None:
        extras = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"][
            "optional-dependencies"
        ]["load"]
        print(f"Installing {' '.join(extras)} (the 'load' extra) …")
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *extras], check=True)
    completed = subprocess.run(
        [sys.executable, "-m", "locust", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    return completed.stdout.strip().split(" from ")[0]


# --------------------------------------------------------------------------- fixtures


def fixtures_pick(*, teachers: int) -> dict[str, Any]:
    """Who the simulated users are and what they touch, read from the seeded database.

    Teachers: ``teachers`` classes of the unit in progress, each with its own teacher
    (bench.score_bulk_save picks them), the assessment measuring the most skills, every
    student the save service accepts, and each cell's current version and value. Coaches:
    every coach with their schools, the units taught there and a few classroom units. Admin:
    the demo district admin and the district's schools.
    """
    from assessments.models import Score, ScoreStatus
    from bench.score_bulk_save import class_fixtures_pick
    from classrooms.models import School, User
    from reports.demo import DEMO_PASSWORD
    from units.models import AssessmentSkill, ClassroomUnit
    from units.services import format_points

    classes = []
    for fixture in class_fixtures_pick(teachers):
        code_of = dict(
            AssessmentSkill.objects.all_schools()
            .filter(assessment_id=fixture.assessment_id)
            .values_list("pk", "skill__code")
        )
        values = []
        for student, measure, status, points in (
            Score.objects.all_schools()
            .filter(classroom_unit_id=fixture.classroom_unit_id, assessment_skill_id__in=code_of)
            .values_list("student_id", "assessment_skill_id", "status", "points")
        ):
            shown = format_points(points) if status == ScoreStatus.SCORED and points else status
            values.append([student, code_of[measure], shown])
        classes.append(
            {
                "username": fixture.username,
                "classroom_unit": fixture.classroom_unit_id,
                "assessment": fixture.assessment_id,
                "cells": [
                    [student, code]
                    for student in fixture.student_ids
                    for code in fixture.skill_codes
                ],
                "versions": [
                    [student, code, version]
                    for (student, code), version in fixture.versions.items()
                ],
                "values": values,
                "measures": {code: pk for pk, code in code_of.items()},
            }
        )

    # cross-tenant: the benchmark reads its fixtures across the whole scratch database.
    coaches = []
    for coach in User.objects.filter(coached_schools__isnull=False).distinct().order_by("pk"):
        schools = []
        for school in School.objects.all_schools().filter(coaches=coach).order_by("pk"):
            classroom_units = list(
                ClassroomUnit.objects.all_schools()
                .filter(classroom__school=school)
                .order_by("pk")
                .values_list("pk", "unit_id")
            )
            if classroom_units:
                schools.append(
                    {
                        "id": school.pk,
                        "units": sorted({unit for _, unit in classroom_units}),
                        "classroom_units": [pk for pk, _ in classroom_units[:12]],
                    }
                )
        if schools:
            coaches.append({"username": coach.username, "schools": schools})
    admin = User.objects.filter(is_district_admin=True).order_by("pk").first()
    if admin is None or not coaches:
        raise SystemExit("The seeded district has no district admin or no coach.")
    return {
        "password": DEMO_PASSWORD,
        "classes": classes,
        "coaches": coaches,
        "admin": {
            "username": admin.username,
            "schools": list(
                School.objects.all_schools()
                .filter(district_id=admin.district_id)
                .order_by("pk")
                .values_list("pk", flat=True)
            ),
        },
    }


# --------------------------------------------------------------------------- checks


def writes_check(acknowledged: list[list[Any]], classes: list[dict[str, Any]]) -> dict[str, int]:
    """Every acknowledged write is in the database: a history row with its version and value,
    and each cell's score at its last acknowledged version and value."""
    from assessments.models import Score, ScoreChange, ScoreStatus

    measure_of = {
        (fixture["classroom_unit"], code): pk
        for fixture in classes
        for code, pk in fixture["measures"].items()
    }
    classroom_units = [fixture["classroom_unit"] for fixture in classes]
    history = {
        (cu, student, measure, version): (status, points)
        for cu, student, measure, version, status, points in ScoreChange.objects.all_schools()
        .filter(classroom_unit_id__in=classroom_units)
        .values_list(
            "classroom_unit_id",
            "student_id",
            "assessment_skill_id",
            "version",
            "new_status",
            "new_points",
        )
    }
    scores = {
        (cu, student, measure): (version, status, points)
        for cu, student, measure, version, status, points in Score.objects.all_schools()
        .filter(classroom_unit_id__in=classroom_units)
        .values_list(
            "classroom_unit_id", "student_id", "assessment_skill_id", "version", "status", "points"
        )
    }

    def same(value: str, status: str, points: Decimal | None) -> bool:
        return status == ScoreStatus.SCORED and points == Decimal(value)

    lost = 0
    last: dict[tuple[int, int, int], tuple[int, str]] = {}
    for cu, _assessment, student, skill, version, value in acknowledged:
        measure = measure_of[(cu, skill)]
        change = history.get((cu, student, measure, version))
        if change is None or not same(value, *change):
            lost += 1
        key = (cu, student, measure)
        if key not in last or last[key][0] < version:
            last[key] = (version, value)
    stale_cells = 0
    later_unacknowledged = 0
    for key, (version, value) in last.items():
        stored = scores.get(key)
        if stored is None or stored[0] < version:
            stale_cells += 1
        elif stored[0] > version:
            later_unacknowledged += 1  # a write whose answer never arrived: not a lost write
        elif not same(value, stored[1], stored[2]):
            stale_cells += 1
    return {
        "acknowledged_writes": len(acknowledged),
        "cells_written": len(last),
        "lost_writes": lost,
        "cells_not_at_last_acknowledged_version": stale_cells,
        "cells_with_a_later_unacknowledged_write": later_unacknowledged,
    }


def jobs_wait(job_ids: list[int], seconds: float) -> dict[str, Any]:
    """Wait for the export jobs the run started to finish; their final statuses."""
    from reports.models import ExportJob

    deadline = time.monotonic() + seconds
    while True:
        # cross-tenant: the jobs this run started, by id.
        statuses = dict(
            ExportJob.objects.all_schools().filter(pk__in=job_ids).values_list("pk", "status")
        )
        pending = [pk for pk in job_ids if statuses.get(pk) not in ("succeeded", "failed")]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(1)
    counts: dict[str, int] = defaultdict(int)
    for pk in job_ids:
        counts[statuses.get(pk, "missing")] += 1
    return {"started": len(job_ids), **counts}


def endpoint_rows(
    requests: list[list[Any]], *, warmup: float, seconds: float
) -> list[dict[str, Any]]:
    """Per endpoint: every request's status and errors; latencies and throughput of the
    requests that started after the warm-up (sign-ins and first pages, all at once)."""
    first = min((record[4] for record in requests), default=0.0)
    by_endpoint: dict[str, list[list[Any]]] = defaultdict(list)
    for record in requests:
        by_endpoint[record[0]].append(record)
    rows = []
    for name in sorted(by_endpoint):
        records = by_endpoint[name]
        measured = [record for record in records if record[4] >= first + warmup]
        latencies = sorted(record[1] for record in measured if record[3])
        statuses: dict[str, int] = defaultdict(int)
        for record in records:
            statuses[str(record[2])] += 1
        rows.append(
            {
                "endpoint": name,
                "requests": len(records),
                "errors": sum(1 for record in records if not record[3]),
                "server_errors": sum(
                    1 for record in records if record[2] >= 500 or not (record[2] or record[3])
                ),
                "measured_requests": len(measured),
                "throughput_rps": round(len(measured) / seconds, 2),
                "p50_ms": percentile(latencies, 50),
                "p95_ms": percentile(latencies, 95),
                "p99_ms": percentile(latencies, 99),
                "statuses": dict(statuses),
            }
        )
    return rows


# --------------------------------------------------------------------------- the run


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description=(
            "Load: teachers entering scores, coaches reading reports and admins exporting at "
            "once (Locust) against gunicorn + PostgreSQL + a Celery worker on loopback; "
            "asserts 0 server errors and 0 lost writes, prints p50/p95 per endpoint."
        ),
    )
    parser.add_argument("--students", type=int, default=2000, help="seed_demo size (2000)")
    parser.add_argument(
        "--teachers", type=int, default=16, help="teachers, each with a class of their own (16)"
    )
    parser.add_argument("--coaches", type=int, default=8, help="coach users (8)")
    parser.add_argument("--admins", type=int, default=2, help="district admin users (2)")
    parser.add_argument("--seconds", type=int, default=60, help="how long the load runs (60)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=15,
        help="seconds before the measured ones, in which the users start and sign in (15); "
        "their requests are checked but not in the latencies",
    )
    parser.add_argument(
        "--spawn-rate", type=float, default=10, help="users started per second (10)"
    )
    parser.add_argument(
        "--export-job-rows",
        type=int,
        default=10_000,
        help="exports of more rows become jobs (THINSLICE_EXPORT_ASYNC_ROWS; 10000, so the "
        "district's scores are a job and a school's stream)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker (4)")
    add_scratch_run_arguments(parser, results_name="load.json", database="thinslice_load_bench")
    options = parser.parse_args(argv)
    if min(options.teachers, options.coaches, options.admins, options.warmup) < 0:
        parser.error("user counts and --warmup must be ≥ 0")
    if options.seconds < 1:
        parser.error("--seconds must be ≥ 1")
    if options.teachers + options.coaches + options.admins < 1:
        parser.error("at least one user")
    if options.seconds > 1800:
        parser.error("a run is bounded: --seconds ≤ 1800")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    clean_up_on_sigterm()
    locust_version = locust_ensure()
    database = ScratchDatabase(server_url=options.pg, name=options.database)
    work_dir = Path(tempfile.mkdtemp(prefix="thinslice-load-"))
    redis = RedisServer(work_dir=work_dir / "redis")
    celery: CeleryWorker | None = None
    server: GunicornServer | None = None
    started = time.perf_counter()
    finished = False
    output: dict[str, Any] = {"requests": [], "acknowledged": [], "jobs": []}
    writes: dict[str, int] = {}
    jobs: dict[str, Any] = {}
    try:
        print(f"Scratch database {database.name} (PostgreSQL {database.server_version()})")
        database.create()
        redis.start()
        env = production_env(database.url, redis.url)
        env.update(
            DJANGO_SETTINGS_MODULE="bench.load_settings",
            BENCH_STATIC_ROOT=str(work_dir / "static"),
            THINSLICE_EXPORT_DIR=str(work_dir / "exports"),
            THINSLICE_EXPORT_ASYNC_ROWS=str(options.export_job_rows),
            THINSLICE_GROWTH_DEBOUNCE_SECONDS="2",
        )
        manage(env, "migrate", "--noinput")
        # Pages name their static files through the manifest, as in a deployment.
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        seeded = manage(env, "seed_demo", "--students", str(options.students))
        summary = [line for line in seeded.splitlines() if "schools," in line]
        if summary:
            print(f"  {summary[-1].strip()}")

        os.environ["BENCH_STATIC_ROOT"] = env["BENCH_STATIC_ROOT"]  # for bench.load_settings
        django_setup(env)
        try:
            fixtures = fixtures_pick(teachers=options.teachers)
        finally:
            django_close()

        celery = CeleryWorker(env=env, log_path=work_dir / "celery.log")
        celery.start()
        server = GunicornServer(
            env=env,
            log_path=work_dir / "gunicorn.log",
            workers=options.workers,
            threads=options.threads,
        )
        print(f"Starting {server.description} and a Celery worker on 127.0.0.1 …")
        server.start()
        for fixture in fixtures["classes"]:
            fixture["token"] = token_get(server.port, fixture["username"], fixtures["password"])
        fixtures["admin"]["token"] = token_get(
            server.port, fixtures["admin"]["username"], fixtures["password"]
        )
        fixtures["coach_users"] = options.coaches
        fixtures["admin_users"] = options.admins
        fixtures_path = work_dir / "fixtures.json"
        fixtures_path.write_text(json.dumps(fixtures))
        output_path = work_dir / "locust-output.json"
        users = options.teachers + options.coaches + options.admins
        print(
            f"Locust {locust_version}: {options.teachers} teachers, {options.coaches} coaches, "
            f"{options.admins} district admins for {options.warmup} s warm-up + "
            f"{options.seconds} s measured "
            f"(logs in {work_dir})"
        )
        with (work_dir / "locust.log").open("w") as log:
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(USERS_FILE),
                    "--headless",
                    "--host",
                    f"http://127.0.0.1:{server.port}",
                    "--users",
                    str(users),
                    "--spawn-rate",
                    str(options.spawn_rate),
                    "--run-time",
                    f"{options.warmup + options.seconds}s",
                    "--stop-timeout",
                    "30",
                    "--only-summary",
                    "--exit-code-on-error",
                    "0",
                    "--loglevel",
                    "WARNING",
                ],
                cwd=PROJECT_ROOT,
                env={
                    **os.environ,
                    "LOAD_FIXTURES": str(fixtures_path),
                    "LOAD_OUTPUT": str(output_path),
                },
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=options.warmup + options.seconds + 300,
                check=False,
            )
        if completed.returncode != 0 or not output_path.exists():
            raise SystemExit(
                f"Locust exited with {completed.returncode}:\n"
                + "\n".join((work_dir / "locust.log").read_text().splitlines()[-40:])
            )
        output = json.loads(output_path.read_text())
        if not server.is_running() or not celery.is_running():
            raise SystemExit("gunicorn or the Celery worker died during the run.")

        print("Waiting for the export jobs, then checking every acknowledged write …")
        django_setup(env)
        try:
            jobs = jobs_wait(output["jobs"], JOB_WAIT_SECONDS)
            writes = writes_check(output["acknowledged"], fixtures["classes"])
        finally:
            django_close()
        finished = True
    finally:
        if server is not None:
            server.stop()
        if celery is not None:
            celery.stop()
        redis.stop()
        database.drop()
        if finished:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:  # a failed run keeps its logs for a look
            print(f"Logs kept in {work_dir}", file=sys.stderr)
        print(
            f"Stopped the servers and dropped {database.name} "
            f"({time.perf_counter() - started:.0f} s)"
        )

    rows = endpoint_rows(output["requests"], warmup=options.warmup, seconds=options.seconds)
    server_errors = sum(row["server_errors"] for row in rows)
    unexpected = sum(row["errors"] for row in rows) - server_errors
    unfinished_jobs = jobs.get("started", 0) - jobs.get("succeeded", 0)
    print()
    print(table([{**row, "requests": row["measured_requests"]} for row in rows]))
    print()
    print(
        f"requests after the warm-up per endpoint above (errors: over the whole run); all "
        f"requests: {len(output['requests'])}; server errors (5xx or no answer): "
        f"{server_errors}; other unexpected answers: {unexpected}"
    )
    print(
        f"score writes acknowledged: {writes.get('acknowledged_writes', 0)} over "
        f"{writes.get('cells_written', 0)} cells; lost: {writes.get('lost_writes', 0)}; cells "
        f"not at their last acknowledged version: "
        f"{writes.get('cells_not_at_last_acknowledged_version', 0)}"
    )
    print(f"export jobs: {json.dumps(jobs)}")

    document = {
        "benchmark": "load",
        "finished_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "config": {
            "students": options.students,
            "teachers": options.teachers,
            "coaches": options.coaches,
            "admins": options.admins,
            "warmup_seconds": options.warmup,
            "seconds": options.seconds,
            "spawn_rate": options.spawn_rate,
            "export_job_rows": options.export_job_rows,
            "server": server.description if server else None,
            "settings": "bench.load_settings: config.settings.production, static files not "
            "pre-compressed (plain HTTP on 127.0.0.1, CONN_MAX_AGE=60)",
            "celery": "a private redis-server and one Celery worker (solo pool)",
            "locust": locust_version,
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "endpoints": rows,
        "server_errors": server_errors,
        "unexpected_answers": unexpected,
        "writes": writes,
        "export_jobs": jobs,
    }
    write_json(options.json, document)
    print(f"Figures written to {options.json}")
    failed = (
        server_errors
        or unexpected
        or writes.get("lost_writes", 0)
        or writes.get("cells_not_at_last_acknowledged_version", 0)
        or unfinished_jobs
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
