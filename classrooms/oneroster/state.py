"""What every step of a roster plan shares: the items it plans, the problems and warnings it
finds, its counts, and the rules for planning one row (find the row it updates, record the change,
keep or deactivate what a file marks tobedeleted)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from classrooms.models import District
from classrooms.oneroster.district import FileDistrict
from classrooms.oneroster.existing import Existing
from classrooms.oneroster.reading import RosterSource, Row, Table
from classrooms.oneroster.results import ENTITIES, Action, RosterCounts, RosterProblem
from classrooms.oneroster.spec import USERS
from classrooms.oneroster.values import check_date_last_modified


@dataclass(eq=False)
class Item:
    """One row of one entity as the plan sees it: what exists, what the file wants."""

    entity: str
    sourced_id: str
    row: Row | None
    existing: Any
    values: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, Item] = field(default_factory=dict)
    action: Action = "unchanged"
    changed: list[str] = field(default_factory=list)
    is_live: bool = True
    # The changed fields' values before the import (by attribute name), for its undo.
    old: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.instance: Any = self.existing


class PlanState:
    """The changes one export makes to one district, worked out without writing anything."""

    existing: Existing  # read once the files are readable

    def __init__(
        self, district: District, source: RosterSource, *, confirm_district: bool = False
    ) -> None:
        self.district = district
        self.source = source
        # The export's district org, and why it looks like another district's ("" if it does
        # not); the import is refused on a mismatch unless the district admin confirmed it.
        self.confirm_district = confirm_district
        self.file_district: FileDistrict | None = None
        self.district_mismatch = ""
        # A digest of the district's roster when the plan was made (existing.py).
        self.fingerprint = ""
        self.today = timezone.localdate()
        self.problems: list[RosterProblem] = list(source.problems)
        self.warnings: list[RosterProblem] = []
        self.counts = {key: RosterCounts(label) for key, label in ENTITIES.items()}
        self.modes: dict[str, str] = {}
        self.row_count = 0
        self.tables: dict[str, Table] = {}
        self.items: dict[str, dict[str, Item]] = {key: {} for key in ENTITIES}
        # Teacher assignments to add and remove: (classroom item, user item) pairs, through ids.
        self.assignments_to_add: list[tuple[Item, Item]] = []
        self.assignments_to_remove: list[int] = []
        self._skip_notes: dict[tuple[str, str], list[int]] = defaultdict(list)
        # The sourcedIds each file holds (also rows with problems, reported on their own line).
        self.seen_ids: dict[str, set[str]] = defaultdict(set)

    # -- problems ------------------------------------------------------------------------------

    def problem(self, row: Row | None, column: str, message: str, file: str = "") -> None:
        if row is None:
            self.problems.append(RosterProblem(file, None, column, message))
        else:
            self.problems.append(RosterProblem(row.file, row.line, column, message))

    def skip_note(self, row: Row, reason: str) -> None:
        self._skip_notes[(row.file, reason)].append(row.line)

    def skip_warnings(self) -> None:
        """One warning per file and reason for the rows skipped, naming their lines."""
        for (file, reason), lines in self._skip_notes.items():
            shown = ", ".join(str(line) for line in lines[:10])
            more = f" and {len(lines) - 10} more" if len(lines) > 10 else ""
            noun, where = ("row", "line") if len(lines) == 1 else ("rows", "lines")
            self.warnings.append(
                RosterProblem(
                    file,
                    None,
                    "",
                    f"{len(lines)} {noun} skipped: {reason} ({where} {shown}{more}).",
                )
            )

    def first_seen(self, seen: dict[Any, int], key: Any, row: Row, column: str, label: str) -> bool:
        """Whether ``key`` was already used by an earlier row (a problem, named on ``column``)."""
        if key in seen:
            if label:
                message = f"the same {label} as line {seen[key]}."
            else:
                message = f"the same title in the same school year as line {seen[key]}."
            self.problem(row, column, message)
            return True
        seen[key] = row.line
        return False

    # -- rows ----------------------------------------------------------------------------------

    def unique_rows(self, table: Table) -> list[Row]:
        """The table's rows with a sourcedId seen for the first time; duplicates are problems."""
        first_line: dict[str, int] = {}
        unique = []
        for row in table.rows:
            self.row_count += 1
            check_date_last_modified(self.problems, row)
            sourced_id = row["sourcedId"]
            if not sourced_id:
                self.problem(row, "sourcedId", "the sourcedId is blank.")
                continue
            if sourced_id in first_line:
                self.problem(
                    row,
                    "sourcedId",
                    f"'{sourced_id}' is used twice (also on line {first_line[sourced_id]}); "
                    "every sourcedId in a file must be unique.",
                )
                continue
            first_line[sourced_id] = row.line
            self.seen_ids[table.file].add(sourced_id)
            unique.append(row)
        return unique

    def is_bulk(self, file: str) -> bool:
        return self.modes.get(file) == "bulk"

    def rows(self, file: str) -> list[Row]:
        table = self.tables.get(file)
        if table is None:
            return []
        return self.unique_rows(table)

    # -- planning one row ----------------------------------------------------------------------

    def reference(
        self, row: Row, column: str, entity: str, sourced_id: str, file: str, noun: str
    ) -> Item | None:
        """The item ``sourced_id`` names: a row of ``file``, or, unless that file is bulk, a
        row an earlier import made. Anything else is a broken reference."""
        item = self.items[entity].get(sourced_id)
        if item is not None:
            return item
        if sourced_id in self.seen_ids[file]:
            return None  # its own row has a problem, reported there
        if not self.is_bulk(file):
            existing = self.existing.by_sourced_id[entity].get(sourced_id)
            if existing is not None:
                item = Item(entity, sourced_id, row, existing, action="reference")
                self.items[entity][sourced_id] = item
                return item
        where = f"in {file}" if self.modes.get(file) != "absent" else "in this district"
        self.problem(row, column, f"no {noun} with sourcedId '{sourced_id}' {where}.")
        return None

    def adopt(
        self,
        row: Row,
        entity: str,
        existing: models.Model | None,
        holders: list[tuple[str, str, models.Model | None]],
    ) -> models.Model | None:
        """The row ``row`` updates: the one with its sourcedId, else one made in Thinslice (no
        sourcedId) with the same natural key. A natural key held by another imported row is a
        problem (reported on ``column``)."""
        for label, column, holder in holders:
            if holder is None or holder == existing:
                continue
            holder_sourced_id = getattr(holder, "sourced_id", "")
            if existing is None and not holder_sourced_id:
                existing = holder
                continue
            also = f", sourcedId '{holder_sourced_id}'" if holder_sourced_id else ""
            self.problem(
                row,
                column,
                f"another {ENTITIES[entity][:-1].lower()} of this district already has this "
                f"{label} ('{holder}'{also}).",
            )
        return existing

    def set_item(
        self,
        row: Row,
        entity: str,
        existing: models.Model | None,
        model: type[models.Model],
        values: dict[str, Any],
        refs: dict[str, Item],
        *,
        columns: Mapping[str, str],
        deactivate: bool = False,
    ) -> Item:
        """Record what ``row`` makes of the ``entity`` with its sourcedId: a create, an update of
        the fields that differ, or nothing. Field rules are checked here, so a dry run finds
        what applying would refuse."""
        sourced_id = row["sourcedId"]
        values = {**values, "sourced_id": sourced_id}
        item = Item(entity, sourced_id, row, existing, values=values, refs=refs)
        if existing is None:
            item.action = "create"
            candidate = model(**values)
        else:
            item.changed = [
                name for name, value in values.items() if getattr(existing, name) != value
            ]
            item.changed += [
                name
                for name, target in refs.items()
                if target.instance is None or getattr(existing, f"{name}_id") != target.instance.pk
            ]
            if not item.changed:
                item.action = "unchanged"
            else:
                item.action = "deactivate" if deactivate else "update"
            item.old = {
                name: getattr(existing, name) for name in item.changed if name in values
            } | {
                f"{name}_id": getattr(existing, f"{name}_id")
                for name in item.changed
                if name in refs
            }
            candidate = existing
            for name, value in values.items():
                setattr(candidate, name, value)
        try:
            candidate.clean_fields(exclude=[*refs, "district", "password"])
        except ValidationError as invalid:
            for name, messages in invalid.message_dict.items():
                self.problem(row, columns.get(name, name), " ".join(messages))
        self.items[entity][sourced_id] = item
        return item

    # -- rows marked tobedeleted, or gone from a bulk file -------------------------------------

    def keep_deleted(self, row: Row, entity: str, existing: models.Model | None, noun: str) -> None:
        """Years, terms and classes have no inactive state: a tobedeleted row keeps them."""
        action: Action = "unchanged" if existing is not None else "skip"
        if existing is None:
            self.skip_note(row, f"{noun} marked tobedeleted that were never imported")
        self.items[entity][row["sourcedId"]] = Item(
            entity, row["sourcedId"], row, existing, action=action, is_live=False
        )

    def deactivate(self, row: Row, entity: str, existing: Any, noun: str) -> None:
        """Plan a tobedeleted student or teacher row: deactivate it, or skip one never imported."""
        if existing is None:
            self.skip_note(row, f"{noun} marked tobedeleted that were never imported")
            self.items[entity][row["sourcedId"]] = Item(
                entity, row["sourcedId"], row, None, action="skip", is_live=False
            )
            return
        self.deactivation(entity, existing, row)

    def deactivation(self, entity: str, existing: Any, row: Row | None) -> Item:
        """Deactivate an existing student, teacher or enrollment (``row``: the tobedeleted row,
        or None when it is absent from a bulk file)."""
        item = Item(entity, existing.sourced_id, row, existing, action="unchanged", is_live=False)
        if entity == "enrollments":
            ended = existing.end_date is not None and existing.end_date < self.today
            if not ended:
                yesterday = self.today - datetime.timedelta(days=1)
                item.values = {"end_date": max(existing.start_date, yesterday)}
                item.old = {"end_date": existing.end_date}
                item.changed = ["end_date"]
                item.action = "deactivate"
        elif existing.is_active:
            if entity == "teachers" and existing.is_district_admin:
                self.warnings.append(
                    RosterProblem(
                        USERS,
                        row.line if row else None,
                        "",
                        f"'{existing}' is a district admin, so the account stays active.",
                    )
                )
            else:
                item.values = {"is_active": False}
                item.old = {"is_active": True}
                item.changed = ["is_active"]
                item.action = "deactivate"
        self.items[entity][existing.sourced_id] = item
        return item
