"""Writing CSV: header lines, rows streamed by PostgreSQL's COPY, chunks of about 256 KB.

Rows are written as they are read, so the exporting process's memory does not grow with the
number of rows: the query runs as ``COPY (query) TO STDOUT (FORMAT csv)``, each column formatted
in SQL (``columns.sql_format``), inside a transaction. UTF-8, LF line ends, a cell quoted only
when it must be (as COPY quotes); header lines and the few lines written in Python
(``csv_line``) are quoted the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet

from reports.exports.columns import ExportColumn, column_aliases, selected, sql_format

CHUNK_BYTES = 256 * 1024
BOM = "\ufeff"
LINE_END = "\n"
_NEEDS_QUOTES = re.compile(r'[",\r\n]')


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
    a double quote or a line end, or is the end-of-data marker."""
    if _NEEDS_QUOTES.search(text) or text == "\\.":
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_line(cells: Iterable[str]) -> bytes:
    """One CSV record as the exports write it (LF line end, minimal quoting), UTF-8."""
    return (",".join(csv_cell(cell) for cell in cells) + LINE_END).encode("utf-8")


def header_line(columns: Sequence[ExportColumn]) -> bytes:
    """The header record of ``columns``."""
    return csv_line(column.name for column in columns)


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


def copy_statement(
    queryset: QuerySet[Any], columns: Sequence[ExportColumn]
) -> tuple[str, tuple[Any, ...]]:
    """``COPY (query) TO STDOUT (FORMAT csv)`` for the rows, formatted in SQL, and its params.

    The inner query is the ORM's (scoped, filtered, ordered); the outer one only formats each
    column, so the order of the rows is the inner query's.
    """
    inner, params = selected(queryset, columns).query.sql_with_params()
    formatted = ", ".join(
        sql_format(column, alias)
        for column, alias in zip(columns, column_aliases(columns), strict=True)
    )
    # The inner SQL is the ORM's, with its values as parameters; the rest is fixed text.
    select = f"SELECT {formatted} FROM ({inner}) AS export_rows"  # noqa: S608
    return f"COPY ({select}) TO STDOUT (FORMAT csv)", tuple(params)


def rows_csv_blocks(
    queryset: QuerySet[Any], columns: Sequence[ExportColumn], progress: ExportProgress
) -> Iterator[bytes]:
    """The queryset's rows as CSV bytes (no header) in chunks of about CHUNK_BYTES, streamed by
    COPY as they are read. Call inside ``transaction.atomic()``."""
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


def batched_rows_csv_blocks(
    rows: QuerySet[Any],
    columns: Sequence[ExportColumn],
    progress: ExportProgress,
    *,
    batches: list[list[int]] | None,
    classroom_unit_path: str = "classroom_unit",
) -> Iterator[bytes]:
    """``rows`` (reaching ClassroomUnit by ``classroom_unit_path``) as CSV bytes: in one
    transaction without ``batches`` (a streamed response); with them, one transaction per batch
    of classroom unit ids and ``progress.batch_done()`` after each (a job). Both write the same
    rows."""
    if batches is None:
        with transaction.atomic():
            yield from rows_csv_blocks(rows, columns, progress)
        return
    for batch in batches:
        batch_rows = rows.filter(**{f"{classroom_unit_path}_id__in": batch})
        with transaction.atomic():
            yield from rows_csv_blocks(batch_rows, columns, progress)
        progress.batch_done()


def csv_file_blocks(
    columns: Sequence[ExportColumn],
    rows: QuerySet[Any],
    *,
    excel: bool,
    progress: ExportProgress,
    batches: list[list[int]] | None,
) -> Iterator[bytes]:
    """A whole CSV file of ``rows``: the byte-order mark when ``excel`` asks for it (so Excel
    reads UTF-8), the header, then the rows (``batched_rows_csv_blocks``)."""
    if excel:
        yield BOM.encode("utf-8")
    yield header_line(columns)
    yield from batched_rows_csv_blocks(rows, columns, progress, batches=batches)
