"""academicSessions.csv: ``schoolYear`` sessions become AcademicYears; ``term``, ``semester`` and
``gradingPeriod`` sessions become Terms of the school year found through ``parentSourcedId``
(grading periods inside a semester reach it through the semester), else of the school year whose
``schoolYear`` column matches. A class whose ``termSourcedIds`` names a school year gets a Term
"Full year". Sessions marked ``tobedeleted`` are kept (an active class may not point at one)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models

from classrooms.models import AcademicYear, Term
from classrooms.oneroster import values
from classrooms.oneroster.reading import Row
from classrooms.oneroster.results import RosterProblem
from classrooms.oneroster.spec import SESSION_TYPES, SESSIONS
from classrooms.oneroster.state import Item, PlanState

FULL_YEAR_TERM_NAME = "Full year"


@dataclass
class Sessions:
    """The sessions of academicSessions.csv whose rows could be read, by sourcedId."""

    rows: dict[str, Row] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)
    active: dict[str, bool] = field(default_factory=dict)
    dates: dict[str, tuple[datetime.date, datetime.date]] = field(default_factory=dict)


def plan_sessions(state: PlanState) -> Sessions:
    """Plan the school years, then the terms of each."""
    rows = state.rows(SESSIONS)
    sessions = Sessions()
    for row in rows:
        session_type = values.choice(state.problems, row, "type", SESSION_TYPES, "session type")
        is_active = values.status_is_active(state.problems, row)
        start = values.date(state.problems, row, "startDate", required=True)
        end = values.date(state.problems, row, "endDate", required=True)
        if session_type is None or is_active is None or start is None or end is None:
            continue
        if end <= start:
            state.problem(row, "endDate", f"the end date {end} is not after the start {start}.")
            continue
        sessions.rows[row["sourcedId"]] = row
        sessions.types[row["sourcedId"]] = session_type
        sessions.active[row["sourcedId"]] = is_active
        sessions.dates[row["sourcedId"]] = (start, end)
    year_names: dict[str, int] = {}
    year_dates: dict[tuple[datetime.date, datetime.date], int] = {}
    for sourced_id, row in sessions.rows.items():
        if sessions.types[sourced_id] != "schoolYear":
            continue
        existing = state.existing.by_sourced_id["academic_years"].get(sourced_id)
        if not sessions.active[sourced_id]:
            state.keep_deleted(row, "academic_years", existing, "school years")
            continue
        name = values.text(state.problems, row, "title", max_length=40)
        if state.first_seen(year_names, name.lower(), row, "title", "school year title"):
            continue
        start, end = sessions.dates[sourced_id]
        if state.first_seen(year_dates, (start, end), row, "startDate", "school year dates"):
            continue
        by_dates = state.existing.years_by_dates.get((start, end))
        existing = state.adopt(
            row,
            "academic_years",
            existing,
            [
                ("start and end dates", "startDate", by_dates),
                ("title", "title", state.existing.years_by_name.get(name.lower())),
            ],
        )
        if by_dates is not None and existing == by_dates and by_dates.name != name:
            state.warnings.append(
                RosterProblem(
                    row.file,
                    row.line,
                    "title",
                    f"the school year '{by_dates.name}' has the same dates, so it is this "
                    f"year: it is kept and renamed '{name}'.",
                )
            )
        state.set_item(
            row,
            "academic_years",
            existing,
            AcademicYear,
            {
                "district_id": state.district.pk,
                "name": name,
                "start_date": start,
                "end_date": end,
            },
            {},
            columns={"name": "title", "start_date": "startDate", "end_date": "endDate"},
        )
    term_names: dict[tuple[str, str], int] = {}
    for sourced_id, row in sessions.rows.items():
        if sessions.types[sourced_id] == "schoolYear":
            continue
        existing = state.existing.by_sourced_id["terms"].get(sourced_id)
        if not sessions.active[sourced_id]:
            state.keep_deleted(row, "terms", existing, "terms")
            continue
        year = _school_year_of(state, sessions, row)
        if year is None:
            continue
        name = values.text(state.problems, row, "title", max_length=60)
        if state.first_seen(term_names, (year.sourced_id, name.lower()), row, "title", ""):
            continue
        _set_term(state, row, existing, year, name, sessions.dates[sourced_id])
    return sessions


def _set_term(
    state: PlanState,
    row: Row,
    existing: models.Model | None,
    year: Item,
    name: str,
    dates: tuple[datetime.date, datetime.date],
) -> Item:
    year_pk = year.instance.pk if year.instance is not None else None
    by_name = state.existing.terms_by_year_name.get((year_pk, name.lower()))
    by_dates = state.existing.terms_by_year_dates.get((year_pk, *dates))
    if existing is None and by_name is None and by_dates is not None and not by_dates.sourced_id:
        existing = by_dates  # a term made in Thinslice with these dates, under another title
    existing = state.adopt(row, "terms", existing, [("title", "title", by_name)])
    return state.set_item(
        row,
        "terms",
        existing,
        Term,
        {"name": name, "start_date": dates[0], "end_date": dates[1]},
        {"academic_year": year},
        columns={"name": "title", "start_date": "startDate", "end_date": "endDate"},
    )


def _school_year_of(state: PlanState, sessions: Sessions, row: Row) -> Item | None:
    """The school year a term belongs to: up its parents, else by its schoolYear column."""
    seen = {row["sourcedId"]}
    parent_id = row["parentSourcedId"]
    while parent_id:
        if parent_id in seen:
            state.problem(row, "parentSourcedId", "the parents of this session form a loop.")
            return None
        seen.add(parent_id)
        if sessions.types.get(parent_id) == "schoolYear":
            return live_year(state, row, parent_id)
        parent = sessions.rows.get(parent_id)
        if parent is None:
            return state.reference(
                row, "parentSourcedId", "academic_years", parent_id, SESSIONS, "school year"
            )
        parent_id = parent["parentSourcedId"]
    school_year = row["schoolYear"]
    for sourced_id, candidate in sessions.rows.items():
        if sessions.types[sourced_id] == "schoolYear" and candidate["schoolYear"]:
            if school_year and candidate["schoolYear"] == school_year:
                return live_year(state, row, sourced_id)
    state.problem(
        row,
        "parentSourcedId",
        "this term belongs to no school year: give it the sourcedId of a schoolYear session "
        "as parentSourcedId, or a schoolYear value that a schoolYear session has too.",
    )
    return None


def live_year(state: PlanState, row: Row, sourced_id: str) -> Item | None:
    """The planned school year ``sourced_id``; one marked tobedeleted is a problem of ``row``."""
    item = state.items["academic_years"].get(sourced_id)
    if item is None:  # the year's own row had a problem, reported there
        return None
    if not item.is_live:
        state.problem(
            row,
            "parentSourcedId",
            f"the school year '{sourced_id}' is marked tobedeleted.",
        )
        return None
    return item


def full_year_term(state: PlanState, sessions: Sessions, row: Row, year_id: str) -> Item | None:
    """The term "Full year" of the school year ``year_id``, which class ``row`` names as its
    term; planned (with the year's sourcedId) the first time a class names the year."""
    item = state.items["terms"].get(year_id)
    if item is not None:
        return item
    year = live_year(state, row, year_id)
    if year is None:
        return None
    year_row = sessions.rows[year_id]
    existing = state.existing.by_sourced_id["terms"].get(year_id)
    return _set_term(state, year_row, existing, year, FULL_YEAR_TERM_NAME, sessions.dates[year_id])
