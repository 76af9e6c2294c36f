"""enrollments.csv: role ``student`` becomes an Enrollment (``beginDate``, else the term's start;
``endDate``); role ``teacher`` assigns the teacher to the classroom. Other roles are skipped.

An enrollment marked ``tobedeleted``, one of a class or user marked ``tobedeleted`` or skipped,
and (when enrollments.csv is bulk) an imported one missing from the file ends: it gets an end
date (yesterday, or its start date if later), and a teacher assignment is removed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from classrooms.models import Enrollment
from classrooms.oneroster import values
from classrooms.oneroster.people import Users
from classrooms.oneroster.reading import Row
from classrooms.oneroster.schools import Orgs
from classrooms.oneroster.spec import CLASSES, ENROLLMENT_ROLES, ENROLLMENTS, ORGS, USERS
from classrooms.oneroster.state import Item, PlanState


@dataclass
class Enrollments:
    """The student and teacher rows of enrollments.csv that could be read, each with its role and
    whether it is live, and the grade of the first live class of each student."""

    rows: list[tuple[Row, str, bool]] = field(default_factory=list)
    class_grade_of_student: dict[str, str] = field(default_factory=dict)


def read_enrollments(state: PlanState, orgs: Orgs, users: Users) -> Enrollments:
    """Check every enrollment row; note which are live (row, class and user all active)."""
    enrollments = Enrollments()
    for row in state.rows(ENROLLMENTS):
        role = values.choice(state.problems, row, "role", ENROLLMENT_ROLES, "enrollment role")
        is_active = values.status_is_active(state.problems, row)
        begin = values.date(state.problems, row, "beginDate", required=False)
        end = values.date(state.problems, row, "endDate", required=False)
        if begin is not None and end is not None and end < begin:
            state.problem(row, "endDate", f"the end date {end} is before the begin {begin}.")
        if row["schoolSourcedId"] and state.is_bulk(ORGS):
            if row["schoolSourcedId"] not in orgs.types:
                state.problem(
                    row,
                    "schoolSourcedId",
                    f"no org with sourcedId '{row['schoolSourcedId']}' in {ORGS}.",
                )
        if role is None or is_active is None:
            continue
        if role not in ("student", "teacher"):
            state.skip_note(row, f"enrollment role {role}")
            continue
        classroom = state.reference(
            row, "classSourcedId", "classrooms", row["classSourcedId"], CLASSES, "class"
        )
        if classroom is None:
            continue
        user_id = row["userSourcedId"]
        user_role = users.roles.get(user_id)
        if user_id in users.skipped_ids:
            state.skip_note(row, "enrollments of users whose role is skipped")
            continue
        if user_role is not None and user_role != role:
            state.problem(
                row,
                "role",
                f"the enrollment role is {role}, but user '{user_id}' is a {user_role} in {USERS}.",
            )
            continue
        entity = "students" if role == "student" else "teachers"
        if user_role is None:
            user = state.reference(row, "userSourcedId", entity, user_id, USERS, role)
            if user is None:
                continue
        # An enrollment in a class or of a user marked tobedeleted ends with them.
        is_live = is_active and classroom.is_live and users.active.get(user_id, True)
        enrollments.rows.append((row, role, is_live))
        if role == "student" and is_live and classroom.action != "reference":
            grade = classroom.values.get("grade_level")
            if grade:
                enrollments.class_grade_of_student.setdefault(user_id, grade)
    return enrollments


def plan_enrollments(state: PlanState, enrollments: Enrollments) -> None:
    """Plan an Enrollment for each student row; end those that are not live."""
    keys: dict[tuple[str, str, datetime.date], int] = {}
    for row, role, is_live in enrollments.rows:
        if role != "student":
            continue
        sourced_id = row["sourcedId"]
        existing = state.existing.by_sourced_id["enrollments"].get(sourced_id)
        student = state.items["students"].get(row["userSourcedId"])
        classroom = state.items["classrooms"].get(row["classSourcedId"])
        if student is None or classroom is None:
            continue  # the user or class row had a problem, reported there
        if not is_live or not student.is_live or not classroom.is_live:
            if existing is None:
                state.skip_note(row, "enrollments of rows that are skipped or tobedeleted")
                state.items["enrollments"][sourced_id] = Item(
                    "enrollments", sourced_id, row, None, action="skip", is_live=False
                )
            else:
                state.deactivation("enrollments", existing, row)
            continue
        start = values.date(state.problems, row, "beginDate", required=False)
        start = start or _term_start(state, row, classroom)
        end = values.date(state.problems, row, "endDate", required=False)
        if start is None:
            continue
        if state.first_seen(
            keys,
            (student.sourced_id, classroom.sourced_id, start),
            row,
            "userSourcedId",
            "enrollment of this user in this class from this date",
        ):
            continue
        if student.instance is not None and classroom.instance is not None:
            holder = state.existing.enrollments_by_key.get(
                (student.instance.pk, classroom.instance.pk, start)
            )
            existing = state.adopt(
                row,
                "enrollments",
                existing,
                [("user, class and date", "userSourcedId", holder)],
            )
        state.set_item(
            row,
            "enrollments",
            existing,
            Enrollment,
            {"start_date": start, "end_date": end},
            {"student": student, "classroom": classroom},
            columns={"start_date": "beginDate", "end_date": "endDate"},
        )


def _term_start(state: PlanState, row: Row, classroom: Item) -> datetime.date | None:
    """Where an enrollment without a beginDate starts: its class's term's start."""
    term = classroom.refs.get("term")
    if term is not None and "start_date" in term.values:
        return term.values["start_date"]  # type: ignore[no-any-return]
    if term is not None and term.instance is not None:
        return term.instance.start_date  # type: ignore[no-any-return]
    if classroom.instance is not None:
        return classroom.instance.term.start_date  # type: ignore[no-any-return]
    state.problem(row, "beginDate", "the begin date is blank, and the class has no term.")
    return None


def plan_ended_enrollments(state: PlanState) -> None:
    """Imported enrollments missing from a bulk file, or whose class or student is gone."""
    for sourced_id, existing in state.existing.by_sourced_id["enrollments"].items():
        if sourced_id in state.items["enrollments"]:
            continue
        classroom = state.items["classrooms"].get(
            state.existing.classroom_sourced_ids.get(existing.classroom_id, "")
        )
        student = state.items["students"].get(
            state.existing.student_sourced_ids.get(existing.student_id, "")
        )
        if (
            state.is_bulk(ENROLLMENTS)
            or (classroom is not None and not classroom.is_live)
            or (student is not None and not student.is_live)
        ):
            state.deactivation("enrollments", existing, None)


def plan_teacher_assignments(state: PlanState, enrollments: Enrollments) -> None:
    """Assign teachers by their live enrollments; remove assignments that ended (in a bulk
    file: every imported assignment the file no longer has)."""
    live: set[tuple[str, str]] = set()
    ended: set[tuple[str, str]] = set()
    for row, role, is_live in enrollments.rows:
        if role == "teacher":
            pair = (row["classSourcedId"], row["userSourcedId"])
            (live if is_live else ended).add(pair)
    current = state.existing.assignments
    counts = state.counts["teacher_assignments"]
    kept: set[tuple[str, str]] = set()
    for pair in sorted(live):
        classroom = state.items["classrooms"].get(pair[0])
        teacher = state.items["teachers"].get(pair[1])
        if classroom is None or teacher is None:
            continue  # their rows had problems, reported there
        if not classroom.is_live or not teacher.is_live:
            continue
        kept.add(pair)
        if pair in current:
            counts.add("unchanged")
        else:
            state.assignments_to_add.append((classroom, teacher))
            counts.add("create")
    for pair, through_id in sorted(current.items()):
        if pair in kept:
            continue
        classroom = state.items["classrooms"].get(pair[0])
        teacher = state.items["teachers"].get(pair[1])
        if (
            state.is_bulk(ENROLLMENTS)
            or pair in ended
            or (classroom is not None and not classroom.is_live)
            or (teacher is not None and not teacher.is_live)
        ):
            state.assignments_to_remove.append(through_id)
            counts.add("deactivate")
