"""What a roster plan reports: problems and warnings, counts per entity, and the result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from classrooms.models import AuditEvent

# The entities a plan counts, in the order they are applied and shown.
ENTITIES: dict[str, str] = {
    "schools": "Schools",
    "academic_years": "Academic years",
    "terms": "Terms",
    "classrooms": "Classrooms",
    "students": "Students",
    "teachers": "Teachers",
    "enrollments": "Enrollments",
    "teacher_assignments": "Teacher assignments",
}

Action = Literal["create", "update", "deactivate", "unchanged", "skip", "reference"]


@dataclass(frozen=True)
class RosterProblem:
    """Something wrong (or, as a warning, worth knowing) in one place of the export."""

    file: str
    line: int | None
    column: str
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f" line {self.line}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class RosterCounts:
    """What a plan does to one entity."""

    label: str
    creates: int = 0
    updates: int = 0
    deactivations: int = 0
    unchanged: int = 0
    skipped: int = 0

    @property
    def change_count(self) -> int:
        return self.creates + self.updates + self.deactivations

    def add(self, action: Action) -> None:
        if action == "create":
            self.creates += 1
        elif action == "update":
            self.updates += 1
        elif action == "deactivate":
            self.deactivations += 1
        elif action == "unchanged":
            self.unchanged += 1
        elif action == "skip":
            self.skipped += 1

    def as_dict(self) -> dict[str, int]:
        return {
            "creates": self.creates,
            "updates": self.updates,
            "deactivations": self.deactivations,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }


@dataclass
class RosterImportResult:
    """The outcome of one import or dry run, as reported to people and kept in the audit log."""

    dry_run: bool
    counts: dict[str, RosterCounts]
    problems: list[RosterProblem]
    warnings: list[RosterProblem]
    modes: dict[str, str]
    row_count: int
    applied: bool = False
    audit_event: AuditEvent | None = None
    # Why the export looks like another district's ("" when it is this district's): shown in
    # the dry run, where the district admin may confirm it.
    district_mismatch: str = ""
    # A dry run's plan, to be kept until the import applies it (uploads.py); not in the audit.
    plan: Any = None
    # What an applied import changed, kept for its undo (None when it changed nothing).
    roster_import: Any = None

    @property
    def is_valid(self) -> bool:
        return not self.problems

    @property
    def change_count(self) -> int:
        return sum(counts.change_count for counts in self.counts.values())

    @property
    def counts_list(self) -> list[RosterCounts]:
        return list(self.counts.values())

    def summary(self) -> str:
        """One sentence for people and the audit log."""
        if self.problems:
            noun = "problem" if len(self.problems) == 1 else "problems"
            return f"{len(self.problems)} {noun} found; nothing was changed."
        totals = Counter[str]()
        for counts in self.counts.values():
            totals.update(counts.as_dict())
        if not self.change_count:
            if self.dry_run:
                return "Importing would change nothing: the roster already matches the files."
            return "Nothing changed: the roster already matched the files."
        verb = "Importing would" if self.dry_run else "The import did"
        return (
            f"{verb} create {totals['creates']}, update {totals['updates']} and "
            f"deactivate {totals['deactivations']} rows."
        )


class RosterImportError(Exception):
    """Raised inside the import's transaction to roll it back when applying found problems."""
