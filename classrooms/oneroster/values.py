"""Reading typed values from a row: status, dates, choices, grades, lists and text of a limited
length. A value that cannot be read becomes a problem naming the row's file, line and column, in
words that say how to write it."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable

from classrooms.oneroster.reading import Row
from classrooms.oneroster.results import RosterProblem
from classrooms.oneroster.spec import GRADE_CODES

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _problem(problems: list[RosterProblem], row: Row, column: str, message: str) -> None:
    problems.append(RosterProblem(row.file, row.line, column, message))


def split_list(value: str) -> list[str]:
    """The parts of a comma-separated list value, blanks left out."""
    return [part.strip() for part in value.split(",") if part.strip()]


def status_is_active(problems: list[RosterProblem], row: Row) -> bool | None:
    """True for an active row (a blank status too), False for tobedeleted, None if unknown."""
    status = row["status"].lower()
    if status in ("", "active"):
        return True
    if status in ("tobedeleted", "inactive"):
        return False
    _problem(
        problems,
        row,
        "status",
        f"unknown status '{row['status']}'; use active, tobedeleted or leave it blank.",
    )
    return None


def date(
    problems: list[RosterProblem], row: Row, column: str, *, required: bool
) -> datetime.date | None:
    value = row[column]
    if not value:
        if required:
            _problem(problems, row, column, "a date is required here (YYYY-MM-DD).")
        return None
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        return datetime.date.fromisoformat(value)
    except ValueError:
        _problem(
            problems,
            row,
            column,
            f"'{value}' is not a date; write it as YYYY-MM-DD (e.g. 2026-08-17).",
        )
        return None


def check_date_last_modified(problems: list[RosterProblem], row: Row) -> None:
    value = row["dateLastModified"]
    if not value:
        return
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        _problem(
            problems,
            row,
            "dateLastModified",
            f"'{value}' is not a date and time; write it as ISO 8601 "
            "(e.g. 2026-08-17T08:00:00Z) or leave it blank.",
        )


def choice(
    problems: list[RosterProblem], row: Row, column: str, allowed: Iterable[str], noun: str
) -> str | None:
    value = row[column]
    by_lower = {option.lower(): option for option in allowed}
    chosen = by_lower.get(value.lower())
    if chosen is None:
        shown = f"unknown {noun} '{value}'" if value else f"the {noun} is blank"
        _problem(
            problems,
            row,
            column,
            f"{shown}; OneRoster 1.1 {noun}s are {', '.join(sorted(allowed))}.",
        )
    return chosen


def grade(problems: list[RosterProblem], row: Row, column: str) -> tuple[bool, str | None]:
    """(whether any grade was given, the first K–12 grade among them)."""
    codes = split_list(row[column])
    for code in codes:
        if code.upper() not in GRADE_CODES:
            _problem(
                problems,
                row,
                column,
                f"unknown grade '{code}'; use CEDS codes such as KG, 01 … 12 or PK.",
            )
            return True, None
    for code in codes:
        level = GRADE_CODES[code.upper()]
        if level is not None:
            return True, level
    return bool(codes), None


def text(
    problems: list[RosterProblem],
    row: Row,
    column: str,
    *,
    max_length: int,
    required: bool = True,
) -> str:
    """The value with its whitespace collapsed; blank (when required) or too long is a problem."""
    value = " ".join(row[column].split())
    if required and not value:
        _problem(problems, row, column, "this value is required.")
    elif len(value) > max_length:
        _problem(problems, row, column, f"'{value[:40]}…' is longer than {max_length} characters.")
    return value
