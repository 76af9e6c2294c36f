"""Stored group summaries: hand-worked roll-ups and suppression, read back from the tables.

The district below (minimum n = 2, so a small example can show cells) has one unit taught in
three classrooms of two schools; pre and post are (A points out of 4, B points out of 6):

    School 1 / C1: Ana EL 50→90, Ben EL 20→60, Cai 100→100, Dee 40→70
    School 1 / C2: Eli EL 30→60, Fay 50→70, Gus 60→absent (incomplete)
    School 2 / C3: Hal EL 10→40, Ivy 70→80, Jo 60→90
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from assessments.models import Score, ScoreStatus
from classrooms.models import District
from reports import services
from reports.models import (
    BreakdownPart,
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    GrowthBuild,
    SchoolUnitGrowthSummary,
    StudentGrowth,
)
from reports.tasks import growth_rebuild_task
from tests import factories
from tests.reports import oracle
from tests.reports.builders import (
    GrowthWorld,
    enter,
    growth_world,
    students_snapshot,
    summaries_snapshot,
)
from units.models import AssessmentSkill
from units.services import AssessmentSpec, MeasureSpec, PlanSpec, SkillSpec

LAYOUT = {
    "School 1": {
        "C1": [
            ("Ana", ["EL"], (2, 3), (4, 5)),
            ("Ben", ["EL"], (1, 1), (2, 4)),
            ("Cai", [], (4, 6), (4, 6)),
            ("Dee", [], (2, 2), (3, 4)),
        ],
        "C2": [
            ("Eli", ["EL"], (0, 3), (2, 4)),
            ("Fay", [], (1, 4), (3, 4)),
            ("Gus", [], (2, 4), "absent"),
        ],
    },
    "School 2": {
        "C3": [
            ("Hal", ["EL"], (1, 0), (2, 2)),
            ("Ivy", [], (3, 4), (4, 4)),
            ("Jo", [], (2, 4), (3, 6)),
        ],
    },
}


def build(minimum_n: int = 2) -> GrowthWorld:
    world = growth_world(minimum_n=minimum_n, layout=LAYOUT)
    services.growth_rebuild(district_id=world.district.pk)
    return world


def everyone(model, **node):
    return model.objects.all_schools().get(part=BreakdownPart.ALL, **node)


def breakdown(model, world: GrowthWorld, part: str, **node):
    return model.objects.all_schools().get(student_group=world.groups["EL"], part=part, **node)


@pytest.mark.django_db
def test_classroom_unit_summary_by_hand() -> None:
    world = build()

    c1 = everyone(ClassroomUnitGrowthSummary, classroom_unit=world.classroom_units["C1"])

    # Pre 50, 20, 100, 40 (mean 52.5); post 90, 60, 100, 70 (mean 80).
    assert c1.n == 4
    assert c1.incomplete_count == 0
    assert c1.mean_pre_percentage == pytest.approx(52.5)
    assert c1.mean_post_percentage == pytest.approx(80.0)
    assert c1.mean_gain == pytest.approx(27.5)
    assert c1.class_average_normalized_gain == pytest.approx(27.5 / 47.5)
    assert c1.hake_band == "medium"
    # Individual g: 0.8, 0.5, (Cai at ceiling, left out), 0.5.
    assert c1.mean_individual_normalized_gain == pytest.approx(0.6)
    assert c1.at_ceiling_count == 1
    assert c1.little_room_to_grow_count == 1
    assert c1.target_met_count == 4
    assert c1.share_meeting_target == pytest.approx(1.0)
    assert c1.band_transitions["developing>proficient"] == 2  # Ana 50→90, Dee 40→70
    assert c1.band_transitions["beginning>developing"] == 1  # Ben 20→60
    assert c1.band_transitions["proficient>proficient"] == 1  # Cai
    # Skill A: pre 2/4, 1/4, 4/4, 2/4 → 56.25; post 4/4, 2/4, 4/4, 3/4 → 81.25.
    assert c1.skill_means["A"] == {"n": 4, "pre": pytest.approx(56.25), "post": 81.25}
    assert c1.mean_gain_lower is not None and c1.mean_gain_lower < 27.5 < c1.mean_gain_upper


@pytest.mark.django_db
def test_school_and_district_roll_ups_by_hand() -> None:
    world = build()

    school = everyone(SchoolUnitGrowthSummary, school=world.schools["School 1"], unit=world.unit)
    district = everyone(DistrictUnitGrowthSummary, district=world.district, unit=world.unit)

    # School 1: six complete students (pre 290 / 6, post 450 / 6) and Gus, incomplete.
    assert (school.n, school.incomplete_count) == (6, 1)
    assert school.mean_pre_percentage == pytest.approx(290 / 6)
    assert school.mean_post_percentage == pytest.approx(75.0)
    # District: nine complete students, pre sum 430, post sum 660.
    assert (district.n, district.incomplete_count) == (9, 1)
    assert district.mean_pre_percentage == pytest.approx(430 / 9)
    assert district.mean_post_percentage == pytest.approx(660 / 9)
    assert district.class_average_normalized_gain == pytest.approx((230 / 9) / (100 - 430 / 9))
    # Everyone meets the target: post ≥ 70, or g ≥ 0.3 (Ben 0.5, Eli 3/7, Hal 30/90).
    assert district.target_met_count == 9


@pytest.mark.django_db
def test_group_breakdown_is_suppressed_across_levels_and_shown_where_safe() -> None:
    world = build()

    # School 2 has one EL student (Hal): hidden. Alone it would be district − School 1, so
    # School 1 is hidden too; a hidden school needs a hidden classroom, which C2 (one EL
    # student) already is. C1 stays shown: no shown cells add up to C2, School 1 or School 2.
    for school in world.schools.values():
        row = breakdown(SchoolUnitGrowthSummary, world, "group", school=school, unit=world.unit)
        assert row.is_suppressed
        assert row.n is None and row.mean_gain is None and row.skill_means == {}
    for name in ("C2", "C3"):
        for part in ("group", "rest"):
            row = breakdown(
                ClassroomUnitGrowthSummary, world, part, classroom_unit=world.classroom_units[name]
            )
            assert row.is_suppressed, (name, part)
            assert row.n is None and row.mean_gain is None and row.skill_means == {}
    c1 = world.classroom_units["C1"]
    c1_group = breakdown(ClassroomUnitGrowthSummary, world, "group", classroom_unit=c1)
    c1_rest = breakdown(ClassroomUnitGrowthSummary, world, "rest", classroom_unit=c1)
    assert (c1_group.n, c1_rest.n) == (2, 2)  # Ana, Ben against Cai, Dee
    assert c1_group.pre_gap == pytest.approx(35.0 - 70.0)
    assert c1_group.post_gap == pytest.approx(75.0 - 85.0)
    assert c1_group.gap_change == pytest.approx(25.0)
    # The district shows EL (Ana, Ben, Eli, Hal) against the rest (Cai, Dee, Fay, Ivy, Jo).
    group = breakdown(DistrictUnitGrowthSummary, world, "group", district=world.district)
    rest = breakdown(DistrictUnitGrowthSummary, world, "rest", district=world.district)
    assert not group.is_suppressed and not rest.is_suppressed
    assert (group.n, rest.n) == (4, 5)
    assert group.mean_pre_percentage == pytest.approx(27.5)  # 50, 20, 30, 10
    assert group.mean_post_percentage == pytest.approx(62.5)  # 90, 60, 60, 40
    assert rest.mean_pre_percentage == pytest.approx(64.0)  # 100, 40, 50, 70, 60
    assert rest.mean_post_percentage == pytest.approx(82.0)  # 100, 70, 70, 80, 90
    assert group.pre_gap == pytest.approx(-36.5)
    assert group.post_gap == pytest.approx(-19.5)
    assert group.gap_change == pytest.approx(17.0)
    assert rest.pre_gap is None  # gaps live on the group's row


@pytest.mark.django_db
def test_default_minimum_n_suppresses_every_small_group_cell_and_never_stores_zero() -> None:
    build(minimum_n=10)

    suppressed = [
        row
        for model in (
            ClassroomUnitGrowthSummary,
            SchoolUnitGrowthSummary,
            DistrictUnitGrowthSummary,
        )
        for row in model.objects.all_schools().exclude(part=BreakdownPart.ALL)
    ]
    assert suppressed
    for row in suppressed:
        assert row.is_suppressed
        assert row.n is None
        assert row.mean_pre_percentage is None
        assert row.share_meeting_target is None
        assert row.skill_means == {}


@pytest.mark.django_db
def test_incremental_rebuild_after_a_score_change_equals_a_full_rebuild() -> None:
    world = build()
    enter(world.classroom_units["C2"], world.students["Gus"], "post", (4, 6))
    enter(world.classroom_units["C2"], world.students["Eli"], "post", (1, 1))

    services.classroom_unit_growth_rebuild(classroom_unit_id=world.classroom_units["C2"].pk)
    incremental = summaries_snapshot()
    services.growth_rebuild(district_id=world.district.pk)

    assert incremental == summaries_snapshot()
    c2 = everyone(ClassroomUnitGrowthSummary, classroom_unit=world.classroom_units["C2"])
    assert (c2.n, c2.incomplete_count) == (3, 0)
    district = everyone(DistrictUnitGrowthSummary, district=world.district, unit=world.unit)
    assert district.n == 10


@pytest.mark.django_db
def test_incremental_rebuild_rewrites_another_school_whose_suppression_changed() -> None:
    world = build()
    school_2 = world.schools["School 2"]
    assert breakdown(SchoolUnitGrowthSummary, world, "group", school=school_2, unit=world.unit)
    # Hal leaves the EL group: School 2 now has no EL student, School 1's cells stand alone.
    world.students["Hal"].groups.clear()

    services.classroom_unit_growth_rebuild(classroom_unit_id=world.classroom_units["C3"].pk)
    incremental = summaries_snapshot()
    services.growth_rebuild(district_id=world.district.pk)

    assert incremental == summaries_snapshot()


@pytest.mark.django_db
def test_full_rebuild_is_idempotent_and_clears_pending_updates() -> None:
    world = build()
    GrowthBuild.objects.filter(classroom_unit=world.classroom_units["C1"]).update(
        stale_since=timezone.now()
    )
    first_students, first_summaries = students_snapshot(), summaries_snapshot()

    results = services.growth_rebuild(district_id=world.district.pk)

    assert students_snapshot() == first_students
    assert summaries_snapshot() == first_summaries
    assert [result.student_rows for result in results] == [10]
    builds = GrowthBuild.objects.filter(classroom_unit__unit=world.unit)
    assert builds.count() == 3
    assert not builds.filter(stale_since__isnull=False).exists()
    assert not builds.filter(built_at__isnull=True).exists()


@pytest.mark.django_db
def test_full_rebuild_drops_rows_of_students_who_left_before_the_unit() -> None:
    world = build()
    gus = world.students["Gus"]
    enrollment = gus.enrollments.get()
    enrollment.start_date = enrollment.end_date = world.classroom_units["C2"].start_date.replace(
        year=2020
    )
    enrollment.save()
    gus.scores.all().delete()

    services.growth_rebuild(district_id=world.district.pk)

    assert not StudentGrowth.objects.filter(student=gus).exists()
    c2 = everyone(ClassroomUnitGrowthSummary, classroom_unit=world.classroom_units["C2"])
    assert c2.incomplete_count == 0


@pytest.mark.django_db
def test_stored_student_rows_carry_the_trajectory_and_bands() -> None:
    world = build()

    ana = StudentGrowth.objects.get(student=world.students["Ana"])

    assert ana.trajectory == [[1, 50.0], [8, 90.0]]
    assert ana.slope_per_week == pytest.approx(40 / 7)
    assert (ana.pre_band, ana.post_band) == ("developing", "proficient")
    gus = StudentGrowth.objects.get(student=world.students["Gus"])
    assert gus.is_complete is False
    assert (gus.pre_band, gus.post_band) == ("developing", "")


@pytest.mark.django_db
def test_rebuild_command_and_task_report_when_they_built() -> None:
    world = build()
    from io import StringIO

    out = StringIO()
    call_command("growth_rebuild", "--district", str(world.district.pk), stdout=out)
    assert f"District {world.district.pk}: built at" in out.getvalue()
    assert "10 student rows" in out.getvalue()

    [result] = growth_rebuild_task(world.district.pk)
    assert result["student_rows"] == 10
    assert result["built_at"]


@pytest.mark.django_db
def test_a_rebuild_stores_exactly_what_growth_py_gives() -> None:
    """The rebuild runs in SQL (reports/growth_build/); every student row and summary row it
    stores must be what reports/growth/ gives for the same scores (tests/reports/oracle.py)."""
    world = build()

    oracle.assert_stored_rows_match(world.district)


@pytest.mark.django_db
def test_a_rebuild_stores_what_growth_py_gives_on_a_demo_district() -> None:
    """Formatives, absences, exempt skills, late joiners, students at the ceiling, three student
    groups and the default minimum n, as seed_demo makes them."""
    from reports.demo import demo_district_seed

    demo_district_seed(
        name="Agreement", students=150, seed=7, username_prefix="agree-", password="pw"
    )
    district = District.objects.get(name="Agreement")
    services.growth_rebuild(district_id=district.pk)
    students = students_snapshot()
    assert any(
        sum(percentage is not None for percentage in row["checkpoint_percentages"]) > 2
        for row in students.values()
    )
    assert any(not row["is_complete"] for row in students.values())

    oracle.assert_stored_rows_match(district)


@pytest.mark.django_db
def test_incremental_rebuilds_after_random_edits_always_equal_a_full_rebuild() -> None:
    """Edits in random classes flip suppression here and there; after each, rebuilding only
    the edited classroom unit must leave exactly what a full rebuild leaves."""
    import random

    rng = random.Random(11)
    layout = {
        f"School {school}": {
            f"S{school} class {number}": [
                (
                    f"S{school}C{number}P{index}",
                    ["EL"] if rng.random() < 0.35 else [],
                    (rng.randint(0, 4), rng.randint(0, 6)),
                    (rng.randint(0, 4), rng.randint(0, 6)),
                )
                for index in range(rng.randint(2, 6))
            ]
            for number in range(1, 3)
        }
        for school in range(1, 4)
    }
    world = growth_world(minimum_n=3, layout=layout)
    services.growth_rebuild(district_id=world.district.pk)
    names = sorted(world.classroom_units)
    for _ in range(8):
        name = rng.choice(names)
        classroom_unit = world.classroom_units[name]
        student = rng.choice(list(classroom_unit.classroom.enrollments.all())).student
        if rng.random() < 0.3:
            enter(classroom_unit, student, "post", "absent")
        else:
            enter(classroom_unit, student, "post", (rng.randint(0, 4), rng.randint(0, 6)))
        if rng.random() < 0.3:
            student.groups.set([] if student.groups.exists() else [world.groups["EL"]])
            # Membership changes reach other classrooms' rows with the next full rebuild;
            # this student's own class is rebuilt now.

        services.classroom_unit_growth_rebuild(classroom_unit_id=classroom_unit.pk)
        incremental = summaries_snapshot()
        services.growth_rebuild(district_id=world.district.pk)

        assert incremental == summaries_snapshot(), name
    oracle.assert_stored_rows_match(world.district)


@pytest.mark.django_db
def test_a_rebuild_over_unchanged_scores_writes_nothing_but_build_times() -> None:
    world = build()
    students, summaries = students_snapshot(), summaries_snapshot()

    [result] = services.growth_rebuild(district_id=world.district.pk)

    assert (result.student_rows, result.summary_rows) == (10, len(summaries))
    assert (result.student_rows_written, result.summary_rows_written) == (0, 0)
    assert students_snapshot() == students
    assert summaries_snapshot() == summaries


def _two_shapes_world() -> District:
    """A district teaching units of different shapes: the usual one (skills A, B; pre,
    checkpoints in weeks 3 and 5, post in week 8), one of 6 weeks with three skills, one
    checkpoint in week 4 and a pre that leaves skill C out (some students absent or exempt),
    and one with no plan yet, whose enrolled students still get (empty) rows."""
    import random

    rng = random.Random(5)
    district = factories.DistrictFactory(name="Shapes", minimum_n=2)
    group = factories.StudentGroupFactory(district=district, name="EL")
    a, b, c = (
        MeasureSpec(skill_code=code, max_points=Decimal(points))
        for code, points in (("A", "4"), ("B", "6"), ("C", "5"))
    )
    wide = PlanSpec(
        weeks=6,
        skills=(SkillSpec(code="A"), SkillSpec(code="B"), SkillSpec(code="C")),
        assessments=(
            AssessmentSpec(kind="pre", week=1, title="Pre", measures=(a, b)),
            AssessmentSpec(kind="formative", week=4, title="Check", measures=(b, c)),
            AssessmentSpec(kind="post", week=6, title="Post", measures=(a, b, c)),
        ),
    )
    units = [
        factories.make_unit(district, title="Usual"),
        factories.make_unit(district, title="Wide", plan=wide),
    ]
    school = factories.SchoolFactory(district=district)
    for unit in units:
        for _ in range(2):
            classroom = factories.ClassroomFactory(school=school)
            classroom_unit = factories.ClassroomUnitFactory(classroom=classroom, unit=unit)
            for _ in range(6):
                student = factories.EnrollmentFactory(
                    classroom=classroom, student__district=district
                ).student
                if rng.random() < 0.4:
                    student.groups.add(group)
                for measure in AssessmentSkill.objects.filter(assessment__unit=unit):
                    roll = rng.random()
                    status = (
                        ScoreStatus.ABSENT
                        if roll < 0.1
                        else ScoreStatus.EXEMPT
                        if roll < 0.15
                        else ScoreStatus.SCORED
                    )
                    points = (
                        Decimal(rng.randint(0, int(measure.max_points * 2))) / 2
                        if status == ScoreStatus.SCORED
                        else None
                    )
                    Score.objects.create(
                        classroom_unit=classroom_unit,
                        student=student,
                        assessment_skill=measure,
                        status=status,
                        points=points,
                        entered_at=timezone.now(),
                    )
    blank = factories.UnitFactory(district=district, title="Blank")
    classroom = factories.ClassroomFactory(school=school)
    factories.ClassroomUnitFactory(classroom=classroom, unit=blank)
    for _ in range(3):
        factories.EnrollmentFactory(classroom=classroom, student__district=district)
    return district


@pytest.mark.django_db
def test_units_of_different_shapes_are_stored_as_growth_py_gives() -> None:
    district = _two_shapes_world()
    services.growth_rebuild(district_id=district.pk)

    oracle.assert_stored_rows_match(district)
    wide = StudentGrowth.objects.filter(classroom_unit__unit__title="Wide").first()
    assert wide is not None
    assert wide.checkpoint_weeks == [1, 4, 6]
    # The pre leaves skill C out: nobody has C at both pre and post, so it has no means.
    wide_class = ClassroomUnitGrowthSummary.objects.filter(
        classroom_unit__unit__title="Wide", part=BreakdownPart.ALL
    ).first()
    assert wide_class is not None
    assert set(wide_class.skill_means) <= {"A", "B"}
    assert wide_class.skill_means
    blank = StudentGrowth.objects.filter(classroom_unit__unit__title="Blank")
    assert blank.count() == 3
    assert all(not row.is_complete and row.trajectory == [] for row in blank)


@pytest.mark.django_db
def test_incremental_rebuild_that_leaves_a_school_all_equal_equals_a_full_rebuild() -> None:
    """School 1's pre percentages become all 50: its pre SD must be exactly 0, after one class's
    rebuild as after a full one (the effect size divides by the SDs)."""
    world = build()
    for name in ("Ana", "Ben", "Cai", "Dee"):
        enter(world.classroom_units["C1"], world.students[name], "pre", (2, 3))
    services.classroom_unit_growth_rebuild(classroom_unit_id=world.classroom_units["C1"].pk)
    for name in ("Eli", "Fay", "Gus"):
        enter(world.classroom_units["C2"], world.students[name], "pre", (2, 3))

    services.classroom_unit_growth_rebuild(classroom_unit_id=world.classroom_units["C2"].pk)
    incremental = summaries_snapshot()
    services.growth_rebuild(district_id=world.district.pk)

    assert incremental == summaries_snapshot()
    school = everyone(SchoolUnitGrowthSummary, school=world.schools["School 1"], unit=world.unit)
    assert school.mean_pre_percentage == pytest.approx(50.0)
    oracle.assert_stored_rows_match(world.district)


@pytest.mark.django_db
def test_a_rebuild_gives_the_same_numbers_whatever_order_the_rows_are_read_in() -> None:
    """Sums over many students in many combinations of student groups must come out the same
    to the last bit whatever order PostgreSQL reads the stored rows in, or an unchanged
    district would look changed: here the student rows are stored again in a shuffled order
    before the second build, which writes nothing."""
    import random

    from reports.demo import demo_district_seed

    demo_district_seed(name="Twice", students=300, seed=3, username_prefix="twice-", password="pw")
    district = District.objects.get(name="Twice")
    # Six more student groups: a class splits into many combinations of groups.
    rng = random.Random(9)
    students = list(district.students.all())
    for number in range(6):
        group = factories.StudentGroupFactory(district=district, name=f"Extra {number}")
        group.students.set([student for student in students if rng.random() < 0.5])
    [first] = services.growth_rebuild(district_id=district.pk)
    summaries = summaries_snapshot()
    rows = list(StudentGrowth.objects.all_schools().all())
    rng.shuffle(rows)
    StudentGrowth.objects.all_schools().all().delete()
    StudentGrowth.objects.bulk_create(rows)

    [again] = services.growth_rebuild(district_id=district.pk)

    assert first.summary_rows_written == first.summary_rows > 0
    assert (again.student_rows_written, again.summary_rows_written) == (0, 0)
    assert summaries_snapshot() == summaries


@pytest.mark.django_db
def test_a_periodic_rebuild_picks_up_changes_that_are_not_scores() -> None:
    """A unit whose inputs are unchanged is skipped by the periodic rebuild; so everything a
    summary depends on besides scores must count as a change: a student joining a group, the
    district's minimum n, a class starting the unit with nobody in it yet, a second unit
    taught and then no longer taught."""
    world = build()
    district = world.district

    world.students["Cai"].groups.add(world.groups["EL"])
    [result] = services.growth_rebuild(district_id=district.pk)
    assert result.summary_rows_written > 0
    oracle.assert_stored_rows_match(district)

    district.minimum_n = 3
    district.save(update_fields=["minimum_n"])
    services.growth_rebuild(district_id=district.pk)
    oracle.assert_stored_rows_match(district)

    empty = factories.ClassroomFactory(school=world.schools["School 2"], name="C4")
    factories.ClassroomUnitFactory(classroom=empty, unit=world.unit)
    services.growth_rebuild(district_id=district.pk)
    oracle.assert_stored_rows_match(district)

    other = factories.make_unit(district, title="Decimals")
    taught = factories.ClassroomUnitFactory(classroom=world.classrooms["C1"], unit=other)
    services.growth_rebuild(district_id=district.pk)
    assert DistrictUnitGrowthSummary.objects.all_schools().filter(unit=other).exists()
    taught.delete()
    services.growth_rebuild(district_id=district.pk)
    assert not DistrictUnitGrowthSummary.objects.all_schools().filter(unit=other).exists()
    oracle.assert_stored_rows_match(district)
