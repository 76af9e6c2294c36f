"""Stored student growth rows, built from scores by a service that Celery runs."""

from __future__ import annotations

import json
import time
import urllib.request
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from assessments.models import Score, ScoreStatus
from reports.models import BreakdownPart, GrowthBuild, SchoolUnitGrowthSummary, StudentGrowth
from reports.tasks import classroom_unit_growth_rebuild_task
from tests import factories
from tests.celery_worker import celery_worker_queue  # noqa: F401  (fixture)
from units.models import AssessmentSkill


def _class_with_scores():
    """Three students in a unit with skills A (max 4) and B (max 6).

    - Ada: pre 2+3 = 5/10 = 50%, post 4+5 = 9/10 = 90% → gain 40, g = 0.8, target met.
    - Ben: absent at pre → incomplete.
    - Cy: enrolled, nothing entered yet → incomplete.
    """
    district = factories.DistrictFactory()
    unit = factories.make_unit(district)
    classroom = factories.ClassroomFactory(school__district=district)
    classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=unit)
    students = {}
    for name in ("Ada", "Ben", "Cy"):
        enrollment = factories.EnrollmentFactory(
            classroom=classroom, student__given_name=name, student__district=district
        )
        students[name] = enrollment.student

    def enter(student, kind, code, points=None, status=ScoreStatus.SCORED):
        Score.objects.create(
            classroom_unit=classroom_unit,
            student=student,
            assessment_skill=AssessmentSkill.objects.get(
                assessment__unit=unit, assessment__kind=kind, skill__code=code
            ),
            status=status,
            points=None if points is None else Decimal(points),
            entered_at=timezone.now(),
        )

    enter(students["Ada"], "pre", "A", "2")
    enter(students["Ada"], "pre", "B", "3")
    enter(students["Ada"], "post", "A", "4")
    enter(students["Ada"], "post", "B", "5")
    enter(students["Ben"], "pre", "A", status=ScoreStatus.ABSENT)
    enter(students["Ben"], "pre", "B", status=ScoreStatus.ABSENT)
    enter(students["Ben"], "post", "A", "3")
    return classroom_unit, students


def _growth_by_name(classroom_unit) -> dict[str, StudentGrowth]:
    rows = StudentGrowth.objects.filter(classroom_unit=classroom_unit).select_related("student")
    return {row.student.given_name: row for row in rows}


@pytest.mark.django_db
def test_rebuild_stores_growth_for_every_enrolled_student():
    classroom_unit, _ = _class_with_scores()
    written = classroom_unit_growth_rebuild_task(classroom_unit.pk)
    assert written == 3
    growth = _growth_by_name(classroom_unit)
    ada = growth["Ada"]
    assert (ada.pre_percentage, ada.post_percentage) == (50.0, 90.0)
    assert ada.gain == pytest.approx(40.0)
    assert ada.normalized_gain == pytest.approx(0.8)
    assert ada.is_target_met is True
    assert ada.is_complete is True
    assert growth["Ben"].is_complete is False
    assert growth["Ben"].pre_percentage is None
    assert growth["Ben"].post_percentage == pytest.approx(75.0)
    assert growth["Ben"].gain is None
    assert growth["Cy"].is_complete is False
    assert GrowthBuild.objects.get(classroom_unit=classroom_unit).built_at is not None


@pytest.mark.django_db
def test_rebuilding_twice_gives_the_same_rows():
    classroom_unit, _ = _class_with_scores()
    classroom_unit_growth_rebuild_task(classroom_unit.pk)
    first = list(StudentGrowth.objects.values("student_id", "pre_percentage", "gain"))
    classroom_unit_growth_rebuild_task(classroom_unit.pk)
    assert list(StudentGrowth.objects.values("student_id", "pre_percentage", "gain")) == first
    assert StudentGrowth.objects.count() == 3


@pytest.mark.celery_worker
def test_scores_entered_over_http_are_summarised_by_a_real_worker_over_redis(
    celery_worker_queue,  # noqa: F811
    live_server,
    settings,
):
    settings.THINSLICE_GROWTH_DEBOUNCE_SECONDS = 0.5
    classroom_unit, students = _class_with_scores()
    teacher = factories.UserFactory(district=classroom_unit.classroom.school.district)
    classroom_unit.classroom.teachers.add(teacher)
    token = Token.objects.create(user=teacher)
    pre = classroom_unit.unit.assessments.get(kind="pre")
    body = {"scores": [{"student": students["Cy"].pk, "skill": "A", "value": "4"}]}
    request = urllib.request.Request(  # noqa: S310 - the live test server on loopback
        f"{live_server.url}/api/classroom-units/{classroom_unit.pk}/assessments/{pre.pk}/scores/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Token {token.key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        assert response.status == 200

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        build = GrowthBuild.objects.filter(classroom_unit=classroom_unit).first()
        if build and build.built_at and build.stale_since is None:
            break
        time.sleep(0.2)
    growth = _growth_by_name(classroom_unit)
    assert set(growth) == {"Ada", "Ben", "Cy"}, "the worker did not build the rows in 60 s"
    assert growth["Ada"].normalized_gain == pytest.approx(0.8)
    assert growth["Cy"].pre_percentage == pytest.approx(100.0), "Cy's new score is summarised"
    # The same task rolled the class up into its school and district: what the coach reads.
    school = classroom_unit.classroom.school
    rollup = SchoolUnitGrowthSummary.objects.get(
        school=school, unit=classroom_unit.unit, part=BreakdownPart.ALL
    )
    assert (rollup.n, rollup.incomplete_count) == (1, 2)
    assert rollup.built_at >= build.built_at
    coach = factories.UserFactory(district=school.district)
    school.coaches.add(coach)
    client = Client()
    client.force_login(coach)
    page = client.get(reverse("reports:school", args=[school.pk])).text
    assert "Across the school, <strong>1 student</strong>" in page
    assert "2 more are incomplete" in page


@pytest.mark.django_db
def test_a_score_change_marks_the_unit_stale_and_queues_one_rebuild_after_commit(
    django_capture_on_commit_callbacks, monkeypatch
):
    from assessments.services import ScoreEntry, scores_save
    from reports import services as growth_services

    classroom_unit, students = _class_with_scores()
    teacher = factories.UserFactory(district=classroom_unit.classroom.school.district)
    classroom_unit.classroom.teachers.add(teacher)
    pre = classroom_unit.unit.assessments.get(kind="pre")
    queued: list[int] = []
    monkeypatch.setattr(
        classroom_unit_growth_rebuild_task,
        "apply_async",
        lambda args, countdown: queued.append(args[0]),
    )

    def save(value, version):
        with django_capture_on_commit_callbacks(execute=True):
            result = scores_save(
                actor=teacher,
                classroom_unit=classroom_unit,
                assessment=pre,
                entries=[ScoreEntry(students["Cy"].pk, "A", value, expected_version=version)],
            )
        assert result.is_applied

    save("1", None)
    build = GrowthBuild.objects.get(classroom_unit=classroom_unit)
    assert build.stale_since is not None
    save("2", 1)
    assert queued == [classroom_unit.pk], "a burst of changes queues a single rebuild"

    with django_capture_on_commit_callbacks(execute=True):
        growth_services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit.pk)
    build.refresh_from_db()
    assert build.stale_since is None
    assert _growth_by_name(classroom_unit)["Cy"].pre_percentage == pytest.approx(50.0)
    save("3", 2)
    assert queued == [classroom_unit.pk, classroom_unit.pk], "the next change after a build queues"


@pytest.mark.django_db
def test_periodic_catch_up_rebuilds_what_is_still_stale():
    from reports.tasks import growth_rebuild_stale_task

    classroom_unit, _ = _class_with_scores()
    GrowthBuild.objects.create(classroom_unit=classroom_unit, stale_since=timezone.now())
    assert growth_rebuild_stale_task() == 1
    assert StudentGrowth.objects.filter(classroom_unit=classroom_unit).count() == 3
    assert GrowthBuild.objects.get(classroom_unit=classroom_unit).stale_since is None
    assert growth_rebuild_stale_task() == 0


@pytest.mark.django_db
def test_periodic_catch_up_rebuilds_the_others_when_one_class_fails(monkeypatch):
    from django.db import OperationalError

    from reports import services as growth_services

    failing, _ = _class_with_scores()
    healthy, _ = _class_with_scores()
    for classroom_unit in (failing, healthy):
        GrowthBuild.objects.create(classroom_unit=classroom_unit, stale_since=timezone.now())
    build = growth_services.growth_build

    def refuse_one(*, classroom_unit_ids, **kwargs):
        if failing.pk in classroom_unit_ids:
            raise OperationalError("the database refused this class")
        return build(classroom_unit_ids=classroom_unit_ids, **kwargs)

    monkeypatch.setattr(growth_services, "growth_build", refuse_one)

    with pytest.raises(OperationalError):
        growth_services.growth_rebuild_stale()

    assert GrowthBuild.objects.get(classroom_unit=healthy).stale_since is None
    assert StudentGrowth.objects.filter(classroom_unit=healthy).count() == 3
    assert GrowthBuild.objects.get(classroom_unit=failing).stale_since is not None
    assert not StudentGrowth.objects.filter(classroom_unit=failing).exists()


@pytest.mark.django_db
def test_a_task_giving_up_marks_failed_only_a_build_still_waiting_for_its_update():
    from reports import services as growth_services

    rebuilt, _ = _class_with_scores()
    waiting, _ = _class_with_scores()
    growth_services.classroom_unit_growth_rebuild(classroom_unit_id=rebuilt.pk)
    GrowthBuild.objects.create(classroom_unit=waiting, stale_since=timezone.now())

    for classroom_unit in (rebuilt, waiting):
        growth_services.growth_build_outcome_record(
            classroom_unit_id=classroom_unit.pk, failure="The rebuild failed."
        )

    # The per-class task for ``rebuilt`` gave up after another task had already rebuilt it.
    assert GrowthBuild.objects.get(classroom_unit=rebuilt).failed_at is None
    waiting_build = GrowthBuild.objects.get(classroom_unit=waiting)
    assert waiting_build.failed_at is not None
    assert waiting_build.failure_message == "The rebuild failed."


def _district(*, schools: int, classes: int, name: str):
    """``schools`` × ``classes`` classrooms of five students, about 40% in the EL group."""

    from tests.reports.builders import growth_world

    # Every class alike: five students, two of them English learners (P1, P2), so no pair is
    # suppressed anywhere and the edited class is the same in a small district and a large one.
    layout = {
        f"{name} school {school}": {
            f"{name} {school}-{number}": [
                (
                    f"{name}{school}{number}P{index}",
                    ["EL"] if index in (1, 2) else [],
                    (1, index),
                    (2, min(6, index + 1)),
                )
                for index in range(5)
            ]
            for number in range(classes)
        }
        for school in range(schools)
    }
    return growth_world(minimum_n=2, layout=layout, district_name=name)


@pytest.mark.django_db
@pytest.mark.parametrize("edit", ["points", "absent"])
def test_incremental_rebuild_work_does_not_grow_with_the_district(edit):
    """After one class's score changes, the rebuild runs the same queries in a district of 2
    classrooms as in one of 16, and writes the same rows: those of the class, its school and
    its district whose numbers changed (here everyone's, and the English learners' pair, whose
    rest gained or lost a student: the group's row carries the gaps to the rest)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports import services
    from reports.models import (
        ClassroomUnitGrowthSummary,
        DistrictUnitGrowthSummary,
        SchoolUnitGrowthSummary,
    )
    from tests.reports.builders import enter

    work = []
    for world in (
        _district(schools=1, classes=2, name="Small"),
        _district(schools=4, classes=4, name="Large"),
    ):
        services.growth_rebuild(district_id=world.district.pk)
        name = sorted(world.classroom_units)[0]
        classroom_unit = world.classroom_units[name]
        student = next(s for key, s in sorted(world.students.items()) if key.endswith("P0"))
        enter(classroom_unit, student, "post", (4, 6) if edit == "points" else "absent")

        with CaptureQueriesContext(connection) as queries:
            services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit.pk)

        built_at = GrowthBuild.objects.get(classroom_unit=classroom_unit).built_at
        written = sum(
            model.objects.all_schools().filter(built_at=built_at).count()
            for model in (
                ClassroomUnitGrowthSummary,
                SchoolUnitGrowthSummary,
                DistrictUnitGrowthSummary,
            )
        )
        work.append((len(queries), written))

    (small_queries, small_rows), (large_queries, large_rows) = work
    assert small_queries == large_queries
    assert small_rows == large_rows == 9


@pytest.mark.django_db
def test_a_district_without_units_is_rebuilt_and_so_are_the_districts_after_it():
    """The nightly rebuild and the command go through every district; one without units yet
    (or with units that no class teaches) has nothing to build and must not stop the rest."""
    from io import StringIO

    from django.core.management import call_command

    from reports.tasks import growth_rebuild_task

    empty = factories.DistrictFactory(name="No units yet")
    untaught = factories.DistrictFactory(name="Units nobody teaches")
    factories.make_unit(untaught)
    classroom_unit, _ = _class_with_scores()
    assert empty.pk < classroom_unit.classroom.school.district_id

    out = StringIO()
    call_command("growth_rebuild", stdout=out)

    assert f"District {empty.pk}: built at" in out.getvalue()
    assert f"District {untaught.pk}: built at" in out.getvalue()
    assert StudentGrowth.objects.filter(classroom_unit=classroom_unit).count() == 3
    results = growth_rebuild_task()
    assert {result["district_id"] for result in results} >= {empty.pk, untaught.pk}


@pytest.mark.django_db
def test_one_districts_failed_rebuild_leaves_the_others_rebuilt(monkeypatch):
    """A district whose rebuild fails is reported (the command exits with an error, the task
    raises so it is retried), but every other district is rebuilt first."""
    from io import StringIO

    from django.core.management import CommandError, call_command
    from django.db import OperationalError

    from reports import services as growth_services
    from reports.tasks import growth_rebuild_task

    failing, _ = _class_with_scores()
    healthy, _ = _class_with_scores()
    failing_district = failing.classroom.school.district
    assert failing_district.pk < healthy.classroom.school.district_id
    build = growth_services.growth_build

    def refuse_one(*, district, **kwargs):
        if district.pk == failing_district.pk:
            raise OperationalError("the database refused this district")
        return build(district=district, **kwargs)

    monkeypatch.setattr(growth_services, "growth_build", refuse_one)

    err = StringIO()
    with pytest.raises(CommandError, match="1 of 2 districts were not rebuilt"):
        call_command("growth_rebuild", stdout=StringIO(), stderr=err)
    assert f"District {failing_district.pk}: not rebuilt: OperationalError" in err.getvalue()
    assert StudentGrowth.objects.filter(classroom_unit=healthy).count() == 3
    assert not StudentGrowth.objects.filter(classroom_unit=failing).exists()

    StudentGrowth.objects.all().delete()
    with pytest.raises(OperationalError):
        growth_rebuild_task.run()
    assert StudentGrowth.objects.filter(classroom_unit=healthy).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_score_saved_during_a_full_rebuild_is_not_held_up_by_it(monkeypatch):
    """The full rebuild of a district takes seconds; a teacher's save must not wait for it.
    Here the rebuild is held open just before it writes its summaries while a co-teacher's
    save commits: the save finishes at once, and because the rebuild may have read before it,
    the class is left marked stale (with its rebuild queued), not marked built."""
    import threading

    from django.db import connection as main_connection
    from django.db import connections

    from assessments.services import ScoreEntry, scores_save
    from reports import services as growth_services

    classroom_unit, students = _class_with_scores()
    teacher = factories.UserFactory(district=classroom_unit.classroom.school.district)
    classroom_unit.classroom.teachers.add(teacher)
    district_id = classroom_unit.classroom.school.district_id
    growth_services.growth_rebuild(district_id=district_id)
    queued: list[int] = []
    monkeypatch.setattr(
        classroom_unit_growth_rebuild_task,
        "apply_async",
        lambda args, countdown: queued.append(args[0]),
    )
    reading_done, may_finish = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    from contextlib import contextmanager

    @contextmanager
    def phase(name):
        if name == "summary rows built":
            reading_done.set()
            may_finish.wait(30)
        yield

    def rebuild():
        try:
            [result] = growth_services.growth_rebuild(district_id=district_id, phase=phase)
            assert result.error is None, result.error
        except BaseException as error:  # reported to the test below
            failures.append(error)
        finally:
            connections.close_all()

    rebuilding = threading.Thread(target=rebuild)
    rebuilding.start()
    try:
        assert reading_done.wait(30), "the rebuild got to its summaries"
        started = time.monotonic()
        result = scores_save(
            actor=teacher,
            classroom_unit=classroom_unit,
            assessment=classroom_unit.unit.assessments.get(kind="pre"),
            entries=[ScoreEntry(students["Cy"].pk, "A", "4")],
        )
        saved_in = time.monotonic() - started
        assert result.is_applied
        assert not main_connection.in_atomic_block
        assert saved_in < 2, f"the save waited {saved_in:.1f} s for the rebuild"
    finally:
        may_finish.set()
        rebuilding.join(60)
    assert not failures, failures
    build = GrowthBuild.objects.get(classroom_unit=classroom_unit)
    assert build.stale_since is not None, "a change the rebuild may have missed keeps it stale"
    assert classroom_unit.pk in queued


@pytest.mark.django_db(transaction=True)
def test_without_a_broker_a_class_changed_during_each_rebuild_is_rebuilt_again_after_it(
    monkeypatch,
):
    """With no broker (the embedded default) tasks run inline. A class whose scores change
    while it is being rebuilt is queued again; inline, that rebuild must run after the one that
    queued it, not inside it, or a class typed in all along would nest rebuilds until Python's
    recursion limit stops the save."""
    import dataclasses
    import inspect

    from django.db import transaction

    from reports import services as growth_services

    classroom_unit, _students = _class_with_scores()
    real_growth_build = growth_services.growth_build
    depths: list[int] = []

    def changed_during_the_first_five(**arguments):
        built = real_growth_build(**arguments)
        depths.append(len(inspect.stack(0)))
        if len(depths) <= 5:  # a save committed after this rebuild read the scores
            return dataclasses.replace(built, still_stale=[classroom_unit.pk])
        return built

    monkeypatch.setattr(growth_services, "growth_build", changed_during_the_first_five)
    with transaction.atomic():  # a score change, committed: its rebuild runs inline
        growth_services.classroom_unit_growth_mark_stale(classroom_unit_id=classroom_unit.pk)

    assert len(depths) == 6, "each change during a rebuild gets a rebuild of its own"
    assert len(set(depths)) == 1, f"rebuilds nested inside each other: stack depths {depths}"
    assert set(_growth_by_name(classroom_unit)) == {"Ada", "Ben", "Cy"}
