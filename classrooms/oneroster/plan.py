"""The plan of one import: read the files, then plan each entity in an order where every row's
references are planned before it, then count. Nothing is written until ``apply``."""

from __future__ import annotations

from classrooms.oneroster.apply import plan_apply
from classrooms.oneroster.classes import plan_classes, read_courses
from classrooms.oneroster.enrollments import (
    plan_ended_enrollments,
    plan_enrollments,
    plan_teacher_assignments,
    read_enrollments,
)
from classrooms.oneroster.existing import Existing
from classrooms.oneroster.people import (
    plan_absent_users,
    plan_students,
    plan_teachers,
    read_users,
)
from classrooms.oneroster.reading import read_manifest, read_tables
from classrooms.oneroster.results import RosterProblem
from classrooms.oneroster.schools import plan_schools
from classrooms.oneroster.sessions import plan_sessions
from classrooms.oneroster.spec import DEMOGRAPHICS
from classrooms.oneroster.state import PlanState


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
        self.existing = Existing(self.district)
        orgs = plan_schools(self)
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

    def apply(self) -> None:
        plan_apply(self)
