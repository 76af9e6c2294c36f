"""What OneRoster 1.1 CSV says: its files, their columns, and the values some columns may hold.

The version an export declares is checked in reading.py (``read_manifest``); the columns of each
file are read, row by row, in the module of the entity they become (schools.py, sessions.py,
classes.py, people.py, enrollments.py). Supporting another OneRoster version starts here.
"""

from __future__ import annotations

from classrooms.models import GradeLevel

# The versions whose manifest.csv ``oneroster.version`` this import accepts.
VERSIONS = ("1.1", "1.0")

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
