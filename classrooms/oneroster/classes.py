"""classes.csv (with courses.csv when present): classes become Classrooms. The subject comes
from ``subjects``, else the course's subjects, else the course title; the grade from ``grades``,
else the course's grades (the first one from K to 12); the term from the first of
``termSourcedIds``. Two classes with the same title in one school and term are told apart by
their ``classCode``. Classrooms have no inactive state: a class marked ``tobedeleted`` is kept
(its enrollments and teacher assignments end with it), and a class whose grades lie outside K–12
is skipped with a warning."""

from __future__ import annotations

from collections import Counter
from typing import Any

from classrooms.models import Classroom
from classrooms.oneroster import values
from classrooms.oneroster.reading import Row
from classrooms.oneroster.schools import Orgs, school_reference
from classrooms.oneroster.sessions import Sessions, full_year_term
from classrooms.oneroster.spec import CLASSES, COURSES, SESSIONS
from classrooms.oneroster.state import Item, PlanState


def read_courses(state: PlanState) -> dict[str, Row]:
    """The rows of courses.csv by sourcedId (each checked; courses are not stored)."""
    courses: dict[str, Row] = {row["sourcedId"]: row for row in state.rows(COURSES)}
    for row in courses.values():
        values.status_is_active(state.problems, row)
    return courses


def plan_classes(state: PlanState, orgs: Orgs, sessions: Sessions, courses: dict[str, Row]) -> None:
    """Plan a Classroom for each class row."""
    rows = []
    for row in state.rows(CLASSES):
        is_active = values.status_is_active(state.problems, row)
        if is_active is None:
            continue
        existing = state.existing.by_sourced_id["classrooms"].get(row["sourcedId"])
        if not is_active:
            state.keep_deleted(row, "classrooms", existing, "classes")
            continue
        rows.append(row)
    planned = [_class_fields(state, orgs, sessions, courses, row) for row in rows]
    keys = Counter(
        (fields["school"].sourced_id, fields["term"].sourced_id, fields["name"].lower())
        for fields in planned
        if fields is not None
    )
    names: dict[tuple[str, str, str], int] = {}
    for row, fields in zip(rows, planned, strict=True):
        if fields is None:
            continue
        school, term, name = fields["school"], fields["term"], fields["name"]
        if keys[(school.sourced_id, term.sourced_id, name.lower())] > 1:
            name = f"{name} ({row['classCode'] or row['sourcedId']})"[:200]
        key = (school.sourced_id, term.sourced_id, name.lower())
        if state.first_seen(names, key, row, "title", "class title in this school and term"):
            continue
        existing = state.existing.by_sourced_id["classrooms"].get(row["sourcedId"])
        if school.instance is not None and term.instance is not None:
            holder = state.existing.classrooms_by_key.get(
                (school.instance.pk, term.instance.pk, name.lower())
            )
            existing = state.adopt(row, "classrooms", existing, [("title", "title", holder)])
        state.set_item(
            row,
            "classrooms",
            existing,
            Classroom,
            {"name": name, "subject": fields["subject"], "grade_level": fields["grade"]},
            {"school": school, "term": term},
            columns={"name": "title", "subject": "subjects", "grade_level": "grades"},
        )


def _class_fields(
    state: PlanState, orgs: Orgs, sessions: Sessions, courses: dict[str, Row], row: Row
) -> dict[str, Any] | None:
    """The school, term, title, subject and grade of a class row; None when one is missing
    (a problem) or the grade lies outside K–12 (the class is skipped)."""
    school = school_reference(state, orgs, row, "schoolSourcedId", row["schoolSourcedId"])
    term = _class_term(state, sessions, row)
    course = None
    if row["courseSourcedId"] and COURSES in state.tables:
        course = courses.get(row["courseSourcedId"])
        if course is None and state.is_bulk(COURSES):
            state.problem(
                row,
                "courseSourcedId",
                f"no course with sourcedId '{row['courseSourcedId']}' in {COURSES}.",
            )
            return None
    name = values.text(state.problems, row, "title", max_length=200)
    subjects = values.split_list(row["subjects"]) or (
        values.split_list(course["subjects"]) if course else []
    )
    subject = subjects[0] if subjects else (course["title"] if course else "")
    if not subject:
        state.problem(
            row,
            "subjects",
            "the subject is blank, and no course in courses.csv gives one.",
        )
    elif len(subject) > 80:
        state.problem(row, "subjects", f"'{subject[:40]}…' is longer than 80 characters.")
    given, grade = values.grade(state.problems, row, "grades")
    if not given and course is not None:
        given, grade = values.grade(state.problems, course, "grades")
    if not given:
        state.problem(
            row,
            "grades",
            "the grade is blank, and no course in courses.csv gives one.",
        )
        return None
    if grade is None:
        state.skip_note(row, "classes whose grades lie outside K–12")
        state.items["classrooms"][row["sourcedId"]] = Item(
            "classrooms", row["sourcedId"], row, None, action="skip", is_live=False
        )
        return None
    if school is None or term is None or not subject or len(subject) > 80:
        return None
    return {"school": school, "term": term, "name": name, "subject": subject, "grade": grade}


def _class_term(state: PlanState, sessions: Sessions, row: Row) -> Item | None:
    """The term of a class: the first of its ``termSourcedIds`` (a school year: its Full year)."""
    term_ids = values.split_list(row["termSourcedIds"])
    if not term_ids:
        state.problem(row, "termSourcedIds", "this value is required.")
        return None
    sourced_id = term_ids[0]
    if sessions.types.get(sourced_id) == "schoolYear":
        return full_year_term(state, sessions, row, sourced_id)
    if sourced_id in sessions.rows and not sessions.active[sourced_id]:
        state.problem(row, "termSourcedIds", f"the term '{sourced_id}' is marked tobedeleted.")
        return None
    if sourced_id in sessions.rows:
        return state.items["terms"].get(sourced_id)  # None: its row had a problem
    return state.reference(row, "termSourcedIds", "terms", sourced_id, SESSIONS, "term")
