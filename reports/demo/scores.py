"""The demo's scores: every assessment due in a week that ended before the snapshot date, for
every student enrolled by then, as a teacher would enter a class in one sitting.

A student's level on a skill is their latent ability plus their growth rate times the progress
through the unit, plus classroom, unit, skill and noise terms, rounded to half points within
0..max. About ``ABSENT_SHARE`` of student × assessment results are absent (every skill of it)
and ``EXEMPT_SHARE`` of skill scores exempt. Scores are first values: version 1, no history.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Sequence
from decimal import Decimal

from django.utils import timezone

from assessments.models import Score, ScoreStatus
from reports.demo.people import Learner
from reports.demo.plans import DemoUnit, due_week_start
from reports.demo.rows import RowSink
from reports.demo.shape import (
    ABSENT_SHARE,
    CHECKPOINT_MAX_POINTS,
    EXEMPT_SHARE,
    PRE_POST_MAX_POINTS,
    SCORE_NOISE,
    SECONDS_PER_STUDENT_ENTRY,
    UNIT_SHIFT_SPREAD,
)
from units.models import ClassroomUnit

_SCORED = str(ScoreStatus.SCORED.value)
_ABSENT = str(ScoreStatus.ABSENT.value)
_EXEMPT = str(ScoreStatus.EXEMPT.value)


def score_sink() -> RowSink:
    """Where the demo's score rows go (by COPY): the columns ``classroom_unit_scores`` fills."""
    return RowSink(
        Score,
        (
            "classroom_unit_id",
            "student_id",
            "assessment_skill_id",
            "status",
            "points",
            "entered_by_id",
            "entered_at",
            "version",
        ),
    )


def half_point_values() -> list[Decimal]:
    """0, 0.5, 1, … up to the largest max points a demo skill has, indexed by half points."""
    max_points = max(PRE_POST_MAX_POINTS + CHECKPOINT_MAX_POINTS)
    return [Decimal(half) / 2 for half in range(2 * max_points + 1)]


def classroom_unit_scores(
    *,
    scores: RowSink,
    half_points: Sequence[Decimal],
    classroom_unit: ClassroomUnit,
    demo_unit: DemoUnit,
    subject: str,
    roster: list[Learner],
    teacher_ids: list[int],
    ability_effect: float,
    growth_effect: float,
    rng: random.Random,
) -> None:
    """Scores of one classroom unit, for every assessment due in a week that has ended.

    A teacher enters a whole class in one sitting during the due week; a student who enrolled
    after the due week began has no score for it.
    """
    sittings = []
    for assessment in demo_unit.scored_assessments:
        due_on = due_week_start(demo_unit.start_date, assessment.week)
        sitting_day = due_on + datetime.timedelta(days=rng.randrange(5))  # Monday to Friday
        started_at = datetime.datetime.combine(
            sitting_day, datetime.time(15, 0), tzinfo=timezone.get_default_timezone()
        ) + datetime.timedelta(minutes=rng.randrange(180))
        sittings.append((assessment, due_on, rng.choice(teacher_ids), started_at))

    add = scores.add
    classroom_unit_id = classroom_unit.pk
    for position, learner in enumerate(roster):
        student_id = learner.student.pk
        ability = learner.ability[subject] + ability_effect + rng.gauss(0, UNIT_SHIFT_SPREAD)
        growth = learner.growth[subject] + growth_effect
        entry_offset = datetime.timedelta(seconds=position * SECONDS_PER_STUDENT_ENTRY)
        for assessment, due_on, entered_by_id, started_at in sittings:
            if learner.enrolled_on > due_on:
                continue
            entered_at = started_at + entry_offset
            is_absent = rng.random() < ABSENT_SHARE
            for measure in assessment.measures:
                key = (classroom_unit_id, student_id, measure.assessment_skill_id)
                if is_absent:
                    add((*key, _ABSENT, None, entered_by_id, entered_at, 1))
                elif rng.random() < EXEMPT_SHARE:
                    add((*key, _EXEMPT, None, entered_by_id, entered_at, 1))
                else:
                    level = (
                        ability
                        + measure.difficulty
                        + growth * assessment.progress
                        + rng.gauss(0, SCORE_NOISE)
                    )
                    halves = round(min(1.0, max(0.0, level)) * measure.max_points * 2)
                    add((*key, _SCORED, half_points[halves], entered_by_id, entered_at, 1))
