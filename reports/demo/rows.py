"""Writing the demo's rows in bulk, one school at a time so memory stays bounded.

Rows that need their ids back (schools, staff, students, classrooms, classroom units) go through
``bulk_create`` and ``require_ids``; the rest (group memberships, classroom teachers,
enrollments, scores) through a ``RowSink``, which writes them with PostgreSQL's COPY.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

BATCH_SIZE = 5000
COPY_BATCH_SIZE = 50_000


class RowSink:
    """Buffers rows of one table and COPYs them in batches of ``COPY_BATCH_SIZE``.

    Only for rows whose ids nobody needs back; ``attnames`` name the columns of each row tuple.
    """

    def __init__(self, model: type[models.Model], attnames: Sequence[str]) -> None:
        self.model = model
        self.attnames = tuple(attnames)
        self.rows: list[tuple[Any, ...]] = []
        self.written = 0

    def add(self, row: tuple[Any, ...]) -> None:
        self.rows.append(row)
        if len(self.rows) >= COPY_BATCH_SIZE:
            self.flush()

    def flush(self) -> None:
        if not self.rows:
            return
        self._copy()
        self.written += len(self.rows)
        self.rows.clear()

    def _copy(self) -> None:
        quote = connection.ops.quote_name
        concrete_fields = self.model._meta.concrete_fields
        column_of = {f.attname: f.column for f in concrete_fields if f.column is not None}
        columns = ", ".join(quote(column_of[attname]) for attname in self.attnames)
        statement = f"COPY {quote(self.model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in self.rows:
                copy.write_row(row)


def require_ids(rows: Sequence[models.Model]) -> None:
    """Stop when ``bulk_create`` left a row without its id: nothing could be linked to it.

    PostgreSQL returns the ids of bulk inserts, so this only guards against a change of that.
    """
    if any(row.pk is None for row in rows):
        raise RuntimeError("The demo seed needs a database that returns ids from bulk inserts.")
