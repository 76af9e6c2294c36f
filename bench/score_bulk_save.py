"""Benchmark: saving a whole class's scores over HTTP, beside a trivial endpoint of the same app.

    .venv/bin/python -m bench.score_bulk_save [--students 2000] [--clients 8] [--seconds 20]
                                              [--json bench/results/score_bulk_save.json]

One command does everything: a scratch PostgreSQL database (dropped first if it exists),
``migrate``, ``seed_demo --students N``, a private redis-server and one Celery worker (tasks are
queued as in production), gunicorn serving ``config.wsgi`` with production settings over plain
HTTP on 127.0.0.1, then two endpoints measured with the same number of concurrent clients, each
client signed in (token auth) as its own teacher, taking turns in a few rounds:

1. ``GET /api/districts/``: the trivial endpoint (token auth, one small scoped list). The app has
   no health-check view, so this is the smallest authenticated endpoint it offers.
2. ``POST /api/classroom-units/<cu>/assessments/<a>/scores/``: each client saves its own whole
   class (every enrolled student × every skill of the assessment, 25 × 3 in the demo) per
   request, every value different from the previous one so every request really writes, and the
   versions taken from each response so no write is stale (no 409 expected).

Any non-200 answer counts as an error. Prints endpoint, requests, errors, throughput and
p50/p95/p99 latency, then bulk-save p95 / trivial p95 against the target (≤ 3×), and writes the
same figures as JSON. The servers are stopped and the scratch database dropped whatever happens.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.harness import (
    DEFAULT_SERVER_URL,
    RESULTS_DIR,
    CeleryWorker,
    GunicornServer,
    Outcome,
    PhaseResult,
    RedisServer,
    ScratchDatabase,
    clean_up_on_sigterm,
    django_close,
    django_setup,
    git_commit,
    manage,
    production_env,
    request_json,
    run_phase,
    table,
    token_get,
    write_json,
)

TARGET_RATIO = 3.0
TRIVIAL_PATH = "/api/districts/"
# Consecutive requests move each cell one step along this ladder, so every save changes every
# cell (an unchanged value is not written). All steps are within the demo's smallest max (4).
VALUE_LADDER = ("1", "1.5", "2", "2.5")


@dataclass
class ClassFixture:
    """One client's class: its teacher, classroom unit, assessment, students and skills."""

    username: str
    classroom: str
    classroom_unit_id: int
    assessment_id: int
    assessment_title: str
    student_ids: list[int]
    skill_codes: list[str]
    versions: dict[tuple[int, str], int] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return len(self.student_ids) * len(self.skill_codes)

    @property
    def path(self) -> str:
        return (
            f"/api/classroom-units/{self.classroom_unit_id}"
            f"/assessments/{self.assessment_id}/scores/"
        )


def class_fixtures_pick(count: int) -> list[ClassFixture]:
    """``count`` classes of the unit in progress, each with a different homeroom teacher.

    The assessment is the one measuring the most skills (the post-assessment: 3 skills); the
    students are those the save service accepts (enrolled during the classroom unit), and the
    current score versions are read so the first write is not stale either.
    """
    from django.db.models import Count, Max, Q
    from django.utils import timezone

    from assessments.models import Score
    from classrooms.models import Enrollment
    from units.models import Assessment, AssessmentSkill, ClassroomUnit

    # cross-tenant: the benchmark picks its fixtures across the whole scratch database.
    classroom_units = ClassroomUnit.objects.all_schools()
    latest_start = classroom_units.aggregate(latest=Max("start_date"))["latest"]
    candidates = (
        classroom_units.filter(start_date=latest_start)
        .select_related("classroom__school")
        .order_by("classroom__school_id", "pk")
    )
    # Spread the clients over schools: take classes round-robin by school.
    by_school: dict[int, list[Any]] = {}
    for classroom_unit in candidates:
        by_school.setdefault(classroom_unit.classroom.school_id, []).append(classroom_unit)
    ordered = []
    queues = list(by_school.values())
    while any(queues):
        for queue in queues:
            if queue:
                ordered.append(queue.pop(0))

    fixtures: list[ClassFixture] = []
    used_teachers: set[int] = set()
    today = timezone.localdate()
    for classroom_unit in ordered:
        if len(fixtures) == count:
            break
        teachers = list(classroom_unit.classroom.teachers.order_by("pk"))
        teacher = next((t for t in teachers if t.pk not in used_teachers), None)
        if teacher is None:
            continue
        assessment = (
            Assessment.objects.all_schools()
            .filter(unit_id=classroom_unit.unit_id)
            .annotate(skills=Count("assessment_skills"))
            .order_by("-skills", "-week")
            .first()
        )
        if assessment is None:
            continue
        measures = list(
            AssessmentSkill.objects.all_schools()
            .filter(assessment=assessment)
            .select_related("skill")
            .order_by("skill__code")
        )
        if min(measure.max_points for measure in measures) < Decimal(VALUE_LADDER[-1]):
            continue
        student_ids = sorted(
            set(
                Enrollment.objects.all_schools()
                .filter(classroom_id=classroom_unit.classroom_id)
                .filter(Q(end_date__isnull=True) | Q(end_date__gte=classroom_unit.start_date))
                .filter(start_date__lte=max(today, classroom_unit.start_date))
                .values_list("student_id", flat=True)
            )
        )
        if not student_ids:
            continue
        code_of = {measure.pk: measure.skill.code for measure in measures}
        versions = {
            (student_id, code_of[measure_id]): version
            for student_id, measure_id, version in Score.objects.all_schools()
            .filter(classroom_unit=classroom_unit, assessment_skill_id__in=list(code_of))
            .values_list("student_id", "assessment_skill_id", "version")
        }
        used_teachers.add(teacher.pk)
        fixtures.append(
            ClassFixture(
                username=teacher.username,
                classroom=str(classroom_unit.classroom),
                classroom_unit_id=classroom_unit.pk,
                assessment_id=assessment.pk,
                assessment_title=assessment.title,
                student_ids=student_ids,
                skill_codes=[measure.skill.code for measure in measures],
                versions=versions,
            )
        )
    if len(fixtures) < count:
        raise SystemExit(
            f"The seeded district has only {len(fixtures)} classes with their own teacher for "
            f"{count} clients: seed more students or use fewer clients."
        )
    return fixtures


class BulkSaveClient:
    """Saves its whole class per request, with the versions the previous answer returned."""

    def __init__(self, fixture: ClassFixture, token: str) -> None:
        self.fixture = fixture
        self.token = token
        self.round = 0

    def body(self) -> bytes:
        self.round += 1
        fixture = self.fixture
        scores = [
            {
                "student": student_id,
                "skill": code,
                "value": VALUE_LADDER[(self.round + row + column) % len(VALUE_LADDER)],
                "version": fixture.versions.get((student_id, code)),
            }
            for row, student_id in enumerate(fixture.student_ids)
            for column, code in enumerate(fixture.skill_codes)
        ]
        return json.dumps({"scores": scores}).encode()

    def __call__(self, connection: http.client.HTTPConnection) -> Outcome:
        status, raw = request_json(
            connection, "POST", self.fixture.path, token=self.token, body=self.body()
        )
        if status == 200:
            answer = json.loads(raw)
            saved = answer.get("saved", [])
            for cell in saved:
                self.fixture.versions[(cell["student"], cell["skill"])] = cell["version"]
            if not answer.get("applied") or len(saved) != self.fixture.cells:
                return Outcome(ok=False, status=status, detail=f"not all saved: {raw[:300]!r}")
            return Outcome(ok=True, status=status)
        if status == 409:  # should not happen; resynchronise so the next request is valid
            for problem in json.loads(raw).get("problems", []):
                key = (problem["student"], problem["skill"])
                self.fixture.versions[key] = problem["current_version"]
        return Outcome(ok=False, status=status, detail=repr(raw[:300]))


class TrivialClient:
    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, connection: http.client.HTTPConnection) -> Outcome:
        status, raw = request_json(connection, "GET", TRIVIAL_PATH, token=self.token)
        if status == 200:
            return Outcome(ok=True, status=status)
        return Outcome(ok=False, status=status, detail=repr(raw[:300]))


CELERY_MODES = {
    "worker": "tasks queued to a private redis-server, one Celery worker (solo pool) runs them",
    "queue": "tasks queued to a private redis-server, no worker (the queue only fills)",
    "inline": "no broker: tasks run inside the request (the embedded default, not production)",
}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.score_bulk_save",
        description=(
            "Bulk score save over HTTP (gunicorn + PostgreSQL, production settings) beside "
            f"GET {TRIVIAL_PATH}; target: bulk-save p95 ≤ {TARGET_RATIO:g}× trivial p95."
        ),
    )
    parser.add_argument("--students", type=int, default=2000, help="seed_demo size (2000)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (8)")
    parser.add_argument(
        "--seconds", type=float, default=20, help="measured seconds per endpoint (20)"
    )
    parser.add_argument(
        "--warmup", type=float, default=3, help="unmeasured seconds before each phase (3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="the endpoints alternate in this many rounds of seconds/rounds each (4)",
    )
    parser.add_argument(
        "--celery",
        default="worker",
        choices=list(CELERY_MODES),
        help="how the app's tasks run: " + "; ".join(f"{k}: {v}" for k, v in CELERY_MODES.items()),
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument(
        "--worker-class",
        default="gthread",
        choices=["gthread", "sync"],
        help="gunicorn worker class (gthread: keep-alive connections)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker (4)")
    parser.add_argument(
        "--json",
        type=Path,
        default=RESULTS_DIR / "score_bulk_save.json",
        help="where to write the figures (bench/results/score_bulk_save.json)",
    )
    parser.add_argument(
        "--pg",
        default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_SERVER_URL),
        help=f"PostgreSQL server, no database name ({DEFAULT_SERVER_URL})",
    )
    parser.add_argument(
        "--database",
        default="thinslice_bench",
        help="scratch database name, dropped before and after (thinslice_bench)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="exit with status 3 when the target is missed (errors always exit 1)",
    )
    options = parser.parse_args(argv)
    if options.clients < 1 or options.seconds <= 0 or options.warmup < 0 or options.rounds < 1:
        parser.error("--clients and --rounds must be ≥ 1, --seconds > 0 and --warmup ≥ 0")
    if options.seconds > 600 or options.warmup > 120:
        parser.error("a run is bounded: --seconds ≤ 600 and --warmup ≤ 120")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    clean_up_on_sigterm()
    database = ScratchDatabase(server_url=options.pg, name=options.database)
    work_dir = Path(tempfile.mkdtemp(prefix="thinslice-bench-"))
    redis = RedisServer(work_dir=work_dir / "redis")
    celery: CeleryWorker | None = None
    server: GunicornServer | None = None
    started = time.perf_counter()
    finished = False
    logs = ""
    try:
        print(f"Scratch database {database.name} (PostgreSQL {database.server_version()})")
        database.create()
        broker_url = ""
        if options.celery != "inline":
            redis.start()
            broker_url = redis.url
        print(f"Celery: {CELERY_MODES[options.celery]}")
        env = production_env(database.url, broker_url)
        manage(env, "migrate", "--noinput")
        seeded = manage(env, "seed_demo", "--students", str(options.students))
        summary = [line for line in seeded.splitlines() if "schools," in line]
        if summary:
            print(f"  {summary[-1].strip()}")

        django_setup(env)
        from reports.demo import DEMO_PASSWORD

        try:
            fixtures = class_fixtures_pick(options.clients)
        finally:
            django_close()

        if options.celery == "worker":
            celery = CeleryWorker(env=env, log_path=work_dir / "celery.log")
            celery.start()
        server = GunicornServer(
            env=env,
            log_path=work_dir / "gunicorn.log",
            workers=options.workers,
            worker_class=options.worker_class,
            threads=options.threads,
        )
        print(f"Starting {server.description} on 127.0.0.1 …")
        server.start()
        print(f"  answering on http://127.0.0.1:{server.port}/ (logs in {work_dir})")
        tokens = [token_get(server.port, f.username, DEMO_PASSWORD) for f in fixtures]
        cells = sorted({fixture.cells for fixture in fixtures})
        print(
            f"{options.clients} clients, each its own teacher and class "
            f"({fixtures[0].assessment_title}: {'/'.join(map(str, cells))} cells per save); "
            f"{options.warmup:g} s warm-up + {options.seconds:g} s measured per endpoint "
            f"in {options.rounds} alternating rounds"
        )

        endpoints = (
            (f"GET {TRIVIAL_PATH}", [TrivialClient(token) for token in tokens]),
            (
                "POST …/scores/ (bulk save)",
                [BulkSaveClient(f, token) for f, token in zip(fixtures, tokens, strict=True)],
            ),
        )
        # The endpoints take turns in short rounds, so background load on a shared machine
        # falls on both alike; each warms up once, before its first round.
        phases = [PhaseResult(name=name, seconds=0) for name, _clients in endpoints]
        for number in range(options.rounds):
            for phase, (name, clients) in zip(phases, endpoints, strict=True):
                print(f"  round {number + 1}/{options.rounds}: {name} …")
                phase.add(
                    run_phase(
                        name=name,
                        port=server.port,
                        clients=clients,
                        warmup=options.warmup if number == 0 else 0,
                        seconds=options.seconds / options.rounds,
                        server=server,
                    )
                )
        if celery is not None and not celery.is_running():
            raise SystemExit(f"The Celery worker died during the run:\n{celery.log_tail()}")
        logs = server.log_tail(20) + (celery.log_tail(20) if celery else "")
        finished = True
    finally:
        if server is not None:
            server.stop()
        if celery is not None:
            celery.stop()
        redis.stop()
        database.drop()
        has_logs = any(
            path.exists() and path.stat().st_size
            for path in (work_dir / "gunicorn.log", work_dir / "celery.log")
        )
        if finished or not has_logs:
            shutil.rmtree(work_dir, ignore_errors=True)
        else:  # a failed run keeps its server logs for a look
            print(f"Logs kept in {work_dir}", file=sys.stderr)
        print(
            f"Stopped the servers and dropped {database.name} "
            f"({time.perf_counter() - started:.0f} s)"
        )

    trivial, bulk = (phase.summary() for phase in phases)
    ratio = bulk["p95_ms"] / trivial["p95_ms"] if bulk["p95_ms"] and trivial["p95_ms"] else None
    meets = ratio is not None and ratio <= TARGET_RATIO
    errors = trivial["errors"] + bulk["errors"]

    print()
    print(table([trivial, bulk]))
    print()
    if ratio is None:
        print("bulk-save p95 / trivial p95: not measured (no successful requests)")
    else:
        verdict = "meets" if meets else "MISSES"
        print(
            f"bulk-save p95 / trivial p95 = {bulk['p95_ms']:.1f} / {trivial['p95_ms']:.1f} ms "
            f"= {ratio:.2f}× — {verdict} the target (≤ {TARGET_RATIO:g}×)"
        )
    for phase in (trivial, bulk):
        for sample in phase["error_samples"]:
            print(f"  error on {phase['endpoint']}: {sample}")
    if errors and logs.strip():
        print(f"gunicorn and Celery logs (tail):\n{logs}")

    document = {
        "benchmark": "score_bulk_save",
        "finished_at": datetime.datetime.now(tz=datetime.UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "config": {
            "students": options.students,
            "clients": options.clients,
            "seconds": options.seconds,
            "warmup_seconds": options.warmup,
            "rounds": options.rounds,
            "server": server.description if server else None,
            "settings": "config.settings.production (plain HTTP on 127.0.0.1, CONN_MAX_AGE=60)",
            "celery": f"{options.celery}: {CELERY_MODES[options.celery]}",
            "cells_per_save": cells,
            "trivial_endpoint": f"GET {TRIVIAL_PATH}",
            "bulk_endpoint": "POST /api/classroom-units/<cu>/assessments/<a>/scores/",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "endpoints": {"trivial": trivial, "bulk_save": bulk},
        "p95_ratio": None if ratio is None else round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "meets_target": meets,
    }
    write_json(options.json, document)
    print(f"Figures written to {options.json}")
    if errors:
        return 1
    if options.check and not meets:
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
