"""The column language of exports: what a column holds and how PostgreSQL writes it for COPY.

A column is a header, a source (an ORM path or expression) and a type; the type alone decides
how the value is written. Only text is neutralised for spreadsheets: a cell starting with ``=``,
``+``, ``-``, ``@``, tab or carriage return gets a leading single quote (the OWASP rule, the
same characters as ``assessments.score_csv.spreadsheet_safe``), so numbers stay numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db.models import F, QuerySet
from django.db.models.expressions import Combinable

from assessments.score_csv import FORMULA_STARTS


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


def sql_format(column: ExportColumn, alias: str) -> str:
    """The SQL that writes the value ``export_rows.<alias>`` as the column's type says (COPY
    writes NULL as an empty cell)."""
    value = f"export_rows.{alias}"
    match column.type:
        case ColumnType.TEXT:
            # Spreadsheet-safe text; empty text becomes NULL so COPY writes it unquoted.
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
