"""Audit rows are append-only in the database itself; a privacy erasure is the one way past.

ScoreChange (every change to a score) and AuditEvent (every import, export and erasure) rows are
only ever inserted. Two django-pgtrigger triggers on each table (``append_only_triggers``, in the
models' ``Meta.triggers``) refuse every UPDATE and every DELETE, raw SQL included, so that no bug
can rewrite history. A district's request to delete a student, or its retention policy, must
still be able to remove that student's history: such a service opens ``audit_erasure()`` inside
its transaction, and only there may audit rows be deleted. Changing them stays refused.

Why ``pgtrigger.ignore`` and not a trigger condition on a setting of our own: ``ignore`` names the
exact triggers it lets through (the two DELETE triggers, never the UPDATE ones), and it keeps the
permission inside the transaction. pgtrigger prepends ``set_config('pgtrigger.ignore', …, true)``
(SET LOCAL) to each statement sent inside the block, so the database holds the setting no longer
than the transaction, and a pooled connection (PgBouncer in transaction mode, Django's own pool,
CONN_MAX_AGE) never carries it to the next transaction; when the block ends, pgtrigger resets it, so
the rest of the same transaction is guarded again (a test checks it). The Python side is
thread-local and ends with the block. This module adds what ``ignore`` leaves to the caller: the
block must be inside ``transaction.atomic()`` (an erasure is all or nothing, and outside a
transaction each statement would be its own), and it runs in a savepoint: pgtrigger's reset at the
end of the block is a statement, which cannot run in a transaction in error (after an UPDATE refused
inside the erasure) and would hide the real IntegrityError behind a TransactionManagementError, so
the savepoint is rolled back first (pgtrigger's documentation, "Ignoring Execution", transaction
notes).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pgtrigger
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.transaction import TransactionManagementError

UPDATE_TRIGGER = "append_only_update"
DELETE_TRIGGER = "append_only_delete"

# The DELETE triggers an erasure may pass, as "app_label.Model:trigger name" (pgtrigger URIs).
# Every model that declares append_only_triggers() is listed here; a test checks both ways.
ERASABLE = (
    f"assessments.ScoreChange:{DELETE_TRIGGER}",
    f"classrooms.AuditEvent:{DELETE_TRIGGER}",
)


def append_only_triggers(*, refusal: str, hint: str) -> list[pgtrigger.Trigger]:
    """The triggers of an audit table, for its ``Meta.triggers``: every UPDATE and every DELETE
    of a row is refused with ``restrict_violation`` (an IntegrityError in Django) saying e.g.
    "UPDATE of assessments_scorechange row refused: <refusal>". Two triggers, not one, so that
    ``audit_erasure()`` can let the DELETE one through and never the UPDATE one."""
    if "'" in refusal + hint:
        raise ValueError("The refusal and the hint are SQL string literals: no single quotes.")
    func = (
        f"RAISE EXCEPTION '% of % row refused: {refusal}', TG_OP, TG_TABLE_NAME"
        f" USING ERRCODE = 'restrict_violation', HINT = '{hint}';"
    )
    return [
        pgtrigger.Trigger(
            name=name, when=pgtrigger.Before, operation=operation, level=pgtrigger.Row, func=func
        )
        for name, operation in (
            (UPDATE_TRIGGER, pgtrigger.Update),
            (DELETE_TRIGGER, pgtrigger.Delete),
        )
    ]


@contextmanager
def audit_erasure(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Allow DELETE of audit rows until the block ends; UPDATE stays refused. The caller must be
    inside an atomic block, so the permission can never outlive the transaction that uses it."""
    if not connections[using].in_atomic_block:
        raise TransactionManagementError("audit_erasure() must run inside transaction.atomic().")
    with pgtrigger.ignore(*ERASABLE, databases=[using]), transaction.atomic(using=using):
        yield
