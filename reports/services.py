"""Building stored growth rows from scores: when, for what, and what a failure leaves.

The rebuild itself is reports/growth_build/ (set-based SQL, the rules of reports/growth/);
this module decides its scope and keeps the build records. Two ways in, one implementation:

* ``classroom_unit_growth_rebuild``: after a class's scores change (a debounced Celery task),
  that classroom unit's student rows and its unit's summaries across the district.
* ``growth_rebuild``: the periodic full rebuild (celery beat, ``manage.py growth_rebuild``), one
  transaction per district; a district that fails never stops the others.

Neither holds a lock a score save waits for until its last statement: saves go on at their usual
speed during a rebuild, and a change the rebuild may have missed leaves its class stale and
queues its rebuild.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings as django_settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from classrooms.models import District, StudentGroup
from reports.growth_build import GrowthBuilt, PhaseTimer, growth_build
from reports.models import GrowthBuild
from units.models import ClassroomUnit, Unit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GrowthRebuildResult:
    """What a full rebuild of one district built and wrote, and when; or, with ``error``, why
    it failed (nothing of that district was written). ``student_rows`` and ``summary_rows``
    count the rows built; the ``_written`` counts those inserted, updated or deleted because
    something changed."""

    district_id: int
    built_at: datetime | None
    classroom_units: int = 0
    student_rows: int = 0
    summary_rows: int = 0
    student_rows_written: int = 0
    summary_rows_written: int = 0
    error: Exception | None = None


@transaction.atomic
def classroom_unit_growth_rebuild(*, classroom_unit_id: int) -> int:
    """Rebuild one classroom unit's student growth rows from its scores, and every summary of
    its unit in the district (classroom units, schools, district) from the stored student rows.

    Every student enrolled in the classroom during the unit gets a row (incomplete when the pre
    or post percentage is missing). Idempotent; builders of one unit run one at a time. The
    same number of queries and, when who counts is unchanged, the same rows written whatever
    the size of the district (tests/reports/test_growth_rebuild.py). Returns the number of
    student rows built.
    """
    # cross-tenant: a task rebuilds the classroom unit whose scores changed; nothing leaves it.
    classroom_unit = (
        ClassroomUnit.objects.all_schools()
        .select_related("classroom__school__district")
        .get(pk=classroom_unit_id)
    )
    district = classroom_unit.classroom.school.district
    built = growth_build(
        district=district,
        classroom_unit_ids=[classroom_unit.pk],
        unit_ids=[classroom_unit.unit_id],
        group_ids=_group_ids(district.pk),
    )
    _rebuilds_enqueue(built.still_stale)
    return built.student_rows


def classroom_unit_growth_mark_stale(*, classroom_unit_id: int) -> bool:
    """Record that a classroom unit's scores changed; queue one rebuild per burst of changes.

    Called after the score transaction commits. The first change after a build queues a rebuild
    a few seconds later (so a class being typed in is rebuilt once, not per cell); later changes
    in the same burst only move ``last_change_at``, which tells a rebuild running meanwhile
    that it may have missed them (it then leaves the class stale and queues the next rebuild).
    One statement. Returns whether a rebuild was queued.
    """
    with connection.cursor() as cursor:
        cursor.execute(_MARK_STALE_SQL, {"classroom_unit_id": classroom_unit_id})
        (is_first_change,) = cursor.fetchone()
    if is_first_change:
        _rebuilds_enqueue([classroom_unit_id])
    return bool(is_first_change)


# The first change since the last build sets stale_since to this change's time (so the two
# are equal), which is how it knows to queue the rebuild. The database's clock, read once, as
# the rebuild reads it (reports/growth_build/sql/builds_done.sql compares them).
_MARK_STALE_SQL = """
    WITH change AS MATERIALIZED (SELECT clock_timestamp() AS at)
    INSERT INTO reports_growthbuild (classroom_unit_id, last_change_at, stale_since,
                                     failure_message)
    SELECT %(classroom_unit_id)s, at, at, '' FROM change
    ON CONFLICT (classroom_unit_id) DO UPDATE
    SET last_change_at = EXCLUDED.last_change_at,
        stale_since = coalesce(reports_growthbuild.stale_since, EXCLUDED.stale_since)
    RETURNING stale_since = last_change_at
"""


def growth_rebuild_stale() -> int:
    """Rebuild every classroom unit marked stale (the periodic catch-up for anything missed).

    A classroom unit whose rebuild fails does not hold up the others: each is rebuilt in its own
    transaction (a savepoint when called inside one), and the first error is raised once every
    other unit has been tried, so the task retries and, when it gives up, marks failed only the
    builds still stale. Returns the number of units rebuilt.
    """
    # cross-tenant: the periodic catch-up serves every district; rows stay in their unit.
    stale_ids = list(
        GrowthBuild.objects.all_schools()
        .filter(stale_since__isnull=False)
        .order_by("classroom_unit_id")
        .values_list("classroom_unit_id", flat=True)
    )
    errors: list[Exception] = []
    for classroom_unit_id in stale_ids:
        try:
            classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit_id)
        except Exception as error:  # reported below, after the others
            logger.warning("Growth rebuild of classroom unit %s failed", classroom_unit_id)
            errors.append(error)
    if errors:
        raise errors[0]
    return len(stale_ids)


def growth_rebuild(
    *, district_id: int | None = None, phase: PhaseTimer | None = None
) -> list[GrowthRebuildResult]:
    """Rebuild every student row and summary of one district (or of each district), set-based,
    writing only rows that changed; a rebuild over unchanged scores writes nothing but the
    build times.

    One transaction per district, and a district whose rebuild fails (its result carries the
    error) never stops the next: callers decide what a failure means (the Celery task raises
    it to be retried, the command reports it). ``phase`` times the steps
    (bench/growth_rebuild.py).
    """
    # cross-tenant: the full rebuild serves every district (or the one asked for).
    districts = District.objects.all_schools().order_by("pk")
    if district_id is not None:
        districts = districts.filter(pk=district_id)
    results = []
    for district in districts:
        try:
            results.append(_district_growth_rebuild(district, phase))
        except Exception as error:  # one district's failure is reported, not fatal
            logger.exception("Growth rebuild of district %s failed", district.pk)
            results.append(GrowthRebuildResult(district_id=district.pk, built_at=None, error=error))
    return results


@transaction.atomic
def _district_growth_rebuild(district: District, phase: PhaseTimer | None) -> GrowthRebuildResult:
    # cross-tenant: this district's own classroom units and units.
    classroom_unit_ids = list(
        ClassroomUnit.objects.all_schools()
        .filter(classroom__school__district_id=district.pk)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    unit_ids = list(
        Unit.objects.all_schools().filter(district_id=district.pk).values_list("pk", flat=True)
    )
    built: GrowthBuilt = growth_build(
        district=district,
        classroom_unit_ids=classroom_unit_ids,
        unit_ids=unit_ids,
        group_ids=_group_ids(district.pk),
        **({"phase": phase} if phase else {}),
    )
    _rebuilds_enqueue(built.still_stale)
    logger.info(
        "Growth of district %s rebuilt as of %s: %s classroom units, %s student rows",
        district.pk,
        built.read_from.isoformat(),
        len(classroom_unit_ids),
        built.student_rows,
    )
    return GrowthRebuildResult(
        district_id=district.pk,
        built_at=built.read_from,
        classroom_units=len(classroom_unit_ids),
        student_rows=built.student_rows,
        summary_rows=built.summary_rows,
        student_rows_written=built.student_rows_written,
        summary_rows_written=built.summary_rows_written,
    )


def _group_ids(district_id: int) -> list[int]:
    # cross-tenant: a district's own student groups, for its own summaries.
    return list(
        StudentGroup.objects.all_schools()
        .filter(district_id=district_id)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _rebuilds_enqueue(classroom_unit_ids: Iterable[int]) -> None:
    """Queue a rebuild of each classroom unit once the current transaction commits, a few
    seconds later (changes keep coming while a class is being typed in)."""
    for classroom_unit_id in classroom_unit_ids:
        transaction.on_commit(functools.partial(_rebuild_queue, classroom_unit_id))


# Rebuilds queued while an inline rebuild runs in this thread (see _rebuild_queue).
_inline_rebuilds = threading.local()


def _rebuild_queue(classroom_unit_id: int) -> None:
    from reports.tasks import classroom_unit_growth_rebuild_task as task

    countdown = django_settings.THINSLICE_GROWTH_DEBOUNCE_SECONDS
    if not task.app.conf.task_always_eager:
        task.apply_async(args=[classroom_unit_id], countdown=countdown)
        return
    # No broker (the embedded default): the task runs here and now. A rebuild queued by a
    # rebuild (its class changed meanwhile) runs after it, not inside it; nested, a class typed
    # in all along would go deeper with every rebuild until Python's recursion limit.
    waiting: list[int] | None = getattr(_inline_rebuilds, "waiting", None)
    if waiting is not None:
        if classroom_unit_id not in waiting:
            waiting.append(classroom_unit_id)
        return
    _inline_rebuilds.waiting = waiting = [classroom_unit_id]
    try:
        while waiting:
            task.apply_async(args=[waiting.pop(0)], countdown=countdown)
    finally:
        _inline_rebuilds.waiting = None


def growth_build_outcome_record(
    *, failure: str = "", classroom_unit_id: int | None = None, district_id: int | None = None
) -> int:
    """Record how a growth task ended for the builds it was updating: one classroom unit's, or
    a district's (neither: every district's).

    With ``failure`` (the reason, once the task has given up), the classroom unit's build, or the
    district's builds, that are still waiting for their update (stale, or never built) are
    marked failed now; the report pages then say the update failed instead of leaving it
    pending. A build another task has finished since is current, and is left alone. Without
    it (the task succeeded), failures that a later build has superseded (``built_at`` after
    ``failed_at``) are cleared.
    Returns the number of builds changed.
    """
    # cross-tenant: a task's outcome for the builds it covered; nothing is read out of them.
    builds = GrowthBuild.objects.all_schools()
    if classroom_unit_id is not None:
        builds = builds.filter(classroom_unit_id=classroom_unit_id)
    elif district_id is not None:
        builds = builds.filter(classroom_unit__classroom__school__district_id=district_id)
    if not failure:
        return builds.filter(failed_at__lte=F("built_at")).update(
            failed_at=None, failure_message=""
        )
    if classroom_unit_id is not None and (
        ClassroomUnit.objects.all_schools().filter(pk=classroom_unit_id).exists()
    ):
        GrowthBuild.objects.get_or_create(classroom_unit_id=classroom_unit_id)
    # A build that another task finished meanwhile is current: it did not fail.
    return builds.filter(Q(stale_since__isnull=False) | Q(built_at__isnull=True)).update(
        failed_at=timezone.now(), failure_message=failure
    )
