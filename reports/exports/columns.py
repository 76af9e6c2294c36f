"""The column language of exports: what a column holds and how PostgreSQL writes it for COPY.

A column is a header, a source (an ORM path or expression) and a type; the type alone decides
how the value is written. Only text is neutralised for spreadsheets: every place a spreadsheet
could start a formula (the cell's start, or after an embedded separator; fullwidth signs too)
gets a single quote, by the rule of ``classrooms.spreadsheets``, so numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import Combinable

from classrooms.spreadsheets import SQL_FORMULA_PATTERN, SQL_FORMULA_REPLACEMENT


def _sql_literal(text: str) -> str:
    """A constant as an SQL string literal (standard strings: only quotes are doubled)."""
    return "'" + text.replace("'", "''") + "'"


_FORMULA_PATTERN_SQL = _sql_literal(SQL_FORMULA_PATTERN)
_FORMULA_REPLACEMENT_SQL = _sql_literal(SQL_FORMULA_REPLACEMENT)


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


def sql_format(column: ExportColumn, alias: str) -> str:
    """The SQL that writes the value ``export_rows.<alias>`` as the column's type says (COPY
    writes NULL as an empty cell)."""
    value = f"export_rows.{alias}"
    match column.type:
        case ColumnType.TEXT:
            # Spreadsheet-safe text (classrooms/spreadsheets.py); empty text becomes NULL so
            # COPY writes it unquoted.
            return (
                f"NULLIF(regexp_replace(({value})::text, {_FORMULA_PATTERN_SQL}, "
                f"{_FORMULA_REPLACEMENT_SQL}, 'g'), '')"
            )
        case ColumnType.CODE:
            return f"NULLIF(({value})::text, '')"
        case ColumnType.INTEGER | ColumnType.DECIMAL:
            return value
        case ColumnType.NUMBER:
            # float8 → numeric keeps 15 significant digits; numeric rounds half away from zero
            # and has no negative zero.
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


def column_aliases(columns: Sequence[ExportColumn]) -> list[str]:
    """The name each column's raw value gets in the inner query, in column order."""
    return [f"export_c{index}" for index in range(len(columns))]


def selected(queryset: QuerySet[Any], columns: Sequence[ExportColumn]) -> QuerySet[Any]:
    """The queryset's rows as one tuple of raw values per row, in column order."""
    aliases = column_aliases(columns)
    expressions = {alias: column.expression for alias, column in zip(aliases, columns, strict=True)}
    return queryset.annotate(**expressions).values_list(*aliases)
