"""Saving scores: the one write path for the score grid, CSV upload and the API.

Only what the plan names is accepted: the assessment must belong to the classroom unit's unit, the
skill must be one the assessment measures, the student must be enrolled in the classroom. Points
are 0..max with at most 2 decimals, or a status (absent, exempt); an empty value clears the score.
A write based on an out-of-date version is refused with the current value and who set it. A batch
is all or nothing, and every change leaves a ScoreChange row in the same transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from assessments.cells import EMPTY, CellValue, parse_cell
from assessments.models import Score, ScoreChange
from assessments.signals import scores_changed
from classrooms import access
from classrooms.models import Enrollment, User
from units.models import Assessment, AssessmentSkill, ClassroomUnit


@dataclass(frozen=True)
class ScoreEntry:
    """One cell as the teacher typed it. ``expected_version`` is the version they saw (None:
    they saw an empty cell)."""

    student_id: int
    skill_code: str
    value: str
    expected_version: int | None = None
    reason: str = ""  # why, if the teacher said: kept in the cell's history


class StoredScore(NamedTuple):
    """A cell's saved value as the save reads (and locks) it."""

    status: str
    points: Decimal | None
    version: int
    entered_by_id: int | None


@dataclass
class RowProblem:
    """Why one entry was not saved; ``current`` and ``current_by`` are set for a conflict."""

    index: int
    student_id: int
    skill_code: str
    message: str
    is_conflict: bool = False
    current: str = ""
    current_version: int | None = None
    current_by: str = ""


@dataclass
class SaveResult:
    saved: list[dict[str, Any]] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    # True when the request key was seen before: nothing was written again, ``saved`` shows
    # the cells as they stand now.
    is_replay: bool = False

    @property
    def is_applied(self) -> bool:
        return not self.problems


def scores_save(
    *,
    actor: Any,
    classroom_unit: ClassroomUnit,
    assessment: Assessment,
    entries: list[ScoreEntry],
    request_key: str = "",
) -> SaveResult:
    """Save one assessment's scores for a class, all or nothing.

    Returns the saved cells with their new versions, or, when any entry is wrong or stale, every
    problem and nothing written. A cell someone else fills while this save runs is a conflict
    too. Runs a fixed number of queries whatever the class size. When anything changed, sends
    ``signals.scores_changed`` for the classroom unit after the transaction commits.

    ``request_key`` (an API client's Idempotency-Key) makes a resent request harmless: its
    changes carry the key in their history, and the same actor sending the same key again for
    this classroom unit writes nothing and gets the cells as they stand (``is_replay``). A key
    reused for different values is refused.
    """
    try:
        return _scores_save(
            actor=actor,
            classroom_unit=classroom_unit,
            assessment=assessment,
            entries=entries,
            request_key=request_key,
        )
    except _RaceLost as lost:  # the transaction rolled back: nothing of this save was written
        positions = {(entry.student_id, entry.skill_code): i for i, entry in enumerate(entries)}
        return SaveResult(problems=_race_conflicts(classroom_unit, lost.writes, positions))


@transaction.atomic
def _scores_save(
    *,
    actor: Any,
    classroom_unit: ClassroomUnit,
    assessment: Assessment,
    entries: list[ScoreEntry],
    request_key: str,
) -> SaveResult:
    access.require(actor, "enter_scores", classroom_unit)
    result = SaveResult()
    if assessment.unit_id != classroom_unit.unit_id:
        result.problems.append(
            RowProblem(
                index=-1,
                student_id=0,
                skill_code="",
                message=f"'{assessment.title}' is not part of this classroom's unit.",
            )
        )
        return result
    measured = _measures(assessment.pk)
    if request_key:
        replay = _replay(actor, classroom_unit, measured, entries, request_key)
        if replay is not None:
            return replay
    enrolled = _enrolled_student_ids(classroom_unit)
    existing = _locked_scores(
        classroom_unit.pk,
        [measure.pk for measure in measured.values()],
        {entry.student_id for entry in entries},
    )

    changes: list[tuple[ScoreEntry, Measure, StoredScore | None, CellValue]] = []
    conflicting: list[tuple[int, ScoreEntry, StoredScore | None]] = []
    seen: set[tuple[int, str]] = set()
    for index, entry in enumerate(entries):
        problem = _entry_problem(index, entry, measured, enrolled, seen)
        if problem:
            result.problems.append(problem)
            continue
        seen.add((entry.student_id, entry.skill_code))
        measure = measured[entry.skill_code]
        try:
            new_value = parse_cell(entry.value, measure.max_points)
        except ValueError as reason:
            result.problems.append(
                RowProblem(index, entry.student_id, entry.skill_code, str(reason))
            )
            continue
        current = existing.get((entry.student_id, measure.pk))
        current_version = current.version if current else None
        if entry.expected_version != current_version:
            conflicting.append((index, entry, current))
            continue
        changes.append((entry, measure, current, new_value))
    if conflicting:
        result.problems += _conflicts(conflicting)
        result.problems.sort(key=lambda problem: problem.index)
    if result.problems:
        return result
    _apply(actor, classroom_unit, changes, result, request_key)
    return result


# The save's reads. Every save runs these three, and compiling them with the ORM cost more CPU
# than PostgreSQL took to answer them (bench/score_bulk_save.py), so they are plain SQL over the
# models' own table and column names.
_ASSESSMENT_SKILL = AssessmentSkill._meta.db_table
_SKILL = AssessmentSkill._meta.get_field("skill").related_model._meta.db_table  # type: ignore[union-attr]
_ENROLLMENT = Enrollment._meta.db_table
_SCORE = Score._meta.db_table


class Measure(NamedTuple):
    """A skill the assessment measures: its AssessmentSkill id, code and max points."""

    pk: int
    code: str
    max_points: Decimal


def _measures(assessment_id: int) -> dict[str, Measure]:
    """The skills the assessment measures, by code."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.id, s.code, m.max_points FROM {_ASSESSMENT_SKILL} m"  # noqa: S608
            f" JOIN {_SKILL} s ON s.id = m.skill_id WHERE m.assessment_id = %s",
            [assessment_id],
        )
        return {code: Measure(pk, code, max_points) for pk, code, max_points in cursor}


def _enrolled_student_ids(classroom_unit: ClassroomUnit) -> set[int]:
    """Students who may be scored: enrolled in the classroom at some time from the unit's start
    until today (or its start, for a unit that has not begun)."""
    until = max(timezone.localdate(), classroom_unit.start_date)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT student_id FROM {_ENROLLMENT} WHERE classroom_id = %s"  # noqa: S608
            " AND (end_date IS NULL OR end_date >= %s) AND start_date <= %s",
            [classroom_unit.classroom_id, classroom_unit.start_date, until],
        )
        return {student_id for (student_id,) in cursor}


def _locked_scores(
    classroom_unit_id: int, measure_ids: list[int], student_ids: set[int]
) -> dict[tuple[int, int], StoredScore]:
    """The saved cells these entries touch, locked until the save commits. Who set a value is
    only needed for a conflict, so there is no join to users here."""
    if not measure_ids or not student_ids:
        return {}
    with connection.cursor() as cursor:
        measures_in = ", ".join(["%s"] * len(measure_ids))
        students_in = ", ".join(["%s"] * len(student_ids))
        cursor.execute(
            "SELECT student_id, assessment_skill_id, status, points, version, entered_by_id"  # noqa: S608
            f" FROM {_SCORE} WHERE classroom_unit_id = %s"
            f" AND assessment_skill_id IN ({measures_in}) AND student_id IN ({students_in})"
            # One lock order for every save, so two saves of the same cells wait, never deadlock.
            " ORDER BY id FOR UPDATE",
            [classroom_unit_id, *measure_ids, *student_ids],
        )
        return {
            (student_id, measure_id): StoredScore(status, points, version, entered_by_id)
            for student_id, measure_id, status, points, version, entered_by_id in cursor
        }


def _entry_problem(
    index: int,
    entry: ScoreEntry,
    measured: dict[str, Measure],
    enrolled: set[int],
    seen: set[tuple[int, str]],
) -> RowProblem | None:
    def problem(message: str) -> RowProblem:
        return RowProblem(index, entry.student_id, entry.skill_code, message)

    if entry.student_id not in enrolled:
        return problem("This student is not enrolled in this classroom.")
    if entry.skill_code not in measured:
        codes = ", ".join(sorted(measured))
        return problem(
            f"This assessment does not measure '{entry.skill_code}' (it measures {codes})."
        )
    if (entry.student_id, entry.skill_code) in seen:
        return problem("This cell appears twice in one save.")
    return None


def _conflicts(
    conflicting: list[tuple[int, ScoreEntry, StoredScore | None]],
) -> list[RowProblem]:
    """Conflict problems naming who set each current value (one query for all of them)."""
    author_ids = {current.entered_by_id for _, _, current in conflicting if current is not None}
    authors = {user.pk: str(user) for user in User.objects.filter(pk__in=author_ids)}
    return [
        _conflict(index, entry, current, authors.get(current.entered_by_id) if current else None)
        for index, entry, current in conflicting
    ]


def _race_conflicts(
    classroom_unit: ClassroomUnit, writes: list[_CellWrite], positions: dict[tuple[int, str], int]
) -> list[RowProblem]:
    """Conflicts for cells filled by a concurrent save, with the value it committed."""
    current = {
        (score.student_id, score.assessment_skill_id): score
        for score in Score.objects.all_schools()
        .filter(
            classroom_unit=classroom_unit,
            student_id__in={write.student_id for write in writes},
            assessment_skill_id__in={write.assessment_skill_id for write in writes},
        )
        .select_related("entered_by")
    }
    problems = []
    for write in writes:
        score = current.get((write.student_id, write.assessment_skill_id))
        author = str(score.entered_by) if score and score.entered_by else None
        stored = _stored(score) if score else None
        index = positions[(write.student_id, write.entry.skill_code)]
        problems.append(_conflict(index, write.entry, stored, author))
    return sorted(problems, key=lambda problem: problem.index)


def _conflict(
    index: int, entry: ScoreEntry, current: StoredScore | None, author: str | None
) -> RowProblem:
    value = _value_of(current)
    by = author or ""
    shown = value.shown or "empty"
    who = f" by {by}" if by else ""
    return RowProblem(
        index=index,
        student_id=entry.student_id,
        skill_code=entry.skill_code,
        message=f"Changed meanwhile{who}: it is now {shown}.",
        is_conflict=True,
        current=value.shown,
        current_version=current.version if current else None,
        current_by=by,
    )


def _stored(score: Score) -> StoredScore:
    return StoredScore(score.status, score.points, score.version, score.entered_by_id)


def _value_of(score: StoredScore | None) -> CellValue:
    if score is None:
        return EMPTY
    return CellValue(status=score.status, points=score.points)


def _apply(
    actor: Any,
    classroom_unit: ClassroomUnit,
    changes: list[tuple[ScoreEntry, Measure, StoredScore | None, CellValue]],
    result: SaveResult,
    request_key: str,
) -> None:
    """Write the changed cells and their history; raise ``_RaceLost`` when a cell that was empty
    got a score from someone else meanwhile (nothing is then written: the caller's transaction
    rolls back)."""
    writes: list[_CellWrite] = []
    for entry, measure, current, new_value in changes:
        old_value = _value_of(current)
        if new_value == old_value:
            result.saved.append(_saved(entry, current.version if current else None, new_value))
            continue
        writes.append(
            _CellWrite(
                entry=entry,
                assessment_skill_id=measure.pk,
                old=old_value,
                new=new_value,
                # A new row's version continues the cell's history (see _WRITE_SQL).
                version=current.version + 1 if current else None,
            )
        )
    if not writes:
        return
    versions = _write(actor.pk, classroom_unit.pk, writes, timezone.now(), request_key)
    lost = [
        write for write in writes if (write.student_id, write.assessment_skill_id) not in versions
    ]
    if lost:
        raise _RaceLost(lost)
    for write in writes:
        version = versions[(write.student_id, write.assessment_skill_id)]
        result.saved.append(_saved(write.entry, None if write.new == EMPTY else version, write.new))
    # Once committed, the growth reports learn of it (they connect to the signal; see signals.py).
    transaction.on_commit(
        lambda: scores_changed.send(sender=Score, classroom_unit_id=classroom_unit.pk)
    )


@dataclass(frozen=True)
class _CellWrite:
    """One cell to change: cleared (``new`` empty), updated (``version`` set) or added."""

    entry: ScoreEntry
    assessment_skill_id: int
    old: CellValue
    new: CellValue
    version: int | None  # the version after the change; None: a new row, numbered by the writer

    @property
    def student_id(self) -> int:
        return self.entry.student_id

    @property
    def action(self) -> str:
        if self.new == EMPTY:
            return "clear"
        return "add" if self.version is None else "update"


class _RaceLost(Exception):
    """A cell that was empty when read was filled by a concurrent save before this one wrote."""

    def __init__(self, writes: list[_CellWrite]) -> None:
        super().__init__("concurrent insert")
        self.writes = writes


CellVersions = dict[tuple[int, int], int]

# One statement: clear, update and add the cells, then one history row per cell written. A new
# row's version continues the cell's history (a cell cleared at version 2 comes back as 3), so a
# client still holding version 1 of the cleared value is refused, not silently accepted. An added
# row that meets a row committed meanwhile is skipped (DO NOTHING) and reported back as lost.
_WRITE_SQL = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset(%(cells)s::jsonb)
        AS i(student_id bigint, assessment_skill_id bigint, action text, status text,
             points numeric, version int, old_status text, old_points numeric,
             reason text)
),
cleared AS (
    DELETE FROM assessments_score s
    USING input i
    WHERE i.action = 'clear'
      AND s.classroom_unit_id = %(classroom_unit_id)s
      AND s.student_id = i.student_id
      AND s.assessment_skill_id = i.assessment_skill_id
    RETURNING s.student_id, s.assessment_skill_id, i.version
),
updated AS (
    UPDATE assessments_score s
    SET status = i.status, points = i.points, entered_by_id = %(actor_id)s,
        entered_at = %(now)s, version = i.version
    FROM input i
    WHERE i.action = 'update'
      AND s.classroom_unit_id = %(classroom_unit_id)s
      AND s.student_id = i.student_id
      AND s.assessment_skill_id = i.assessment_skill_id
    RETURNING s.student_id, s.assessment_skill_id, s.version
),
added AS (
    INSERT INTO assessments_score (classroom_unit_id, student_id, assessment_skill_id, status,
                                   points, entered_by_id, entered_at, version)
    SELECT %(classroom_unit_id)s, i.student_id, i.assessment_skill_id, i.status, i.points,
           %(actor_id)s, %(now)s,
           coalesce((SELECT max(h.version) FROM assessments_scorechange h
                     WHERE h.classroom_unit_id = %(classroom_unit_id)s
                       AND h.student_id = i.student_id
                       AND h.assessment_skill_id = i.assessment_skill_id), 0) + 1
    FROM input i
    WHERE i.action = 'add'
    ORDER BY i.student_id, i.assessment_skill_id
    ON CONFLICT (classroom_unit_id, student_id, assessment_skill_id) DO NOTHING
    RETURNING student_id, assessment_skill_id, version
),
written AS (
    SELECT * FROM cleared UNION ALL SELECT * FROM updated UNION ALL SELECT * FROM added
),
history AS (
    INSERT INTO assessments_scorechange (classroom_unit_id, student_id, assessment_skill_id,
                                         changed_by_id, changed_at, old_status, old_points,
                                         new_status, new_points, version, request_key, reason)
    SELECT %(classroom_unit_id)s, w.student_id, w.assessment_skill_id, %(actor_id)s, %(now)s,
           i.old_status, i.old_points, i.status, i.points, w.version, %(request_key)s, i.reason
    FROM written w
    JOIN input i USING (student_id, assessment_skill_id)
)
SELECT student_id, assessment_skill_id, version FROM written
"""


def _write(
    actor_id: int | None,
    classroom_unit_id: int,
    writes: list[_CellWrite],
    now: datetime,
    request_key: str,
) -> CellVersions:
    """Every change and its history in one round trip (PERFORMANCE.md: a set-based write).

    The cells travel as one JSON document: quoting eight arrays element by element took more
    of the request's time than PostgreSQL took to write them.
    """
    cells = [
        {
            "student_id": write.student_id,
            "assessment_skill_id": write.assessment_skill_id,
            "action": write.action,
            "status": write.new.status,
            "points": _decimal_text(write.new.points),
            "version": write.version,
            "old_status": write.old.status,
            "old_points": _decimal_text(write.old.points),
            "reason": write.entry.reason,
        }
        for write in writes
    ]
    parameters = {
        "classroom_unit_id": classroom_unit_id,
        "actor_id": actor_id,
        "now": now,
        "request_key": request_key,
        "cells": json.dumps(cells),
    }
    with connection.cursor() as cursor:
        cursor.execute(_WRITE_SQL, parameters)
        return {(student_id, skill_id): version for student_id, skill_id, version in cursor}


def _decimal_text(points: Decimal | None) -> str | None:
    """Points as exact text for JSON (PostgreSQL reads "3.50" into numeric without rounding)."""
    return None if points is None else str(points)


# pg_advisory_xact_lock(namespace, hash of actor and key): resent copies of one request wait
# for the first to commit, then find its key instead of applying again.
_REQUEST_KEY_LOCK_NAMESPACE = 0x6B79  # "ky"


def _replay(
    actor: Any,
    classroom_unit: ClassroomUnit,
    measured: dict[str, Measure],
    entries: list[ScoreEntry],
    request_key: str,
) -> SaveResult | None:
    """The answer to a request already applied under ``request_key``, or None when it is new.

    Raises ValidationError when the key was used for a different request (``_is_same_request``).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [_REQUEST_KEY_LOCK_NAMESPACE, f"{actor.pk}:{request_key}"],
        )
    applied = {
        (change.student_id, change.assessment_skill_id): change
        for change in ScoreChange.objects.all_schools().filter(
            changed_by_id=actor.pk, request_key=request_key
        )
    }
    if not applied:
        return None
    current = {
        (score.student_id, score.assessment_skill_id): score
        for score in Score.objects.all_schools().filter(
            classroom_unit=classroom_unit,
            student_id__in={entry.student_id for entry in entries},
            assessment_skill__in=[measure.pk for measure in measured.values()],
        )
    }
    if not _is_same_request(classroom_unit, measured, entries, applied, current):
        raise ValidationError(_KEY_REUSED)
    result = SaveResult(is_replay=True)
    for entry in entries:
        measure = measured.get(entry.skill_code)
        score = current.get((entry.student_id, measure.pk)) if measure else None
        stored = _stored(score) if score else None
        result.saved.append(_saved(entry, score.version if score else None, _value_of(stored)))
    return result


def _is_same_request(
    classroom_unit: ClassroomUnit,
    measured: dict[str, Measure],
    entries: list[ScoreEntry],
    applied: dict[tuple[int, int], ScoreChange],
    current: dict[tuple[int, int], Score],
) -> bool:
    """Whether ``entries`` can be the request whose key wrote the ``applied`` history rows.

    Only changed cells left history, so the request is pieced together: every cell the key
    changed is a cell of these entries, in this classroom unit, set to the value sent; and every
    other cell sent is at the value sent now (a cell the first request left as it was). A cell
    changed by someone else since then makes a true resend look different, and it is refused
    too: a client told to use a new key loses nothing, one told "saved" for a different request
    would."""
    sent: dict[tuple[int, int], CellValue | None] = {}
    for entry in entries:
        measure = measured.get(entry.skill_code)
        if measure is None:
            return False
        try:
            sent[(entry.student_id, measure.pk)] = parse_cell(entry.value, measure.max_points)
        except ValueError:
            return False
    for cell, change in applied.items():
        if change.classroom_unit_id != classroom_unit.pk or cell not in sent:
            return False
        if sent[cell] != CellValue(status=change.new_status, points=change.new_points):
            return False
    for cell, value in sent.items():
        if cell not in applied:
            score = current.get(cell)
            if value != _value_of(_stored(score) if score else None):
                return False
    return True


_KEY_REUSED = (
    "This Idempotency-Key was already used for a different request; "
    "send each new set of scores with a new key."
)


def _saved(entry: ScoreEntry, version: int | None, value: CellValue) -> dict[str, Any]:
    return {
        "student_id": entry.student_id,
        "skill_code": entry.skill_code,
        "value": value.shown,
        "version": version,
    }
