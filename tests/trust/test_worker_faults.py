"""Worker faults: a real Celery worker over Redis is killed (SIGKILL) again and again while it
builds growth summaries and writes exports, and restarted; nothing is lost, doubled or left wrong.

One scenario, on the test database, against a real `celery worker` (prefork, one pool process)
on a queue of its own:

- A district's scores change through the save service (each change queues a rebuild of its
  class after commit), a full rebuild of the district is queued, and a district admin queues
  three export jobs. A second district has a class whose rebuild always fails, and one more
  export always fails: the database refuses them every time (a trigger raises a serialization
  failure, an error the tasks retry).
- Test-only triggers make each build and each export pause (pg_sleep) in the middle of its
  transaction or file, so every kill lands mid-build: the test waits until the worker's database
  session sleeps in one, then SIGKILLs either the pool process running the task (the worker
  starts another; the message is rejected back to the queue: reject on worker lost) or the
  whole worker (the message waits unacknowledged in Redis until the visibility timeout, set to
  a few seconds here, and a restarted worker takes it again).
- Meanwhile every command sent to the broker's Redis database is captured (MONITOR).

Afterwards: every stored growth row and summary equals what a fresh ``growth_rebuild`` writes;
each export job succeeded once (one audit row, one file, no leftover part, the same bytes as
the export read now); the always-failing rebuild stopped after its bounded retries and the
report page says the update failed; the always-failing export stopped after its retries, FAILED,
with its message on the export page; and every broker message carried ids only.

Runtime: about a minute (mostly waiting for the visibility timeout after whole-worker kills).
"""

from __future__ import annotations

import base64
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assessments.models import Score
from assessments.services import ScoreEntry, scores_save
from classrooms.models import AuditEvent
from config.celery import app as celery_app
from reports import exports, services
from reports.exports import jobs as export_jobs
from reports.models import ExportJob, ExportStatus, GrowthBuild
from reports.tasks import (
    EXPORT_MAX_RETRIES,
    GROWTH_MAX_RETRIES,
    classroom_unit_growth_rebuild_task,
    export_csv_task,
    growth_rebuild_task,
)
from tests import factories
from tests.celery_worker import PROJECT, _database_url
from tests.conftest import World
from tests.reports.builders import GrowthWorld, growth_world, students_snapshot, summaries_snapshot
from tests.services import unavailable
from units.models import ClassroomUnit

# Seconds a dead worker's message waits before it is delivered again: longer than any task or
# countdown here takes, or a live worker's message would be delivered twice (harmless, as the
# tasks are idempotent, but it would blur the counts below).
VISIBILITY_TIMEOUT = 6
PAUSE_SECONDS = 0.6  # each build statement and export checkpoint sleeps this long
# What is killed, in turn; each kill lands in whichever kind of work (a growth build, an export)
# is paused and still owed kills, exports first: builds and exports run side by side, and the
# short exports would otherwise be over before the builds had taken their kills.
KILLS = ("pool", "worker", "pool", "pool", "worker", "pool")
KILLS_PER_KIND = {"export": 3, "growth": 3}

# Distinctive names, so that finding one in a broker message cannot be a coincidence.
NAMES = [
    "Zephyrine",
    "Quillon",
    "Marisabel",
    "Thaddeus",
    "Ondine",
    "Bartholo",
    "Celestyn",
    "Ysolde",
    "Wendeline",
    "Peregrin",
    "Ottoline",
    "Ximeno",
    "Rosalind",
    "Lysander",
    "Eglantine",
    "Florizel",
    "Ismenia",
    "Valentin",
    "Gwendolen",
    "Hieronymus",
]


def _students(names: list[str], seed: int) -> list[tuple[str, list[str], Any, Any]]:
    return [
        (name, ["EL"] if index % 3 == 0 else [], ((index + seed) % 5, 2), (4, (index % 6) + 1))
        for index, name in enumerate(names)
    ]


def _layout() -> dict[str, dict[str, list[Any]]]:
    return {
        "Harbor School": {
            "Harbor 5A": _students(NAMES[0:5], 1),
            "Harbor 5B": _students(NAMES[5:10], 2),
        },
        "Ridge School": {
            "Ridge 5A": _students(NAMES[10:15], 3),
            "Ridge 5B": _students(NAMES[15:20], 4),
        },
    }


POISON_NAMES = ["Aurelianus", "Brunhilde", "Cassiopeia"]


# ---------------------------------------------------------------------------------------------
# A worker that can be killed
# ---------------------------------------------------------------------------------------------


class Worker:
    """`celery worker` with one pool process, in a process group of its own."""

    def __init__(self, queue_name: str, env: dict[str, str]) -> None:
        self.queue_name = queue_name
        self.env = env
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                f"--queues={self.queue_name}",
                f"--hostname={self.queue_name}-{self.starts}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--loglevel=INFO",
            ],
            cwd=PROJECT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self.process = process
        lines: queue.Queue[str] = queue.Queue()
        stdout = process.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                self.output.append(line)
                lines.put(line)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                if process.poll() is not None:
                    break
                continue
            if " ready." in line:
                return
        self.kill()
        pytest.fail("The Celery worker did not start:\n" + self.log())

    def pool_pids(self) -> list[int]:
        assert self.process is not None
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()]

    def kill_pool_process(self) -> None:
        """SIGKILL the process running the task; the worker itself starts another."""
        for pid in self.pool_pids():
            os.kill(pid, signal.SIGKILL)

    def kill(self) -> None:
        """SIGKILL the worker and its pool at once, as when its machine goes away."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        return "".join(self.output[-200:])


# ---------------------------------------------------------------------------------------------
# Every command sent to the broker's database
# ---------------------------------------------------------------------------------------------


class BrokerTap:
    """Redis MONITOR on the broker's server, keeping the commands sent to its database."""

    def __init__(self, url: str) -> None:
        parsed = urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 6379
        self.db = int((parsed.path or "/0").strip("/") or 0)
        self.commands: list[list[bytes]] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> BrokerTap:
        self._thread.start()
        assert self._ready.wait(10), "MONITOR did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        with socket.create_connection((self.host, self.port), timeout=10) as sock:
            sock.sendall(b"MONITOR\r\n")
            sock.settimeout(0.2)
            buffer = b""
            marker = f"[{self.db} ".encode()
            while not self._stop.is_set():
                try:
                    data = sock.recv(1 << 16)
                except TimeoutError:
                    continue
                if not data:
                    return
                buffer += data
                *lines, buffer = buffer.split(b"\r\n")
                for line in lines:
                    if line == b"+OK":
                        self._ready.set()
                    elif marker in line[:60]:
                        self.commands.append(_monitor_arguments(line))

    def messages(self) -> list[dict[str, Any]]:
        """Every task message seen on its way to a queue or into the unacknowledged set."""
        found = []
        for command in self.commands:
            for argument in command[1:]:
                envelope = _envelope(argument)
                if envelope is not None:
                    found.append(envelope)
        return found


def _monitor_arguments(line: bytes) -> list[bytes]:
    """The quoted arguments of one MONITOR line, unescaped (Redis writes them as sdscatrepr)."""
    arguments = []
    text = line[line.index(b"]") + 1 :]
    position = 0
    while True:
        start = text.find(b'"', position)
        if start < 0:
            return arguments
        value = bytearray()
        index = start + 1
        while text[index : index + 1] != b'"':
            if text[index : index + 1] == b"\\":
                escaped = text[index + 1 : index + 2]
                if escaped == b"x":
                    value.append(int(text[index + 2 : index + 4], 16))
                    index += 4
                    continue
                value += {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"a": b"\a", b"b": b"\b"}.get(
                    escaped, escaped
                )
                index += 2
                continue
            value += text[index : index + 1]
            index += 1
        arguments.append(bytes(value))
        position = index + 1


def _envelope(argument: bytes) -> dict[str, Any] | None:
    """A kombu message (as pushed to a queue, or [message, exchange, routing key] as kept in
    the unacknowledged hash), with its body decoded; None for anything else."""
    try:
        data = json.loads(argument)
    except ValueError:
        return None
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if not isinstance(data, dict) or "body" not in data or "headers" not in data:
        return None
    body = data["body"]
    if data.get("properties", {}).get("body_encoding") == "base64":
        body = base64.b64decode(body)
    return {**data, "decoded_body": json.loads(body)}


# ---------------------------------------------------------------------------------------------
# Faults injected in the database (test-only triggers)
# ---------------------------------------------------------------------------------------------


@dataclass
class Faults:
    statements: list[str] = field(default_factory=list)
    drops: list[str] = field(default_factory=list)

    def run(self, sql: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql)

    def pause_builds_and_exports(self) -> None:
        """Every statement writing student growth, and every export progress checkpoint,
        sleeps: a worker is then in the middle of a build or a file for a while."""
        self.run(
            f"""
            CREATE FUNCTION fault_pause() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM pg_sleep({PAUSE_SECONDS}); RETURN NULL; END $$;
            CREATE TRIGGER fault_pause_growth AFTER INSERT OR UPDATE ON reports_studentgrowth
                FOR EACH STATEMENT EXECUTE FUNCTION fault_pause();
            CREATE TRIGGER fault_pause_export AFTER UPDATE ON reports_exportjob
                FOR EACH ROW WHEN (OLD.status = 'running' AND NEW.status = 'running'
                                   AND NEW.rows_written > 0)
                EXECUTE FUNCTION fault_pause();
            """
        )
        self.drops += [
            "DROP TRIGGER IF EXISTS fault_pause_growth ON reports_studentgrowth",
            "DROP TRIGGER IF EXISTS fault_pause_export ON reports_exportjob",
            "DROP FUNCTION IF EXISTS fault_pause()",
        ]

    def refuse(self, *, classroom_unit_id: int, export_job_id: int) -> None:
        """The database refuses, every time, to write (insert or update) the classroom unit's
        growth and the export job's progress (SQLSTATE 40001: a serialization failure, which
        tasks retry)."""
        self.run(
            f"""
            CREATE FUNCTION fault_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'injected fault' USING ERRCODE = '40001'; END $$;
            CREATE TRIGGER fault_refuse_growth BEFORE INSERT OR UPDATE ON reports_studentgrowth
                FOR EACH ROW WHEN (NEW.classroom_unit_id = {int(classroom_unit_id)})
                EXECUTE FUNCTION fault_refuse();
            CREATE TRIGGER fault_refuse_export BEFORE UPDATE ON reports_exportjob
                FOR EACH ROW WHEN (NEW.id = {int(export_job_id)} AND OLD.status = 'running'
                                   AND NEW.status = 'running')
                EXECUTE FUNCTION fault_refuse();
            """
        )
        self.drops += [
            "DROP TRIGGER IF EXISTS fault_refuse_growth ON reports_studentgrowth",
            "DROP TRIGGER IF EXISTS fault_refuse_export ON reports_exportjob",
            "DROP FUNCTION IF EXISTS fault_refuse()",
        ]

    def remove(self) -> None:
        for statement in self.drops:
            self.run(statement)
        self.drops.clear()

    def sleeping(self) -> list[tuple[int, str]]:
        """(backend pid, statement) of every other session of this database in the pause."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event = 'PgSleep' AND pid <> pg_backend_pid()"
            )
            return list(cursor.fetchall())


@pytest.fixture
def faults(transactional_db: Any) -> Iterator[Faults]:
    injected = Faults()
    try:
        yield injected
    finally:
        injected.remove()  # triggers outlive the flush between tests: never leave one behind


# ---------------------------------------------------------------------------------------------
# The scenario
# ---------------------------------------------------------------------------------------------


def _rescore(classroom_unit: ClassroomUnit, actor: Any, shift: int) -> int:
    """Change every post-assessment score of the class through the save service (which queues
    the class's rebuild after commit); returns the number of cells saved."""
    post = classroom_unit.unit.assessments.get(kind="post")
    entries = [
        ScoreEntry(
            student_id=score.student_id,
            skill_code=score.assessment_skill.skill.code,
            value=str(int(score.points or 0) + shift if score.points is not None else 1),
            expected_version=score.version,
        )
        for score in Score.objects.filter(
            classroom_unit=classroom_unit, assessment_skill__assessment=post
        ).select_related("assessment_skill__skill")
    ]
    entries = [
        entry
        if Decimal(entry.value) <= (4 if entry.skill_code == "A" else 6)
        else ScoreEntry(entry.student_id, entry.skill_code, "0", entry.expected_version)
        for entry in entries
    ]
    result = scores_save(
        actor=actor, classroom_unit=classroom_unit, assessment=post, entries=entries
    )
    assert result.is_applied, result.problems
    return len(result.saved)


def _paused(
    faults: Faults,
    owed: Counter[str],
    kills_per_job: Counter[int],
    killed: set[int],
    seconds: float,
) -> tuple[str, int] | None:
    """Wait until the worker pauses in a kind of work still ``owed`` kills (exports before
    builds when both are); that kind and the export job's id (0 for a build), or None if none
    pauses in time. A job killed twice is let through, and the sessions of killed workers (which
    sleep on until their statement ends) are left out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found: dict[str, tuple[int, int]] = {}
        for backend, statement in faults.sleeping():
            if backend in killed:
                continue
            job = re.search(r'"reports_exportjob"\."id" = (\d+)', statement)
            if job is None:
                found.setdefault("growth", (backend, 0))
            elif kills_per_job[int(job.group(1))] < 2:
                found.setdefault("export", (backend, int(job.group(1))))
        for kind in ("export", "growth"):
            if owed[kind] > 0 and kind in found:
                backend, target = found[kind]
                killed.add(backend)
                return kind, target
        time.sleep(0.05)
    return None


def _wait(condition: Callable[[], bool], seconds: float, worker: Worker, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    jobs = list(ExportJob.objects.all_schools().values_list("pk", "status", "attempts"))
    builds = list(
        GrowthBuild.objects.all_schools().values_list(
            "classroom_unit_id", "stale_since", "failed_at"
        )
    )
    pytest.fail(
        f"Not done within {seconds} s: {what}\njobs (id, status, attempts): {jobs}\n"
        f"builds (classroom unit, stale since, failed at): {builds}\n{worker.log()}"
    )


def _expected_bytes(job: ExportJob) -> bytes:
    prepared = exports.export_prepare(
        actor=job.requested_by,
        kind=job.kind,
        filters=exports.ExportFilters.from_json(job.parameters["filters"]),
        excel=bool(job.parameters.get("excel")),
    )
    return b"".join(exports.export_blocks(prepared=prepared, progress=exports.ExportProgress()))


@pytest.mark.celery_worker
def test_killed_workers_lose_nothing_double_nothing_and_give_up_visibly(
    faults: Faults, tmp_path: Path, settings: Any
) -> None:
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        unavailable("CELERY_BROKER_URL must name a Redis broker for the worker fault test")
    started = time.monotonic()
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    settings.THINSLICE_GROWTH_DEBOUNCE_SECONDS = 0.2

    # Two districts, built once before anything goes wrong.
    world = growth_world(minimum_n=3, layout=_layout(), district_name="Harbor District")
    poisoned: GrowthWorld = growth_world(
        minimum_n=3,
        layout={"Cove School": {"Cove 5A": _students(POISON_NAMES, 5)}},
        district_name="Cove District",
    )
    services.growth_rebuild()
    admin = factories.UserFactory(district=world.district, is_district_admin=True)
    poisoned_admin = factories.UserFactory(district=poisoned.district, is_district_admin=True)
    poisoned_unit = poisoned.classroom_units["Cove 5A"]
    before = (students_snapshot(), summaries_snapshot())

    queue_name = f"thinslice-faults-{uuid.uuid4().hex[:10]}"
    worker = Worker(
        queue_name,
        {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": broker,
            "DJANGO_DEBUG": "false",
            "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
            "CELERY_UNACKED_RESTORE_INTERVAL": "1",
            "THINSLICE_EXPORT_DIR": str(tmp_path),
            "THINSLICE_EXPORT_RETRY_SECONDS": "0.5",
        },
    )
    was_eager = celery_app.conf.task_always_eager
    default_queue = celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue_name
    kills: list[dict[str, Any]] = []
    try:
        with BrokerTap(broker) as tap:
            worker.start()
            faults.pause_builds_and_exports()
            # Work for the worker: scores change in every class (a rebuild each), a full
            # rebuild of the district, three exports; and a rebuild and an export that the
            # database refuses every time.
            cells = sum(
                _rescore(classroom_unit, admin, shift=1)
                for classroom_unit in world.classroom_units.values()
            )
            growth_rebuild_task.delay(district_id=world.district.pk)
            jobs = [
                exports.export_job_create(
                    prepared=exports.export_prepare(
                        actor=admin,
                        kind="scores",
                        filters=exports.ExportFilters(**filters),
                        excel=excel,
                    )
                )
                for filters, excel in (
                    ({}, False),
                    ({"school_id": world.schools["Harbor School"].pk}, True),
                    ({"school_id": world.schools["Ridge School"].pk}, False),
                )
            ]
            refused_job = exports.export_job_create(
                prepared=exports.export_prepare(actor=admin, kind="scores")
            )
            faults.refuse(classroom_unit_id=poisoned_unit.pk, export_job_id=refused_job.pk)
            _rescore(poisoned_unit, poisoned_admin, shift=1)

            # Kill the worker in the middle of builds and exports, again and again.
            kills_per_job: Counter[int] = Counter()
            killed_sessions: set[int] = set()
            owed = Counter(KILLS_PER_KIND)
            for how in KILLS:
                paused = _paused(faults, owed, kills_per_job, killed_sessions, seconds=30)
                if paused is None:
                    continue  # that work is over: nothing of the kind left to interrupt
                during, target = paused
                owed[during] -= 1
                if how == "pool":
                    worker.kill_pool_process()
                else:
                    worker.kill()
                    worker.start()
                kills_per_job[target] += during == "export"
                kills.append({"how": how, "during": during, "job": target})

            # Let it finish, through retries and redeliveries.
            all_jobs = [*jobs, refused_job]

            def settled() -> bool:
                finished = ExportJob.objects.all_schools().filter(
                    pk__in=[job.pk for job in all_jobs],
                    status__in=[ExportStatus.SUCCEEDED, ExportStatus.FAILED],
                )
                builds = GrowthBuild.objects.all_schools()
                return (
                    finished.count() == len(all_jobs)
                    and not builds.filter(
                        classroom_unit__in=world.classroom_units.values(),
                        stale_since__isnull=False,
                    ).exists()
                    and builds.filter(
                        classroom_unit=poisoned_unit, failed_at__isnull=False
                    ).exists()
                )

            _wait(settled, 90, worker, "exports finished and rebuilds done or given up")
            worker.stop()
    finally:
        worker.kill()
        celery_app.conf.task_always_eager = was_eager
        celery_app.conf.task_default_queue = default_queue
        faults.remove()
        # What the stopped worker handed back (countdowns not yet due) goes with its queue.
        with celery_app.connection_for_write() as broker_connection:
            broker_connection.default_channel.client.delete(
                queue_name,
                f"_kombu.binding.{queue_name}",
                f"_kombu.binding_permanent.{queue_name}",
            )
    elapsed = time.monotonic() - started

    # The kills landed in the middle of both kinds of work, both ways.
    hows = {kill["how"] for kill in kills}
    during = {kill["during"] for kill in kills}
    assert len(kills) >= 4 and hows == {"pool", "worker"} and during == {"growth", "export"}, kills

    # 1. Every stored growth row and summary equals a fresh rebuild, and reflects the new scores.
    after = (students_snapshot(), summaries_snapshot())
    services.growth_rebuild(district_id=world.district.pk)
    assert (students_snapshot(), summaries_snapshot()) == after
    assert after != before, "the changed scores were summarised"
    harbor_builds = GrowthBuild.objects.all_schools().filter(
        classroom_unit__in=world.classroom_units.values()
    )
    assert not harbor_builds.filter(failed_at__isnull=False).exists()

    # 2. Each export job succeeded exactly once: one audit row, one file, the right bytes.
    files = sorted(path.relative_to(tmp_path) for path in tmp_path.rglob("*") if path.is_file())
    for job in jobs:
        job.refresh_from_db()
        assert job.status == ExportStatus.SUCCEEDED, job.message
        assert job.attempts == kills_per_job[job.pk] + 1
        succeeded = AuditEvent.objects.all_schools().filter(
            kind="export_scores", outcome="succeeded", parameters__job=job.pk
        )
        assert succeeded.count() == 1
        expected = _expected_bytes(job)
        assert (tmp_path / job.file_name).read_bytes() == expected
        assert job.rows_written == len(expected.splitlines()) - 1 > 0
    assert files == sorted(Path(job.file_name) for job in jobs), "no stray or partial file"
    assert any(kills_per_job[job.pk] for job in jobs), "an export was killed mid-file"

    # 3. The export the database always refused stopped after its retries, failed, and says so.
    refused_job.refresh_from_db()
    assert refused_job.status == ExportStatus.FAILED
    assert refused_job.attempts == EXPORT_MAX_RETRIES + 1  # the first try and its retries
    assert "Gave up after retries" in refused_job.message
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("export-job", args=[refused_job.pk])).content.decode()
    assert "The export failed." in page and refused_job.message in page

    # 4. So did the rebuild the database always refused; the report page says the update failed.
    build = GrowthBuild.objects.all_schools().get(classroom_unit=poisoned_unit)
    assert build.failed_at is not None and build.stale_since is not None
    assert f"after {GROWTH_MAX_RETRIES} retries" in build.failure_message
    cove_rows = {
        key: value for key, value in students_snapshot().items() if key[0] == poisoned_unit.pk
    }
    assert cove_rows == {
        key: value for key, value in before[0].items() if key[0] == poisoned_unit.pk
    }, "the failed rebuild left the rows of the last good build"
    teacher = factories.UserFactory(district=poisoned.district)
    poisoned.classrooms["Cove 5A"].teachers.add(teacher)
    client.force_login(teacher)
    page = client.get(reverse("reports:classroom-unit", args=[poisoned_unit.pk])).content.decode()
    assert "Update failed:" in page and f"after {GROWTH_MAX_RETRIES} retries" in page

    # 5. Broker messages carry ids only: no name, no score, nothing but the task's ids.
    messages = tap.messages()
    poisoned_tries = {
        message["headers"]["retries"]
        for message in messages
        if message["headers"]["task"] == "reports.tasks.classroom_unit_growth_rebuild_task"
        and message["decoded_body"][0] == [poisoned_unit.pk]
    }
    assert poisoned_tries == set(range(GROWTH_MAX_RETRIES + 1)), "bounded retries, then stop"
    refused_tries = {
        message["headers"]["retries"]
        for message in messages
        if message["headers"]["task"] == export_csv_task.name
        and message["decoded_body"][0] == [refused_job.pk]
    }
    assert refused_tries == set(range(EXPORT_MAX_RETRIES + 1)), "bounded retries, then stop"
    allowed_ids = {
        "reports.tasks.classroom_unit_growth_rebuild_task": {
            classroom_unit.pk for classroom_unit in [*world.classroom_units.values(), poisoned_unit]
        },
        "reports.tasks.growth_rebuild_task": {world.district.pk},
        export_csv_task.name: {job.pk for job in all_jobs},
    }
    names = [*NAMES, *POISON_NAMES]
    raw = b"".join(argument for command in tap.commands for argument in command)
    assert not [name for name in names if name.encode() in raw]
    for message in messages:
        task = message["headers"]["task"]
        args, kwargs, _embed = message["decoded_body"]
        ids = [*args, *kwargs.values()]
        assert all(type(value) is int for value in ids), message
        assert set(ids) <= allowed_ids[task], message
        assert message["headers"]["argsrepr"] in (repr(tuple(args)), repr(list(args))), message
        text = json.dumps(message)
        assert not [name for name in names if name in text], message

    print(  # noqa: T201 - the figures for docs/trust.md
        f"\nworker faults: {len(kills)} SIGKILLs ({Counter(k['how'] for k in kills)}) during "
        f"{Counter(k['during'] for k in kills)}; {cells} score cells changed in "
        f"{len(world.classroom_units)} classes; summaries ≠ fresh rebuild: 0; export jobs "
        f"succeeded once: {len(jobs)}/{len(jobs)}, stray files: 0; refused rebuild tries: "
        f"{len(poisoned_tries)}, refused export attempts: {refused_job.attempts}; broker "
        f"messages inspected: {len(messages)}, with a name or a non-id: 0; {elapsed:.0f} s"
    )


# ---------------------------------------------------------------------------------------------
# The same rules, one at a time and inline (no worker)
# ---------------------------------------------------------------------------------------------


def _one_class() -> tuple[GrowthWorld, ClassroomUnit, Client]:
    world = growth_world(minimum_n=3, layout={"North School": {"N1": _students(NAMES[:4], 1)}})
    services.growth_rebuild()
    classroom_unit = world.classroom_units["N1"]
    teacher = factories.UserFactory(district=world.district)
    world.classrooms["N1"].teachers.add(teacher)
    client = Client()
    client.force_login(teacher)
    return world, classroom_unit, client


@pytest.mark.django_db
def test_a_rebuild_that_keeps_failing_stops_after_its_retries_and_the_page_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _world, classroom_unit, client = _one_class()
    page_url = reverse("reports:classroom-unit", args=[classroom_unit.pk])
    GrowthBuild.objects.filter(classroom_unit=classroom_unit).update(stale_since=timezone.now())
    tries: list[int] = []

    def refused(*, classroom_unit_id: int) -> int:
        tries.append(classroom_unit_id)
        raise OperationalError("could not serialize access due to concurrent update")

    monkeypatch.setattr(services, "classroom_unit_growth_rebuild", refused)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)

    classroom_unit_growth_rebuild_task.apply(args=[classroom_unit.pk])

    assert tries == [classroom_unit.pk] * (GROWTH_MAX_RETRIES + 1)
    build = GrowthBuild.objects.get(classroom_unit=classroom_unit)
    assert build.failed_at is not None
    assert build.failure_message == "The rebuild failed (OperationalError) after 3 retries."
    page = client.get(page_url).content.decode()
    assert "Update failed:" in page and "after 3 retries" in page
    assert "Update pending:" not in page, "a failed update is not shown as pending"

    monkeypatch.undo()
    classroom_unit_growth_rebuild_task.apply(args=[classroom_unit.pk])

    build.refresh_from_db()
    assert (build.failed_at, build.failure_message, build.stale_since) == (None, "", None)
    assert "Update failed" not in client.get(page_url).content.decode()


@pytest.mark.django_db
def test_a_failed_full_rebuild_marks_only_the_updates_still_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    world = growth_world(
        minimum_n=3,
        layout={"North School": {"N1": _students(NAMES[:3], 1), "N2": _students(NAMES[3:6], 2)}},
    )
    services.growth_rebuild()
    waiting = world.classroom_units["N1"]
    GrowthBuild.objects.filter(classroom_unit=waiting).update(stale_since=timezone.now())

    def refused(*, district_id: int | None = None) -> Any:
        raise OperationalError("the database system is shutting down")

    monkeypatch.setattr(services, "growth_rebuild", refused)
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)

    growth_rebuild_task.apply(kwargs={"district_id": world.district.pk})

    failed = GrowthBuild.objects.filter(failed_at__isnull=False)
    assert list(failed.values_list("classroom_unit_id", flat=True)) == [waiting.pk]


@pytest.fixture
def export_dir(tmp_path: Path, settings: Any) -> Path:
    settings.THINSLICE_EXPORT_DIR = str(tmp_path)
    return tmp_path


def _scores_job(world: World) -> ExportJob:
    prepared = exports.export_prepare(actor=world.users["admin_a"], kind="scores")
    return exports.export_job_create(prepared=prepared)


def test_an_export_left_running_by_a_dead_worker_is_taken_over_and_written_once(
    world: World, export_dir: Path
) -> None:
    job = _scores_job(world)
    # A worker claimed the job, wrote part of its file, and died.
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1)
    leftover = export_dir / str(job.district_id) / f"{job.pk}-0123456789abcdef.csv.part"
    leftover.parent.mkdir(parents=True)
    leftover.write_bytes(b"school_name,student")

    assert export_csv_task(job.pk) == "succeeded"
    assert export_csv_task(job.pk) == "skipped"

    job.refresh_from_db()
    assert job.attempts == 2
    assert [path.relative_to(export_dir) for path in export_dir.rglob("*") if path.is_file()] == [
        Path(job.file_name)
    ]
    assert (export_dir / job.file_name).read_bytes() == _expected_bytes(job)
    written = AuditEvent.objects.all_schools().filter(kind="export_scores", outcome="succeeded")
    assert written.count() == 1


def test_an_export_a_live_worker_is_writing_is_left_to_it(
    world: World, export_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg

    job = _scores_job(world)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1)
    monkeypatch.setattr(export_jobs, "EXPORT_CLAIM_WAIT_SECONDS", 0.5)
    # Another worker's session holds the job's claim: it is alive and writing.
    with psycopg.connect(_database_url(), autocommit=True) as other_worker:
        other_worker.execute(
            "SELECT pg_advisory_lock(%s, %s)", [export_jobs._JOB_LOCK_NAMESPACE, job.pk]
        )

        attempt = exports.export_job_attempt(job_id=job.pk, may_retry=True)

    assert attempt == exports.ExportAttempt.BUSY
    job.refresh_from_db()
    assert (job.status, job.attempts) == (ExportStatus.RUNNING, 1)
    assert not list(export_dir.rglob("*"))
    # Its session is gone (it died): the next look takes the job over.
    assert exports.export_job_attempt(job_id=job.pk, may_retry=True) == "succeeded"


def test_an_export_interrupted_too_often_fails_with_the_reason(
    world: World, export_dir: Path, client: Client
) -> None:
    job = _scores_job(world)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, attempts=export_jobs.EXPORT_MAX_ATTEMPTS
    )

    assert export_csv_task(job.pk) == "skipped"

    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    assert f"started {export_jobs.EXPORT_MAX_ATTEMPTS} times without finishing" in job.message
    assert not list(export_dir.rglob("*"))
    client.force_login(world.users["admin_a"])
    page = client.get(reverse("export-job", args=[job.pk])).content.decode()
    assert "The export failed." in page and "without finishing" in page
    event = AuditEvent.objects.all_schools().get(kind="export_scores")
    assert event.outcome == "failed"
