"""One export from request to bytes: prepare it (may this actor run it?), count it (stream it or
make it a job?), write it, stream it, and audit it.

- **Size**: an export of up to THINSLICE_EXPORT_ASYNC_ROWS rows (a COUNT that stops just past
  the threshold) streams in the request; a larger one becomes an ExportJob (``jobs``).
- **Audit**: every export, streamed or written by a job, succeeded or failed, adds an AuditEvent
  (who, the filters and options, the row count, the outcome).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError
from django.utils import timezone

from classrooms.audit import audit_event_record
from reports.exports.registry import ExportDefinition, export_definition
from reports.exports.scoping import (
    ExportFilters,
    ExportScope,
    export_filters_described,
    export_scope,
)
from reports.exports.settings import export_async_rows
from reports.exports.workbook import workbook_blocks
from reports.exports.writing import CHUNK_BYTES, ExportProgress, rebuffer
from reports.models import ExportJob, ExportKind

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedExport:
    """An export the actor may run: kind, scope, filters and options."""

    kind: ExportKind
    scope: ExportScope
    filters: ExportFilters = field(default_factory=ExportFilters)
    # ``excel``: the CSV starts with the byte-order mark, so Excel reads it as UTF-8 (the export
    # page asks for it unless the person chooses plain UTF-8); ``xlsx`` makes it an Excel
    # workbook instead (workbook.py).
    excel: bool = False
    xlsx: bool = False

    @property
    def definition(self) -> ExportDefinition:
        return export_definition(self.kind)

    @property
    def label(self) -> str:
        return str(self.kind.label)

    @property
    def content_type(self) -> str:
        return self.definition.file_content_type(xlsx=self.xlsx)

    @property
    def extension(self) -> str:
        return self.definition.file_extension(xlsx=self.xlsx)

    @property
    def filename(self) -> str:
        return self.definition.filename(
            district=self.scope.district, day=timezone.localdate(), xlsx=self.xlsx
        )

    def audit_parameters(self, **extra: Any) -> dict[str, Any]:
        filters = export_filters_described(scope=self.scope, filters=self.filters)
        return {
            "export": self.label,
            "filters": filters or "none (everything in scope)",
            "format": self.definition.format_described(excel=self.excel, xlsx=self.xlsx),
            **extra,
        }


def export_prepare(
    *,
    actor: Any,
    kind: str,
    filters: ExportFilters | None = None,
    excel: bool = False,
    xlsx: bool = False,
) -> PreparedExport:
    """Check that ``actor`` may run this export; PermissionDenied or ValidationError if not."""
    try:
        export_kind = ExportKind(kind)
    except ValueError:
        raise ValidationError({"kind": f"Unknown export {kind!r}."}) from None
    definition = export_definition(export_kind)
    if xlsx and not definition.offers_workbook:
        raise ValidationError(
            {"file_format": f"{export_kind.label} is a zip of CSV files; choose CSV."}
        )
    scope = export_scope(actor=actor, student_level=definition.is_student_level)
    return PreparedExport(
        kind=export_kind,
        scope=scope,
        filters=filters or ExportFilters(),
        excel=excel,
        xlsx=xlsx,
    )


def export_kinds_available(*, actor: Any) -> list[ExportKind]:
    """The kinds of export ``actor`` may ask for (none for someone who may not export)."""
    available = []
    for kind in ExportKind:
        try:
            export_scope(actor=actor, student_level=export_definition(kind).is_student_level)
        except PermissionDenied:
            continue
        available.append(kind)
    return available


def export_row_count(*, prepared: PreparedExport, at_most: int | None = None) -> int:
    """Rows the export will write (for OneRoster: results), counting at most ``at_most``."""
    total = 0
    for rows in prepared.definition.row_sets(scope=prepared.scope, filters=prepared.filters):
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


def export_blocks(
    *, prepared: PreparedExport, progress: ExportProgress, batches: list[list[int]] | None = None
) -> Iterator[bytes]:
    """The export's bytes as they are read (small blocks; ``rebuffer`` them).

    Without ``batches`` the rows are read in one transaction (a streamed response); with them,
    one transaction per batch of classroom unit ids, calling ``progress.batch_done()`` after each
    (a job). Both give the same bytes.
    """
    blocks = prepared.definition.blocks(
        scope=prepared.scope,
        filters=prepared.filters,
        excel=prepared.excel and not prepared.xlsx,
        progress=progress,
        batches=batches,
    )
    if prepared.xlsx:
        blocks = workbook_blocks(
            blocks,
            prepared.definition.columns,
            sheet_name=prepared.label,
            chunk_bytes=CHUNK_BYTES,
        )
    yield from blocks


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
        export_audit_record(
            prepared,
            progress.rows,
            succeeded=False,
            delivery="streamed",
            message="The download stopped before the end (the connection was closed).",
        )
        raise
    except Exception as error:
        export_audit_record(
            prepared,
            progress.rows,
            succeeded=False,
            delivery="streamed",
            message=f"The export failed while reading rows ({type(error).__name__}).",
        )
        raise
    export_audit_record(prepared, progress.rows, succeeded=True, delivery="streamed", size=size)


def export_audit_record(
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
