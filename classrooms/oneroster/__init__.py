"""OneRoster 1.1 CSV roster import: read an export, check it, plan the changes, apply them.

Every row is keyed by its ``sourcedId``, so importing the same files again changes nothing.
``manifest.csv`` says per file (``file.<name>``) whether it is ``bulk`` (the whole roster: rows
that are not in it are gone), ``delta`` (only changes) or ``absent``. What each file becomes is
told where it is read:

- spec.py: the files, their columns and the values they may hold (OneRoster 1.1; another
  version starts here); reading.py: the zip or folder, each CSV file, and the manifest, which
  declares the version and each file's mode; values.py: statuses, dates, choices, grades, text;
- schools.py: ``orgs.csv`` → School; sessions.py: ``academicSessions.csv`` → AcademicYear and
  Term; classes.py: ``classes.csv`` (and ``courses.csv``) → Classroom; people.py: ``users.csv`` →
  Student and teacher User; enrollments.py: ``enrollments.csv`` → Enrollment and teacher
  assignment;
- state.py: what the steps share (planned items, problems, counts) and the rules for planning
  one row; existing.py: the district's roster as it is; plan.py: the order of the steps;
  apply.py: writing a plan; services.py: ``roster_import`` (transaction and audit);
  uploads.py: keeping a dry run's plan between its preview and its import, which applies it
  without reading the export again (``roster_import_kept``); district.py: the check that the
  export is this district's.

``demographics.csv`` is not imported: the only learner data Thinslice keeps is scores, and
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

from classrooms.oneroster.reading import (
    MAX_UPLOAD_BYTES,
    RosterSource,
    roster_source_from_path,
    roster_source_from_zip,
)
from classrooms.oneroster.results import (
    RosterCounts,
    RosterImportError,
    RosterImportResult,
    RosterProblem,
)
from classrooms.oneroster.services import roster_import, roster_import_kept, roster_plan
from classrooms.oneroster.uploads import roster_plan_keep

__all__ = [
    "MAX_UPLOAD_BYTES",
    "RosterCounts",
    "RosterImportError",
    "RosterImportResult",
    "RosterProblem",
    "RosterSource",
    "roster_import",
    "roster_import_kept",
    "roster_plan",
    "roster_source_from_path",
    "roster_source_from_zip",
    "roster_plan_keep",
]
