"""Many writers on the same scores at once, on PostgreSQL, in real transactions.

Threads (each with its own database connection) read the cells they are about to change and
save them with the versions they read, through ``assessments.services.scores_save`` and through
``POST /api/classroom-units/<cu>/assessments/<a>/scores/`` on a live server. Afterwards:

- **no lost update**: every write acknowledged as saved is either the cell's final value or was
  superseded by a later acknowledged write of a higher version, and two acknowledgements of one
  version of a cell agree on its value;
- **an unbroken history**: per cell, the ScoreChange rows have versions 1, 2, 3 ... each starting
  from the value the previous one left, the last one ending at the cell's value;
- **no duplicate score rows** (one per classroom unit × student × skill);
- **stale writes are refused as conflicts** (409 over HTTP), and no other error (a deadlock, a
  unique violation, a 500) ever reaches a user.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.db import connections
from django.db.models import Count
from rest_framework.authtoken.models import Token

from assessments.cells import CellValue
from assessments.models import Score, ScoreChange
from assessments.services import ScoreEntry, scores_save
from tests import factories
from tests.conftest import build_world
from units.models import Assessment, ClassroomUnit

THREADS = 8
SAVES_PER_THREAD = int(os.environ.get("THINSLICE_CONCURRENCY_SAVES", "15"))
VALUES = ("0", "1", "1.5", "2", "3", "4", "A", "X")
Cell = tuple[int, str]  # (student id, skill code)


@pytest.fixture(autouse=True)
def _committed_writes(transactional_db: Any) -> None:
    """Writers in other threads see only committed rows: no test transaction around them."""


@dataclass
class Target:
    """Class a1's pre-assessment: its teacher, classroom unit, assessment and cells."""

    teacher: Any
    classroom_unit: ClassroomUnit
    assessment: Assessment
    cells: list[Cell]


def _target(students: int = 3) -> Target:
    world = build_world()
    classroom_unit = world.classroom_units["a1"]
    for _ in range(students - 1):
        factories.EnrollmentFactory(classroom=world.classrooms["a1"])
    # Start from no scores at all, so each cell's history starts at version 1 here.
    Score.objects.filter(classroom_unit=classroom_unit).delete()
    assessment = classroom_unit.unit.assessments.get(kind="pre")
    codes = sorted(assessment.assessment_skills.values_list("skill__code", flat=True))
    students_ids = sorted(world.classrooms["a1"].enrollments.values_list("student_id", flat=True))
    cells = [(student, code) for student in students_ids for code in codes]
    return Target(world.users["teacher_a1"], classroom_unit, assessment, cells)


def _fill(target: Target, value: str = "2") -> None:
    """Every cell entered once (version 1), as a teacher would before the rush."""
    result = scores_save(
        actor=target.teacher,
        classroom_unit=target.classroom_unit,
        assessment=target.assessment,
        entries=[ScoreEntry(student, code, value) for student, code in target.cells],
    )
    assert result.is_applied, result.problems


@dataclass
class Outcomes:
    """What the writers were told, collected from every thread."""

    acknowledged: list[tuple[Cell, int | None, str]] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def saved(self, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            self.statuses["saved"] += 1
            for row in rows:
                self.acknowledged.append(
                    ((row["student"], row["skill"]), row["version"], row["value"])
                )

    def count(self, outcome: str) -> None:
        with self.lock:
            self.statuses[outcome] += 1

    def error(self, text: str) -> None:
        with self.lock:
            self.statuses["deadlock" if "deadlock detected" in text else "error"] += 1
            self.errors.append(text)


def _in_threads(work: Callable[[random.Random], None], threads: int = THREADS) -> None:
    """Run ``work`` in ``threads`` threads started together, each on its own connection."""
    barrier = threading.Barrier(threads)

    def run(seed: int) -> None:
        try:
            barrier.wait()
            work(random.Random(seed))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=run, args=(seed,)) for seed in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=300)
    assert not any(worker.is_alive() for worker in workers), "a writer never finished"


def _current(target: Target) -> dict[Cell, Score]:
    return {
        (score.student_id, score.assessment_skill.skill.code): score
        for score in Score.objects.filter(
            classroom_unit=target.classroom_unit,
            assessment_skill__assessment=target.assessment,
        ).select_related("assessment_skill__skill")
    }


def _shown(score: Score | None) -> str:
    if score is None:
        return ""
    return CellValue(status=score.status, points=score.points).shown


def _lost_updates(target: Target, outcomes: Outcomes) -> list[str]:
    """Acknowledged writes that are neither final nor superseded by a later acknowledged write,
    and versions of a cell acknowledged with two different values.

    A clear is acknowledged without a version (an empty cell has none; the next entry is an
    add): its place in the cell's order is its history row's version. Every clear in the history
    must be one that a writer was told about (a clear of a cell already empty is acknowledged
    without writing anything).
    """
    current = _current(target)
    cleared_at: dict[Cell, list[int]] = defaultdict(list)
    for change in ScoreChange.objects.filter(
        classroom_unit=target.classroom_unit, assessment_skill__assessment=target.assessment
    ).select_related("assessment_skill__skill"):
        if CellValue(status=change.new_status, points=change.new_points).shown == "":
            cleared_at[change.student_id, change.assessment_skill.skill.code].append(change.version)
    highest: dict[Cell, int] = defaultdict(int)
    values: dict[tuple[Cell, int | None], set[str]] = defaultdict(set)
    clears_acknowledged: Counter[Cell] = Counter()
    for cell, version, value in outcomes.acknowledged:
        if version is None and value == "":
            clears_acknowledged[cell] += 1
            continue
        highest[cell] = max(highest[cell], version or 0)
        values[cell, version].add(value)
    for cell, versions in cleared_at.items():
        highest[cell] = max(highest[cell], *versions)
    lost = [
        f"{cell} v{version}: {sorted(seen)} acknowledged for one version"
        for (cell, version), seen in values.items()
        if len(seen) > 1
    ]
    lost += [
        f"{cell}: {len(versions)} clears in its history, {clears_acknowledged[cell]} acknowledged"
        for cell, versions in cleared_at.items()
        if clears_acknowledged[cell] < len(versions)
    ]
    for cell, version, value in outcomes.acknowledged:
        final = current.get(cell)
        is_final = (final.version if final else None) == version and _shown(final) == value
        if not is_final and (version or 0) >= highest[cell]:
            lost.append(f"{cell}: {value!r} acknowledged as v{version}, now {_shown(final)!r}")
    return lost


def _broken_history(target: Target) -> list[str]:
    """Cells whose ScoreChange rows are not versions 1..n, each from the previous value."""
    current = _current(target)
    broken = []
    changes = ScoreChange.objects.filter(
        classroom_unit=target.classroom_unit, assessment_skill__assessment=target.assessment
    ).select_related("assessment_skill__skill")
    by_cell: dict[Cell, list[ScoreChange]] = defaultdict(list)
    for change in changes:
        by_cell[change.student_id, change.assessment_skill.skill.code].append(change)
    for cell in target.cells:
        history = sorted(by_cell[cell], key=lambda change: (change.version, change.pk))
        versions = [change.version for change in history]
        if versions != list(range(1, len(history) + 1)):
            broken.append(f"{cell}: versions {versions}")
            continue
        previous = ""
        for change in history:
            old = CellValue(status=change.old_status, points=change.old_points).shown
            if old != previous:
                broken.append(f"{cell} v{change.version}: from {old!r}, but it was {previous!r}")
            previous = CellValue(status=change.new_status, points=change.new_points).shown
        if previous != _shown(current.get(cell)):
            broken.append(
                f"{cell}: history ends at {previous!r}, cell is {_shown(current.get(cell))!r}"
            )
    return broken


def _duplicate_rows() -> int:
    return (
        Score.objects.values("classroom_unit", "student", "assessment_skill")
        .annotate(rows=Count("pk"))
        .filter(rows__gt=1)
        .count()
    )


def _report(name: str, target: Target, outcomes: Outcomes) -> tuple[list[str], list[str]]:
    lost = _lost_updates(target, outcomes)
    broken = _broken_history(target)
    print(
        f"\n{name}: {sum(outcomes.statuses.values())} saves by {THREADS} writers on "
        f"{len(target.cells)} cells: {dict(sorted(outcomes.statuses.items()))}; "
        f"{len(outcomes.acknowledged)} cell writes acknowledged, {len(lost)} lost updates, "
        f"{len(broken)} broken histories, {_duplicate_rows()} duplicate score rows, "
        f"{outcomes.statuses['deadlock']} deadlocks and {len(outcomes.errors)} other errors "
        "reaching users"
    )
    return lost, broken


def _save(target: Target, outcomes: Outcomes, entries: list[ScoreEntry]) -> None:
    """Save ``entries`` through the service as the target's teacher and record what the writer
    was told: saved, a conflict, or an error (an exception or any other refusal)."""
    try:
        result = scores_save(
            actor=target.teacher,
            classroom_unit=target.classroom_unit,
            assessment=target.assessment,
            entries=entries,
        )
    except Exception as error:  # noqa: BLE001 - every error that would reach a user
        outcomes.error(f"{type(error).__name__}: {error}")
        return
    if result.is_applied:
        outcomes.saved(
            [
                {"student": row["student_id"], "skill": row["skill_code"], **row}
                for row in result.saved
            ]
        )
    elif all(problem.is_conflict for problem in result.problems):
        outcomes.count("conflict")
    else:
        outcomes.error(f"refused: {[problem.message for problem in result.problems]}")


def _service_writer(target: Target, outcomes: Outcomes, *, clears: bool) -> Callable[..., None]:
    """A teacher's grid: read a few cells, change them from the versions read, save."""
    values = (*VALUES, "") if clears else VALUES

    def work(rng: random.Random) -> None:
        for _ in range(SAVES_PER_THREAD):
            chosen = rng.sample(target.cells, rng.randint(1, len(target.cells)))
            current = _current(target)
            entries = [
                ScoreEntry(
                    student_id=student,
                    skill_code=code,
                    value=rng.choice(values),
                    expected_version=current[student, code].version
                    if (student, code) in current
                    else None,
                )
                for student, code in chosen
            ]
            time.sleep(rng.random() / 100)  # others move on meanwhile
            _save(target, outcomes, entries)

    return work


def test_many_writers_on_the_same_scores_lose_no_update_and_keep_one_row_per_cell() -> None:
    target = _target()
    _fill(target)
    outcomes = Outcomes()

    _in_threads(_service_writer(target, outcomes, clears=False))

    lost, broken = _report("scores_save, entered cells", target, outcomes)
    assert outcomes.errors == []
    assert outcomes.statuses["saved"] > 0
    assert outcomes.statuses["conflict"] > 0, "the writers never overlapped"
    assert lost == []
    assert broken == []
    assert _duplicate_rows() == 0


def test_writers_racing_to_enter_an_empty_cell_get_one_save_and_conflicts() -> None:
    """Every cell starts empty; for each, all writers save it at once from "empty" (no
    version): one save wins, the others are told the cell changed meanwhile."""
    target = _target()
    outcomes = Outcomes()

    for cell in target.cells:

        def work(rng: random.Random, cell: Cell = cell) -> None:
            result = scores_save(
                actor=target.teacher,
                classroom_unit=target.classroom_unit,
                assessment=target.assessment,
                entries=[ScoreEntry(cell[0], cell[1], rng.choice(VALUES), None)],
            )
            if result.is_applied:
                outcomes.saved(
                    [{"student": cell[0], "skill": cell[1], **row} for row in result.saved]
                )
            else:
                outcomes.count("conflict")

        _in_threads(work)

    lost, broken = _report("scores_save, first entries of empty cells", target, outcomes)
    winners = Counter(cell for cell, _, _ in outcomes.acknowledged)
    assert outcomes.statuses["saved"] == len(target.cells), dict(winners)
    assert lost == []
    assert broken == []


def test_many_writers_entering_and_clearing_empty_cells_lose_no_update() -> None:
    target = _target()
    outcomes = Outcomes()

    _in_threads(_service_writer(target, outcomes, clears=True))

    lost, broken = _report("scores_save, empty cells and clears", target, outcomes)
    assert outcomes.errors == []
    assert lost == []
    assert broken == []
    assert _duplicate_rows() == 0


def test_many_clients_of_the_bulk_api_get_200_or_409_and_lose_no_update(
    live_server: Any, caplog: pytest.LogCaptureFixture
) -> None:
    target = _target()
    _fill(target)
    token = Token.objects.create(user=target.teacher).key
    cu, assessment = target.classroom_unit.pk, target.assessment.pk
    save_url = f"{live_server.url}/api/classroom-units/{cu}/assessments/{assessment}/scores/"
    read_url = f"{live_server.url}/api/scores/?classroom_unit={cu}"
    outcomes = Outcomes()

    def call(url: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        request = urllib.request.Request(  # noqa: S310 - the test's own live server
            url,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as refused:
            return refused.code, refused.read()

    def work(rng: random.Random) -> None:
        for _ in range(SAVES_PER_THREAD):
            status, page = call(read_url)
            if status != 200:
                outcomes.error(f"read: {status} {page!r:.200}")
                continue
            versions = {
                (row["student"], row["skill_code"]): row["version"]
                for row in page["results"]
                if row["assessment"] == assessment
            }
            chosen = rng.sample(target.cells, rng.randint(1, len(target.cells)))
            rows = [
                {"student": s, "skill": c, "value": rng.choice(VALUES), "version": versions[s, c]}
                for s, c in chosen
            ]
            time.sleep(rng.random() / 100)
            status, body = call(save_url, {"scores": rows})
            if status == 200:
                outcomes.saved(body["saved"])
            elif status == 409:
                outcomes.count("409")
            elif status == 500:
                outcomes.count("500")
            else:
                outcomes.error(f"save: {status} {body!r:.300}")

    with caplog.at_level(logging.ERROR, logger="django.request"):
        _in_threads(work)

    # Every 500 is an error; the server's log says which were deadlocks.
    outcomes.statuses["deadlock"] = sum(
        "deadlock detected" in str(record.exc_info[1])
        for record in caplog.records
        if record.exc_info
    )
    if outcomes.statuses["500"]:
        outcomes.errors.append(f"{outcomes.statuses['500']} server errors")

    lost, broken = _report("bulk API, entered cells", target, outcomes)
    assert outcomes.errors == []
    assert outcomes.statuses["saved"] > 0
    assert outcomes.statuses["409"] > 0, "the clients never overlapped"
    assert lost == []
    assert broken == []
    assert _duplicate_rows() == 0


def test_concurrent_whole_class_saves_never_deadlock() -> None:
    """The grid and the API save whole columns: 8 writers each save all 40 cells of a class
    from the versions they read. Each is saved or refused as a conflict, never a deadlock."""
    target = _target(students=20)
    _fill(target)
    outcomes = Outcomes()

    def work(rng: random.Random) -> None:
        for _ in range(SAVES_PER_THREAD):
            current = _current(target)
            entries = [
                ScoreEntry(student, code, rng.choice(VALUES), current[student, code].version)
                for student, code in target.cells
            ]
            _save(target, outcomes, entries)

    _in_threads(work)

    lost, broken = _report("scores_save, whole-class saves", target, outcomes)
    assert outcomes.errors == []
    assert lost == broken == []
    assert outcomes.statuses["deadlock"] == 0


def test_a_stale_write_after_a_cell_was_cleared_and_entered_again_is_refused() -> None:
    """A-B-A: the stale client saw version 1 of "2"; meanwhile the cell was cleared and entered
    again (now "3"). The stale client's save, based on that old version 1, must be refused."""
    target = _target(students=1)
    _fill(target)
    cell = target.cells[0]
    stale_version = _current(target)[cell].version

    def save(value: str, expected_version: int | None) -> Any:
        return scores_save(
            actor=target.teacher,
            classroom_unit=target.classroom_unit,
            assessment=target.assessment,
            entries=[ScoreEntry(cell[0], cell[1], value, expected_version)],
        )

    cleared = save("", stale_version)
    entered_again = save("3", None)
    stale = save("4", stale_version)

    assert cleared.is_applied
    assert entered_again.is_applied
    assert not stale.is_applied
    assert [problem.is_conflict for problem in stale.problems] == [True]
    assert _shown(_current(target)[cell]) == "3"
