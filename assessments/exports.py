"""Exports of a district's data as CSV: who may export what, which rows, and how they stream.

The rules, in the order a request meets them:

- **Who**: a signed-in member of a district exports from that district only. District admins
  export the whole district. Student-level exports (scores, student growth, OneRoster results)
  are for district admins and teachers, a teacher's limited to the classrooms they teach;
  coaches get no student-level rows (``export_prepare`` refuses with the reason).
- **Which rows**: every export starts from ``Model.objects.visible_to(actor)`` and only narrows
  it: to the actor's district, to the classrooms above, then to the filters (academic year,
  school, subject of the unit, unit). Rows come in a stable order (ids), documented in
  docs/data-dictionary.md with every column.
- **Safe in spreadsheets**: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
  return gets a leading single quote (``score_csv.spreadsheet_safe``, the OWASP rule; the same
  rule in SQL for COPY); numbers, dates and true/false are written as they are, so numbers stay
  numbers. UTF-8, LF line ends; with ``excel`` a byte-order mark first, so Excel reads UTF-8.
- **Streaming**: rows are written as they are read, in ~256 KB chunks, so the exporting
  process's memory does not grow with the number of rows. On PostgreSQL the query runs as
  ``COPY (query) TO STDOUT (FORMAT csv)``, formatted in SQL; elsewhere ``values_list().iterator()``
  (a server-side cursor on PostgreSQL) formats in Python. Both run inside a transaction and write
  the same bytes (tests/assessments/test_exports.py compares them).
- **Size**: an export of up to THINSLICE_EXPORT_ASYNC_ROWS rows (a COUNT that stops just past
  the threshold) streams in the request; a larger one becomes an ExportJob that a Celery task
  writes to a file under THINSLICE_EXPORT_DIR, in batches of classroom units with the progress
  saved between batches. Only the requester and the district's admins may download the file, until
  it expires THINSLICE_EXPORT_TTL_HOURS after it was written.
- **Audit**: every export, streamed or written by a job, succeeded or failed, and every download of
  a job's file adds an AuditEvent (who, the filters and options, the row count, the outcome).
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import (
    Case,
    CharField,
    Exists,
    F,
    Field,
    FloatField,
    IntegerField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.text import slugify

from assessments.models import Score
from assessments.score_csv import FORMULA_STARTS, spreadsheet_safe
from classrooms import access
from classrooms.audit import audit_event_record
from classrooms.models import AcademicYear, Classroom, District, School
from config.env import env_int, env_str
from reports.models import (
    ClassroomUnitGrowthSummary,
    DistrictUnitGrowthSummary,
    ExportJob,
    ExportKind,
    ExportStatus,
    SchoolUnitGrowthSummary,
    StudentGrowth,
)
from units.models import ClassroomUnit, Unit

logger = logging.getLogger(__name__)

CHUNK_BYTES = 256 * 1024
ITERATOR_CHUNK_ROWS = 2000
BOM = "\ufeff"
LINE_END = "\n"
_CSV_TYPE = "text/csv; charset=utf-8"
_NEEDS_QUOTES = re.compile(r'[",\r\n]')
DEFAULT_ASYNC_ROWS = 200_000
DEFAULT_TTL_HOURS = 24
# A job writes this many classroom units per transaction and saves its progress after each.
DEFAULT_JOB_BATCH_CLASSROOM_UNITS = 200
# A job is started at most this many times, whatever stopped the earlier starts (a transient
# error, retried, or a worker that died while writing it), so a job that kills its worker every
# time ends failed instead of coming back for ever.
EXPORT_MAX_ATTEMPTS = 6
# pg_try_advisory_lock(namespace, job id): held by the one worker writing the job; a claim
# waits this long for the lock of a worker that died to go with its connection.
EXPORT_CLAIM_WAIT_SECONDS = 15
_JOB_LOCK_NAMESPACE = 0x6578  # "ex"
# Errors worth another try: the database went away or refused for a moment.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)

STUDENT_LEVEL_REFUSED = (
    "Student-level exports are for district admins and for teachers (their own classrooms). "
    "Coaches export aggregate growth for their schools, de-identified."
)
NO_ROLE_REFUSED = (
    "Exports are for the district's admins, coaches and teachers; this account has none of "
    "those roles yet."
)

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def export_directory() -> Path:
    """THINSLICE_EXPORT_DIR: where jobs write their files (default BASE_DIR/exports)."""
    configured = getattr(settings, "THINSLICE_EXPORT_DIR", None) or env_str(
        "THINSLICE_EXPORT_DIR", ""
    )
    return Path(configured) if configured else Path(settings.BASE_DIR) / "exports"


def export_async_rows() -> int:
    """THINSLICE_EXPORT_ASYNC_ROWS: above this many rows an export runs as a job (0: never)."""
    configured = getattr(settings, "THINSLICE_EXPORT_ASYNC_ROWS", None)
    if configured is None:
        return env_int("THINSLICE_EXPORT_ASYNC_ROWS", DEFAULT_ASYNC_ROWS)
    return int(configured)


def export_ttl() -> datetime.timedelta:
    """THINSLICE_EXPORT_TTL_HOURS: how long a job's file may be downloaded (default 24 h)."""
    configured = getattr(settings, "THINSLICE_EXPORT_TTL_HOURS", None)
    if configured is None:
        configured = env_int("THINSLICE_EXPORT_TTL_HOURS", DEFAULT_TTL_HOURS)
    return datetime.timedelta(hours=float(configured))


def _job_batch_classroom_units() -> int:
    return int(getattr(settings, "THINSLICE_EXPORT_JOB_BATCH", DEFAULT_JOB_BATCH_CLASSROOM_UNITS))


# ---------------------------------------------------------------------------------------------
# Columns: one description drives the SQL (COPY) and the Python formatting
# ---------------------------------------------------------------------------------------------


class ColumnType(StrEnum):
    """How a column is written. Only TEXT is neutralised for spreadsheets."""

    TEXT = "text"
    CODE = "code"  # a value the database constrains to a few codes (scored, pre, 5): as is
    INTEGER = "integer"  # as is
    DECIMAL = "decimal"  # fixed-point as stored, e.g. 3.50
    NUMBER = "number"  # a float rounded half away from zero to ``places`` decimals
    BOOLEAN = "boolean"  # true / false / empty
    DATE = "date"  # YYYY-MM-DD
    TIMESTAMP = "timestamp"  # YYYY-MM-DDTHH:MM:SSZ, in UTC
    UTC_DATE = "utc_date"  # the UTC calendar date of a timestamp, YYYY-MM-DD


@dataclass(frozen=True)
class ExportColumn:
    """One column of an export: its header, where its value comes from and how it is written.

    ``source`` is an ORM path (``student__sis_id``) or an expression; ``places`` applies to
    NUMBER columns.
    """

    name: str
    source: str | Combinable
    type: ColumnType = ColumnType.TEXT
    places: int = 2

    @property
    def expression(self) -> Combinable:
        return F(self.source) if isinstance(self.source, str) else self.source


def _sql_in_list(characters: Sequence[str]) -> str:
    """FORMULA_STARTS as a SQL list: printable characters quoted, control characters as chr()."""
    items = [f"'{c}'" if c.isprintable() and c != "'" else f"chr({ord(c)})" for c in characters]
    return ", ".join(items)


_FORMULA_STARTS_SQL = _sql_in_list(FORMULA_STARTS)


def _sql_format(column: ExportColumn, alias: str) -> str:
    """The SQL that writes ``alias`` as ``_python_format`` would (COPY writes NULL as empty)."""
    value = f"export_rows.{alias}"
    match column.type:
        case ColumnType.TEXT:
            # spreadsheet_safe in SQL; empty text becomes NULL so COPY writes it unquoted, like
            # csv.writer does.
            text = f"({value})::text"
            return (
                f"CASE WHEN left({text}, 1) IN ({_FORMULA_STARTS_SQL}) THEN '''' || {text} "
                f"ELSE NULLIF({text}, '') END"
            )
        case ColumnType.CODE:
            return f"NULLIF(({value})::text, '')"
        case ColumnType.INTEGER | ColumnType.DECIMAL:
            return value
        case ColumnType.NUMBER:
            return f"round(({value})::numeric, {int(column.places)})"
        case ColumnType.BOOLEAN:
            return f"CASE WHEN {value} THEN 'true' WHEN NOT {value} THEN 'false' END"
        case ColumnType.DATE:
            return f"to_char({value}, 'YYYY-MM-DD')"
        case ColumnType.TIMESTAMP:
            return f"""to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
        case ColumnType.UTC_DATE:
            return f"to_char({value} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    raise ValueError(f"Unknown column type {column.type!r}")


def _format_text(value: Any) -> str:
    if value is None or value == "":
        return ""
    return spreadsheet_safe(str(value))


def _format_plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _format_number(value: Any, places: int) -> str:
    """PostgreSQL's round(float8::numeric, places): 15 significant digits, then half away from
    zero; numeric has no negative zero."""
    if value is None:
        return ""
    rounded = Decimal(f"{float(value):.15g}").quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    if rounded.is_zero():
        rounded = rounded.copy_abs()
    return format(rounded, "f")


def _format_boolean(value: Any) -> str:
    if value is None:
        return ""
    return "true" if value else "false"


def _format_date(value: Any) -> str:
    return "" if value is None else value.isoformat()


def _format_timestamp(value: Any) -> str:
    if value is None:
        return ""
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _format_utc_date(value: Any) -> str:
    return "" if value is None else value.astimezone(datetime.UTC).date().isoformat()


def _python_formatter(column: ExportColumn) -> Callable[[Any], str]:
    match column.type:
        case ColumnType.TEXT:
            return _format_text
        case ColumnType.CODE | ColumnType.INTEGER | ColumnType.DECIMAL:
            return _format_plain
        case ColumnType.NUMBER:
            places = column.places
            return lambda value: _format_number(value, places)
        case ColumnType.BOOLEAN:
            return _format_boolean
        case ColumnType.DATE:
            return _format_date
        case ColumnType.TIMESTAMP:
            return _format_timestamp
        case ColumnType.UTC_DATE:
            return _format_utc_date
    raise ValueError(f"Unknown column type {column.type!r}")


def _aliases(columns: Sequence[ExportColumn]) -> list[str]:
    return [f"export_c{index}" for index in range(len(columns))]


def _selected(queryset: QuerySet[Any], columns: Sequence[ExportColumn]) -> QuerySet[Any]:
    """The queryset's rows as one tuple of raw values per row, in column order."""
    aliases = _aliases(columns)
    expressions = {alias: column.expression for alias, column in zip(aliases, columns, strict=True)}
    return queryset.annotate(**expressions).values_list(*aliases)


# ---------------------------------------------------------------------------------------------
# Writing: header, rows, chunks
# ---------------------------------------------------------------------------------------------


@dataclass
class ExportProgress:
    """Rows written so far; ``checkpoint`` (if set) is called between a job's batches."""

    rows: int = 0
    checkpoint: Callable[[int], None] | None = None

    def batch_done(self) -> None:
        if self.checkpoint is not None:
            self.checkpoint(self.rows)


def csv_cell(text: str) -> str:
    """One cell quoted as PostgreSQL's COPY (FORMAT csv) quotes it: only when it holds a comma,
    a double quote or a line end (csv.writer leaves a lone carriage return bare), or is the
    end-of-data marker."""
    if _NEEDS_QUOTES.search(text) or text == "\\.":
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Iterable[str]) -> bytes:
    """One CSV record as the exports write it (LF line end, minimal quoting), UTF-8."""
    return (",".join(csv_cell(cell) for cell in cells) + LINE_END).encode("utf-8")


def rebuffer(blocks: Iterable[bytes], size: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Join small blocks (a header, a byte-order mark) into chunks of about ``size`` bytes."""
    pending = bytearray()
    for block in blocks:
        if not pending and len(block) >= size:
            yield block
            continue
        pending += block
        if len(pending) >= size:
            yield bytes(pending)
            pending.clear()
    if pending:
        yield bytes(pending)


def rows_csv_blocks(
    queryset: QuerySet[Any], columns: Sequence[ExportColumn], progress: ExportProgress
) -> Iterator[bytes]:
    """The queryset's rows as CSV bytes (no header) in chunks of about CHUNK_BYTES, read as they
    are written.

    Call inside ``transaction.atomic()``: on PostgreSQL ``COPY`` streams and the iterator uses a
    server-side cursor without holding the whole result first.
    """
    if connection.vendor == "postgresql":
        yield from _copy_blocks(queryset, columns, progress)
    else:
        yield from _python_blocks(queryset, columns, progress)


def copy_statement(
    queryset: QuerySet[Any], columns: Sequence[ExportColumn]
) -> tuple[str, tuple[Any, ...]]:
    """``COPY (query) TO STDOUT (FORMAT csv)`` for the rows, formatted in SQL, and its params.

    The inner query is the ORM's (scoped, filtered, ordered); the outer one only formats each
    column, so the order of the rows is the inner query's.
    """
    inner, params = _selected(queryset, columns).query.sql_with_params()
    formatted = ", ".join(
        _sql_format(column, alias) for column, alias in zip(columns, _aliases(columns), strict=True)
    )
    # The inner SQL is the ORM's, with its values as parameters; the rest is fixed text.
    select = f"SELECT {formatted} FROM ({inner}) AS export_rows"  # noqa: S608
    return f"COPY ({select}) TO STDOUT (FORMAT csv)", tuple(params)


def _copy_blocks(
    queryset: QuerySet[Any], columns: Sequence[ExportColumn], progress: ExportProgress
) -> Iterator[bytes]:
    try:
        statement, params = copy_statement(queryset, columns)
    except EmptyResultSet:  # a queryset known to be empty (``.none()``) has no SQL
        return
    counted_before = progress.rows
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor
        with raw_cursor.copy(statement, params) as copy:
            # COPY hands over one row per read: join them here, in the tightest loop, so the
            # cost per row stays that of reading it.
            read = copy.read
            pending = bytearray()
            while data := read():
                pending += data
                if len(pending) >= CHUNK_BYTES:
                    chunk = bytes(pending)
                    pending.clear()
                    # Line ends count rows closely enough for progress (a quoted cell may hold
                    # one); the count is exact once COPY ends.
                    progress.rows += chunk.count(b"\n")
                    yield chunk
            if pending:
                yield bytes(pending)
        progress.rows = counted_before + max(raw_cursor.rowcount, 0)


def _python_blocks(
    queryset: QuerySet[Any], columns: Sequence[ExportColumn], progress: ExportProgress
) -> Iterator[bytes]:
    formatters = [_python_formatter(column) for column in columns]
    lines: list[str] = []
    size = 0
    for row in _selected(queryset, columns).iterator(chunk_size=ITERATOR_CHUNK_ROWS):
        line = ",".join(
            csv_cell(format_(value)) for format_, value in zip(formatters, row, strict=True)
        )
        lines.append(line)
        size += len(line) + 1
        progress.rows += 1
        if size >= CHUNK_BYTES:
            yield ("\n".join(lines) + LINE_END).encode("utf-8")
            lines.clear()
            size = 0
    if lines:
        yield ("\n".join(lines) + LINE_END).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# Who exports what: the scope
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportScope:
    """The actor, their district, and whether they export it whole (a district admin)."""

    actor: Any
    district: District
    is_district_admin: bool

    def classrooms_q(self, classroom_path: str) -> Q:
        """Rows (reaching Classroom by ``classroom_path``) whose student-level data the actor may
        export: the district's for its admins, otherwise the classrooms the actor teaches.

        It only narrows rows that already come through ``visible_to(actor)``. For an admin it is
        a plain filter on the district: a subquery of the district's classrooms makes
        PostgreSQL's planner misjudge its size and spend a second before the first row.
        """
        in_district = Q(**{f"{classroom_path}__school__district_id": self.district.pk})
        if self.is_district_admin:
            return in_district
        taught = Classroom.objects.visible_to(self.actor).filter(teachers=self.actor)
        return in_district & Q(**{f"{classroom_path}__in": taught.values("pk")})


def export_scope(*, actor: Any, student_level: bool) -> ExportScope:
    """The actor's export scope; PermissionDenied (with the reason) when they may not export.

    One condition per line, as in access.py.
    """
    if not actor.is_authenticated:
        raise PermissionDenied("Sign in to export.")
    if not actor.is_active:
        raise PermissionDenied("This account is deactivated.")
    district = District.objects.visible_to(actor).filter(pk=actor.district_id).first()
    if district is None:
        raise PermissionDenied("Exports belong to a district, and this account has none.")
    is_district_admin = access.can(actor, "manage_district", district)
    scope = ExportScope(actor=actor, district=district, is_district_admin=is_district_admin)
    if is_district_admin:
        return scope
    if _teaches_in(actor, district):
        return scope
    if student_level:
        raise PermissionDenied(STUDENT_LEVEL_REFUSED)
    if _coaches_in(actor, district):
        return scope
    raise PermissionDenied(NO_ROLE_REFUSED)


def _coaches_in(actor: Any, district: District) -> bool:
    return bool(
        School.objects.visible_to(actor).filter(district_id=district.pk, coaches=actor).exists()
    )


def _teaches_in(actor: Any, district: District) -> bool:
    return bool(
        Classroom.objects.visible_to(actor)
        .filter(school__district_id=district.pk, teachers=actor)
        .exists()
    )


# ---------------------------------------------------------------------------------------------
# Filters
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportFilters:
    """Which rows: ids of an academic year, a school and a unit, and a unit subject (any of
    them empty for all). Ids are checked against ``visible_to`` by forms and serializers; rows
    are always read through the scope, so an id from elsewhere only finds nothing."""

    academic_year_id: int | None = None
    school_id: int | None = None
    subject: str = ""
    unit_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "academic_year": self.academic_year_id,
            "school": self.school_id,
            "subject": self.subject,
            "unit": self.unit_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ExportFilters:
        return cls(
            academic_year_id=data.get("academic_year"),
            school_id=data.get("school"),
            subject=data.get("subject") or "",
            unit_id=data.get("unit"),
        )

    def apply(self, queryset: QuerySet[Any], classroom_unit_path: str) -> QuerySet[Any]:
        """Narrow rows that reach a ClassroomUnit by ``classroom_unit_path`` ('' for itself)."""
        prefix = f"{classroom_unit_path}__" if classroom_unit_path else ""
        if self.academic_year_id is not None:
            queryset = queryset.filter(
                **{f"{prefix}classroom__term__academic_year_id": self.academic_year_id}
            )
        if self.school_id is not None:
            queryset = queryset.filter(**{f"{prefix}classroom__school_id": self.school_id})
        if self.subject:
            queryset = queryset.filter(**{f"{prefix}unit__subject": self.subject})
        if self.unit_id is not None:
            queryset = queryset.filter(**{f"{prefix}unit_id": self.unit_id})
        return queryset


def export_filters_described(*, scope: ExportScope, filters: ExportFilters) -> dict[str, str]:
    """The filters as people read them in the audit log (names, with ids); unset ones left out."""
    actor = scope.actor
    described: dict[str, str] = {}
    if filters.academic_year_id is not None:
        year = AcademicYear.objects.visible_to(actor).filter(pk=filters.academic_year_id).first()
        described["academic year"] = _named(year, filters.academic_year_id)
    if filters.school_id is not None:
        school = School.objects.visible_to(actor).filter(pk=filters.school_id).first()
        described["school"] = _named(school, filters.school_id)
    if filters.subject:
        described["subject"] = filters.subject
    if filters.unit_id is not None:
        unit = Unit.objects.visible_to(actor).filter(pk=filters.unit_id).first()
        described["unit"] = _named(unit, filters.unit_id)
    return described


def _named(row: Model | None, pk: int) -> str:
    return f"{row} (#{pk})" if row is not None else f"#{pk} (not visible)"


# ---------------------------------------------------------------------------------------------
# The exports: columns and rows of each kind
# ---------------------------------------------------------------------------------------------


def _place_columns(prefix: str) -> tuple[ExportColumn, ...]:
    """Where a classroom unit was taught, reached by ``prefix`` (ending in __, or '')."""
    return (
        ExportColumn("classroom_unit_id", f"{prefix}id" if prefix else "pk", ColumnType.INTEGER),
        ExportColumn("school_code", f"{prefix}classroom__school__code"),
        ExportColumn("school_name", f"{prefix}classroom__school__name"),
        ExportColumn("academic_year", f"{prefix}classroom__term__academic_year__name"),
        ExportColumn("term", f"{prefix}classroom__term__name"),
        ExportColumn("classroom_name", f"{prefix}classroom__name"),
        ExportColumn("subject", f"{prefix}unit__subject"),
        ExportColumn("unit_title", f"{prefix}unit__title"),
    )


STUDENT_NAME_COLUMNS = (
    ExportColumn("student_sis_id", "student__sis_id"),
    ExportColumn("student_family_name", "student__family_name"),
    ExportColumn("student_given_name", "student__given_name"),
)

SCORE_COLUMNS: tuple[ExportColumn, ...] = (
    *STUDENT_NAME_COLUMNS,
    ExportColumn("school_name", "classroom_unit__classroom__school__name"),
    ExportColumn("classroom_name", "classroom_unit__classroom__name"),
    ExportColumn("unit_title", "classroom_unit__unit__title"),
    ExportColumn("assessment_kind", "assessment_skill__assessment__kind", ColumnType.CODE),
    ExportColumn("assessment_week", "assessment_skill__assessment__week", ColumnType.INTEGER),
    ExportColumn("skill_code", "assessment_skill__skill__code"),
    ExportColumn("points", "points", ColumnType.DECIMAL),
    ExportColumn("max_points", "assessment_skill__max_points", ColumnType.DECIMAL),
    ExportColumn("status", "status", ColumnType.CODE),
    ExportColumn("entered_at", "entered_at", ColumnType.TIMESTAMP),
)

STUDENT_GROWTH_COLUMNS: tuple[ExportColumn, ...] = (
    *STUDENT_NAME_COLUMNS,
    ExportColumn("student_grade_level", "student__grade_level", ColumnType.CODE),
    *_place_columns("classroom_unit__"),
    ExportColumn("pre_percentage", "pre_percentage", ColumnType.NUMBER, places=2),
    ExportColumn("post_percentage", "post_percentage", ColumnType.NUMBER, places=2),
    ExportColumn("gain", "gain", ColumnType.NUMBER, places=2),
    ExportColumn("normalized_gain", "normalized_gain", ColumnType.NUMBER, places=4),
    ExportColumn("is_at_ceiling", "is_at_ceiling", ColumnType.BOOLEAN),
    ExportColumn("has_little_room_to_grow", "has_little_room_to_grow", ColumnType.BOOLEAN),
    ExportColumn("is_target_met", "is_target_met", ColumnType.BOOLEAN),
    ExportColumn("is_complete", "is_complete", ColumnType.BOOLEAN),
    ExportColumn("pre_band", "pre_band", ColumnType.CODE),
    ExportColumn("post_band", "post_band", ColumnType.CODE),
    ExportColumn("slope_per_week", "slope_per_week", ColumnType.NUMBER, places=2),
    ExportColumn("built_at", "built_at", ColumnType.TIMESTAMP),
)


def score_rows(*, scope: ExportScope, filters: ExportFilters) -> QuerySet[Score]:
    """Student-level scores: one row per student × assessment × skill with points or a status,
    in the classrooms of the scope.

    In no particular order: sorting millions of rows would hold back the first byte until the
    last row is read (a spreadsheet sorts them in a moment).
    """
    rows = Score.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom_unit__classroom")
    )
    return filters.apply(rows, "classroom_unit").order_by()


def student_growth_rows(*, scope: ExportScope, filters: ExportFilters) -> QuerySet[StudentGrowth]:
    """Stored student growth (reports.StudentGrowth): one row per enrolled student × classroom
    unit, as the last growth build left it (``built_at``); in no particular order."""
    rows = StudentGrowth.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom_unit__classroom")
    )
    return filters.apply(rows, "classroom_unit").order_by()


def classroom_unit_ids(*, scope: ExportScope, filters: ExportFilters) -> list[int]:
    """The classroom units an export covers, in id order: how a job splits it into batches."""
    classroom_units = ClassroomUnit.objects.visible_to(scope.actor).filter(
        scope.classrooms_q("classroom")
    )
    return list(filters.apply(classroom_units, "").order_by("pk").values_list("pk", flat=True))


# Aggregate growth: the stored summaries, de-identified, suppressed as the reports suppress them.

AGGREGATE_LEVELS = ("district", "school", "classroom")

# Statistics of a summary row: (column, type, decimals). Empty on a suppressed row, always.
AGGREGATE_STATISTICS: tuple[tuple[str, ColumnType, int], ...] = (
    ("n", ColumnType.INTEGER, 0),
    ("incomplete_count", ColumnType.INTEGER, 0),
    ("mean_pre_percentage", ColumnType.NUMBER, 2),
    ("mean_post_percentage", ColumnType.NUMBER, 2),
    ("mean_gain", ColumnType.NUMBER, 2),
    ("mean_gain_lower", ColumnType.NUMBER, 2),
    ("mean_gain_upper", ColumnType.NUMBER, 2),
    ("class_average_normalized_gain", ColumnType.NUMBER, 4),
    ("hake_band", ColumnType.CODE, 0),
    ("mean_individual_normalized_gain", ColumnType.NUMBER, 4),
    ("at_ceiling_count", ColumnType.INTEGER, 0),
    ("little_room_to_grow_count", ColumnType.INTEGER, 0),
    ("effect_size_d_av", ColumnType.NUMBER, 4),
    ("target_met_count", ColumnType.INTEGER, 0),
    ("share_meeting_target", ColumnType.NUMBER, 4),
    ("pre_gap", ColumnType.NUMBER, 2),
    ("post_gap", ColumnType.NUMBER, 2),
    ("gap_change", ColumnType.NUMBER, 2),
)


def _unless_suppressed(field_name: str, output_field: Field[Any, Any]) -> Combinable:
    """The field, or NULL on a suppressed row: the builders store suppressed rows empty, and
    the export never relies on that alone (a suppressed cell must not be recoverable)."""
    return Case(
        When(is_suppressed=True, then=Value(None, output_field=output_field)),
        default=F(field_name),
        output_field=output_field,
    )


def _blank_text() -> Value:
    return Value("", output_field=CharField())


def _aggregate_columns(level: str) -> tuple[ExportColumn, ...]:
    """The columns of one level's summary rows; every level has the same columns, so the rows of
    all three share one header."""
    school = {
        "district": None,
        "school": "school__",
        "classroom": "classroom_unit__classroom__school__",
    }
    unit = "classroom_unit__unit__" if level == "classroom" else "unit__"
    school_prefix = school[level]
    is_classroom = level == "classroom"

    def text(path: str | None) -> str | Combinable:
        return path if path is not None else _blank_text()

    statistics = []
    for name, column_type, places in AGGREGATE_STATISTICS:
        output_field: Field[Any, Any]
        if column_type is ColumnType.INTEGER:
            output_field = IntegerField()
        elif column_type is ColumnType.CODE:
            output_field = CharField()
        else:
            output_field = FloatField()
        statistics.append(
            ExportColumn(name, _unless_suppressed(name, output_field), column_type, places=places)
        )
    return (
        ExportColumn("level", Value(level, output_field=CharField()), ColumnType.CODE),
        ExportColumn("school_code", text(f"{school_prefix}code" if school_prefix else None)),
        ExportColumn("school_name", text(f"{school_prefix}name" if school_prefix else None)),
        ExportColumn(
            "classroom_unit_id",
            "classroom_unit_id" if is_classroom else Value(None, output_field=IntegerField()),
            ColumnType.INTEGER,
        ),
        ExportColumn(
            "classroom_name", text("classroom_unit__classroom__name" if is_classroom else None)
        ),
        ExportColumn(
            "academic_year",
            text("classroom_unit__classroom__term__academic_year__name" if is_classroom else None),
        ),
        ExportColumn(
            "term", text("classroom_unit__classroom__term__name" if is_classroom else None)
        ),
        ExportColumn("subject", f"{unit}subject"),
        ExportColumn("unit_title", f"{unit}title"),
        ExportColumn("student_group", "student_group__name"),
        ExportColumn("part", "part", ColumnType.CODE),
        ExportColumn("is_suppressed", "is_suppressed", ColumnType.BOOLEAN),
        ExportColumn("suppression_reason", "suppression_reason", ColumnType.CODE),
        *statistics,
        ExportColumn("built_at", "built_at", ColumnType.TIMESTAMP),
    )


AGGREGATE_COLUMNS: dict[str, tuple[ExportColumn, ...]] = {
    level: _aggregate_columns(level) for level in AGGREGATE_LEVELS
}


def _taught_in_year(scope: ExportScope, year_id: int, **match: Any) -> Exists:
    """Whether the row's unit was taught in ``year_id`` (in the row's school, for school rows)."""
    classroom_units = ClassroomUnit.objects.visible_to(scope.actor).filter(
        unit_id=OuterRef("unit_id"), classroom__term__academic_year_id=year_id, **match
    )
    return Exists(classroom_units)


def aggregate_rows(
    *, scope: ExportScope, filters: ExportFilters
) -> list[tuple[str, QuerySet[Any]]]:
    """The summary rows of each level (district, school, classroom) the actor may export.

    District admins: the district × unit rows, and every school's and classroom's. Coaches: the
    rows of the schools they coach and of those schools' classrooms. Teachers: the rows of their
    own classrooms. Each starts from ``visible_to(actor)``. A school filter leaves out the
    district rows (they cover every school); an academic year keeps the school and district rows
    of units taught in that year.
    """
    district_id = scope.district.pk
    districts: QuerySet[Any] = DistrictUnitGrowthSummary.objects.visible_to(scope.actor).filter(
        district_id=district_id
    )
    schools: QuerySet[Any] = SchoolUnitGrowthSummary.objects.visible_to(scope.actor).filter(
        school__district_id=district_id
    )
    classrooms: QuerySet[Any] = ClassroomUnitGrowthSummary.objects.visible_to(scope.actor).filter(
        classroom_unit__classroom__school__district_id=district_id
    )
    if not scope.is_district_admin:
        districts = districts.none()
        schools = schools.filter(
            school__in=School.objects.visible_to(scope.actor).filter(coaches=scope.actor)
        )
        reached = Classroom.objects.visible_to(scope.actor).filter(
            Q(teachers=scope.actor) | Q(school__coaches=scope.actor)
        )
        classrooms = classrooms.filter(classroom_unit__classroom__in=reached.values("pk"))
    if filters.school_id is not None:
        districts = districts.none()
        schools = schools.filter(school_id=filters.school_id)
    if filters.unit_id is not None:
        districts = districts.filter(unit_id=filters.unit_id)
        schools = schools.filter(unit_id=filters.unit_id)
    if filters.subject:
        districts = districts.filter(unit__subject=filters.subject)
        schools = schools.filter(unit__subject=filters.subject)
    if filters.academic_year_id is not None:
        year = filters.academic_year_id
        districts = districts.filter(_taught_in_year(scope, year))
        schools = schools.filter(
            _taught_in_year(scope, year, classroom__school_id=OuterRef("school_id"))
        )
    classrooms = filters.apply(classrooms, "classroom_unit")
    group_order = ("student_group__name", "part")
    return [
        ("district", districts.order_by("unit__title", *group_order)),
        ("school", schools.order_by("school__name", "unit__title", *group_order)),
        (
            "classroom",
            classrooms.order_by(
                "classroom_unit__classroom__school__name",
                "classroom_unit__classroom__name",
                "classroom_unit__unit__title",
                *group_order,
            ),
        ),
    ]


@dataclass(frozen=True)
class CsvExport:
    """One CSV export kind: its columns, and its rows for a scope and filters (a queryset
    whose rows reach ClassroomUnit by ``classroom_unit_path``)."""

    kind: ExportKind
    columns: tuple[ExportColumn, ...]
    rows: Callable[..., QuerySet[Any]]
    classroom_unit_path: str = "classroom_unit"


CSV_EXPORTS: dict[str, CsvExport] = {
    ExportKind.SCORES: CsvExport(ExportKind.SCORES, SCORE_COLUMNS, score_rows),
    ExportKind.STUDENT_GROWTH: CsvExport(
        ExportKind.STUDENT_GROWTH, STUDENT_GROWTH_COLUMNS, student_growth_rows
    ),
}
STUDENT_LEVEL_KINDS = frozenset(
    {ExportKind.SCORES, ExportKind.STUDENT_GROWTH, ExportKind.ONEROSTER_RESULTS}
)


def export_kinds_available(*, actor: Any) -> list[ExportKind]:
    """The kinds of export ``actor`` may ask for (none for someone who may not export)."""
    available = []
    for kind in ExportKind:
        try:
            export_scope(actor=actor, student_level=kind in STUDENT_LEVEL_KINDS)
        except PermissionDenied:
            continue
        available.append(kind)
    return available


# ---------------------------------------------------------------------------------------------
# Preparing an export, and its bytes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreparedExport:
    """An export the actor may run: kind, scope, filters and options."""

    kind: ExportKind
    scope: ExportScope
    filters: ExportFilters = field(default_factory=ExportFilters)
    excel: bool = False

    @property
    def label(self) -> str:
        return str(self.kind.label)

    @property
    def is_zip(self) -> bool:
        return self.kind == ExportKind.ONEROSTER_RESULTS

    @property
    def content_type(self) -> str:
        return "application/zip" if self.is_zip else _CSV_TYPE

    @property
    def filename(self) -> str:
        return export_filename(
            district=self.scope.district, kind=self.kind, day=timezone.localdate()
        )

    def audit_parameters(self, **extra: Any) -> dict[str, Any]:
        filters = export_filters_described(scope=self.scope, filters=self.filters)
        return {
            "export": self.label,
            "filters": filters or "none (everything in scope)",
            "format": "zip of CSV files" if self.is_zip else _csv_format(self.excel),
            **extra,
        }


def export_filename(*, district: District, kind: ExportKind, day: datetime.date) -> str:
    """e.g. ``riverbend-unified-scores-2026-11-23.csv`` (OneRoster results: ``.zip``)."""
    name = slugify(district.name) or "district"
    extension = "zip" if kind == ExportKind.ONEROSTER_RESULTS else "csv"
    return f"{name}-{kind.value.replace('_', '-')}-{day.isoformat()}.{extension}"


def _csv_format(excel: bool) -> str:
    return "CSV, UTF-8 with byte-order mark (Excel)" if excel else "CSV, UTF-8"


def export_prepare(
    *, actor: Any, kind: str, filters: ExportFilters | None = None, excel: bool = False
) -> PreparedExport:
    """Check that ``actor`` may run this export; PermissionDenied or ValidationError if not."""
    try:
        export_kind = ExportKind(kind)
    except ValueError:
        raise ValidationError({"kind": f"Unknown export {kind!r}."}) from None
    scope = export_scope(actor=actor, student_level=export_kind in STUDENT_LEVEL_KINDS)
    return PreparedExport(
        kind=export_kind, scope=scope, filters=filters or ExportFilters(), excel=excel
    )


def export_row_count(*, prepared: PreparedExport, at_most: int | None = None) -> int:
    """Rows the export will write (for OneRoster: results), counting at most ``at_most``."""
    total = 0
    for rows in _main_rows(prepared):
        rows = rows.order_by()
        if at_most is not None:
            rows = rows[: max(at_most - total, 0)]
        total += rows.count()
    return total


def export_exceeds_threshold(*, prepared: PreparedExport) -> bool:
    """Whether the export is too large to stream in a request (more than
    THINSLICE_EXPORT_ASYNC_ROWS rows). The COUNT stops one row past the threshold."""
    threshold = export_async_rows()
    if threshold <= 0:
        return False
    return export_row_count(prepared=prepared, at_most=threshold + 1) > threshold


def _main_rows(prepared: PreparedExport) -> list[QuerySet[Any]]:
    scope, filters = prepared.scope, prepared.filters
    if prepared.kind == ExportKind.ONEROSTER_RESULTS:
        from assessments import oneroster_results

        return [oneroster_results.result_rows(scope=scope, filters=filters)]
    if prepared.kind == ExportKind.AGGREGATE_GROWTH:
        return [rows for _level, rows in aggregate_rows(scope=scope, filters=filters)]
    return [CSV_EXPORTS[prepared.kind].rows(scope=scope, filters=filters)]


def export_blocks(
    *, prepared: PreparedExport, progress: ExportProgress, batches: list[list[int]] | None = None
) -> Iterator[bytes]:
    """The export's bytes as they are read (small blocks; ``rebuffer`` them).

    Without ``batches`` the rows are read in one transaction (a streamed response); with them,
    one transaction per batch of classroom unit ids, calling ``progress.batch_done()`` after each
    (a job). Both give the same bytes. Aggregate growth (a few rows per unit) is read level by
    level.
    """
    if prepared.kind == ExportKind.ONEROSTER_RESULTS:
        from assessments import oneroster_results

        yield from oneroster_results.results_zip_blocks(
            scope=prepared.scope, filters=prepared.filters, progress=progress, batches=batches
        )
        return
    if prepared.excel:
        yield BOM.encode("utf-8")
    if prepared.kind == ExportKind.AGGREGATE_GROWTH:
        yield csv_line(column.name for column in AGGREGATE_COLUMNS["district"])
        for level, level_rows in aggregate_rows(scope=prepared.scope, filters=prepared.filters):
            with transaction.atomic():
                yield from rows_csv_blocks(level_rows, AGGREGATE_COLUMNS[level], progress)
            if batches is not None:
                progress.batch_done()
        return
    export = CSV_EXPORTS[prepared.kind]
    yield csv_line(column.name for column in export.columns)
    rows = export.rows(scope=prepared.scope, filters=prepared.filters)
    if batches is None:
        with transaction.atomic():
            yield from rows_csv_blocks(rows, export.columns, progress)
        return
    for batch in batches:
        batch_rows = rows.filter(**{f"{export.classroom_unit_path}_id__in": batch})
        with transaction.atomic():
            yield from rows_csv_blocks(batch_rows, export.columns, progress)
        progress.batch_done()


def export_stream(*, prepared: PreparedExport) -> Iterator[bytes]:
    """The export in ~256 KB chunks, for a StreamingHttpResponse; audited when it ends.

    Succeeded once the last chunk is handed over; failed (with the rows written so far) when
    reading fails or the client goes away before the end.
    """
    progress = ExportProgress()
    size = 0
    try:
        for chunk in rebuffer(export_blocks(prepared=prepared, progress=progress)):
            size += len(chunk)
            yield chunk
    except GeneratorExit:
        _audit_export(
            prepared,
            progress.rows,
            succeeded=False,
            delivery="streamed",
            message="The download stopped before the end (the connection was closed).",
        )
        raise
    except Exception as error:
        _audit_export(
            prepared,
            progress.rows,
            succeeded=False,
            delivery="streamed",
            message=f"The export failed while reading rows ({type(error).__name__}).",
        )
        raise
    _audit_export(prepared, progress.rows, succeeded=True, delivery="streamed", size=size)


def _audit_export(
    prepared: PreparedExport,
    row_count: int,
    *,
    succeeded: bool,
    delivery: str,
    message: str = "",
    size: int | None = None,
    job: ExportJob | None = None,
) -> None:
    """One audit row for one export; a failure to audit is logged, never masks the export's
    own error."""
    noun = "row" if row_count == 1 else "rows"
    if not message:
        message = f"{prepared.label}: {row_count} {noun} {delivery}."
    extra: dict[str, Any] = {"delivery": delivery}
    if job is not None:
        extra["job"] = job.pk
    result: dict[str, Any] = {"rows": row_count}
    if size is not None:
        result["bytes"] = size
    try:
        audit_event_record(
            district=prepared.scope.district,
            actor=prepared.scope.actor,
            kind=f"export_{prepared.kind.value}",
            parameters=prepared.audit_parameters(**extra),
            row_count=row_count,
            succeeded=succeeded,
            message=message,
            result=result,
        )
    except DatabaseError:
        if succeeded:
            raise
        logger.exception("Could not record the failed export in the audit log")


# ---------------------------------------------------------------------------------------------
# Jobs: large exports written to a file by Celery
# ---------------------------------------------------------------------------------------------


@transaction.atomic
def export_job_create(*, prepared: PreparedExport) -> ExportJob:
    """Queue ``prepared`` as an ExportJob; the task starts after the transaction commits."""
    job = ExportJob(
        district=prepared.scope.district,
        requested_by=prepared.scope.actor,
        kind=prepared.kind,
        parameters={"filters": prepared.filters.as_json(), "excel": prepared.excel},
    )
    job.full_clean()
    job.save()
    from assessments.tasks import export_csv_task

    transaction.on_commit(lambda: export_csv_task.delay(job.pk))
    return job


def _job_prepared(job: ExportJob) -> PreparedExport:
    """The job's export, scoped again to its requester as they are now."""
    return export_prepare(
        actor=job.requested_by,
        kind=job.kind,
        filters=ExportFilters.from_json(job.parameters.get("filters") or {}),
        excel=bool(job.parameters.get("excel")),
    )


def _jobs() -> QuerySet[ExportJob]:
    # cross-tenant: a task knows only the job's id; the rows it writes are scoped to
    # job.requested_by (``_job_prepared``), and pages reach jobs through visible_to.
    return ExportJob.objects.all_schools()


def export_job_run(*, job_id: int) -> ExportJob:
    """Write a claimed (running) job's file: re-scope to the requester, count the rows, write
    batches of classroom units to a temporary file with the progress saved after each, then
    move it into place and mark the job succeeded. Transient database errors are raised for
    the task to retry (nothing is kept); any other error fails the job with the reason."""
    job = _jobs().select_related("requested_by", "district").get(pk=job_id)
    if job.status != ExportStatus.RUNNING:
        return job
    part_path: Path | None = None
    try:
        prepared = _job_prepared(job)
        estimated = export_row_count(prepared=prepared)
        _jobs().filter(pk=job.pk).update(estimated_rows=estimated, rows_written=0)
        batch_size = _job_batch_classroom_units()
        ids = classroom_unit_ids(scope=prepared.scope, filters=prepared.filters)
        batches = [ids[start : start + batch_size] for start in range(0, len(ids), batch_size)]
        relative = Path(str(job.district_id)) / f"{job.pk}-{secrets.token_hex(8)}"
        relative = relative.with_suffix(".zip" if prepared.is_zip else ".csv")
        final_path = export_directory() / relative
        final_path.parent.mkdir(parents=True, exist_ok=True)
        part_path = final_path.with_name(final_path.name + ".part")

        def checkpoint(rows: int) -> None:
            _jobs().filter(pk=job.pk).update(rows_written=rows)

        progress = ExportProgress(checkpoint=checkpoint)
        with part_path.open("wb") as output:
            for chunk in rebuffer(
                export_blocks(prepared=prepared, progress=progress, batches=batches)
            ):
                output.write(chunk)
        size = part_path.stat().st_size
        os.replace(part_path, final_path)
        part_path = None
    except TRANSIENT_ERRORS:
        _remove(part_path)
        raise
    except PermissionDenied as refused:
        _remove(part_path)
        return export_job_fail(job_id=job.pk, message=f"Refused: {refused}")
    except Exception as error:
        logger.exception("Export job %s failed", job.pk)
        _remove(part_path)
        return export_job_fail(
            job_id=job.pk, message=f"The export failed ({type(error).__name__})."
        )
    finished_at = timezone.now()
    with transaction.atomic():
        finished = (
            _jobs()
            .filter(pk=job.pk, status=ExportStatus.RUNNING)
            .update(
                status=ExportStatus.SUCCEEDED,
                rows_written=progress.rows,
                file_name=str(relative),
                file_size=size,
                finished_at=finished_at,
                expires_at=finished_at + export_ttl(),
                message="",
            )
        )
        job.refresh_from_db()
        if finished:
            _audit_export(
                prepared,
                progress.rows,
                succeeded=True,
                delivery=f"written to a file (job #{job.pk})",
                size=size,
                job=job,
            )
    if not finished:  # stopped while being written (export_job_files_withdraw): never served
        _remove(final_path)
    return job


class ExportClaim(StrEnum):
    """What ``export_job_claim`` found: the job is this worker's to write, finished (or gone),
    or held by another worker still connected to the database."""

    CLAIMED = "claimed"
    DONE = "done"
    BUSY = "busy"


@contextmanager
def export_job_claim(*, job_id: int) -> Iterator[ExportClaim]:
    """Claim a job for the worker running the block.

    One worker at a time writes a job: on PostgreSQL the claimer holds a session advisory lock
    on the job until the block ends, which the server drops by itself when a worker dies (its
    connection closes, noticed once the backend's current statement ends; the claim waits up to
    EXPORT_CLAIM_WAIT_SECONDS for that, then answers BUSY). Holding it, the worker moves the job
    to running from pending, or from running: a running job whose lock nobody holds was being
    written by a worker that died, and its message came back (acks late). Whatever such a
    worker left of the job's file is removed. A job that succeeded or failed is DONE, and a job
    already started EXPORT_MAX_ATTEMPTS times fails with the reason instead of starting again.
    """
    if not _job_lock(job_id):
        yield ExportClaim.BUSY
        return
    try:
        claimed = (
            _jobs()
            .filter(id=job_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING])
            .update(
                status=ExportStatus.RUNNING,
                started_at=timezone.now(),
                attempts=F("attempts") + 1,
                rows_written=0,
            )
        )
        if not claimed:
            yield ExportClaim.DONE
            return
        job = _jobs().only("pk", "district_id", "attempts").get(pk=job_id)
        _job_files_remove(job)
        if job.attempts > EXPORT_MAX_ATTEMPTS:
            export_job_fail(
                job_id=job_id,
                message=(
                    f"The export was started {EXPORT_MAX_ATTEMPTS} times without finishing "
                    "(the worker writing it stopped each time). Try a smaller export, or ask an "
                    "administrator to check the background worker."
                ),
            )
            yield ExportClaim.DONE
            return
        yield ExportClaim.CLAIMED
    finally:
        _job_unlock(job_id)


def _job_lock(job_id: int) -> bool:
    if connection.vendor != "postgresql":
        return True  # SQLite runs tasks inline, in the process that queued them
    deadline = time.monotonic() + EXPORT_CLAIM_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_JOB_LOCK_NAMESPACE, job_id])
            if cursor.fetchone()[0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


def _job_unlock(job_id: int) -> None:
    if connection.vendor != "postgresql":
        return
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_JOB_LOCK_NAMESPACE, job_id])
    except DatabaseError:
        # The connection is gone, and the lock went with it.
        logger.warning("Export job %s: the connection holding its lock was lost", job_id)


def _job_files_remove(job: ExportJob) -> None:
    """Remove every file of a job that has not succeeded: what an interrupted run left, whole
    or partly written (a succeeded job's file name is recorded; these are not)."""
    directory = export_directory() / str(job.district_id)
    for path in directory.glob(f"{job.pk}-*"):
        _remove(path)


class ExportAttempt(StrEnum):
    """How one delivery of a job's task ended: the job succeeded or failed, nothing was to be
    done, the job is being written by another worker (look again later), or a transient error
    asks for a retry."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    BUSY = "busy"
    RETRY = "retry"


def export_job_attempt(*, job_id: int, may_retry: bool) -> ExportAttempt:
    """One delivery of a job's task: claim the job (``export_job_claim``) and write it.

    A transient database error, while claiming or writing, asks for a retry (``RETRY``, the job
    put back to pending) when ``may_retry``, and otherwise fails the job with the reason.
    """
    try:
        with export_job_claim(job_id=job_id) as claim:
            if claim == ExportClaim.DONE:
                return ExportAttempt.SKIPPED
            if claim == ExportClaim.BUSY:
                return ExportAttempt.BUSY
            return ExportAttempt(export_job_run(job_id=job_id).status)
    except TRANSIENT_ERRORS as error:
        reason = f"The database was unavailable ({type(error).__name__})."
        if not connection.in_atomic_block:  # inline in a caller's transaction: keep it
            close_old_connections()  # a lost connection is opened again
    if may_retry:
        export_job_release(job_id=job_id, message=f"{reason} Trying again.")
        return ExportAttempt.RETRY
    job = export_job_fail(job_id=job_id, message=f"{reason} Gave up after retries.")
    return ExportAttempt(job.status)


def export_job_release(*, job_id: int, message: str) -> None:
    """Put a running job back to pending before its task retries (the claim is taken again)."""
    _jobs().filter(pk=job_id, status=ExportStatus.RUNNING).update(
        status=ExportStatus.PENDING, message=message
    )


def export_job_fail(*, job_id: int, message: str) -> ExportJob:
    """Mark a job failed with the reason, and audit the failed export."""
    _jobs().filter(pk=job_id).exclude(status=ExportStatus.SUCCEEDED).update(
        status=ExportStatus.FAILED, message=message, finished_at=timezone.now()
    )
    job = _jobs().select_related("requested_by", "district").get(pk=job_id)
    try:
        prepared = _job_prepared(job)
    except (PermissionDenied, ValidationError):
        # The requester may no longer export: audit with what the job itself knows.
        audit_event_record(
            district=job.district,
            actor=job.requested_by,
            kind=f"export_{job.kind}",
            parameters={"export": job.get_kind_display(), "job": job.pk, **job.parameters},
            row_count=job.rows_written,
            succeeded=False,
            message=message,
        )
        return job
    _audit_export(
        prepared,
        job.rows_written,
        succeeded=False,
        delivery=f"written to a file (job #{job.pk})",
        message=message,
        job=job,
    )
    return job


def _remove(path: Path | None) -> None:
    if path is not None:
        path.unlink(missing_ok=True)


class ExportFileGone(Exception):
    """The job's file expired or is no longer there (HTTP 410)."""


@dataclass(frozen=True)
class ExportFile:
    path: Path
    filename: str
    content_type: str
    size: int


def export_job_file_open(*, actor: Any, job_id: int) -> ExportFile:
    """The file of a job ``actor`` may download (the requester or a district admin of its
    district, through ``visible_to``), and an audit row for the download.

    ExportJob.DoesNotExist when the job is not theirs to see; ValidationError while it is not
    ready; ExportFileGone once it expired (the file is then removed).
    """
    job = (
        ExportJob.objects.visible_to(actor)
        .select_related("district", "requested_by")
        .get(pk=job_id)
    )
    if job.status != ExportStatus.SUCCEEDED:
        raise ValidationError("This export is not ready: it is still running or it failed.")
    path = export_directory() / job.file_name
    if job.expires_at is None or job.expires_at <= timezone.now():
        _remove(path)
        raise ExportFileGone("This export has expired. Export the data again.")
    if not path.is_file():
        raise ExportFileGone("This export's file is no longer there. Export the data again.")
    label = job.get_kind_display()
    audit_event_record(
        district=job.district,
        actor=actor,
        kind="export_download",
        parameters={
            "export": label,
            "job": job.pk,
            "requested by": str(job.requested_by),
            "written at": job.finished_at,
        },
        row_count=job.rows_written,
        succeeded=True,
        message=f"Downloaded the file of {label} (job #{job.pk}).",
    )
    kind = ExportKind(job.kind)
    written_on = timezone.localtime(job.finished_at or job.created_at).date()
    return ExportFile(
        path=path,
        filename=export_filename(district=job.district, kind=kind, day=written_on),
        content_type="application/zip" if kind == ExportKind.ONEROSTER_RESULTS else _CSV_TYPE,
        size=job.file_size,
    )


def export_job_files_expire() -> int:
    """Delete the files of expired jobs (the job rows stay, for the record); returns how many."""
    removed = 0
    expired = (
        _jobs()
        .filter(status=ExportStatus.SUCCEEDED, expires_at__lte=timezone.now())
        .exclude(file_name="")
    )
    for file_name in expired.values_list("file_name", flat=True).iterator():
        path = export_directory() / file_name
        if path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def export_job_files_withdraw(*, district_id: int, reason: str) -> int:
    """Withdraw every student-level export of a district whose rows may name a student whose
    data was just deleted: ready files expire at once (removed once the caller's transaction
    commits; a rollback keeps them), and jobs still waiting or being written are stopped, failed
    with ``reason`` (a batch written before the deletion may hold the student; the worker
    writing one removes its file instead of finishing it). Aggregate exports hold no student and
    stay. Returns how many jobs were withdrawn; their rows stay, for the record, with ``reason``.
    """
    now = timezone.now()
    # Locked, so a job finishing meanwhile is seen finished (and expired), never missed.
    jobs = list(
        _jobs()
        .select_for_update()
        .filter(district_id=district_id, kind__in=[kind.value for kind in STUDENT_LEVEL_KINDS])
        .filter(
            Q(status=ExportStatus.SUCCEEDED, expires_at__gt=now)
            | Q(status__in=[ExportStatus.PENDING, ExportStatus.RUNNING])
        )
        .order_by("pk")
        .values_list("pk", "status")
    )
    ready = [pk for pk, status in jobs if status == ExportStatus.SUCCEEDED]
    if ready:
        _jobs().filter(pk__in=ready).update(expires_at=now, message=reason)
        transaction.on_commit(export_job_files_expire)
    for pk, status in jobs:
        if status != ExportStatus.SUCCEEDED:
            export_job_fail(job_id=pk, message=f"{reason} This export was stopped; export again.")
    return len(jobs)


def export_job_list(*, actor: Any, limit: int = 20) -> list[ExportJob]:
    """The latest jobs ``actor`` may see (their own; a district admin's: the district's)."""
    return list(
        ExportJob.objects.visible_to(actor)
        .select_related("requested_by")
        .order_by("-created_at", "-pk")[:limit]
    )
