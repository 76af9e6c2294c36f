"""CSV upload of one assessment's scores for one class: template, preview, apply.

The rules, in the order a file meets them:

- At most ``MAX_UPLOAD_BYTES`` (1 MB); an empty file says so.
- UTF-8, with or without a byte order mark. A file that is not UTF-8 but reads as Windows-1252
  (what Excel's plain "CSV (Comma delimited)" writes) is accepted with a note: only SIS ids, skill
  codes and scores are used, and those are ASCII in practice. UTF-16 ("Unicode Text"), Excel
  workbooks and bytes that no encoding explains are refused with the way to save a "CSV UTF-8".
- Columns are separated by commas, semicolons or tabs: the separator is the one that makes a
  ``sis_id`` column appear in the first line, and the preview says which one was read.
- The first line names the columns: ``sis_id`` (required), ``family_name`` and ``given_name``
  (informational, never written), then one column per skill code the assessment measures. Any
  other column is refused, so a misspelt skill code never drops its scores silently. A skill left
  out of the file keeps its scores.
- Each row is one student, found by SIS id in the classroom's district; the student must be
  enrolled in the classroom during the unit (the rule ``scores_save`` applies), and appear once.
- A cell holds points (0..max, at most 2 decimals), ``A`` (absent) or ``X`` (exempt), checked by
  ``parse_cell``. An empty cell leaves the score as it is: a CSV never clears a score; clearing is
  done in the grid.

Nothing is written by the preview. Applying reads the same content again, checks it again, and
sends every cell that would change to ``scores_save`` (the one write path: all or nothing, with
history) with the version read at preview time, so a score a co-teacher changed meanwhile is
refused as a conflict instead of overwritten.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.text import slugify

from assessments.cells import EMPTY, CellValue, parse_cell
from assessments.models import Score
from assessments.services import RowProblem, ScoreEntry, scores_save
from classrooms import access
from classrooms.models import Enrollment, Student
from classrooms.spreadsheets import spreadsheet_safe, spreadsheet_unquote
from units.models import Assessment, AssessmentSkill, ClassroomUnit
from units.services import format_points

MAX_UPLOAD_BYTES = 1_000_000
SIS_ID_COLUMN = "sis_id"
NAME_COLUMNS = ("family_name", "given_name")
DELIMITERS = {",": "commas", ";": "semicolons", "\t": "tabs"}
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
EMPTY_FILE = "The file is empty. Download the template, fill in the scores and upload it again."
TOKEN_SALT = "assessments.score_csv"  # noqa: S105 (a signing namespace, not a secret)
TOKEN_MAX_AGE_SECONDS = 60 * 60
SAVE_AS_UTF8 = (
    'In Excel choose File → Save As → "CSV UTF-8 (Comma delimited) (*.csv)" '
    "(in Google Sheets: File → Download → Comma-separated values) and upload that file."
)


class CellState:
    """What applying the file would do to one cell."""

    CHANGE = "change"  # the file's value differs from the current score
    SAME = "same"  # the file's value is the current score
    BLANK = "blank"  # empty in the file: the current score is kept
    ERROR = "error"  # the file's value is not a score
    UNMATCHED = "unmatched"  # a score, but the row names no student of this class


@dataclass(frozen=True)
class CsvColumn:
    """A skill column of the file, with the most points the assessment gives for it."""

    index: int
    code: str
    max_points: Decimal

    @property
    def label(self) -> str:
        return f"{self.code} (/{format_points(self.max_points)})"


@dataclass
class CsvCell:
    code: str
    typed: str
    current: str  # the current score as the grid shows it, "" when there is none
    new: str = ""  # the file's value as the grid would show it
    state: str = CellState.BLANK
    message: str = ""
    conflict: str = ""  # why applying refused this cell (someone changed it meanwhile)


@dataclass
class CsvRow:
    """One student row of the file. ``line`` is its row number in a spreadsheet (header = 1)."""

    line: int
    sis_id: str
    student_id: int | None = None
    student_name: str = ""
    cells: list[CsvCell] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class CsvFile:
    """A file read as text and split into records, before anything is matched to the class."""

    text: str = ""
    delimiter: str = ","
    header: list[str] = field(default_factory=list)
    header_line: int = 1  # the header's row number; records follow it
    records: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class CsvPreview:
    """What applying the file would do, cell by cell, and every reason it cannot be applied.

    ``problems`` concern the whole file (nothing else is shown when there are any); a row's own
    problems are on the row. ``versions`` holds, for each cell the file fills in, the score's
    version when it was read (None: there was no score), keyed ``"<student id>:<skill code>"``.
    """

    text: str = ""
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    columns: list[CsvColumn] = field(default_factory=list)
    rows: list[CsvRow] = field(default_factory=list)
    versions: dict[str, int | None] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    def _count(self, state: str) -> int:
        return sum(1 for row in self.rows for cell in row.cells if cell.state == state)

    @property
    def change_count(self) -> int:
        return self._count(CellState.CHANGE)

    @property
    def same_count(self) -> int:
        return self._count(CellState.SAME)

    @property
    def blank_count(self) -> int:
        return self._count(CellState.BLANK)

    @property
    def changes(self) -> list[tuple[CsvRow, CsvCell]]:
        return [
            (row, cell) for row in self.rows for cell in row.cells if cell.state == CellState.CHANGE
        ]

    @property
    def problem_rows(self) -> list[CsvRow]:
        return [row for row in self.rows if row.problems]

    @property
    def warning_rows(self) -> list[CsvRow]:
        return [row for row in self.rows if row.warnings]

    @property
    def is_valid(self) -> bool:
        return not self.problems and not self.problem_rows

    @property
    def can_apply(self) -> bool:
        return self.is_valid and self.change_count > 0


@dataclass
class CsvApplyResult:
    """The outcome of applying a file: either every change saved, or nothing and why.

    ``preview`` is the file as read at apply time, with conflicts marked on their cells.
    """

    preview: CsvPreview
    applied_count: int = 0
    is_applied: bool = False
    problems: list[RowProblem] = field(default_factory=list)


def _unquote_formula(text: str) -> str:
    """Undo ``spreadsheet_safe`` so a downloaded template uploads unchanged."""
    return spreadsheet_unquote(text)


def score_csv_filename(*, classroom_unit: ClassroomUnit, assessment: Assessment) -> str:
    """A file name that says which class and assessment the scores belong to."""
    name = slugify(f"{classroom_unit.classroom.name} {assessment.title}") or "scores"
    return f"{name}-scores.csv"


def _measures(assessment: Assessment) -> dict[str, AssessmentSkill]:
    return {
        measure.skill.code: measure
        for measure in AssessmentSkill.objects.filter(assessment=assessment)
        .select_related("skill")
        .order_by("skill__code")
    }


def _unit_enrollments(actor: Any, classroom_unit: ClassroomUnit) -> QuerySet[Enrollment]:
    """Enrollments of students who may be scored: the rule scores_save applies.

    Enrolled at some time from the unit's start until today (or the start, for a unit that has
    not started yet).
    """
    today = timezone.localdate()
    return (
        Enrollment.objects.visible_to(actor)
        .filter(classroom_id=classroom_unit.classroom_id)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=classroom_unit.start_date))
        .filter(start_date__lte=max(today, classroom_unit.start_date))
    )


def _current_scores(
    actor: Any, classroom_unit: ClassroomUnit, assessment: Assessment, student_ids: set[int]
) -> dict[tuple[int, str], Score]:
    return {
        (score.student_id, score.assessment_skill.skill.code): score
        for score in Score.objects.visible_to(actor)
        .filter(
            classroom_unit=classroom_unit,
            assessment_skill__assessment=assessment,
            student_id__in=student_ids,
        )
        .select_related("assessment_skill__skill")
    }


def _shown(score: Score | None) -> str:
    if score is None:
        return ""
    return CellValue(status=score.status, points=score.points).shown


def _require_same_unit(classroom_unit: ClassroomUnit, assessment: Assessment) -> None:
    if assessment.unit_id != classroom_unit.unit_id:
        raise ValidationError(f"'{assessment.title}' is not part of this classroom's unit.")


def score_csv_template(
    *, actor: Any, classroom_unit: ClassroomUnit, assessment: Assessment
) -> bytes:
    """The file a teacher edits and uploads again: who may upload may download it.

    A header ``sis_id,family_name,given_name,<skill code>…`` and one row per student enrolled
    today, in family-name order, each cell holding the current score (points, A, X or empty).
    UTF-8 with a byte order mark and CRLF line ends, so Excel opens it as UTF-8; every cell that
    starts like a formula is neutralised.
    """
    access.require(actor, "enter_scores", classroom_unit)
    _require_same_unit(classroom_unit, assessment)
    measures = _measures(assessment)
    today = timezone.localdate()
    enrollments = (
        _unit_enrollments(actor, classroom_unit)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today), start_date__lte=today)
        .select_related("student")
        .order_by("student__family_name", "student__given_name", "student__sis_id")
    )
    students: dict[int, Student] = {}
    for enrollment in enrollments:
        students.setdefault(enrollment.student_id, enrollment.student)
    scores = _current_scores(actor, classroom_unit, assessment, set(students))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([SIS_ID_COLUMN, *NAME_COLUMNS, *(spreadsheet_safe(c) for c in measures)])
    for student in students.values():
        row = [student.sis_id, student.family_name, student.given_name]
        row += [_shown(scores.get((student.pk, code))) for code in measures]
        writer.writerow([spreadsheet_safe(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _decode(data: bytes) -> tuple[str, str]:
    """The file's text and a note on how it was read; raises ValueError with what to do."""
    if data.startswith(b"PK\x03\x04"):
        raise ValueError(f"This is an Excel workbook (.xlsx), not a CSV file. {SAVE_AS_UTF8}")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise ValueError(
            'The file is in UTF-16 (Excel\'s "Unicode Text") or is not a text file, '
            f"not UTF-8. {SAVE_AS_UTF8}"
        )
    try:
        return data.decode("utf-8-sig"), "UTF-8"
    except UnicodeDecodeError as not_utf8:
        position = not_utf8.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise ValueError(
            f"The file is not UTF-8 text (byte {position + 1} cannot be read). {SAVE_AS_UTF8}"
        ) from None
    return text.removeprefix("ï»¿"), "Windows-1252"


def _column_key(name: str) -> str:
    return name.strip().strip("\ufeff").lower().replace(" ", "_").replace("-", "_")


def _first_line(text: str) -> str:
    return text.lstrip("\r\n").splitlines()[0] if text.strip() else ""


def _delimiter(first_line: str) -> str:
    """The separator that makes a sis_id column appear; else csv.Sniffer's pick of , ; tab."""
    for delimiter in DELIMITERS:
        header = next(csv.reader([first_line], delimiter=delimiter), [])
        if SIS_ID_COLUMN in {_column_key(name) for name in header}:
            return delimiter
    try:
        return csv.Sniffer().sniff(first_line, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def score_csv_read(*, data: bytes) -> CsvFile:
    """Read an uploaded file's bytes as CSV text: size, encoding, separator, records.

    Problems here concern the whole file (too large, empty, not text, unreadable CSV).
    """
    file = CsvFile()
    if len(data) > MAX_UPLOAD_BYTES:
        file.problems.append(
            f"The file is larger than {MAX_UPLOAD_BYTES // 1_000_000} MB, the most this page "
            "accepts. One checkpoint for one class is a few kilobytes: check that you chose "
            "the right file, and save it as CSV rather than a workbook."
        )
        return file
    try:
        text, encoding = _decode(data)
    except ValueError as reason:
        file.problems.append(str(reason))
        return file
    if encoding != "UTF-8":
        file.notes.append(
            "The file is not UTF-8, so it was read as Windows-1252 (what Excel's plain "
            '"CSV (Comma delimited)" writes). Only SIS ids, skill codes and scores are used, '
            'so check that the SIS ids below look right. Next time choose "CSV UTF-8".'
        )
    return _read_text(file, text)


def _read_text(file: CsvFile, text: str) -> CsvFile:
    file.text = text
    first_line = _first_line(text)
    if not first_line.strip():
        file.problems.append(EMPTY_FILE)
        return file
    file.delimiter = _delimiter(first_line)
    file.notes.append(f"Columns were read as separated by {DELIMITERS[file.delimiter]}.")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=file.delimiter))
    except csv.Error as reason:
        file.problems.append(f"The file cannot be read as CSV: {reason}.")
        return file
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
        file.header_line += 1
    if not records:
        file.problems.append(EMPTY_FILE)
        return file
    file.header = [name.strip().strip("\ufeff") for name in records[0]]
    file.records = records[1:]
    return file


@dataclass
class _Header:
    sis_id: int | None = None
    family_name: int | None = None
    columns: list[CsvColumn] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _header_read(file: CsvFile, measures: dict[str, AssessmentSkill]) -> _Header:
    """Match the first line to sis_id, the name columns and the skills the assessment measures."""
    header = _Header()
    codes = ", ".join(measures)
    by_folded_code = {code.casefold(): code for code in measures}
    seen_codes: set[str] = set()
    for index, name in enumerate(file.header):
        key = _column_key(name)
        code = name if name in measures else by_folded_code.get(name.casefold())
        if key == SIS_ID_COLUMN:
            if header.sis_id is not None:
                header.problems.append("The sis_id column appears twice.")
            header.sis_id = index
        elif key in NAME_COLUMNS:
            if key == "family_name":
                header.family_name = index
        elif code is not None:
            if code in seen_codes:
                header.problems.append(f"The column '{code}' appears twice.")
            seen_codes.add(code)
            header.columns.append(CsvColumn(index, code, measures[code].max_points))
        elif key == "":
            if any(index < len(r) and r[index].strip() for r in file.records):
                header.problems.append(
                    f"Column {index + 1} has values but no name in the first line."
                )
        else:
            header.problems.append(
                f"Unknown column '{name}': it is neither sis_id, family_name, given_name nor a "
                f"skill this assessment measures ({codes}). Rename or remove it."
            )
    if header.sis_id is None:
        # Without it the rest of the line is probably split wrongly: say only what was found.
        found = ", ".join(f"'{name}'" for name in file.header)
        shown_line = _first_line(file.text)[:120]
        header.problems = [
            f"The file has no sis_id column. Its first line reads “{shown_line}”, which was "
            f"read as {len(file.header)} column(s) separated by "
            f"{DELIMITERS[file.delimiter]}: {found}. The first line must name the columns: "
            f"sis_id, then one column per skill code ({codes}), separated by commas, "
            "semicolons or tabs."
        ]
    elif not header.columns and not header.problems:
        header.problems.append(f"The file has no skill columns: add one per skill code ({codes}).")
    missing = [code for code in measures if code not in seen_codes]
    if missing and header.columns:
        header.notes.append(
            f"No column for {', '.join(missing)}: those scores are left as they are."
        )
    return header


def _students_by_sis_id(
    actor: Any, classroom_unit: ClassroomUnit, sis_ids: set[str]
) -> tuple[dict[str, Student], set[str]]:
    """The class's students by SIS id, and the other SIS ids that exist in the district."""
    enrolled: dict[str, Student] = {}
    for enrollment in _unit_enrollments(actor, classroom_unit).select_related("student"):
        enrolled.setdefault(enrollment.student.sis_id, enrollment.student)
    others = sis_ids - set(enrolled)
    # cross-tenant: within the classroom's own district, only to tell "no such SIS id" from
    # "not in this class"; only SIS ids the uploader typed leave this query, never a name.
    in_district = set(
        Student.objects.all_schools()
        .filter(district_id=classroom_unit.classroom.school.district_id, sis_id__in=others)
        .values_list("sis_id", flat=True)
    )
    return enrolled, in_district


def _without_leading_zeros(enrolled: dict[str, Student]) -> dict[str, Student | None]:
    """Class students by SIS id without leading zeros (None when two would collide)."""
    stripped: dict[str, Student | None] = {}
    for sis_id, student in enrolled.items():
        if sis_id.isdigit() and sis_id.startswith("0"):
            key = sis_id.lstrip("0")
            stripped[key] = None if key in stripped else student
    return stripped


def _row_student(
    row: CsvRow,
    enrolled: dict[str, Student],
    zero_stripped: dict[str, Student | None],
    in_district: set[str],
) -> Student | None:
    if row.sis_id == "":
        row.problems.append("No SIS id in this row.")
        return None
    student = enrolled.get(row.sis_id)
    if student is None and row.sis_id.isdigit():
        student = zero_stripped.get(row.sis_id.lstrip("0"))
        if student is not None:
            row.warnings.append(
                f"Read as SIS id {student.sis_id}: a spreadsheet dropped its leading zeros."
            )
    if student is not None:
        return student
    if row.sis_id in in_district:
        row.problems.append(
            f"The student with SIS id '{row.sis_id}' is not enrolled in this classroom."
        )
    else:
        row.problems.append(f"No student with SIS id '{row.sis_id}' in this district.")
    return None


def _cell_read(cell: CsvCell, column: CsvColumn, current: Score | None, row: CsvRow) -> None:
    if cell.typed == "":
        cell.state = CellState.BLANK
        return
    try:
        value = parse_cell(cell.typed, column.max_points)
    except ValueError as reason:
        cell.state = CellState.ERROR
        cell.message = str(reason)
        row.problems.append(f"{column.code}: {reason}")
        return
    cell.new = value.shown
    old = CellValue(status=current.status, points=current.points) if current else EMPTY
    cell.state = CellState.SAME if value == old else CellState.CHANGE


def _preview(
    actor: Any, classroom_unit: ClassroomUnit, assessment: Assessment, file: CsvFile
) -> CsvPreview:
    preview = CsvPreview(text=file.text, notes=list(file.notes), problems=list(file.problems))
    if assessment.unit_id != classroom_unit.unit_id:
        preview.problems.append(f"'{assessment.title}' is not part of this classroom's unit.")
    if preview.problems:
        return preview
    header = _header_read(file, _measures(assessment))
    preview.notes += header.notes
    preview.problems += header.problems
    preview.columns = header.columns
    if header.problems or header.sis_id is None:
        return preview

    sis_index = header.sis_id
    rows: list[tuple[CsvRow, list[str]]] = []
    for number, record in enumerate(file.records, start=file.header_line + 1):
        if not any(cell.strip() for cell in record):
            continue  # spreadsheets leave blank lines at the end
        cells = [cell.strip() for cell in record]
        sis_id = _unquote_formula(cells[sis_index]) if sis_index < len(cells) else ""
        rows.append((CsvRow(line=number, sis_id=sis_id), cells))
    if not rows:
        preview.problems.append("The file has a header line but no student rows.")
        return preview

    enrolled, in_district = _students_by_sis_id(
        actor, classroom_unit, {row.sis_id for row, _ in rows}
    )
    zero_stripped = _without_leading_zeros(enrolled)
    students = {
        row.line: _row_student(row, enrolled, zero_stripped, in_district) for row, _ in rows
    }
    scores = _current_scores(
        actor, classroom_unit, assessment, {s.pk for s in students.values() if s}
    )
    first_line_of: dict[int, int] = {}
    for row, cells in rows:
        student = students[row.line]
        if len(cells) > len(file.header) and any(cells[len(file.header) :]):
            row.problems.append(
                f"This row has {len(cells)} values but the first line names "
                f"{len(file.header)} columns."
            )
        if student is not None:
            row.student_id = student.pk
            row.student_name = str(student)
            if student.pk in first_line_of:
                row.problems.append(
                    f"SIS id '{row.sis_id}' is also on row {first_line_of[student.pk]}: "
                    "keep one row per student."
                )
            first_line_of.setdefault(student.pk, row.line)
            _family_name_check(row, cells, header.family_name, student)
        for column in header.columns:
            typed = cells[column.index] if column.index < len(cells) else ""
            current = scores.get((student.pk, column.code)) if student else None
            cell = CsvCell(code=column.code, typed=typed, current=_shown(current))
            _cell_read(cell, column, current, row)
            if student is None and cell.state in (CellState.CHANGE, CellState.SAME):
                cell.state = CellState.UNMATCHED
            row.cells.append(cell)
            if student is not None and cell.state != CellState.BLANK:
                version = current.version if current else None
                preview.versions[_version_key(student.pk, column.code)] = version
        preview.rows.append(row)
    return preview


def _family_name_check(row: CsvRow, cells: list[str], index: int | None, student: Student) -> None:
    """A family name that differs from the roster hints at a mistyped SIS id; it never blocks."""
    if index is None or index >= len(cells) or not cells[index]:
        return
    typed = _unquote_formula(cells[index])
    if typed.casefold() != student.family_name.casefold():
        row.warnings.append(
            f"The file says family name '{typed}'; SIS id {student.sis_id} is "
            f"{student.family_name}. The scores go to {student}: check the SIS id."
        )


def _version_key(student_id: int, code: str) -> str:
    return f"{student_id}:{code}"


def score_csv_preview(
    *, actor: Any, classroom_unit: ClassroomUnit, assessment: Assessment, data: bytes
) -> CsvPreview:
    """What uploading ``data`` would change, with every problem; writes nothing.

    Only who may enter scores for the classroom may preview (the file shows current scores).
    """
    access.require(actor, "enter_scores", classroom_unit)
    return _preview(actor, classroom_unit, assessment, score_csv_read(data=data))


def score_csv_apply(
    *,
    actor: Any,
    classroom_unit: ClassroomUnit,
    assessment: Assessment,
    text: str,
    versions: dict[str, int | None],
) -> CsvApplyResult:
    """Save the changes the file makes, all or nothing, through ``scores_save``.

    ``text`` is read and checked again: nothing from the preview is trusted but ``versions``, the
    score versions read at preview time. Each cell whose value would change is sent with its
    preview-time version, so a score someone changed since the preview is refused as a conflict
    (and nothing is saved); cells the file leaves empty or already matches are not sent.
    """
    access.require(actor, "enter_scores", classroom_unit)
    file = _read_text(CsvFile(), text)
    preview = _preview(actor, classroom_unit, assessment, file)
    result = CsvApplyResult(preview=preview)
    if not preview.is_valid:
        return result
    entries: list[ScoreEntry] = []
    cells: dict[tuple[int, str], CsvCell] = {}
    for row in preview.rows:
        for cell in row.cells:
            if cell.state != CellState.CHANGE or row.student_id is None:
                continue
            key = _version_key(row.student_id, cell.code)
            if key not in versions:
                # The file and the class no longer match what was previewed.
                preview.conflicts.append(
                    f"Row {row.line}, {cell.code}: this cell was not in your preview; "
                    "check the preview again."
                )
                continue
            cells[(row.student_id, cell.code)] = cell
            entries.append(
                ScoreEntry(
                    student_id=row.student_id,
                    skill_code=cell.code,
                    value=cell.typed,
                    expected_version=versions[key],
                )
            )
    if preview.conflicts:
        return result
    if not entries:
        result.is_applied = True
        return result
    saved = scores_save(
        actor=actor, classroom_unit=classroom_unit, assessment=assessment, entries=entries
    )
    if saved.is_applied:
        result.is_applied = True
        result.applied_count = len(entries)
        return result
    result.problems = saved.problems
    lines = {row.student_id: row for row in preview.rows if row.student_id is not None}
    for problem in saved.problems:
        row_of = lines.get(problem.student_id)
        where = f"Row {row_of.line} ({row_of.student_name}), {problem.skill_code}" if row_of else ""
        conflicted = cells.get((problem.student_id, problem.skill_code))
        if conflicted is not None:
            conflicted.conflict = problem.message
        preview.conflicts.append(f"{where}: {problem.message}" if where else problem.message)
    return result


@dataclass(frozen=True)
class CsvUpload:
    """A previewed file carried to the apply step: its text, name and preview-time versions."""

    text: str
    filename: str
    versions: dict[str, int | None]


def score_csv_token(
    *,
    actor: Any,
    classroom_unit: ClassroomUnit,
    assessment: Assessment,
    preview: CsvPreview,
    filename: str,
) -> str:
    """A signed, compressed copy of the previewed file and the versions it was checked against.

    It is carried by the apply form, so nothing is kept on the server between the two steps; it
    names the user, class and assessment, and expires after an hour. Signing stops edits in the
    browser; the content is checked again anyway when applied.
    """
    payload = {
        "user": actor.pk,
        "classroom_unit": classroom_unit.pk,
        "assessment": assessment.pk,
        "filename": filename,
        "text": preview.text,
        "versions": preview.versions,
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def score_csv_token_read(
    *, token: str, actor: Any, classroom_unit: ClassroomUnit, assessment: Assessment
) -> CsvUpload:
    """The previewed upload in a token made for this user, class and assessment.

    Raises ValidationError when the token is altered, expired or made for another page.
    """
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise ValidationError(
            "This preview is more than an hour old. Upload the file again."
        ) from None
    except signing.BadSignature:
        raise ValidationError("This preview cannot be read. Upload the file again.") from None
    if (payload.get("user"), payload.get("classroom_unit"), payload.get("assessment")) != (
        actor.pk,
        classroom_unit.pk,
        assessment.pk,
    ):
        raise ValidationError("This preview was made for another page. Upload the file again.")
    return CsvUpload(
        text=str(payload["text"]),
        filename=str(payload["filename"]),
        versions=dict(payload["versions"]),
    )
