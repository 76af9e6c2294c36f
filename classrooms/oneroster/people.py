"""users.csv: role ``student`` becomes a Student, whose SIS id is ``identifier`` when filled, else
the sourcedId; grade from ``grades``, else from the first class they are enrolled in (a grade
outside K–12 skips the student, with a warning). Role ``teacher`` becomes a User of the district
with an unusable password (they get a password or single sign-on from the district admin),
inactive when ``enabledUser`` is false. Other roles (administrator, aide, guardian, parent,
proctor, relative) are skipped: district admin rights are never granted by a file, and a district
admin's account is never deactivated by one.

A user marked ``tobedeleted`` (or, when users.csv is bulk, an imported one missing from it) is
deactivated, never deleted."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from classrooms.models import Student, User
from classrooms.oneroster import values
from classrooms.oneroster.reading import Row
from classrooms.oneroster.results import RosterProblem
from classrooms.oneroster.schools import Orgs
from classrooms.oneroster.spec import ORGS, USER_ROLES, USERS
from classrooms.oneroster.state import Item, PlanState


@dataclass
class Users:
    """The student and teacher rows of users.csv that could be read, by sourcedId, and the
    sourcedIds of users whose role is skipped."""

    rows: dict[str, Row] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)
    skipped_ids: set[str] = field(default_factory=set)


def read_users(state: PlanState, orgs: Orgs) -> Users:
    """Check every user row; keep student and teacher rows for planning."""
    users = Users()
    for row in state.rows(USERS):
        role = values.choice(state.problems, row, "role", USER_ROLES, "role")
        is_active = values.status_is_active(state.problems, row)
        enabled = row["enabledUser"].lower()
        if enabled not in ("", "true", "false"):
            state.problem(row, "enabledUser", f"'{row['enabledUser']}' is not true or false.")
        for org_id in values.split_list(row["orgSourcedIds"]):
            if state.is_bulk(ORGS) and org_id not in orgs.types:
                state.problem(row, "orgSourcedIds", f"no org with sourcedId '{org_id}' in {ORGS}.")
        if role is None or is_active is None:
            continue
        if role not in ("student", "teacher"):
            state.skip_note(row, f"role {role} (Thinslice imports students and teachers)")
            users.skipped_ids.add(row["sourcedId"])
            continue
        users.rows[row["sourcedId"]] = row
        users.roles[row["sourcedId"]] = role
        users.active[row["sourcedId"]] = is_active
    state.existing.load_usernames(
        row["username"]
        for sourced_id, row in users.rows.items()
        if users.roles[sourced_id] == "teacher"
    )
    return users


def plan_students(state: PlanState, users: Users, class_grade_of_student: dict[str, str]) -> None:
    """Plan a Student for each student row (``class_grade_of_student``: the grade of the first
    live class each student is enrolled in, for rows without ``grades``)."""
    sis_ids: dict[str, int] = {}
    for sourced_id, row in users.rows.items():
        if users.roles[sourced_id] != "student":
            continue
        existing = state.existing.by_sourced_id["students"].get(sourced_id)
        if not users.active[sourced_id]:
            state.deactivate(row, "students", existing, "students")
            continue
        given, grade = values.grade(state.problems, row, "grades")
        if not given:
            grade = class_grade_of_student.get(sourced_id)
            if grade is None:
                state.problem(
                    row,
                    "grades",
                    "the grade is blank, and the student is in no class that gives one.",
                )
                continue
        if grade is None:
            state.skip_note(row, "students whose grades lie outside K–12")
            state.items["students"][sourced_id] = Item(
                "students", sourced_id, row, None, action="skip", is_live=False
            )
            continue
        sis_column = "identifier" if row["identifier"] else "sourcedId"
        sis_id = values.text(state.problems, row, sis_column, max_length=64)
        if state.first_seen(sis_ids, sis_id, row, sis_column, "SIS id"):
            continue
        existing = state.adopt(
            row,
            "students",
            existing,
            [("SIS id", sis_column, state.existing.students_by_sis_id.get(sis_id))],
        )
        state.set_item(
            row,
            "students",
            existing,
            Student,
            {
                "district_id": state.district.pk,
                "sis_id": sis_id,
                "given_name": values.text(state.problems, row, "givenName", max_length=100),
                "family_name": values.text(state.problems, row, "familyName", max_length=100),
                "grade_level": grade,
                "is_active": True,
            },
            {},
            columns={
                "sis_id": sis_column,
                "given_name": "givenName",
                "family_name": "familyName",
                "grade_level": "grades",
            },
        )


def plan_teachers(state: PlanState, users: Users) -> None:
    """Plan a User of the district for each teacher row."""
    usernames: dict[str, int] = {}
    for sourced_id, row in users.rows.items():
        if users.roles[sourced_id] != "teacher":
            continue
        existing = state.existing.by_sourced_id["teachers"].get(sourced_id)
        if not users.active[sourced_id]:
            state.deactivate(row, "teachers", existing, "teachers")
            continue
        username = values.text(state.problems, row, "username", max_length=150)
        if state.first_seen(usernames, username, row, "username", "username"):
            continue
        holder = state.existing.users_by_username.get(username)
        if holder is not None and holder != existing and not holder.sourced_id:
            # An account made in Thinslice (a district admin, a teacher set up by hand) is
            # never taken over by a file: its password and rights stay its own.
            state.problem(
                row,
                "username",
                f"the username '{username}' belongs to an account made in Thinslice, not by a "
                "roster import, so the import does not take it over. Give this teacher another "
                "username in the file, or rename that account in the set-up pages.",
            )
            continue
        existing = state.adopt(row, "teachers", existing, [("username", "username", holder)])
        email = row["email"]
        if email:
            try:
                validate_email(email)
            except ValidationError:
                state.warnings.append(
                    RosterProblem(
                        row.file,
                        row.line,
                        "email",
                        f"'{email}' is not an email address; the account is imported without one.",
                    )
                )
                email = ""
        is_active = row["enabledUser"].lower() != "false"
        if getattr(existing, "is_district_admin", False):
            is_active = True  # a file never locks a district admin out
        state.set_item(
            row,
            "teachers",
            existing,
            User,
            {
                "district_id": state.district.pk,
                "username": username,
                "first_name": values.text(state.problems, row, "givenName", max_length=150),
                "last_name": values.text(state.problems, row, "familyName", max_length=150),
                "email": email,
                "is_active": is_active,
            },
            {},
            columns={
                "username": "username",
                "first_name": "givenName",
                "last_name": "familyName",
                "email": "email",
            },
        )


def plan_absent_users(state: PlanState) -> None:
    """In a bulk users file, imported students and teachers that are missing are gone."""
    if not state.is_bulk(USERS):
        return
    for entity in ("students", "teachers"):
        for sourced_id, existing in state.existing.by_sourced_id[entity].items():
            if sourced_id not in state.items[entity]:
                state.deactivation(entity, existing, None)
