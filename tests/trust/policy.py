"""Who may do what: the statement the authorization matrix holds the product to.

Written out by hand from the product's description of the roles (README "Roles", PRODUCT.md), in
terms of where rows live in the trust world (tests/trust/conftest.py: every row's district, kind
and area). It does not ask classrooms/access.py anything, so the matrix compares the product with
an independent statement rather than with itself.
"""

from __future__ import annotations

from assessments.models import Score
from classrooms.models import District, Student
from tests.trust.conftest import STUDENTS, Thing, role_of

# Roles are named as in the world: admin (district admin), coach (coaches s1), coach2 (coaches
# s2), teacher (teaches c1), peer (teaches c1b, in s1 too), norole (a member with no role),
# inactive (deactivated; still assigned every role) and anonymous. Nobody may do anything in
# another district: every rule below is about the person's own district.

MEMBERS = frozenset({"admin", "coach", "coach2", "teacher", "peer", "norole"})
ADMIN = frozenset({"admin"})

# Who reads a row, by its kind and where it lives (its area).
READ: dict[str, dict[str, frozenset[str]]] = {
    # District-wide reference rows (the district, its years, terms, groups, units and their
    # plans): every member of the district.
    "reference": {"*": MEMBERS},
    # A unit a teacher wrote and shares with nobody (with its skills and plan): its author and
    # the district admin.
    "own_unit": {"teacher": frozenset({"admin", "teacher"})},
    # A school: its coaches, its teachers and the district admin.
    "school": {
        "s1": frozenset({"admin", "coach", "teacher", "peer"}),
        "s2": frozenset({"admin", "coach2"}),
    },
    # A classroom with everything in it (enrollments, classroom units, scores, score history,
    # growth rows): its teachers, the coaches of its school, the district admin. Not another
    # teacher of the same school, not the coach of another school.
    "classroom": {
        "c1": frozenset({"admin", "coach", "teacher"}),
        "c1b": frozenset({"admin", "coach", "peer"}),
        "c2": frozenset({"admin", "coach2"}),
    },
    # A student: whoever reads one of their classrooms; a student enrolled nowhere, the admin.
    "student": {
        "st1": frozenset({"admin", "coach", "teacher"}),
        "st1b": frozenset({"admin", "coach", "peer"}),
        "stx": frozenset({"admin", "coach", "teacher", "peer"}),
        "st2": frozenset({"admin", "coach2"}),
        "stu": ADMIN,
    },
    # A school × unit growth roll-up (suppressed for small groups): whoever reads the school.
    "school_summary": {
        "s1": frozenset({"admin", "coach", "teacher", "peer"}),
        "s2": frozenset({"admin", "coach2"}),
    },
    # A district × unit roll-up combines every school: the district admin only.
    "district_summary": {"*": ADMIN},
    # A staff account: its owner and the district admin.
    "account": {
        "admin": ADMIN,
        "coach": frozenset({"coach", "admin"}),
        "coach2": frozenset({"coach2", "admin"}),
        "teacher": frozenset({"teacher", "admin"}),
        "peer": frozenset({"peer", "admin"}),
        "norole": frozenset({"norole", "admin"}),
        "inactive": ADMIN,
    },
    # The audit log of imports and exports: the district admin.
    "audit": {"*": ADMIN},
    # A district's single sign-on set-up (it holds the client secret): the district admin.
    "signin": {"*": ADMIN},
    # An export job and its file: whoever asked for it, and the district admin.
    "export_job": {
        "teacher": frozenset({"teacher", "admin"}),
        "coach": frozenset({"coach", "admin"}),
        "admin": ADMIN,
    },
}

# Who enters scores (grid, CSV, API) in a classroom's units, and starts units in it: its
# teachers and the district admin. Coaches read only.
ENTER_SCORES: dict[str, frozenset[str]] = {
    "c1": frozenset({"admin", "teacher"}),
    "c1b": frozenset({"admin", "peer"}),
    "c2": ADMIN,
}
START_UNITS = ENTER_SCORES

# Who sets the district up (units and their plans, the set-up admin, roster import) and reads
# its audit log: the district admin.
SET_UP = ADMIN

# Who writes units of their own (the planner, the API): the district admin, and teachers while
# the district lets teachers write units (the default, as in the world).
WRITE_UNITS = frozenset({"admin", "teacher", "peer"})

# Who exports: student-level rows (scores, student growth, OneRoster results) are for the admin
# and teachers (their own classrooms); de-identified aggregate growth also for coaches.
EXPORT_STUDENT_LEVEL = frozenset({"admin", "teacher", "peer"})
EXPORT_AGGREGATE = frozenset({"admin", "coach", "coach2", "teacher", "peer"})
EXPORT_KINDS = {
    "scores": EXPORT_STUDENT_LEVEL,
    "student_growth": EXPORT_STUDENT_LEVEL,
    "oneroster_results": EXPORT_STUDENT_LEVEL,
    "aggregate_growth": EXPORT_AGGREGATE,
}

# Set-up admin: what a district admin may add and delete there. The district row itself is the
# platform operator's; scores are entered by teachers (grid, CSV, API), never in the admin; a
# student is deleted only on the privacy page, which deletes their data with them.
ADMIN_NO_ADD = frozenset({District, Score})
ADMIN_NO_DELETE = frozenset({District, Score, Student})
ADMIN_READ_ONLY = frozenset({Score})

# Who erases a student on request and sees the retention policy (the privacy pages): the
# district admin, for the district's own students.
PRIVACY = ADMIN


def is_member(user_key: str) -> bool:
    return role_of(user_key)[1] in MEMBERS


def has_role(user_key: str, roles: frozenset[str], district: str) -> bool:
    """Whether ``user_key`` holds one of ``roles`` in ``district``."""
    user_district, role = role_of(user_key)
    return user_district == district and role in roles


def may_read(user_key: str, thing: Thing) -> bool:
    by_area = READ[thing.kind]
    roles = by_area[thing.area] if thing.area in by_area else by_area["*"]
    return has_role(user_key, roles, thing.district)


def may_edit_unit(user_key: str, unit: Thing) -> bool:
    """A unit a teacher wrote: its author and the district admin; the district's: the admin."""
    if unit.kind == "own_unit":
        return has_role(user_key, frozenset({"admin", unit.area}), unit.district)
    return sets_up(user_key, unit.district)


def may_enter_scores(user_key: str, classroom_unit: Thing) -> bool:
    return has_role(user_key, ENTER_SCORES[classroom_unit.area], classroom_unit.district)


def sets_up(user_key: str, district: str) -> bool:
    return has_role(user_key, SET_UP, district)


def any_district_role(user_key: str, roles: frozenset[str]) -> bool:
    district, role = role_of(user_key)
    return district is not None and role in roles


def enrolled_in(student: Thing, classroom_area: str, district: str) -> bool:
    return student.district == district and classroom_area in STUDENTS[student.area]


def teaches_unit_u(assessment: Thing, classroom_unit: Thing) -> bool:
    """Every classroom unit of the world teaches its district's unit ``u``."""
    return assessment.key.startswith(f"{classroom_unit.district}:u:")
