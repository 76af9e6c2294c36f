"""The one sanctioned way past the append-only audit triggers: a privacy erasure.

On PostgreSQL, triggers (assessments/migrations/0004 and classrooms/migrations/0003) refuse every
UPDATE and DELETE of ScoreChange and AuditEvent rows, so that no bug can rewrite history. A
district's request to delete a student, or its retention policy, must still be able to remove
that student's history. Such a service opens ``audit_erasure()`` inside its transaction; only
there, and only until that transaction ends, may audit rows be deleted. Changing them stays
refused, and the erasure itself should record an AuditEvent saying who erased what.

On other databases there is no trigger and this does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.transaction import TransactionManagementError

ERASURE_SETTING = "thinslice.audit_erasure"


@contextmanager
def audit_erasure(*, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Allow DELETE of audit rows until the block ends; the caller must be inside an atomic
    block, so the permission can never outlive the transaction that uses it."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise TransactionManagementError("audit_erasure() must run inside transaction.atomic().")
    is_postgresql = connection.vendor == "postgresql"
    if is_postgresql:
        _set(using, "on")
    yield
    # On an exception the transaction (or its savepoint) is rolled back, and the setting with it.
    if is_postgresql:
        _set(using, "off")


def _set(using: str, value: str) -> None:
    with connections[using].cursor() as cursor:
        # set_config(..., true) is SET LOCAL: it ends with the transaction at the latest.
        cursor.execute("SELECT set_config(%s, %s, true)", [ERASURE_SETTING, value])
