"""OneRoster 1.1 CSV roster import: read an export, check it, plan the changes, apply them.

What is read, and what it becomes (every row keyed by its ``sourcedId``, so importing the same
files again changes nothing):

- ``manifest.csv``: ``file.<name>`` says per file whether it is ``bulk`` (the whole roster: rows
  that are not in it are gone), ``delta`` (only changes) or ``absent``.
- ``orgs.csv``: orgs of type ``school`` → School (code = ``identifier``, else the sourcedId).
  Districts, departments and other org types are only checked, not stored.
- ``academicSessions.csv``: ``schoolYear`` → AcademicYear; ``term``, ``semester`` and
  ``gradingPeriod`` → Term of the school year found through ``parentSourcedId`` (grading periods
  inside a semester reach it through the semester), else the school year whose ``schoolYear``
  column matches. A class whose ``termSourcedIds`` names a school year gets a Term "Full year".
- ``classes.csv`` (with ``courses.csv`` when present) → Classroom: subject from ``subjects``, else
  the course's subjects, else the course title; grade from ``grades``, else the course's grades
  (the first one from K to 12); term from the first of ``termSourcedIds``. Two classes with the
  same title in one school and term are told apart by their ``classCode``.
- ``users.csv``: role ``student`` → Student, whose SIS id is ``identifier`` when filled, else the
  sourcedId; grade from ``grades``, else from the first class they are enrolled in. Role
  ``teacher`` → a User of the district with an unusable password (they get a password or single
  sign-on from the district admin), inactive when ``enabledUser`` is false. Other roles
  (administrator, aide, guardian, parent, proctor, relative) are skipped: district admin rights
  are never granted by a file.
- ``enrollments.csv``: role ``student`` → Enrollment (``beginDate``, else the term's start;
  ``endDate``); role ``teacher`` → the teacher is assigned to the classroom. Other roles skipped.
- ``demographics.csv`` is not imported: the only learner data Thinslice keeps is scores, and
  student groups are set up by the district admin.

Deactivation, never deletion: a row with status ``tobedeleted`` (or ``inactive``, from OneRoster
1.0), and, when the manifest says the file is ``bulk``, a student, teacher or enrollment that an
earlier import created and that is no longer in the file, is deactivated: Student.is_active and
User.is_active become false, an enrollment gets an end date (yesterday, or its start date if
later) and a teacher assignment is removed. Scores are never touched. Classrooms have no
inactive state: a class marked ``tobedeleted`` is kept, and its enrollments and teacher
assignments end. Schools and sessions marked ``tobedeleted`` are kept too (an active class may not
point at one). A district admin's account is never deactivated by a file.

Rows whose grade lies outside K–12 (PK, TK, UG, …) are skipped with a warning, with their
enrollments, because Thinslice covers grades K to 12.

Robust to what real exports vary in: a byte-order mark, CRLF or LF, columns in any order and in any
letter case, extension columns (``metadata.*``) and unknown columns (ignored), quoted commas and
newlines, blank or filled ``status`` and ``dateLastModified``. Anything wrong (a missing required
column, a broken reference, a duplicate sourcedId, a bad date, an unknown role or type, text that
is not UTF-8) becomes a problem naming the file, the line (the header is line 1; a row spanning
several lines is named by its first) and the column, and then nothing is changed.

``roster_import`` plans against the district as it is; a dry run stops there, an import applies
the plan in one transaction, all or nothing. Both record an AuditEvent, also when they fail.
"""

from __future__ import annotations

import codecs
import csv
import datetime
import hashlib
import io
import re
import secrets
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from classrooms import access
from classrooms.audit import audit_event_record
from classrooms.models import (
    AcademicYear,
    AuditEvent,
    AuditKind,
    Classroom,
    District,
    Enrollment,
    GradeLevel,
    School,
    Student,
    Term,
    User,
)

MAX_UPLOAD_BYTES = 50_000_000
# Unpacked, the CSV files of one export may not exceed this (a guard against zip bombs).
MAX_UNPACKED_BYTES = 500_000_000
UPLOAD_TOKEN_MAX_AGE_SECONDS = 60 * 60
UPLOAD_TOKEN_SALT = "classrooms.oneroster.upload"  # noqa: S105 (a signing namespace, not a secret)
# How many problems an audit row keeps (the page and the command show them all).
AUDITED_PROBLEMS = 50

MANIFEST = "manifest.csv"
ORGS = "orgs.csv"
SESSIONS = "academicSessions.csv"
COURSES = "courses.csv"
CLASSES = "classes.csv"
USERS = "users.csv"
ENROLLMENTS = "enrollments.csv"
DEMOGRAPHICS = "demographics.csv"

REQUIRED_FILES = (ORGS, SESSIONS, USERS, CLASSES, ENROLLMENTS)
OPTIONAL_FILES = (COURSES, DEMOGRAPHICS)
KNOWN_FILES = (MANIFEST, *REQUIRED_FILES, *OPTIONAL_FILES)

# The columns of each file (OneRoster 1.1); other columns (``metadata.*``) are ignored.
COLUMNS: dict[str, tuple[str, ...]] = {
    MANIFEST: ("propertyName", "value"),
    ORGS: tuple("sourcedId status dateLastModified name type identifier parentSourcedId".split()),
    SESSIONS: tuple(
        "sourcedId status dateLastModified title type startDate endDate parentSourcedId "
        "schoolYear".split()
    ),
    COURSES: tuple(
        "sourcedId status dateLastModified schoolYearSourcedId title courseCode grades "
        "orgSourcedId subjects subjectCodes".split()
    ),
    CLASSES: tuple(
        "sourcedId status dateLastModified title grades courseSourcedId classCode classType "
        "location schoolSourcedId termSourcedIds subjects subjectCodes periods".split()
    ),
    USERS: tuple(
        "sourcedId status dateLastModified enabledUser orgSourcedIds role username userIds "
        "givenName familyName middleName identifier email sms phone agentSourcedIds grades "
        "password".split()
    ),
    ENROLLMENTS: tuple(
        "sourcedId status dateLastModified classSourcedId schoolSourcedId userSourcedId role "
        "primary beginDate endDate".split()
    ),
    DEMOGRAPHICS: ("sourcedId", "status", "dateLastModified"),
}
# The columns this import cannot do without.
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    MANIFEST: ("propertyName", "value"),
    ORGS: ("sourcedId", "name", "type"),
    SESSIONS: ("sourcedId", "title", "type", "startDate", "endDate"),
    COURSES: ("sourcedId", "title"),
    CLASSES: ("sourcedId", "title", "schoolSourcedId", "termSourcedIds"),
    USERS: ("sourcedId", "role", "username", "givenName", "familyName"),
    ENROLLMENTS: ("sourcedId", "classSourcedId", "userSourcedId", "role"),
    DEMOGRAPHICS: ("sourcedId",),
}

ORG_TYPES = ("department", "district", "local", "national", "school", "state")
SESSION_TYPES = ("gradingPeriod", "schoolYear", "semester", "term")
USER_ROLES = tuple("administrator aide guardian parent proctor relative student teacher".split())
ENROLLMENT_ROLES = ("administrator", "aide", "proctor", "student", "teacher")
FILE_MODES = ("absent", "bulk", "delta")

# CEDS grade codes (OneRoster 1.1) and the K–12 grade each maps to; None: outside K–12.
GRADE_CODES: dict[str, str | None] = {
    **dict.fromkeys(("IT", "PR", "PK", "TK", "13", "PS", "UG", "OTHER")),
    "KG": GradeLevel.KINDERGARTEN,
    "K": GradeLevel.KINDERGARTEN,
    **{f"{number:02d}": str(number) for number in range(1, 13)},
    **{str(number): str(number) for number in range(1, 13)},
}

FULL_YEAR_TERM_NAME = "Full year"

# The entities a plan counts, in the order they are applied and shown.
ENTITIES: dict[str, str] = {
    "schools": "Schools",
    "academic_years": "Academic years",
    "terms": "Terms",
    "classrooms": "Classrooms",
    "students": "Students",
    "teachers": "Teachers",
    "enrollments": "Enrollments",
    "teacher_assignments": "Teacher assignments",
}

Action = Literal["create", "update", "deactivate", "unchanged", "skip", "reference"]


# ---------------------------------------------------------------------------------------------
# What a plan reports.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterProblem:
    """Something wrong (or, as a warning, worth knowing) in one place of the export."""

    file: str
    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class RosterCounts:
    """What a plan does to one entity."""

    label: str
    creates: int = 0
    updates: int = 0
    deactivations: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def change_count(self) -> int:
        return self.creates + self.updates + self.deactivations

    def add(self, action: Action) -> None:
        if action == "create":
            self.creates += 1
        elif action == "update":
            self.updates += 1
        elif action == "deactivate":
            self.deactivations += 1
        elif action == "unchanged":
            self.unchanged += 1
        elif action == "skip":
            self.skipped += 1

    def as_dict(self) -> dict[str, int]:
        return {
            "creates": self.creates,
            "updates": self.updates,
            "deactivations": self.deactivations,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }


@dataclass
class RosterImportResult:
    """The outcome of one import or dry run, as reported to people and kept in the audit log."""

    dry_run: bool
    counts: dict[str, RosterCounts]
    problems: list[RosterProblem]
    warnings: list[RosterProblem]
    modes: dict[str, str]
    row_count: int
    applied: bool = False
    audit_event: AuditEvent | None = None

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def change_count(self) -> int:
        return sum(counts.change_count for counts in self.counts.values())

    @property
    def counts_list(self) -> list[RosterCounts]:
        return list(self.counts.values())

    def summary(self) -> str:
        """One sentence for people and the audit log."""
        if self.problems:
            noun = "problem" if len(self.problems) == 1 else "problems"
            return f"{len(self.problems)} {noun} found; nothing was changed."
        totals = Counter[str]()
        for counts in self.counts.values():
            totals.update(counts.as_dict())
        if not self.change_count:
            if self.dry_run:
                return "Importing would change nothing: the roster already matches the files."
            return "Nothing changed: the roster already matched the files."
        verb = "Importing would" if self.dry_run else "The import did"
        return (
            f"{verb} create {totals['creates']}, update {totals['updates']} and "
            f"deactivate {totals['deactivations']} rows."
        )


class RosterImportError(Exception):
    """Raised inside the import's transaction to roll it back when applying found problems."""


# ---------------------------------------------------------------------------------------------
# Reading an export: a zip, a folder, then each CSV file.
# ---------------------------------------------------------------------------------------------


@dataclass
class RosterSource:
    """The files of one OneRoster export (by their OneRoster name) and problems reading them."""

    label: str
    files: dict[str, bytes] = field(default_factory=dict)
    problems: list[RosterProblem] = field(default_factory=list)
    sha256: str = ""


def _canonical_file_name(name: str) -> str | None:
    by_lower = {known.lower(): known for known in KNOWN_FILES}
    return by_lower.get(name.lower())


def roster_source_from_zip(*, data: bytes, label: str) -> RosterSource:
    """Read a zipped export. The CSV files may sit at the top of the zip or in one folder in it
    (where manifest.csv is); other files are ignored."""
    source = RosterSource(label=label, sha256=hashlib.sha256(data).hexdigest())
    if len(data) > MAX_UPLOAD_BYTES:
        source.problems.append(
            RosterProblem(
                label,
                None,
                "",
                f"the file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB, the most an "
                "import takes; run the oneroster_import command on the server instead.",
            )
        )
        return source
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, ValueError):
        source.problems.append(
            RosterProblem(
                label,
                None,
                "",
                "this is not a zip file. Upload the OneRoster export as a .zip holding "
                "manifest.csv, orgs.csv, academicSessions.csv, users.csv, classes.csv and "
                "enrollments.csv.",
            )
        )
        return source
    manifests = [
        info
        for info in members
        if PurePosixPath(info.filename).name.lower() == MANIFEST.lower()
        and "__MACOSX" not in info.filename
    ]
    if not manifests:
        source.problems.append(RosterProblem(MANIFEST, None, "", "the zip holds no manifest.csv."))
        return source
    folder = min((PurePosixPath(info.filename).parent for info in manifests), key=str)
    chosen = [
        info
        for info in members
        if PurePosixPath(info.filename).parent == folder
        and _canonical_file_name(PurePosixPath(info.filename).name) is not None
    ]
    if sum(info.file_size for info in chosen) > MAX_UNPACKED_BYTES:
        source.problems.append(
            RosterProblem(
                label,
                None,
                "",
                f"the unpacked files are larger than {MAX_UNPACKED_BYTES // 1_000_000} MB.",
            )
        )
        return source
    for info in chosen:
        name = _canonical_file_name(PurePosixPath(info.filename).name)
        assert name is not None  # noqa: S101 (chosen only holds known names)
        try:
            source.files[name] = archive.read(info)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as error:
            source.problems.append(
                RosterProblem(name, None, "", f"cannot be unpacked from the zip ({error}).")
            )
    return source


def roster_source_from_path(*, path: Path) -> RosterSource:
    """Read an export from a folder holding the CSV files, or from a .zip file."""
    if path.is_file():
        return roster_source_from_zip(data=path.read_bytes(), label=str(path))
    source = RosterSource(label=str(path))
    if not path.is_dir():
        source.problems.append(RosterProblem(str(path), None, "", "no such folder or zip file."))
        return source
    digest = hashlib.sha256()
    for child in sorted(path.iterdir()):
        name = _canonical_file_name(child.name)
        if name is None or not child.is_file():
            continue
        data = child.read_bytes()
        digest.update(name.encode() + b"\0" + data)
        source.files[name] = data
    source.sha256 = digest.hexdigest()
    return source


@dataclass
class _Row:
    """One data row of a CSV file: the line it starts on and its values by column."""

    file: str
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class _Table:
    file: str
    rows: list[_Row]
    header_columns: list[str]


def _decode(file: str, data: bytes) -> tuple[str | None, RosterProblem | None]:
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return None, RosterProblem(
            file,
            1,
            "",
            'the file is UTF-16 text; save it as UTF-8 ("CSV UTF-8" in Excel) and import again.',
        )
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start]
        return None, RosterProblem(
            file,
            line,
            "",
            f"the file is not UTF-8 text (byte 0x{byte:02X} cannot be read); save it as UTF-8 "
            '("CSV UTF-8" in Excel) and import again.',
        )


def _read_table(file: str, data: bytes, problems: list[RosterProblem]) -> _Table | None:
    """Parse one CSV file; header problems make it unreadable (None), row problems are listed."""
    text, problem = _decode(file, data)
    if problem is not None or text is None:
        problems.append(problem or RosterProblem(file, None, "", "cannot be read."))
        return None
    known = {column.lower(): column for column in COLUMNS[file]}
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 1
    rows: list[_Row] = []
    column_of: list[str | None] = []
    try:
        while True:
            start_line = reader.line_num + 1
            try:
                record = next(reader)
            except StopIteration:
                break
            if not any(cell.strip() for cell in record):
                continue
            if header is None:
                header = [cell.strip().lstrip("\ufeff") for cell in record]
                header_line = start_line
                column_of = _header_columns(file, header, header_line, known, problems)
                continue
            if len(record) != len(header):
                problems.append(
                    RosterProblem(
                        file,
                        start_line,
                        "",
                        f"this row has {len(record)} values but the header has {len(header)} "
                        "columns; quote values that contain commas.",
                    )
                )
                continue
            values = {
                column: cell.strip()
                for column, cell in zip(column_of, record, strict=True)
                if column is not None
            }
            rows.append(_Row(file, start_line, values))
    except csv.Error as error:
        problems.append(
            RosterProblem(file, reader.line_num, "", f"this is not valid CSV ({error}).")
        )
        return None
    if header is None:
        problems.append(RosterProblem(file, 1, "", "the file is empty: it has no header row."))
        return None
    missing = [column for column in REQUIRED_COLUMNS[file] if column not in column_of]
    if missing:
        for column in missing:
            problems.append(
                RosterProblem(
                    file,
                    header_line,
                    column,
                    "this required column is missing from the header (it has: "
                    f"{', '.join(header)}).",
                )
            )
        return None
    return _Table(file, rows, [column for column in column_of if column])


def _header_columns(
    file: str,
    header: list[str],
    header_line: int,
    known: dict[str, str],
    problems: list[RosterProblem],
) -> list[str | None]:
    """The known column of each header cell (None: an extension or unknown column, ignored)."""
    columns: list[str | None] = []
    seen: set[str] = set()
    for name in header:
        column = known.get(name.lower())
        if column is not None and column in seen:
            problems.append(
                RosterProblem(file, header_line, column, "this column appears twice in the header.")
            )
            column = None
        if column is not None:
            seen.add(column)
        columns.append(column)
    return columns


# ---------------------------------------------------------------------------------------------
# Values: statuses, dates, lists, grades.
# ---------------------------------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class _Plan:
    """The changes one export makes to one district, worked out without writing anything."""

    def __init__(self, district: District, source: RosterSource) -> None:
        self.district = district
        self.source = source
        self.today = timezone.localdate()
        self.problems: list[RosterProblem] = list(source.problems)
        self.warnings: list[RosterProblem] = []
        self.counts = {key: RosterCounts(label) for key, label in ENTITIES.items()}
        self.modes: dict[str, str] = {}
        self.row_count = 0
        self.tables: dict[str, _Table] = {}
        self.items: dict[str, dict[str, _Item]] = {key: {} for key in ENTITIES}
        # Teacher assignments to add and remove: (classroom item, user item) pairs, through ids.
        self.assignments_to_add: list[tuple[_Item, _Item]] = []
        self.assignments_to_remove: list[int] = []
        self._skip_notes: dict[tuple[str, str], list[int]] = defaultdict(list)
        # The sourcedIds each file holds (also rows with problems, reported on their own line).
        self.seen_ids: dict[str, set[str]] = defaultdict(set)
        self._skipped_user_ids: set[str] = set()

    # -- problems ------------------------------------------------------------------------------

    def problem(self, row: _Row | None, column: str, message: str, file: str = "") -> None:
        if row is None:
            self.problems.append(RosterProblem(file, None, column, message))
        else:
            self.problems.append(RosterProblem(row.file, row.line, column, message))

    def skip_note(self, row: _Row, reason: str) -> None:
        self._skip_notes[(row.file, reason)].append(row.line)

    def _skip_warnings(self) -> None:
        for (file, reason), lines in self._skip_notes.items():
            shown = ", ".join(str(line) for line in lines[:10])
            more = f" and {len(lines) - 10} more" if len(lines) > 10 else ""
            noun, where = ("row", "line") if len(lines) == 1 else ("rows", "lines")
            self.warnings.append(
                RosterProblem(
                    file,
                    None,
                    "",
                    f"{len(lines)} {noun} skipped: {reason} ({where} {shown}{more}).",
                )
            )

    # -- values --------------------------------------------------------------------------------

    def status_is_active(self, row: _Row) -> bool | None:
        """True for an active row (a blank status too), False for tobedeleted, None if unknown."""
        status = row["status"].lower()
        if status in ("", "active"):
            return True
        if status in ("tobedeleted", "inactive"):
            return False
        self.problem(
            row,
            "status",
            f"unknown status '{row['status']}'; use active, tobedeleted or leave it blank.",
        )
        return None

    def date(self, row: _Row, column: str, *, required: bool) -> datetime.date | None:
        value = row[column]
        if not value:
            if required:
                self.problem(row, column, "a date is required here (YYYY-MM-DD).")
            return None
        try:
            if not _DATE.fullmatch(value):
                raise ValueError(value)
            return datetime.date.fromisoformat(value)
        except ValueError:
            self.problem(
                row,
                column,
                f"'{value}' is not a date; write it as YYYY-MM-DD (e.g. 2026-08-17).",
            )
            return None

    def check_date_last_modified(self, row: _Row) -> None:
        value = row["dateLastModified"]
        if not value:
            return
        try:
            datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            self.problem(
                row,
                "dateLastModified",
                f"'{value}' is not a date and time; write it as ISO 8601 "
                "(e.g. 2026-08-17T08:00:00Z) or leave it blank.",
            )

    def choice(self, row: _Row, column: str, allowed: Iterable[str], noun: str) -> str | None:
        value = row[column]
        by_lower = {option.lower(): option for option in allowed}
        chosen = by_lower.get(value.lower())
        if chosen is None:
            shown = f"unknown {noun} '{value}'" if value else f"the {noun} is blank"
            self.problem(
                row, column, f"{shown}; OneRoster 1.1 {noun}s are {', '.join(sorted(allowed))}."
            )
        return chosen

    def grade(self, row: _Row, column: str) -> tuple[bool, str | None]:
        """(whether any grade was given, the first K–12 grade among them)."""
        codes = _list(row[column])
        for code in codes:
            if code.upper() not in GRADE_CODES:
                self.problem(
                    row,
                    column,
                    f"unknown grade '{code}'; use CEDS codes such as KG, 01 … 12 or PK.",
                )
                return True, None
        for code in codes:
            grade = GRADE_CODES[code.upper()]
            if grade is not None:
                return True, grade
        return bool(codes), None

    def text(self, row: _Row, column: str, *, max_length: int, required: bool = True) -> str:
        value = " ".join(row[column].split())
        if required and not value:
            self.problem(row, column, "this value is required.")
        elif len(value) > max_length:
            self.problem(row, column, f"'{value[:40]}…' is longer than {max_length} characters.")
        return value

    def unique_rows(self, table: _Table) -> list[_Row]:
        """The table's rows with a sourcedId seen for the first time; duplicates are problems."""
        first_line: dict[str, int] = {}
        unique = []
        for row in table.rows:
            self.row_count += 1
            self.check_date_last_modified(row)
            sourced_id = row["sourcedId"]
            if not sourced_id:
                self.problem(row, "sourcedId", "the sourcedId is blank.")
                continue
            if sourced_id in first_line:
                self.problem(
                    row,
                    "sourcedId",
                    f"'{sourced_id}' is used twice (also on line {first_line[sourced_id]}); "
                    "every sourcedId in a file must be unique.",
                )
                continue
            first_line[sourced_id] = row.line
            self.seen_ids[table.file].add(sourced_id)
            unique.append(row)
        return unique

    # -- the steps -----------------------------------------------------------------------------

    def build(self) -> None:
        if self.problems:
            return
        self._read_manifest()
        for file in (*REQUIRED_FILES, *OPTIONAL_FILES):
            if self.modes.get(file) in ("bulk", "delta"):
                if file not in self.source.files:
                    self.problem(
                        None,
                        "",
                        f"manifest.csv says this file is {self.modes[file]}, but it is missing.",
                        file=file,
                    )
                    continue
                table = _read_table(file, self.source.files[file], self.problems)
                if table is not None:
                    self.tables[file] = table
            elif file in self.source.files:
                self.warnings.append(
                    RosterProblem(file, None, "", "ignored: manifest.csv says this file is absent.")
                )
        if self.problems:
            return
        self.existing = _Existing(self.district)
        self._plan_schools()
        self._plan_sessions()
        self._read_courses()
        self._plan_classes()
        self._read_users()
        self._read_enrollments()
        self._plan_students()
        self._plan_teachers()
        self._plan_absent_users()
        self._plan_enrollments()
        self._plan_ended_enrollments()
        self._plan_teacher_assignments()
        if DEMOGRAPHICS in self.tables:
            self.row_count += len(self.tables[DEMOGRAPHICS].rows)
            self.warnings.append(
                RosterProblem(
                    DEMOGRAPHICS,
                    None,
                    "",
                    "not imported: Thinslice keeps no demographic data. Set up student groups "
                    "(e.g. English learners) in the set-up pages.",
                )
            )
        self._skip_warnings()
        for entity, items in self.items.items():
            for item in items.values():
                self.counts[entity].add(item.action)

    def _read_manifest(self) -> None:
        if MANIFEST not in self.source.files:
            self.problem(None, "", "the export has no manifest.csv.", file=MANIFEST)
            return
        table = _read_table(MANIFEST, self.source.files[MANIFEST], self.problems)
        if table is None:
            return
        properties: dict[str, _Row] = {}
        for row in table.rows:
            properties[row["propertyName"]] = row
        version = properties.get("oneroster.version")
        if version is not None and version["value"] not in ("1.1", "1.0"):
            self.problem(
                version,
                "value",
                f"oneroster.version is '{version['value']}'; this import reads OneRoster 1.1.",
            )
        for file in (*REQUIRED_FILES, *OPTIONAL_FILES):
            key = f"file.{file.removesuffix('.csv')}"
            entry = properties.get(key)
            if entry is None:
                if file in REQUIRED_FILES:
                    self.problem(
                        None,
                        "propertyName",
                        f"there is no {key} row; give it the value bulk, delta or absent.",
                        file=MANIFEST,
                    )
                else:
                    self.modes[file] = "bulk" if file in self.source.files else "absent"
                continue
            mode = entry["value"].lower()
            if mode not in FILE_MODES:
                self.problem(
                    entry,
                    "value",
                    f"{key} is '{entry['value']}'; use bulk, delta or absent.",
                )
                continue
            self.modes[file] = mode

    def is_bulk(self, file: str) -> bool:
        return self.modes.get(file) == "bulk"

    def rows(self, file: str) -> list[_Row]:
        table = self.tables.get(file)
        if table is None:
            return []
        return self.unique_rows(table)

    def reference(
        self, row: _Row, column: str, entity: str, sourced_id: str, file: str, noun: str
    ) -> _Item | None:
        """The item ``sourced_id`` names: a row of ``file``, or, unless that file is bulk, a
        row an earlier import made. Anything else is a broken reference."""
        item = self.items[entity].get(sourced_id)
        if item is not None:
            return item
        if sourced_id in self.seen_ids[file]:
            return None  # its own row has a problem, reported there
        if not self.is_bulk(file):
            existing = self.existing.by_sourced_id[entity].get(sourced_id)
            if existing is not None:
                item = _Item(entity, sourced_id, row, existing, action="reference")
                self.items[entity][sourced_id] = item
                return item
        where = f"in {file}" if self.modes.get(file) != "absent" else "in this district"
        self.problem(row, column, f"no {noun} with sourcedId '{sourced_id}' {where}.")
        return None

    # -- orgs ----------------------------------------------------------------------------------

    def _plan_schools(self) -> None:
        self.org_types: dict[str, str] = {}
        self.deleted_orgs: set[str] = set()
        codes: dict[str, int] = {}
        names: dict[str, int] = {}
        for row in self.rows(ORGS):
            org_type = self.choice(row, "type", ORG_TYPES, "org type")
            is_active = self.status_is_active(row)
            if org_type is None or is_active is None:
                continue
            self.org_types[row["sourcedId"]] = org_type
            if org_type != "school":
                continue
            sourced_id = row["sourcedId"]
            existing = self.existing.by_sourced_id["schools"].get(sourced_id)
            if not is_active:
                self.deleted_orgs.add(sourced_id)
                if existing is None:
                    self.skip_note(row, "schools marked tobedeleted that were never imported")
                action: Action = "unchanged" if existing is not None else "skip"
                self.items["schools"][sourced_id] = _Item(
                    "schools", sourced_id, row, existing, action=action
                )
                continue
            name = self.text(row, "name", max_length=200)
            code_column = "identifier" if row["identifier"] else "sourcedId"
            code = self.text(row, code_column, max_length=40)
            if _first_seen(codes, code.lower(), row, self, code_column, "school code"):
                continue
            if _first_seen(names, name.lower(), row, self, "name", "school name"):
                continue
            existing = self.adopt(
                row,
                "schools",
                existing,
                [
                    ("code", code_column, self.existing.schools_by_code.get(code.lower())),
                    ("name", "name", self.existing.schools_by_name.get(name.lower())),
                ],
            )
            self.set_item(
                row,
                "schools",
                existing,
                School,
                {"district_id": self.district.pk, "name": name, "code": code},
                {},
                columns={"name": "name", "code": code_column},
            )

    def adopt(
        self,
        row: _Row,
        entity: str,
        existing: models.Model | None,
        holders: list[tuple[str, str, models.Model | None]],
    ) -> models.Model | None:
        """The row ``row`` updates: the one with its sourcedId, else one made in Thinslice (no
        sourcedId) with the same natural key. A natural key held by another imported row is a
        problem (reported on ``column``)."""
        for label, column, holder in holders:
            if holder is None or holder == existing:
                continue
            holder_sourced_id = getattr(holder, "sourced_id", "")
            if existing is None and not holder_sourced_id:
                existing = holder
                continue
            also = f", sourcedId '{holder_sourced_id}'" if holder_sourced_id else ""
            self.problem(
                row,
                column,
                f"another {ENTITIES[entity][:-1].lower()} of this district already has this "
                f"{label} ('{holder}'{also}).",
            )
        return existing

    def set_item(
        self,
        row: _Row,
        entity: str,
        existing: models.Model | None,
        model: type[models.Model],
        values: dict[str, Any],
        refs: dict[str, _Item],
        *,
        columns: Mapping[str, str],
        deactivate: bool = False,
    ) -> _Item:
        """Record what ``row`` makes of the ``entity`` with its sourcedId: a create, an update of
        the fields that differ, or nothing. Field rules are checked here, so a dry run finds
        what applying would refuse."""
        sourced_id = row["sourcedId"]
        values = {**values, "sourced_id": sourced_id}
        item = _Item(entity, sourced_id, row, existing, values=values, refs=refs)
        if existing is None:
            item.action = "create"
            candidate = model(**values)
        else:
            item.changed = [
                name for name, value in values.items() if getattr(existing, name) != value
            ]
            item.changed += [
                name
                for name, target in refs.items()
                if target.instance is None or getattr(existing, f"{name}_id") != target.instance.pk
            ]
            if not item.changed:
                item.action = "unchanged"
            else:
                item.action = "deactivate" if deactivate else "update"
            candidate = existing
            for name, value in values.items():
                setattr(candidate, name, value)
        try:
            candidate.clean_fields(exclude=[*refs, "district", "password"])
        except ValidationError as invalid:
            for name, messages in invalid.message_dict.items():
                self.problem(row, columns.get(name, name), " ".join(messages))
        self.items[entity][sourced_id] = item
        return item

    # -- academic sessions ---------------------------------------------------------------------

    def _plan_sessions(self) -> None:
        rows = self.rows(SESSIONS)
        self.session_rows: dict[str, _Row] = {}
        self.session_types: dict[str, str] = {}
        self.session_active: dict[str, bool] = {}
        self.session_dates: dict[str, tuple[datetime.date, datetime.date]] = {}
        for row in rows:
            session_type = self.choice(row, "type", SESSION_TYPES, "session type")
            is_active = self.status_is_active(row)
            start = self.date(row, "startDate", required=True)
            end = self.date(row, "endDate", required=True)
            if session_type is None or is_active is None or start is None or end is None:
                continue
            if end <= start:
                self.problem(row, "endDate", f"the end date {end} is not after the start {start}.")
                continue
            self.session_rows[row["sourcedId"]] = row
            self.session_types[row["sourcedId"]] = session_type
            self.session_active[row["sourcedId"]] = is_active
            self.session_dates[row["sourcedId"]] = (start, end)
        year_names: dict[str, int] = {}
        for sourced_id, row in self.session_rows.items():
            if self.session_types[sourced_id] != "schoolYear":
                continue
            existing = self.existing.by_sourced_id["academic_years"].get(sourced_id)
            if not self.session_active[sourced_id]:
                self._keep_deleted(row, "academic_years", existing, "school years")
                continue
            name = self.text(row, "title", max_length=40)
            if _first_seen(year_names, name.lower(), row, self, "title", "school year title"):
                continue
            existing = self.adopt(
                row,
                "academic_years",
                existing,
                [("title", "title", self.existing.years_by_name.get(name.lower()))],
            )
            start, end = self.session_dates[sourced_id]
            self.set_item(
                row,
                "academic_years",
                existing,
                AcademicYear,
                {
                    "district_id": self.district.pk,
                    "name": name,
                    "start_date": start,
                    "end_date": end,
                },
                {},
                columns={"name": "title", "start_date": "startDate", "end_date": "endDate"},
            )
        term_names: dict[tuple[str, str], int] = {}
        for sourced_id, row in self.session_rows.items():
            if self.session_types[sourced_id] == "schoolYear":
                continue
            existing = self.existing.by_sourced_id["terms"].get(sourced_id)
            if not self.session_active[sourced_id]:
                self._keep_deleted(row, "terms", existing, "terms")
                continue
            year = self._school_year_of(row)
            if year is None:
                continue
            name = self.text(row, "title", max_length=60)
            if _first_seen(term_names, (year.sourced_id, name.lower()), row, self, "title", ""):
                continue
            self._set_term(row, existing, year, name, self.session_dates[sourced_id])

    def _keep_deleted(
        self, row: _Row, entity: str, existing: models.Model | None, noun: str
    ) -> None:
        """Years, terms and classes have no inactive state: a tobedeleted row keeps them."""
        action: Action = "unchanged" if existing is not None else "skip"
        if existing is None:
            self.skip_note(row, f"{noun} marked tobedeleted that were never imported")
        self.items[entity][row["sourcedId"]] = _Item(
            entity, row["sourcedId"], row, existing, action=action, is_live=False
        )

    def _set_term(
        self,
        row: _Row,
        existing: models.Model | None,
        year: _Item,
        name: str,
        dates: tuple[datetime.date, datetime.date],
    ) -> _Item:
        year_pk = year.instance.pk if year.instance is not None else None
        existing = self.adopt(
            row,
            "terms",
            existing,
            [("title", "title", self.existing.terms_by_year_name.get((year_pk, name.lower())))],
        )
        return self.set_item(
            row,
            "terms",
            existing,
            Term,
            {"name": name, "start_date": dates[0], "end_date": dates[1]},
            {"academic_year": year},
            columns={"name": "title", "start_date": "startDate", "end_date": "endDate"},
        )

    def _school_year_of(self, row: _Row) -> _Item | None:
        """The school year a term belongs to: up its parents, else by its schoolYear column."""
        seen = {row["sourcedId"]}
        parent_id = row["parentSourcedId"]
        while parent_id:
            if parent_id in seen:
                self.problem(row, "parentSourcedId", "the parents of this session form a loop.")
                return None
            seen.add(parent_id)
            if self.session_types.get(parent_id) == "schoolYear":
                return self._live_year(row, parent_id)
            parent = self.session_rows.get(parent_id)
            if parent is None:
                return self.reference(
                    row, "parentSourcedId", "academic_years", parent_id, SESSIONS, "school year"
                )
            parent_id = parent["parentSourcedId"]
        school_year = row["schoolYear"]
        for sourced_id, candidate in self.session_rows.items():
            if self.session_types[sourced_id] == "schoolYear" and candidate["schoolYear"]:
                if school_year and candidate["schoolYear"] == school_year:
                    return self._live_year(row, sourced_id)
        self.problem(
            row,
            "parentSourcedId",
            "this term belongs to no school year: give it the sourcedId of a schoolYear session "
            "as parentSourcedId, or a schoolYear value that a schoolYear session has too.",
        )
        return None

    def _live_year(self, row: _Row, sourced_id: str) -> _Item | None:
        item = self.items["academic_years"].get(sourced_id)
        if item is None:  # the year's own row had a problem, reported there
            return None
        if not item.is_live:
            self.problem(
                row,
                "parentSourcedId",
                f"the school year '{sourced_id}' is marked tobedeleted.",
            )
            return None
        return item

    # -- courses and classes -------------------------------------------------------------------

    def _read_courses(self) -> None:
        self.courses: dict[str, _Row] = {row["sourcedId"]: row for row in self.rows(COURSES)}
        for row in self.courses.values():
            self.status_is_active(row)

    def _plan_classes(self) -> None:
        rows = []
        for row in self.rows(CLASSES):
            is_active = self.status_is_active(row)
            if is_active is None:
                continue
            existing = self.existing.by_sourced_id["classrooms"].get(row["sourcedId"])
            if not is_active:
                self._keep_deleted(row, "classrooms", existing, "classes")
                continue
            rows.append(row)
        planned = [self._class_fields(row) for row in rows]
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
            if _first_seen(names, key, row, self, "title", "class title in this school and term"):
                continue
            existing = self.existing.by_sourced_id["classrooms"].get(row["sourcedId"])
            if school.instance is not None and term.instance is not None:
                holder = self.existing.classrooms_by_key.get(
                    (school.instance.pk, term.instance.pk, name.lower())
                )
                existing = self.adopt(row, "classrooms", existing, [("title", "title", holder)])
            self.set_item(
                row,
                "classrooms",
                existing,
                Classroom,
                {"name": name, "subject": fields["subject"], "grade_level": fields["grade"]},
                {"school": school, "term": term},
                columns={"name": "title", "subject": "subjects", "grade_level": "grades"},
            )

    def _class_fields(self, row: _Row) -> dict[str, Any] | None:
        school = self._school(row, "schoolSourcedId", row["schoolSourcedId"])
        term = self._class_term(row)
        course = None
        if row["courseSourcedId"] and COURSES in self.tables:
            course = self.courses.get(row["courseSourcedId"])
            if course is None and self.is_bulk(COURSES):
                self.problem(
                    row,
                    "courseSourcedId",
                    f"no course with sourcedId '{row['courseSourcedId']}' in {COURSES}.",
                )
                return None
        name = self.text(row, "title", max_length=200)
        subjects = _list(row["subjects"]) or (_list(course["subjects"]) if course else [])
        subject = subjects[0] if subjects else (course["title"] if course else "")
        if not subject:
            self.problem(
                row,
                "subjects",
                "the subject is blank, and no course in courses.csv gives one.",
            )
        elif len(subject) > 80:
            self.problem(row, "subjects", f"'{subject[:40]}…' is longer than 80 characters.")
        given, grade = self.grade(row, "grades")
        if not given and course is not None:
            given, grade = self.grade(course, "grades")
        if not given:
            self.problem(
                row,
                "grades",
                "the grade is blank, and no course in courses.csv gives one.",
            )
            return None
        if grade is None:
            self.skip_note(row, "classes whose grades lie outside K–12")
            self.items["classrooms"][row["sourcedId"]] = _Item(
                "classrooms", row["sourcedId"], row, None, action="skip", is_live=False
            )
            return None
        if school is None or term is None or not subject or len(subject) > 80:
            return None
        return {"school": school, "term": term, "name": name, "subject": subject, "grade": grade}

    def _school(self, row: _Row, column: str, sourced_id: str) -> _Item | None:
        if not sourced_id:
            self.problem(row, column, "this value is required.")
            return None
        org_type = self.org_types.get(sourced_id)
        if org_type is not None and org_type != "school":
            self.problem(row, column, f"'{sourced_id}' is a {org_type}, not a school.")
            return None
        item = self.reference(row, column, "schools", sourced_id, ORGS, "school")
        if item is not None and sourced_id in self.deleted_orgs:
            self.problem(row, column, f"the school '{sourced_id}' is marked tobedeleted.")
            return None
        return item

    def _class_term(self, row: _Row) -> _Item | None:
        term_ids = _list(row["termSourcedIds"])
        if not term_ids:
            self.problem(row, "termSourcedIds", "this value is required.")
            return None
        sourced_id = term_ids[0]
        if self.session_types.get(sourced_id) == "schoolYear":
            return self._full_year_term(row, sourced_id)
        if sourced_id in self.session_rows and not self.session_active[sourced_id]:
            self.problem(row, "termSourcedIds", f"the term '{sourced_id}' is marked tobedeleted.")
            return None
        if sourced_id in self.session_rows:
            return self.items["terms"].get(sourced_id)  # None: its row had a problem
        return self.reference(row, "termSourcedIds", "terms", sourced_id, SESSIONS, "term")

    def _full_year_term(self, row: _Row, year_id: str) -> _Item | None:
        item = self.items["terms"].get(year_id)
        if item is not None:
            return item
        year = self._live_year(row, year_id)
        if year is None:
            return None
        # A class of a whole school year gets a term "Full year" with the year's sourcedId.
        year_row = self.session_rows[year_id]
        existing = self.existing.by_sourced_id["terms"].get(year_id)
        return self._set_term(
            year_row, existing, year, FULL_YEAR_TERM_NAME, self.session_dates[year_id]
        )

    # -- users ---------------------------------------------------------------------------------

    def _read_users(self) -> None:
        """Check every user row; keep student and teacher rows for planning."""
        self.user_rows: dict[str, _Row] = {}
        self.user_roles: dict[str, str] = {}
        self.user_active: dict[str, bool] = {}
        for row in self.rows(USERS):
            role = self.choice(row, "role", USER_ROLES, "role")
            is_active = self.status_is_active(row)
            enabled = row["enabledUser"].lower()
            if enabled not in ("", "true", "false"):
                self.problem(row, "enabledUser", f"'{row['enabledUser']}' is not true or false.")
            for org_id in _list(row["orgSourcedIds"]):
                if self.is_bulk(ORGS) and org_id not in self.org_types:
                    self.problem(
                        row, "orgSourcedIds", f"no org with sourcedId '{org_id}' in {ORGS}."
                    )
            if role is None or is_active is None:
                continue
            if role not in ("student", "teacher"):
                self.skip_note(row, f"role {role} (Thinslice imports students and teachers)")
                self._skipped_user_ids.add(row["sourcedId"])
                continue
            self.user_rows[row["sourcedId"]] = row
            self.user_roles[row["sourcedId"]] = role
            self.user_active[row["sourcedId"]] = is_active
        self.existing.load_usernames(
            row["username"]
            for sourced_id, row in self.user_rows.items()
            if self.user_roles[sourced_id] == "teacher"
        )

    def _read_enrollments(self) -> None:
        """Check every enrollment row; note which are live (row, class and user all active)."""
        self.enrollment_rows: list[tuple[_Row, str, bool]] = []
        self.class_grade_of_student: dict[str, str] = {}
        for row in self.rows(ENROLLMENTS):
            role = self.choice(row, "role", ENROLLMENT_ROLES, "enrollment role")
            is_active = self.status_is_active(row)
            begin = self.date(row, "beginDate", required=False)
            end = self.date(row, "endDate", required=False)
            if begin is not None and end is not None and end < begin:
                self.problem(row, "endDate", f"the end date {end} is before the begin {begin}.")
            if row["schoolSourcedId"] and self.is_bulk(ORGS):
                if row["schoolSourcedId"] not in self.org_types:
                    self.problem(
                        row,
                        "schoolSourcedId",
                        f"no org with sourcedId '{row['schoolSourcedId']}' in {ORGS}.",
                    )
            if role is None or is_active is None:
                continue
            if role not in ("student", "teacher"):
                self.skip_note(row, f"enrollment role {role}")
                continue
            classroom = self.reference(
                row, "classSourcedId", "classrooms", row["classSourcedId"], CLASSES, "class"
            )
            if classroom is None:
                continue
            user_id = row["userSourcedId"]
            user_role = self.user_roles.get(user_id)
            if user_id in self._skipped_user_ids:
                self.skip_note(row, "enrollments of users whose role is skipped")
                continue
            if user_role is not None and user_role != role:
                self.problem(
                    row,
                    "role",
                    f"the enrollment role is {role}, but user '{user_id}' is a {user_role} in "
                    f"{USERS}.",
                )
                continue
            entity = "students" if role == "student" else "teachers"
            if user_role is None:
                user = self.reference(row, "userSourcedId", entity, user_id, USERS, role)
                if user is None:
                    continue
            # An enrollment in a class or of a user marked tobedeleted ends with them.
            is_live = is_active and classroom.is_live and self.user_active.get(user_id, True)
            self.enrollment_rows.append((row, role, is_live))
            if role == "student" and is_live and classroom.action != "reference":
                grade = classroom.values.get("grade_level")
                if grade:
                    self.class_grade_of_student.setdefault(user_id, grade)

    def _plan_students(self) -> None:
        sis_ids: dict[str, int] = {}
        for sourced_id, row in self.user_rows.items():
            if self.user_roles[sourced_id] != "student":
                continue
            existing = self.existing.by_sourced_id["students"].get(sourced_id)
            if not self.user_active[sourced_id]:
                self._deactivate(row, "students", existing, "students")
                continue
            given, grade = self.grade(row, "grades")
            if not given:
                grade = self.class_grade_of_student.get(sourced_id)
                if grade is None:
                    self.problem(
                        row,
                        "grades",
                        "the grade is blank, and the student is in no class that gives one.",
                    )
                    continue
            if grade is None:
                self.skip_note(row, "students whose grades lie outside K–12")
                self.items["students"][sourced_id] = _Item(
                    "students", sourced_id, row, None, action="skip", is_live=False
                )
                continue
            sis_column = "identifier" if row["identifier"] else "sourcedId"
            sis_id = self.text(row, sis_column, max_length=64)
            if _first_seen(sis_ids, sis_id, row, self, sis_column, "SIS id"):
                continue
            existing = self.adopt(
                row,
                "students",
                existing,
                [("SIS id", sis_column, self.existing.students_by_sis_id.get(sis_id))],
            )
            self.set_item(
                row,
                "students",
                existing,
                Student,
                {
                    "district_id": self.district.pk,
                    "sis_id": sis_id,
                    "given_name": self.text(row, "givenName", max_length=100),
                    "family_name": self.text(row, "familyName", max_length=100),
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

    def _deactivate(self, row: _Row, entity: str, existing: Any, noun: str) -> None:
        if existing is None:
            self.skip_note(row, f"{noun} marked tobedeleted that were never imported")
            self.items[entity][row["sourcedId"]] = _Item(
                entity, row["sourcedId"], row, None, action="skip", is_live=False
            )
            return
        self._deactivation(entity, existing, row)

    def _deactivation(self, entity: str, existing: Any, row: _Row | None) -> _Item:
        """Deactivate an existing student, teacher or enrollment (``row``: the tobedeleted row,
        or None when it is absent from a bulk file)."""
        item = _Item(entity, existing.sourced_id, row, existing, action="unchanged", is_live=False)
        if entity == "enrollments":
            ended = existing.end_date is not None and existing.end_date < self.today
            if not ended:
                yesterday = self.today - datetime.timedelta(days=1)
                item.values = {"end_date": max(existing.start_date, yesterday)}
                item.changed = ["end_date"]
                item.action = "deactivate"
        elif existing.is_active:
            if entity == "teachers" and existing.is_district_admin:
                self.warnings.append(
                    RosterProblem(
                        USERS,
                        row.line if row else None,
                        "",
                        f"'{existing}' is a district admin, so the account stays active.",
                    )
                )
            else:
                item.values = {"is_active": False}
                item.changed = ["is_active"]
                item.action = "deactivate"
        self.items[entity][existing.sourced_id] = item
        return item

    def _plan_teachers(self) -> None:
        usernames: dict[str, int] = {}
        for sourced_id, row in self.user_rows.items():
            if self.user_roles[sourced_id] != "teacher":
                continue
            existing = self.existing.by_sourced_id["teachers"].get(sourced_id)
            if not self.user_active[sourced_id]:
                self._deactivate(row, "teachers", existing, "teachers")
                continue
            username = self.text(row, "username", max_length=150)
            if _first_seen(usernames, username, row, self, "username", "username"):
                continue
            holder = self.existing.users_by_username.get(username)
            if holder is not None and holder.district_id != self.district.pk:
                self.problem(
                    row, "username", f"the username '{username}' is used by another account."
                )
                continue
            existing = self.adopt(row, "teachers", existing, [("username", "username", holder)])
            email = row["email"]
            if email:
                try:
                    validate_email(email)
                except ValidationError:
                    self.warnings.append(
                        RosterProblem(
                            row.file,
                            row.line,
                            "email",
                            f"'{email}' is not an email address; the account is imported "
                            "without one.",
                        )
                    )
                    email = ""
            is_active = row["enabledUser"].lower() != "false"
            if getattr(existing, "is_district_admin", False):
                is_active = True  # a file never locks a district admin out
            self.set_item(
                row,
                "teachers",
                existing,
                User,
                {
                    "district_id": self.district.pk,
                    "username": username,
                    "first_name": self.text(row, "givenName", max_length=150),
                    "last_name": self.text(row, "familyName", max_length=150),
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

    # -- enrollments ---------------------------------------------------------------------------

    def _plan_enrollments(self) -> None:
        keys: dict[tuple[str, str, datetime.date], int] = {}
        for row, role, is_live in self.enrollment_rows:
            if role != "student":
                continue
            sourced_id = row["sourcedId"]
            existing = self.existing.by_sourced_id["enrollments"].get(sourced_id)
            student = self.items["students"].get(row["userSourcedId"])
            classroom = self.items["classrooms"].get(row["classSourcedId"])
            if student is None or classroom is None:
                continue  # the user or class row had a problem, reported there
            if not is_live or not student.is_live or not classroom.is_live:
                if existing is None:
                    self.skip_note(row, "enrollments of rows that are skipped or tobedeleted")
                    self.items["enrollments"][sourced_id] = _Item(
                        "enrollments", sourced_id, row, None, action="skip", is_live=False
                    )
                else:
                    self._deactivation("enrollments", existing, row)
                continue
            start = self.date(row, "beginDate", required=False) or self._term_start(row, classroom)
            end = self.date(row, "endDate", required=False)
            if start is None:
                continue
            if _first_seen(
                keys,
                (student.sourced_id, classroom.sourced_id, start),
                row,
                self,
                "userSourcedId",
                "enrollment of this user in this class from this date",
            ):
                continue
            if student.instance is not None and classroom.instance is not None:
                holder = self.existing.enrollments_by_key.get(
                    (student.instance.pk, classroom.instance.pk, start)
                )
                existing = self.adopt(
                    row,
                    "enrollments",
                    existing,
                    [("user, class and date", "userSourcedId", holder)],
                )
            self.set_item(
                row,
                "enrollments",
                existing,
                Enrollment,
                {"start_date": start, "end_date": end},
                {"student": student, "classroom": classroom},
                columns={"start_date": "beginDate", "end_date": "endDate"},
            )

    def _term_start(self, row: _Row, classroom: _Item) -> datetime.date | None:
        """Where an enrollment without a beginDate starts: its class's term's start."""
        term = classroom.refs.get("term")
        if term is not None and "start_date" in term.values:
            return term.values["start_date"]  # type: ignore[no-any-return]
        if term is not None and term.instance is not None:
            return term.instance.start_date  # type: ignore[no-any-return]
        if classroom.instance is not None:
            return classroom.instance.term.start_date  # type: ignore[no-any-return]
        self.problem(row, "beginDate", "the begin date is blank, and the class has no term.")
        return None

    def _plan_teacher_assignments(self) -> None:
        """Assign teachers by their live enrollments; remove assignments that ended (in a bulk
        file: every imported assignment the file no longer has)."""
        live: set[tuple[str, str]] = set()
        ended: set[tuple[str, str]] = set()
        for row, role, is_live in self.enrollment_rows:
            if role == "teacher":
                pair = (row["classSourcedId"], row["userSourcedId"])
                (live if is_live else ended).add(pair)
        current = self.existing.assignments
        counts = self.counts["teacher_assignments"]
        kept: set[tuple[str, str]] = set()
        for pair in sorted(live):
            classroom = self.items["classrooms"].get(pair[0])
            teacher = self.items["teachers"].get(pair[1])
            if classroom is None or teacher is None:
                continue  # their rows had problems, reported there
            if not classroom.is_live or not teacher.is_live:
                continue
            kept.add(pair)
            if pair in current:
                counts.add("unchanged")
            else:
                self.assignments_to_add.append((classroom, teacher))
                counts.add("create")
        for pair, through_id in sorted(current.items()):
            if pair in kept:
                continue
            classroom = self.items["classrooms"].get(pair[0])
            teacher = self.items["teachers"].get(pair[1])
            if (
                self.is_bulk(ENROLLMENTS)
                or pair in ended
                or (classroom is not None and not classroom.is_live)
                or (teacher is not None and not teacher.is_live)
            ):
                self.assignments_to_remove.append(through_id)
                counts.add("deactivate")

    # -- absent from bulk files, or ended with their class or user -----------------------------

    def _plan_absent_users(self) -> None:
        """In a bulk users file, imported students and teachers that are missing are gone."""
        if not self.is_bulk(USERS):
            return
        for entity in ("students", "teachers"):
            for sourced_id, existing in self.existing.by_sourced_id[entity].items():
                if sourced_id not in self.items[entity]:
                    self._deactivation(entity, existing, None)

    def _plan_ended_enrollments(self) -> None:
        """Imported enrollments missing from a bulk file, or whose class or student is gone."""
        for sourced_id, existing in self.existing.by_sourced_id["enrollments"].items():
            if sourced_id in self.items["enrollments"]:
                continue
            classroom = self.items["classrooms"].get(
                self.existing.classroom_sourced_ids.get(existing.classroom_id, "")
            )
            student = self.items["students"].get(
                self.existing.student_sourced_ids.get(existing.student_id, "")
            )
            if (
                self.is_bulk(ENROLLMENTS)
                or (classroom is not None and not classroom.is_live)
                or (student is not None and not student.is_live)
            ):
                self._deactivation("enrollments", existing, None)

    # -- apply ---------------------------------------------------------------------------------

    def apply(self) -> None:
        """Write the plan: creates first, in an order where every row's references exist."""
        now = timezone.now()
        models_by_entity: dict[str, type[models.Model]] = {
            "schools": School,
            "academic_years": AcademicYear,
            "terms": Term,
            "classrooms": Classroom,
            "students": Student,
            "teachers": User,
            "enrollments": Enrollment,
        }
        unusable_password = make_password(None)
        for entity, model in models_by_entity.items():
            creates: list[models.Model] = []
            updates: list[models.Model] = []
            changed: set[str] = set()
            for item in self.items[entity].values():
                if item.action == "create":
                    instance = model(**item.values)
                    for name, target in item.refs.items():
                        setattr(instance, name, target.instance)
                    if entity == "teachers":
                        instance.password = unusable_password  # type: ignore[attr-defined]
                    item.instance = instance
                    creates.append(instance)
                elif item.action in ("update", "deactivate"):
                    instance = item.existing
                    assert instance is not None  # noqa: S101 (updates have a row)
                    for name, value in item.values.items():
                        setattr(instance, name, value)
                    for name, target in item.refs.items():
                        setattr(instance, name, target.instance)
                    changed.update(item.changed)
                    updates.append(instance)
            if creates:
                model._default_manager.bulk_create(creates, batch_size=1000)
            if updates:
                fields = sorted(changed)
                if any(f.name == "updated_at" for f in model._meta.fields):
                    for instance in updates:
                        instance.updated_at = now  # type: ignore[attr-defined]
                    fields.append("updated_at")
                model._default_manager.bulk_update(updates, fields, batch_size=500)
        through = Classroom.teachers.through
        if self.assignments_to_remove:
            through._default_manager.filter(pk__in=self.assignments_to_remove).delete()
        if self.assignments_to_add:
            through._default_manager.bulk_create(
                [
                    through(classroom=classroom.instance, user=teacher.instance)
                    for classroom, teacher in self.assignments_to_add
                ],
                batch_size=1000,
            )


@dataclass(eq=False)
class _Item:
    """One row of one entity as the plan sees it: what exists, what the file wants."""

    entity: str
    sourced_id: str
    row: _Row | None
    existing: Any
    values: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, _Item] = field(default_factory=dict)
    action: Action = "unchanged"
    changed: list[str] = field(default_factory=list)
    is_live: bool = True

    def __post_init__(self) -> None:
        self.instance: Any = self.existing


def _first_seen(
    seen: dict[Any, int], key: Any, row: _Row, plan: _Plan, column: str, label: str
) -> bool:
    """Whether ``key`` was already used by an earlier row (a problem, named on ``column``)."""
    if key in seen:
        if label:
            message = f"the same {label} as line {seen[key]}."
        else:
            message = f"the same title in the same school year as line {seen[key]}."
        plan.problem(row, column, message)
        return True
    seen[key] = row.line
    return False


def _problem_order(problem: RosterProblem) -> tuple[int, int]:
    """Problems by file, in the order the files are read, then by line."""
    order = KNOWN_FILES.index(problem.file) if problem.file in KNOWN_FILES else -1
    return order, problem.line or 0


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


class _Existing:
    """The district's rows as they are, indexed by sourcedId and by their natural keys."""

    def __init__(self, district: District) -> None:
        schools = list(School.objects.filter(district=district))
        years = list(AcademicYear.objects.filter(district=district))
        terms = list(Term.objects.filter(academic_year__district=district))
        classrooms = list(
            Classroom.objects.filter(school__district=district).select_related("term")
        )
        students = list(Student.objects.filter(district=district))
        teachers = list(User.objects.filter(district=district).exclude(sourced_id=""))
        enrollments = list(
            Enrollment.objects.filter(classroom__school__district=district).only(
                "pk", "student_id", "classroom_id", "start_date", "end_date", "sourced_id"
            )
        )
        self.by_sourced_id: dict[str, dict[str, Any]] = {
            "schools": _by_sourced_id(schools),
            "academic_years": _by_sourced_id(years),
            "terms": _by_sourced_id(terms),
            "classrooms": _by_sourced_id(classrooms),
            "students": _by_sourced_id(students),
            "teachers": _by_sourced_id(teachers),
            "enrollments": _by_sourced_id(enrollments),
        }
        self.schools_by_code = {school.code.lower(): school for school in schools}
        self.schools_by_name = {school.name.lower(): school for school in schools}
        self.years_by_name = {year.name.lower(): year for year in years}
        self.terms_by_year_name: dict[tuple[int | None, str], Term] = {
            (term.academic_year_id, term.name.lower()): term for term in terms
        }
        self.classrooms_by_key = {
            (room.school_id, room.term_id, room.name.lower()): room for room in classrooms
        }
        self.students_by_sis_id = {student.sis_id: student for student in students}
        self.enrollments_by_key = {
            (row.student_id, row.classroom_id, row.start_date): row for row in enrollments
        }
        self.users_by_username: dict[str, User] = {}
        self.assignments: dict[tuple[str, str], int] = {}
        self.classroom_sourced_ids = {room.pk: room.sourced_id for room in classrooms}
        self.student_sourced_ids = {student.pk: student.sourced_id for student in students}
        teacher_sourced_ids = {user.pk: user.sourced_id for user in teachers}
        through = Classroom.teachers.through
        for pk, classroom_id, user_id in through._default_manager.filter(
            classroom__school__district=district, user__district=district
        ).values_list("pk", "classroom_id", "user_id"):
            classroom_sid = self.classroom_sourced_ids.get(classroom_id, "")
            user_sid = teacher_sourced_ids.get(user_id, "")
            if classroom_sid and user_sid:
                self.assignments[(classroom_sid, user_sid)] = pk

    def load_usernames(self, usernames: Iterable[str]) -> None:
        wanted = [name for name in usernames if name]
        # cross-tenant: usernames are unique across all districts, so a taken one is refused.
        for user in User.objects.all_schools().filter(username__in=wanted):
            self.users_by_username[user.username] = user


def _by_sourced_id(rows: Iterable[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for row in rows:
        if row.sourced_id:
            found.setdefault(row.sourced_id, row)
    return found


# ---------------------------------------------------------------------------------------------
# The service: plan, and apply unless it is a dry run; audit either way.
# ---------------------------------------------------------------------------------------------


def roster_plan(*, district: District, source: RosterSource) -> RosterImportResult:
    """What importing ``source`` into ``district`` would do, without writing anything."""
    plan = _Plan(district, source)
    plan.build()
    return _result(plan, dry_run=True)


def _result(plan: _Plan, *, dry_run: bool) -> RosterImportResult:
    plan.problems.sort(key=_problem_order)
    return RosterImportResult(
        dry_run=dry_run,
        counts=plan.counts,
        problems=plan.problems,
        warnings=plan.warnings,
        modes=dict(plan.modes),
        row_count=plan.row_count,
    )


def roster_import(
    *, actor: User | None, district: District, source: RosterSource, dry_run: bool
) -> RosterImportResult:
    """Import a OneRoster 1.1 export into ``district`` (see the module docstring for the rules).

    Only a district admin of ``district`` (or a server operator, ``actor`` None) may import. A dry
    run plans and reports; an import plans again inside one transaction and applies everything
    or, on any problem, nothing. Either way one AuditEvent records who, what, how many rows and
    the outcome: with the import's writes when it succeeds, after the rollback when it fails.
    """
    if actor is not None:
        access.require(actor, "manage_district", district)
    parameters: dict[str, Any] = {
        "source": source.label,
        "sha256": source.sha256,
        "dry_run": dry_run,
    }
    kind = AuditKind.ROSTER_IMPORT_DRY_RUN if dry_run else AuditKind.ROSTER_IMPORT
    if dry_run:
        result = roster_plan(district=district, source=source)
        result.audit_event = _audit(district, actor, kind, parameters, result)
        return result
    plan = _Plan(district, source)
    try:
        with transaction.atomic():
            # One import of a district at a time: a second waits here, then plans afresh.
            list(District.objects.select_for_update().filter(pk=district.pk).values_list("pk"))
            plan.build()
            if plan.problems:
                raise RosterImportError
            plan.apply()
            result = _result(plan, dry_run=False)
            result.applied = True
            result.audit_event = _audit(district, actor, kind, parameters, result)
            return result
    except RosterImportError:
        pass
    except IntegrityError as error:
        # A rule the plan did not foresee (or a change made meanwhile): nothing was written.
        plan.problems.append(
            RosterProblem(
                source.label,
                None,
                "",
                f"the database refused the import, so nothing was changed ({error}). "
                "Run a dry run again to see the current plan.",
            )
        )
    result = _result(plan, dry_run=False)
    result.audit_event = _audit(district, actor, kind, parameters, result)
    return result


def _audit(
    district: District,
    actor: User | None,
    kind: str,
    parameters: dict[str, Any],
    result: RosterImportResult,
) -> AuditEvent:
    return audit_event_record(
        district=district,
        actor=actor,
        kind=kind,
        parameters={**parameters, "files": result.modes},
        row_count=result.row_count,
        succeeded=result.is_valid,
        message=result.summary(),
        result={
            "counts": {key: counts.as_dict() for key, counts in result.counts.items()},
            "applied": result.applied,
            "problem_count": len(result.problems),
            "problems": [str(problem) for problem in result.problems[:AUDITED_PROBLEMS]],
            "warnings": [str(warning) for warning in result.warnings[:AUDITED_PROBLEMS]],
        },
    )


# ---------------------------------------------------------------------------------------------
# Keeping an upload between its preview and its import.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterUpload:
    data: bytes
    filename: str


def _upload_folder() -> Path:
    configured = getattr(settings, "THINSLICE_ROSTER_UPLOAD_DIR", "")
    folder = Path(configured) if configured else Path(tempfile.gettempdir()) / "thinslice-roster"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def roster_upload_keep(*, actor: User, district: District, data: bytes, filename: str) -> str:
    """Keep an uploaded export on the server until it is imported; return a signed token that
    names it for this actor and district only. The file name is random and the token carries
    the file's SHA-256, so the import reads exactly the bytes that were previewed. Uploads older
    than an hour are removed."""
    folder = _upload_folder()
    oldest = time.time() - UPLOAD_TOKEN_MAX_AGE_SECONDS
    for stale in folder.glob("*.zip"):
        if stale.stat().st_mtime < oldest:
            stale.unlink(missing_ok=True)
    name = f"{secrets.token_hex(16)}.zip"
    (folder / name).write_bytes(data)
    payload = {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "filename": filename,
        "actor": actor.pk,
        "district": district.pk,
    }
    return signing.dumps(payload, salt=UPLOAD_TOKEN_SALT)


def roster_upload_take(*, token: str, actor: User, district: District) -> RosterUpload:
    """The upload a token names, removed from the server so it is imported at most once.

    Raises ValidationError when the token is forged, expired, for someone else, or its file is
    gone or changed."""
    try:
        payload = signing.loads(token, salt=UPLOAD_TOKEN_SALT, max_age=UPLOAD_TOKEN_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ValidationError(
            "This preview is more than an hour old. Upload the file again."
        ) from None
    except signing.BadSignature:
        raise ValidationError("This preview cannot be read. Upload the file again.") from None
    if payload.get("actor") != actor.pk or payload.get("district") != district.pk:
        raise ValidationError("This preview belongs to someone else. Upload the file again.")
    name = str(payload.get("file", ""))
    if not re.fullmatch(r"[0-9a-f]{32}\.zip", name):
        raise ValidationError("This preview cannot be read. Upload the file again.")
    path = _upload_folder() / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ValidationError(
            "This upload was imported already or has expired. Upload the file again."
        ) from None
    path.unlink(missing_ok=True)
    if hashlib.sha256(data).hexdigest() != payload.get("sha256"):
        raise ValidationError("The kept upload changed since its preview. Upload it again.")
    return RosterUpload(data=data, filename=str(payload.get("filename", "upload.zip")))
