"""The plan of one import: read the files, then plan each entity in an order where every row's
references are planned before it, then count. Nothing is written until ``apply``."""

from __future__ import annotations

from classrooms.oneroster.apply import plan_apply
from classrooms.oneroster.classes import plan_classes, read_courses
from classrooms.oneroster.district import (
    district_matches,
    district_mismatch_message,
    district_record,
    file_district_of,
    no_district_note,
)
from classrooms.oneroster.enrollments import (
    plan_ended_enrollments,
    plan_enrollments,
    plan_teacher_assignments,
    read_enrollments,
)
from classrooms.oneroster.existing import Existing, roster_fingerprint
from classrooms.oneroster.people import (
    plan_absent_users,
    plan_students,
    plan_teachers,
    read_users,
)
from classrooms.oneroster.reading import RosterSource, read_manifest, read_tables
from classrooms.oneroster.results import RosterImportError, RosterProblem
from classrooms.oneroster.schools import Orgs, plan_schools
from classrooms.oneroster.sessions import plan_sessions
from classrooms.oneroster.spec import DEMOGRAPHICS, ORGS
from classrooms.oneroster.state import PlanState
from classrooms.oneroster.undo import ChangeLog


class RosterPlan(PlanState):
    """The changes one export makes to one district: ``build`` works them out without writing
    anything, ``apply`` writes them (inside the caller's transaction)."""

    def build(self) -> None:
        if self.problems:
            return
        self.modes = read_manifest(self.source.files, self.problems)
        self.tables = read_tables(self.source.files, self.modes, self.problems, self.warnings)
        if self.problems:
            return
        self.fingerprint = roster_fingerprint(self.district)
        self.existing = Existing(self.district)
        orgs = plan_schools(self)
        self._check_district(orgs)
        sessions = plan_sessions(self)
        courses = read_courses(self)
        plan_classes(self, orgs, sessions, courses)
        users = read_users(self, orgs)
        enrollments = read_enrollments(self, orgs, users)
        plan_students(self, users, enrollments.class_grade_of_student)
        plan_teachers(self, users)
        plan_absent_users(self)
        plan_enrollments(self, enrollments)
        plan_ended_enrollments(self)
        plan_teacher_assignments(self, enrollments)
        if DEMOGRAPHICS in self.tables:
            self.row_count += len(self.tables[DEMOGRAPHICS].rows)
            self.warnings.append(
                RosterProblem(
                    DEMOGRAPHICS,
                    None,
                    "",
                    "not imported: Thinslice keeps no demographic data. Set up student groups "
                    "(e.g. English learners) in the set-up pages.",
                )
            )
        self.skip_warnings()
        for entity, items in self.items.items():
            for item in items.values():
                self.counts[entity].add(item.action)

    def _check_district(self, orgs: Orgs) -> None:
        self.file_district = file_district_of(orgs.districts)
        if self.file_district is None:
            if ORGS in self.tables:
                self.warnings.append(no_district_note())
            return
        if not district_matches(self.district, self.file_district):
            self.district_mismatch = district_mismatch_message(self.district, self.file_district)

    def for_keeping(self) -> RosterPlan:
        """The plan without what only building it needs (the files, their rows, the district's
        rows as read), to be kept until it is applied (uploads.py)."""
        self.source = RosterSource(label=self.source.label, sha256=self.source.sha256)
        self.tables = {}
        # Absent when reading stopped before the district's roster was read.
        self.__dict__.pop("existing", None)
        self.seen_ids.clear()
        for items in self.items.values():
            for item in items.values():
                item.row = None
        return self

    def apply(self) -> None:
        if not hasattr(self, "existing"):
            # A kept plan dropped the district's rows as read; the roster is unchanged since
            # (its fingerprint was checked), so reading them again gives the same rows.
            self.existing = Existing(self.district)
        if self.district_mismatch and not self.confirm_district:
            # Checked again here: applying is refused unless the admin confirmed the district.
            self.problems.append(
                RosterProblem(
                    ORGS,
                    self.file_district.line if self.file_district else None,
                    "name",
                    f"{self.district_mismatch} Nothing was imported: confirm the district in "
                    "the dry run to import it anyway.",
                )
            )
            raise RosterImportError
        self.change_log = ChangeLog()
        old = {
            "oneroster_sourced_id": self.district.oneroster_sourced_id,
            "oneroster_identifier": self.district.oneroster_identifier,
            "updated_at": self.district.updated_at,
        }
        changed = district_record(self.district, self.file_district)
        if changed:
            self.change_log.updated(
                self.district, {name: old[name] for name in (*changed, "updated_at")}
            )
        plan_apply(self, self.change_log)
